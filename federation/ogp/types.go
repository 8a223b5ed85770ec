package ogp

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Object types on the wire.
const (
	TypeCommitment     = "Article"
	TypeProgressUpdate = "Note"
	TypeActionPlan     = "Page"
	TypeMilestone      = "ogp:Milestone"
	TypeHashtag        = "Hashtag"
	TypeTombstone      = "Tombstone"
)

// Date is a calendar day, "YYYY-MM-DD" on the wire (xsd:date). It is a
// string so that it stores and sorts as itself everywhere (JSON, BSON, CSV):
// for valid dates, string order is date order. The empty Date means "unset".
type Date string

// DateLayout is the Go layout of a Date.
const DateLayout = "2006-01-02"

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date { return Date(t.Format(DateLayout)) }

// ParseDate parses "YYYY-MM-DD" strictly.
func ParseDate(s string) (Date, error) {
	d := Date(s)
	if err := d.check(); err != nil {
		return "", err
	}
	return d, nil
}

func (d Date) check() error {
	if len(d) != len(DateLayout) {
		return fmt.Errorf("invalid date %q: want YYYY-MM-DD", string(d))
	}
	if _, err := time.Parse(DateLayout, string(d)); err != nil {
		return fmt.Errorf("invalid date %q: want a real day as YYYY-MM-DD", string(d))
	}
	return nil
}

// Valid reports whether d is a real day written as YYYY-MM-DD.
func (d Date) Valid() bool { return d.check() == nil }

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == "" }

// Time returns midnight UTC of d, or the zero time for an unset or invalid d.
func (d Date) Time() time.Time {
	t, err := time.Parse(DateLayout, string(d))
	if err != nil {
		return time.Time{}
	}
	return t
}

// Before reports whether d is strictly earlier than e (both valid).
func (d Date) Before(e Date) bool { return d < e }

// String returns d as written.
func (d Date) String() string { return string(d) }

// UnmarshalJSON accepts only a valid date or an empty string, so that a bad
// date fails decoding at its field.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("date must be a string YYYY-MM-DD")
	}
	if s == "" {
		*d = ""
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// LangMap maps a BCP 47 language tag to text in that language
// (nameMap, contentMap, …).
type LangMap map[string]string

// IRIList is a list of IRIs that also accepts a single string on input,
// because ActivityStreams allows "to": "iri" as well as "to": ["iri"].
type IRIList []string

// UnmarshalJSON accepts a string or an array of strings.
func (l *IRIList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = IRIList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("must be an IRI or an array of IRIs")
	}
	*l = many
	return nil
}

// Tag is an ActivityStreams Hashtag; commitments carry one per policy area
// so fediverse users can follow a theme.
type Tag struct {
	Type string `json:"type"`
	Href string `json:"href,omitempty"`
	Name string `json:"name"`
}

// OtherActors lists the other parties involved in a commitment, split as the
// OGP template does.
type OtherActors struct {
	Government   []string `json:"ogp:government,omitempty"`
	CivilSociety []string `json:"ogp:civilSociety,omitempty"`
}

// Milestone is one verifiable deliverable of a commitment. Its ID is an IRI:
// the commitment IRI with a "#milestone-{key}" fragment (see IRIs.Milestone).
type Milestone struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Name           string          `json:"name"`
	NameMap        LangMap         `json:"nameMap,omitempty"`
	Deliverable    string          `json:"ogp:deliverable,omitempty"`
	DeliverableMap LangMap         `json:"ogp:deliverableMap,omitempty"`
	StartDate      Date            `json:"ogp:startDate,omitempty"`
	EndDate        Date            `json:"ogp:endDate,omitempty"`
	Status         MilestoneStatus `json:"ogp:status"`
	CompletedDate  Date            `json:"ogp:completedDate,omitempty"`
}

// IRM is the Independent Reporting Mechanism's assessment of a commitment.
// A commitment the IRM has not reviewed at all carries no ogp:irm ("No IRM
// data"); one under review carries "pending" in the indicators not yet rated.
type IRM struct {
	Verifiable          YesNo           `json:"ogp:verifiable"`
	PotentialImpact     PotentialImpact `json:"ogp:potentialImpact"`
	Starred             YesNo           `json:"ogp:starred"`
	DidItOpenGovernment EarlyResults    `json:"ogp:didItOpenGovernment"`
}

