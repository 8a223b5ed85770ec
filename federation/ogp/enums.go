package ogp

import (
	"fmt"
	"strings"
)

// The enumerations below are the closed value sets of the vocabulary. Each
// value is a lower-case slug, stable on the wire and usable as a message id
// by the web layer's translations; Label gives the English wording.

// Value is one of the four OGP values a commitment can be relevant to.
type Value string

// OGP values (commitment template, "Relevance to OGP values").
const (
	ValueAccessToInformation  Value = "access-to-information"
	ValueCivicParticipation   Value = "civic-participation"
	ValuePublicAccountability Value = "public-accountability"
	ValueTechnologyInnovation Value = "technology-innovation"
)

// Values lists every Value in the template's order.
var Values = []Value{ValueAccessToInformation, ValueCivicParticipation, ValuePublicAccountability, ValueTechnologyInnovation}

var valueLabels = map[Value]string{
	ValueAccessToInformation:  "Access to information",
	ValueCivicParticipation:   "Civic participation",
	ValuePublicAccountability: "Public accountability",
	ValueTechnologyInnovation: "Technology and innovation for openness and accountability",
}

// Valid reports whether v is a known value.
func (v Value) Valid() bool { _, ok := valueLabels[v]; return ok }

// Label is the English name of v.
func (v Value) Label() string { return valueLabels[v] }

// Completion is the IRM completion scale, also used for self-reported
// completion of a commitment.
type Completion string

// Completion levels, lowest to highest.
const (
	CompletionNoEvidence  Completion = "no-evidence"
	CompletionNotStarted  Completion = "not-started"
	CompletionLimited     Completion = "limited"
	CompletionSubstantial Completion = "substantial"
	CompletionComplete    Completion = "complete"
)

// Completions lists every Completion, lowest to highest.
var Completions = []Completion{CompletionNoEvidence, CompletionNotStarted, CompletionLimited, CompletionSubstantial, CompletionComplete}

var completionLabels = map[Completion]string{
	CompletionNoEvidence:  "No evidence available",
	CompletionNotStarted:  "Not started",
	CompletionLimited:     "Limited",
	CompletionSubstantial: "Substantial",
	CompletionComplete:    "Complete",
}

// Valid reports whether c is a known level.
func (c Completion) Valid() bool { _, ok := completionLabels[c]; return ok }

// Label is the English name of c.
func (c Completion) Label() string { return completionLabels[c] }

// High reports the IRM's "high completion" (substantial or complete).
func (c Completion) High() bool { return c == CompletionSubstantial || c == CompletionComplete }

// MilestoneStatus is the implementation state of one milestone.
type MilestoneStatus string

// Milestone states.
const (
	MilestoneNotStarted MilestoneStatus = "not-started"
	MilestoneInProgress MilestoneStatus = "in-progress"
	MilestoneComplete   MilestoneStatus = "complete"
	MilestoneCancelled  MilestoneStatus = "cancelled"
)

// MilestoneStatuses lists every MilestoneStatus.
var MilestoneStatuses = []MilestoneStatus{MilestoneNotStarted, MilestoneInProgress, MilestoneComplete, MilestoneCancelled}

var milestoneLabels = map[MilestoneStatus]string{
	MilestoneNotStarted: "Not started",
	MilestoneInProgress: "In progress",
	MilestoneComplete:   "Complete",
	MilestoneCancelled:  "Cancelled",
}

// Valid reports whether s is a known state.
func (s MilestoneStatus) Valid() bool { _, ok := milestoneLabels[s]; return ok }

// Label is the English name of s.
func (s MilestoneStatus) Label() string { return milestoneLabels[s] }

// YesNo is an IRM yes/no indicator that may still await review
// (verifiable, starred).
type YesNo string

// YesNo values.
const (
	Yes     YesNo = "yes"
	No      YesNo = "no"
	Pending YesNo = "pending"
)

var yesNoLabels = map[YesNo]string{Yes: "Yes", No: "No", Pending: "Pending IRM review"}

