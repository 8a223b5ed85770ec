// Package readmodel is the hub's in-memory materialised view of what member
// nodes published (design §3 "Hub read models live in memory"): pilots,
// action plans, commitments and their progress timelines, with per-pilot
// summaries and the pilots × policy-area matrix. It is rebuilt from the
// store in one pass at start, updated on every ingest, and answers every
// page and API query without touching the store.
//
// Everything a query returns is a copy or immutable: callers may keep it,
// but must not modify the slices and maps inside (they are shared).
// Text fields named *HTML were sanitised with bluemonday when ingested and
// are safe to render as template.HTML; every other string is plain text.
package readmodel

import (
	"html/template"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// Text is plain text in a default language with translations.
type Text struct {
	// Default is the text in the publishing node's default language.
	Default string `json:"default"`
	// Map holds translations keyed by BCP 47 tag (may include Default's).
	Map map[string]string `json:"map,omitempty"`
}

// In returns the text in lang when the node translated it, else Default.
func (t Text) In(lang string) string {
	if v, ok := t.Map[lang]; ok && v != "" {
		return v
	}
	return t.Default
}

// HTML is sanitised HTML in a default language with translations.
type HTML struct {
	Default template.HTML            `json:"default"`
	Map     map[string]template.HTML `json:"map,omitempty"`
}

// In returns the HTML in lang when the node translated it, else Default.
func (h HTML) In(lang string) template.HTML {
	if v, ok := h.Map[lang]; ok && v != "" {
		return v
	}
	return h.Default
}

// Member states as the read model sees them (set by hub/members).
const (
	StateActive    = "active"    // followed and shown
	StatePending   = "pending"   // follow requested, not yet accepted; shown once data exists
	StateSuspended = "suspended" // unfollowed and hidden; history kept
	StateRemoved   = "removed"   // unfollowed and hidden; history kept
)

// PilotInfo is what membership knows of a pilot (a member node's actor).
type PilotInfo struct {
	Actor  string `json:"actor"`  // node actor IRI (the pilot's key everywhere)
	Name   string `json:"name"`   // actor name ("Jalisco")
	Handle string `json:"handle"` // "@jalisco@jalisco.localhost:8080"
	URL    string `json:"url"`    // profile page on the node
	State  string `json:"state"`  // one of the State* constants
}

// Hidden reports whether the pilot's data is withheld from public queries.
func (p PilotInfo) Hidden() bool { return p.State == StateSuspended || p.State == StateRemoved }

// MilestoneCounts classifies milestones against their end dates on the
// model's current day.
type MilestoneCounts struct {
	Total        int `json:"total"`
	Complete     int `json:"complete"`     // complete, on or before the end date (or no end date)
	CompleteLate int `json:"completeLate"` // complete after the end date
	OnTrack      int `json:"onTrack"`      // not complete, end date not passed (or none)
	Overdue      int `json:"overdue"`      // not complete, end date passed
	Cancelled    int `json:"cancelled"`
}

// OnTime is milestones complete on time plus those still on track.
func (m MilestoneCounts) OnTime() int { return m.Complete + m.OnTrack }

// GuidelineScore summarises an action plan's process record against the
// seven IRM guidelines: met counts 2, partly 1, not met or unrecorded 0.
type GuidelineScore struct {
	Met       int `json:"met"`
	Partly    int `json:"partly"`
	NotMet    int `json:"notMet"`
	Unknown   int `json:"unknown"` // guidelines the plan did not record
	Points    int `json:"points"`  // 0..MaxPoints
	MaxPoints int `json:"maxPoints"`
}

// Percent is Points as a share of MaxPoints, 0..100.
func (g GuidelineScore) Percent() int {
	if g.MaxPoints == 0 {
		return 0
	}
	return g.Points * 100 / g.MaxPoints
}

// PilotSummary is the per-pilot read model.
type PilotSummary struct {
	Commitments  int                    `json:"commitments"`
	ByCompletion map[ogp.Completion]int `json:"byCompletion"` // every level present, zero included
	Starred      int                    `json:"starred"`
	Milestones   MilestoneCounts        `json:"milestones"`
	Updates      int                    `json:"updates"`
	LastUpdate   time.Time              `json:"lastUpdate,omitzero"` // newest progress update (or commitment edit)
	// Guidelines and Participation come from the pilot's current plan.
	Guidelines    GuidelineScore    `json:"guidelines"`
	Participation ogp.Participation `json:"participation"`
}

// Pilot is one member node with its summary and plans.
type Pilot struct {
	PilotInfo
	Jurisdiction string       `json:"jurisdiction,omitempty"`
	Summary      PilotSummary `json:"summary"`
	Plans        []Plan       `json:"plans"`       // newest period first
	CurrentPlan  string       `json:"currentPlan"` // IRI of the plan the summary's process fields use
	Themes       []string     `json:"themes"`      // policy areas of its commitments, sorted
}

// Plan is an action plan.
type Plan struct {
	ID            string            `json:"id"`
	Pilot         string            `json:"pilot"`
	URL           string            `json:"url"`
	Name          Text              `json:"name"`
	SummaryHTML   HTML              `json:"summaryHtml"`
	Jurisdiction  string            `json:"jurisdiction"`
	Period        ogp.Period        `json:"period"`
	Status        ogp.PlanStatus    `json:"status"`
	Commitments   []string          `json:"commitments"`
	Guidelines    []ogp.Guideline   `json:"guidelines,omitempty"`
	Score         GuidelineScore    `json:"score"`
	Participation ogp.Participation `json:"participation"`
	Published     time.Time         `json:"published,omitzero"`
	Updated       time.Time         `json:"updated,omitzero"`
}

// Commitment is the read model of one commitment.
type Commitment struct {
	ID              string          `json:"id"`
	Pilot           string          `json:"pilot"`
	PilotName       string          `json:"pilotName"`
	URL             string          `json:"url"`
	Identifier      string          `json:"identifier"`
	Name            Text            `json:"name"`
	SummaryHTML     HTML            `json:"summaryHtml"`
	ContentHTML     HTML            `json:"contentHtml"`
	Problem         Text            `json:"problem"`
	Objective       Text            `json:"objective"`
	ActionPlan      string          `json:"actionPlan"`
	PlanName        string          `json:"planName"`
	Period          ogp.Period      `json:"period"`               // the plan's period, when known
	PlanStatus      ogp.PlanStatus  `json:"planStatus,omitempty"` // the plan's stage, when known
	Jurisdiction    string          `json:"jurisdiction"`
	StartDate       ogp.Date        `json:"startDate"`
	EndDate         ogp.Date        `json:"endDate"`
	LeadInstitution string          `json:"leadInstitution"`
	OtherActors     ogp.OtherActors `json:"otherActors"`
	Values          []ogp.Value     `json:"values"`
	Themes          []string        `json:"themes"` // ogp:policyAreas
	Taxonomy        string          `json:"taxonomy"`
	Milestones      []ogp.Milestone `json:"milestones"` // names are plain text
	MilestoneCounts MilestoneCounts `json:"milestoneCounts"`
	Completion      ogp.Completion  `json:"completion"`
	IRM             *ogp.IRM        `json:"irm,omitempty"`
	Starred         bool            `json:"starred"`
	Published       time.Time       `json:"published,omitzero"`
	Updated         time.Time       `json:"updated,omitzero"`
	Updates         int             `json:"updates"`
	LastUpdate      time.Time       `json:"lastUpdate,omitzero"`
	Received        time.Time       `json:"received"` // when the hub first stored it
	Tags            []ogp.Tag       `json:"tags,omitempty"`

	text     string // lower-cased searchable text
	nameKey  string // folded name, for sorting
	idKey    string // naturalKey(Identifier), for sorting
	pilotKey string // folded pilot name, set by the view
	// jurisdictionFromPilot says Jurisdiction was the pilot's, filled in
	// by the view (the commitment named none).
	jurisdictionFromPilot bool
}

// Update is one progress update in a commitment's timeline.
type Update struct {
	ID               string                `json:"id"`
	Commitment       string                `json:"commitment"`
	Pilot            string                `json:"pilot"`
	URL              string                `json:"url"`
	Date             ogp.Date              `json:"date"`
	ContentHTML      HTML                  `json:"contentHtml"`
	Completion       ogp.Completion        `json:"completion,omitempty"`
	MilestoneChanges []ogp.MilestoneChange `json:"milestoneChanges,omitempty"`
	Evidence         []string              `json:"evidence,omitempty"` // http(s) links only
	Published        time.Time             `json:"published,omitzero"`
	Updated          time.Time             `json:"updated,omitzero"`
}

// Page is one page of a list.
type Page[T any] struct {
	Items []T    `json:"items"`
	Total int    `json:"total"` // matches across all pages
	Next  string `json:"next"`  // opaque cursor of the next page, "" on the last
}

// Matrix is the pilots × policy-area matrix.
type Matrix struct {
	Themes []string    `json:"themes"` // columns, sorted by how many pilots share them, then name
	Rows   []MatrixRow `json:"rows"`   // one per visible pilot, by name
}

// MatrixRow is one pilot's row of the matrix; Cells align with Matrix.Themes.
type MatrixRow struct {
	Pilot string       `json:"pilot"`
	Name  string       `json:"name"`
	Cells []MatrixCell `json:"cells"`
}

// MatrixCell counts one pilot's commitments in one policy area.
type MatrixCell struct {
	Commitments  int                    `json:"commitments"`
	High         int                    `json:"high"` // substantial or complete
	ByCompletion map[ogp.Completion]int `json:"byCompletion,omitempty"`
}

// ThemeCount is a policy area and how many visible commitments and pilots use it.
type ThemeCount struct {
	Theme       string `json:"theme"`
	Commitments int    `json:"commitments"`
	Pilots      int    `json:"pilots"`
}

// Totals counts what the model holds (visible pilots only).
type Totals struct {
	Pilots      int       `json:"pilots"`
	Plans       int       `json:"plans"`
	Commitments int       `json:"commitments"`
	Updates     int       `json:"updates"`
	LastIngest  time.Time `json:"lastIngest,omitzero"`
}

// The query methods of *Model (implemented in query.go):
//
//	Pilots() []Pilot                                  visible pilots, by name
//	AllPilots() []Pilot                               every pilot incl. hidden (staff)
//	Pilot(actor string) (Pilot, bool)                 a visible pilot
//	Plan(id string) (Plan, bool)
//	Commitments(f Filter, cursor string, limit int) (Page[Commitment], error)
//	Commitment(id string) (Commitment, bool)
//	Each(func(Commitment) bool)                       every visible commitment (peers)
//	Timeline(commitmentID string) []Update            oldest first
//	PilotTimeline(actor string, limit int) []Update   newest first
//	Latest(limit int) []Update                        newest first, all visible pilots (at most 200)
//	Matrix(f Filter) Matrix                           f narrows the commitments counted
//	Themes() []ThemeCount
//	Totals() Totals
//	Version() uint64                                  version of the data queries answer from (ETag)
//	Changed() <-chan struct{}                         closed at the next mutation
//
// Feeding derived indexes (e.g. hub/peers):
//
//	OnCommitment(fn func(c Commitment, removed bool)) fn runs after every
//	    commitment put (removed=false) or delete (removed=true), outside the
//	    model's lock, in ingest order; c.PilotName/PlanName/derived counts
//	    are not filled in. Hidden pilots' commitments are still reported;
//	    check Model.Pilot(c.Pilot) (false when hidden) at query time.
//	OnUpdate(fn func(pilot, commitment string))       fn runs after every
//	    progress update put or delete, with the commitment whose timeline
//	    changed (hub/search re-reads it).
var _ = (*Model)(nil)