// Post is the ActivityStreams head a Commitment and an ActionPlan share:
// what fediverse servers read and show as a post. It is embedded, so its
// fields stand at the top level of the JSON document.
type Post struct {
	Context      []any     `json:"@context,omitempty"`
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	AttributedTo string    `json:"attributedTo"`
	URL          string    `json:"url,omitempty"`
	Name         string    `json:"name"`
	NameMap      LangMap   `json:"nameMap,omitempty"`
	Summary      string    `json:"summary,omitempty"`
	SummaryMap   LangMap   `json:"summaryMap,omitempty"`
	Content      string    `json:"content,omitempty"`
	ContentMap   LangMap   `json:"contentMap,omitempty"`
	Published    time.Time `json:"published,omitzero"`
	Updated      time.Time `json:"updated,omitzero"`
	To           IRIList   `json:"to,omitempty"`
	CC           IRIList   `json:"cc,omitempty"`
	// Replies lists the approved replies, as Mastodon exposes them.
	Replies *RepliesCollection `json:"replies,omitempty"`
}

// RepliesCollection is an object's "replies": a Collection whose first
// page lists the approved direct replies' IRIs (Mastodon's shape).
type RepliesCollection struct {
	ID    string      `json:"id"`
	Type  string      `json:"type"`
	First RepliesPage `json:"first"`
}

// RepliesPage is the one page of a RepliesCollection.
type RepliesPage struct {
	Type   string   `json:"type"`
	PartOf string   `json:"partOf"`
	Items  []string `json:"items"`
}

// NewReplies returns the replies collection of objectIRI with items.
func NewReplies(objectIRI string, items []string) *RepliesCollection {
	if items == nil {
		items = []string{}
	}
	id := Replies(objectIRI)
	return &RepliesCollection{ID: id, Type: "Collection", First: RepliesPage{Type: "CollectionPage", PartOf: id, Items: items}}
}

// Commitment is the wire form of a commitment: an ActivityStreams Article
// with ogp fields. Fediverse servers read only the ActivityStreams part:
// Mastodon shows name and link, GoToSocial name (as the post's topic line)
// and content, which is written for them (title, lead, link, hashtags).
// The structured text lives in ogp:lead and ogp:description. Summary is
// accepted on input from older producers but ours leave it out, because
// GoToSocial turns it into a content warning (docs/vocabulary.md).
type Commitment struct {
	Post
	// Thread is the ActivityStreams "context": the commitment's
	// conversation collection, which groups the commitment, its updates and
	// the replies in their threads.
	Thread string `json:"context,omitempty"`
	Tag    []Tag  `json:"tag,omitempty"`

	// Lead is the short HTML lead for listings (completion and the start
	// of the description); Description the full description, HTML.
	Lead           string  `json:"ogp:lead,omitempty"`
	LeadMap        LangMap `json:"ogp:leadMap,omitempty"`
	Description    string  `json:"ogp:description,omitempty"`
	DescriptionMap LangMap `json:"ogp:descriptionMap,omitempty"`

	Identifier      string       `json:"ogp:identifier"`
	ActionPlan      string       `json:"ogp:actionPlan"`
	Jurisdiction    string       `json:"ogp:jurisdiction,omitempty"`
	StartDate       Date         `json:"ogp:startDate,omitempty"`
	EndDate         Date         `json:"ogp:endDate,omitempty"`
	LeadInstitution string       `json:"ogp:leadInstitution,omitempty"`
	OtherActors     *OtherActors `json:"ogp:otherActors,omitempty"`
	Problem         string       `json:"ogp:problem,omitempty"`
	ProblemMap      LangMap      `json:"ogp:problemMap,omitempty"`
	Objective       string       `json:"ogp:objective,omitempty"`
	ObjectiveMap    LangMap      `json:"ogp:objectiveMap,omitempty"`
	Values          []Value      `json:"ogp:values,omitempty"`
	PolicyAreas     []string     `json:"ogp:policyAreas,omitempty"`
	Taxonomy        string       `json:"ogp:taxonomy,omitempty"`
	Milestones      []Milestone  `json:"ogp:milestones,omitempty"`
	Completion      Completion   `json:"ogp:completion"`
	IRM             *IRM         `json:"ogp:irm,omitempty"`
}

// MilestoneChange records a milestone's new status in a progress update.
type MilestoneChange struct {
	Milestone string          `json:"ogp:milestone"`
	Status    MilestoneStatus `json:"ogp:status"`
}