// Valid reports whether y is a known value.
func (y YesNo) Valid() bool { _, ok := yesNoLabels[y]; return ok }

// Label is the English name of y.
func (y YesNo) Label() string { return yesNoLabels[y] }

// PotentialImpact is the IRM potential-impact (ambition) scale.
type PotentialImpact string

// Potential-impact levels, lowest to highest, then pending.
const (
	ImpactNone           PotentialImpact = "none"
	ImpactMinor          PotentialImpact = "minor"
	ImpactModerate       PotentialImpact = "moderate"
	ImpactTransformative PotentialImpact = "transformative"
	ImpactPending        PotentialImpact = "pending"
)

// PotentialImpacts lists every PotentialImpact.
var PotentialImpacts = []PotentialImpact{ImpactNone, ImpactMinor, ImpactModerate, ImpactTransformative, ImpactPending}

var impactLabels = map[PotentialImpact]string{
	ImpactNone:           "None",
	ImpactMinor:          "Minor",
	ImpactModerate:       "Moderate",
	ImpactTransformative: "Transformative",
	ImpactPending:        "Pending IRM review",
}

// Valid reports whether p is a known level.
func (p PotentialImpact) Valid() bool { _, ok := impactLabels[p]; return ok }

// Label is the English name of p.
func (p PotentialImpact) Label() string { return impactLabels[p] }

// EarlyResults is the IRM "Did it open government?" scale.
type EarlyResults string

// Early-results levels, lowest to highest, then pending.
const (
	ResultsWorsened     EarlyResults = "worsened"
	ResultsDidNotChange EarlyResults = "did-not-change"
	ResultsMarginal     EarlyResults = "marginal"
	ResultsMajor        EarlyResults = "major"
	ResultsOutstanding  EarlyResults = "outstanding"
	ResultsPending      EarlyResults = "pending"
)

// EarlyResultsLevels lists every EarlyResults value.
var EarlyResultsLevels = []EarlyResults{ResultsWorsened, ResultsDidNotChange, ResultsMarginal, ResultsMajor, ResultsOutstanding, ResultsPending}

var resultsLabels = map[EarlyResults]string{
	ResultsWorsened:     "Worsened",
	ResultsDidNotChange: "Did not change",
	ResultsMarginal:     "Marginal",
	ResultsMajor:        "Major",
	ResultsOutstanding:  "Outstanding",
	ResultsPending:      "Pending IRM review",
}

// Valid reports whether r is a known level.
func (r EarlyResults) Valid() bool { _, ok := resultsLabels[r]; return ok }

// Label is the English name of r.
func (r EarlyResults) Label() string { return resultsLabels[r] }

// Strong reports the IRM's "strong early results" (major or outstanding).
func (r EarlyResults) Strong() bool { return r == ResultsMajor || r == ResultsOutstanding }

// GuidelineKey names one of the seven IRM process guidelines for developing
// and implementing an action plan.
type GuidelineKey string

// The seven IRM consultation guidelines (domain brief §3a), in order.
const (
	GuidelineProcessPublished GuidelineKey = "process-published"
	GuidelineAdvanceNotice    GuidelineKey = "advance-notice"
	GuidelineAwarenessRaising GuidelineKey = "awareness-raising"
	GuidelineMultipleChannels GuidelineKey = "multiple-channels"
	GuidelineBreadth          GuidelineKey = "breadth-of-consultation"
	GuidelineFeedback         GuidelineKey = "documentation-and-feedback"
	GuidelineImplementation   GuidelineKey = "consultation-during-implementation"
)

// GuidelineKeys lists the seven guidelines in the IRM's order.
var GuidelineKeys = [7]GuidelineKey{
	GuidelineProcessPublished, GuidelineAdvanceNotice, GuidelineAwarenessRaising,
	GuidelineMultipleChannels, GuidelineBreadth, GuidelineFeedback, GuidelineImplementation,
}

