package ogp

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

var valueEnum = newEnum([]named[Value]{
	{ValueAccessToInformation, "Access to information"},
	{ValueCivicParticipation, "Civic participation"},
	{ValuePublicAccountability, "Public accountability"},
	{ValueTechnologyInnovation, "Technology and innovation for openness and accountability"},
})

// Values lists every Value in the template's order.
var Values = valueEnum.values

// Valid reports whether v is a known value.
func (v Value) Valid() bool { return valueEnum.valid(v) }

// Label is the English name of v.
func (v Value) Label() string { return valueEnum.label(v) }

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

var completionEnum = newEnum([]named[Completion]{
	{CompletionNoEvidence, "No evidence available"},
	{CompletionNotStarted, "Not started"},
	{CompletionLimited, "Limited"},
	{CompletionSubstantial, "Substantial"},
	{CompletionComplete, "Complete"},
})

// Completions lists every Completion, lowest to highest.
var Completions = completionEnum.values

// Valid reports whether c is a known level.
func (c Completion) Valid() bool { return completionEnum.valid(c) }

// Label is the English name of c.
func (c Completion) Label() string { return completionEnum.label(c) }

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

var milestoneEnum = newEnum([]named[MilestoneStatus]{
	{MilestoneNotStarted, "Not started"},
	{MilestoneInProgress, "In progress"},
	{MilestoneComplete, "Complete"},
	{MilestoneCancelled, "Cancelled"},
})

// MilestoneStatuses lists every MilestoneStatus.
var MilestoneStatuses = milestoneEnum.values

// Valid reports whether s is a known state.
func (s MilestoneStatus) Valid() bool { return milestoneEnum.valid(s) }

// Label is the English name of s.
func (s MilestoneStatus) Label() string { return milestoneEnum.label(s) }

// YesNo is an IRM yes/no indicator that may still await review
// (verifiable, starred).
type YesNo string

// YesNo values.
const (
	Yes     YesNo = "yes"
	No      YesNo = "no"
	Pending YesNo = "pending"
)

var yesNoEnum = newEnum([]named[YesNo]{
	{Yes, "Yes"},
	{No, "No"},
	{Pending, "Pending IRM review"},
})

// Valid reports whether y is a known value.
func (y YesNo) Valid() bool { return yesNoEnum.valid(y) }

// Label is the English name of y.
func (y YesNo) Label() string { return yesNoEnum.label(y) }

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

var impactEnum = newEnum([]named[PotentialImpact]{
	{ImpactNone, "None"},
	{ImpactMinor, "Minor"},
	{ImpactModerate, "Moderate"},
	{ImpactTransformative, "Transformative"},
	{ImpactPending, "Pending IRM review"},
})

// PotentialImpacts lists every PotentialImpact.
var PotentialImpacts = impactEnum.values

// Valid reports whether p is a known level.
func (p PotentialImpact) Valid() bool { return impactEnum.valid(p) }

// Label is the English name of p.
func (p PotentialImpact) Label() string { return impactEnum.label(p) }

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

var resultsEnum = newEnum([]named[EarlyResults]{
	{ResultsWorsened, "Worsened"},
	{ResultsDidNotChange, "Did not change"},
	{ResultsMarginal, "Marginal"},
	{ResultsMajor, "Major"},
	{ResultsOutstanding, "Outstanding"},
	{ResultsPending, "Pending IRM review"},
})

// EarlyResultsLevels lists every EarlyResults value.
var EarlyResultsLevels = resultsEnum.values

// Valid reports whether r is a known level.
func (r EarlyResults) Valid() bool { return resultsEnum.valid(r) }

// Label is the English name of r.
func (r EarlyResults) Label() string { return resultsEnum.label(r) }

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

var guidelineEnum = newEnum([]named[GuidelineKey]{
	{GuidelineProcessPublished, "Process and timeline published before consultation"},
	{GuidelineAdvanceNotice, "Advance notice of consultation"},
	{GuidelineAwarenessRaising, "Awareness-raising activities"},
	{GuidelineMultipleChannels, "Multiple channels (online and in person)"},
	{GuidelineBreadth, "Breadth of consultation"},
	{GuidelineFeedback, "Documentation and feedback (summary of comments published)"},
	{GuidelineImplementation, "Consultation during implementation (regular multi-stakeholder forum)"},
})

// GuidelineKeys lists the seven guidelines in the IRM's order.
var GuidelineKeys = [7]GuidelineKey(guidelineEnum.values)

// Valid reports whether k is one of the seven guidelines.
func (k GuidelineKey) Valid() bool { return guidelineEnum.valid(k) }

// Label is the English name of k.
func (k GuidelineKey) Label() string { return guidelineEnum.label(k) }

// GuidelineLevel says how far a guideline was met.
type GuidelineLevel string

// Guideline levels.
const (
	GuidelineMet    GuidelineLevel = "met"
	GuidelinePartly GuidelineLevel = "partly"
	GuidelineNotMet GuidelineLevel = "not-met"
)

var guidelineLevelEnum = newEnum([]named[GuidelineLevel]{
	{GuidelineMet, "Met"},
	{GuidelinePartly, "Partly met"},
	{GuidelineNotMet, "Not met"},
})

// Valid reports whether l is a known level.
func (l GuidelineLevel) Valid() bool { return guidelineLevelEnum.valid(l) }

// Label is the English name of l.
func (l GuidelineLevel) Label() string { return guidelineLevelEnum.label(l) }

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

var iap2Enum = newEnum([]named[IAP2Level]{
	{IAP2Inform, "Inform"},
	{IAP2Consult, "Consult"},
	{IAP2Involve, "Involve"},
	{IAP2Collaborate, "Collaborate"},
	{IAP2Empower, "Empower"},
})

// IAP2Levels lists every level, lowest to highest.
var IAP2Levels = iap2Enum.values

// Valid reports whether l is a known level.
func (l IAP2Level) Valid() bool { return iap2Enum.valid(l) }

// Label is the English name of l.
func (l IAP2Level) Label() string { return iap2Enum.label(l) }

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

var planStatusEnum = newEnum([]named[PlanStatus]{
	{PlanDevelopment, "In development"},
	{PlanImplementation, "In implementation"},
	{PlanEnded, "Ended"},
})

// Valid reports whether s is a known stage.
func (s PlanStatus) Valid() bool { return planStatusEnum.valid(s) }

// Label is the English name of s.
func (s PlanStatus) Label() string { return planStatusEnum.label(s) }