// ProgressUpdate is the wire form of a progress report on a commitment: a
// Note replying to the commitment, readable as a post in any client. It has
// no "summary" on purpose: Mastodon would show it as a content warning.
type ProgressUpdate struct {
	Context      []any     `json:"@context,omitempty"`
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	AttributedTo string    `json:"attributedTo"`
	URL          string    `json:"url,omitempty"`
	InReplyTo    string    `json:"inReplyTo"`
	Thread       string    `json:"context,omitempty"`
	Content      string    `json:"content"`
	ContentMap   LangMap   `json:"contentMap,omitempty"`
	Published    time.Time `json:"published,omitzero"`
	Updated      time.Time `json:"updated,omitzero"`
	To           IRIList   `json:"to,omitempty"`
	CC           IRIList   `json:"cc,omitempty"`
	Tag          []Tag     `json:"tag,omitempty"`
	// Replies lists the approved replies, as Mastodon exposes them.
	Replies *RepliesCollection `json:"replies,omitempty"`

	Date             Date              `json:"ogp:date"`
	Completion       Completion        `json:"ogp:completion,omitempty"`
	MilestoneChanges []MilestoneChange `json:"ogp:milestoneChanges,omitempty"`
	Evidence         []string          `json:"ogp:evidence,omitempty"`
}

// Period is an action plan's implementation period.
type Period struct {
	Start Date `json:"ogp:start"`
	End   Date `json:"ogp:end"`
}

// Guideline is how far one IRM process guideline was met, with links to
// the evidence (published timeline, comment summary, forum minutes…).
type Guideline struct {
	Key      GuidelineKey   `json:"ogp:key"`
	Level    GuidelineLevel `json:"ogp:level"`
	Evidence []string       `json:"ogp:evidence,omitempty"`
}

// Participation is the level of public influence (IAP2) during development
// and during implementation of a plan. An empty level means "not recorded".
type Participation struct {
	Development    IAP2Level `json:"ogp:development,omitempty"`
	Implementation IAP2Level `json:"ogp:implementation,omitempty"`
}

// ActionPlan is the wire form of an action plan: a Page that lists its
// commitments and records how it was made. As for a Commitment, content is
// the post fediverse servers show and ogp:lead the structured one-line
// summary; Summary is only read from older producers.
type ActionPlan struct {
	Post
	// Thread is the plan's conversation collection ("context").
	Thread string `json:"context,omitempty"`
	Tag    []Tag  `json:"tag,omitempty"`

	Lead          string         `json:"ogp:lead,omitempty"`
	LeadMap       LangMap        `json:"ogp:leadMap,omitempty"`
	Jurisdiction  string         `json:"ogp:jurisdiction"`
	Period        Period         `json:"ogp:period"`
	Status        PlanStatus     `json:"ogp:status"`
	Commitments   []string       `json:"ogp:commitments"`
	Guidelines    []Guideline    `json:"ogp:guidelines,omitempty"`
	Participation *Participation `json:"ogp:participation,omitempty"`
}

// Tombstone replaces a deleted object in a Delete activity.
type Tombstone struct {
	Context    []any     `json:"@context,omitempty"`
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	FormerType string    `json:"formerType,omitempty"`
	Deleted    time.Time `json:"deleted,omitzero"`
}

// LeadText returns the commitment's lead and its language map: ogp:lead,
// or the summary of a producer that predates it.
func (c Commitment) LeadText() (string, LangMap) {
	if c.Lead != "" || len(c.LeadMap) > 0 {
		return c.Lead, c.LeadMap
	}
	return c.Summary, c.SummaryMap
}

// DescriptionText returns the commitment's description (HTML) and its
// language map: ogp:description, or the content of a producer that
// predates it (whose content was the description).
func (c Commitment) DescriptionText() (string, LangMap) {
	if c.Description != "" || len(c.DescriptionMap) > 0 {
		return c.Description, c.DescriptionMap
	}
	return c.Content, c.ContentMap
}

// LeadText returns the plan's one-line summary and its language map:
// ogp:lead, or the summary of a producer that predates it.
func (p ActionPlan) LeadText() (string, LangMap) {
	if p.Lead != "" || len(p.LeadMap) > 0 {
		return p.Lead, p.LeadMap
	}
	return p.Summary, p.SummaryMap
}