var guidelineLabels = map[GuidelineKey]string{
	GuidelineProcessPublished: "Process and timeline published before consultation",
	GuidelineAdvanceNotice:    "Advance notice of consultation",
	GuidelineAwarenessRaising: "Awareness-raising activities",
	GuidelineMultipleChannels: "Multiple channels (online and in person)",
	GuidelineBreadth:          "Breadth of consultation",
	GuidelineFeedback:         "Documentation and feedback (summary of comments published)",
	GuidelineImplementation:   "Consultation during implementation (regular multi-stakeholder forum)",
}

// Valid reports whether k is one of the seven guidelines.
func (k GuidelineKey) Valid() bool { _, ok := guidelineLabels[k]; return ok }

// Label is the English name of k.
func (k GuidelineKey) Label() string { return guidelineLabels[k] }

// GuidelineLevel says how far a guideline was met.
type GuidelineLevel string

// Guideline levels.
const (
	GuidelineMet    GuidelineLevel = "met"
	GuidelinePartly GuidelineLevel = "partly"
	GuidelineNotMet GuidelineLevel = "not-met"
)

var guidelineLevelLabels = map[GuidelineLevel]string{GuidelineMet: "Met", GuidelinePartly: "Partly met", GuidelineNotMet: "Not met"}

// Valid reports whether l is a known level.
func (l GuidelineLevel) Valid() bool { _, ok := guidelineLevelLabels[l]; return ok }

// Label is the English name of l.
func (l GuidelineLevel) Label() string { return guidelineLevelLabels[l] }

// IAP2Level is a level of the IAP2 public-participation spectrum as the IRM
// uses it ("level of public influence").
type IAP2Level string

// IAP2 levels, lowest to highest.
const (
	IAP2Inform      IAP2Level = "inform"
	IAP2Consult     IAP2Level = "consult"
	IAP2Involve     IAP2Level = "involve"
	IAP2Collaborate IAP2Level = "collaborate"
	IAP2Empower     IAP2Level = "empower"
)

// IAP2Levels lists every level, lowest to highest.
var IAP2Levels = []IAP2Level{IAP2Inform, IAP2Consult, IAP2Involve, IAP2Collaborate, IAP2Empower}

var iap2Labels = map[IAP2Level]string{
	IAP2Inform: "Inform", IAP2Consult: "Consult", IAP2Involve: "Involve",
	IAP2Collaborate: "Collaborate", IAP2Empower: "Empower",
}

// Valid reports whether l is a known level.
func (l IAP2Level) Valid() bool { _, ok := iap2Labels[l]; return ok }

// Label is the English name of l.
func (l IAP2Level) Label() string { return iap2Labels[l] }

// MeetsMinimum reports whether l reaches "involve", the minimum OGP's
// Procedural Review Policy requires during development.
func (l IAP2Level) MeetsMinimum() bool {
	return l == IAP2Involve || l == IAP2Collaborate || l == IAP2Empower
}

// PlanStatus is the life-cycle stage of an action plan.
type PlanStatus string

// Plan stages.
const (
	PlanDevelopment    PlanStatus = "development"
	PlanImplementation PlanStatus = "implementation"
	PlanEnded          PlanStatus = "ended"
)

var planStatusLabels = map[PlanStatus]string{
	PlanDevelopment:    "In development",
	PlanImplementation: "In implementation",
	PlanEnded:          "Ended",
}

// Valid reports whether s is a known stage.
func (s PlanStatus) Valid() bool { _, ok := planStatusLabels[s]; return ok }

// Label is the English name of s.
func (s PlanStatus) Label() string { return planStatusLabels[s] }

// enumError formats "x is not one of a, b, c" for any enum.
func enumError[T ~string](got T, all []T) string {
	names := make([]string, len(all))
	for i, v := range all {
		names[i] = string(v)
	}
	return fmt.Sprintf("%q is not one of %s", string(got), strings.Join(names, ", "))
}
