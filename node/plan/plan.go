package plan

import (
	"encoding/json"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// The closed value sets are the vocabulary's: one definition shared by the
// node that publishes them and the hub that reads them.
type (
	// Value is an OGP value (access to information, …).
	Value = ogp.Value
	// Completion is the IRM completion scale.
	Completion = ogp.Completion
	// MilestoneStatus is a milestone's implementation state.
	MilestoneStatus = ogp.MilestoneStatus
	// Date is a calendar day "YYYY-MM-DD".
	Date = ogp.Date
	// YesNo is an IRM yes/no/pending indicator.
	YesNo = ogp.YesNo
	// PotentialImpact is the IRM potential-impact scale.
	PotentialImpact = ogp.PotentialImpact
	// EarlyResults is the IRM "Did it open government?" scale.
	EarlyResults = ogp.EarlyResults
	// GuidelineKey names an IRM process guideline.
	GuidelineKey = ogp.GuidelineKey
	// GuidelineLevel says how far a guideline was met.
	GuidelineLevel = ogp.GuidelineLevel
	// IAP2Level is a level of public influence.
	IAP2Level = ogp.IAP2Level
	// PlanStatus is an action plan's stage.
	PlanStatus = ogp.PlanStatus
)

// ActionPlan is one action plan of the jurisdiction (e.g. 2016-2018).
type ActionPlan struct {
	// ID is a slug unique on the node, e.g. "2016-2018"; it is in the IRI.
	ID    string `bson:"_id" json:"id"`
	Title Text   `bson:"title" json:"title"`
	// Summary is an optional short description.
	Summary      Text       `bson:"summary,omitempty" json:"summary,omitzero"`
	Jurisdiction string     `bson:"jurisdiction" json:"jurisdiction"`
	Period       Period     `bson:"period" json:"period"`
	Status       PlanStatus `bson:"status" json:"status"`
	// Prefix is the jurisdiction's commitment-ID prefix ("JAL"); when set,
	// commitments of this plan must use it.
	Prefix string `bson:"prefix,omitempty" json:"prefix,omitempty"`
	// Guidelines holds the IRM's seven process guidelines in the order of
	// ogp.GuidelineKeys; an empty Level means "not recorded".
	Guidelines    [7]Guideline  `bson:"guidelines" json:"guidelines"`
	Participation Participation `bson:"participation" json:"participation"`
	Created       time.Time     `bson:"created" json:"created"`
	Updated       time.Time     `bson:"updated" json:"updated"`
}

// Period is an implementation period, both ends inclusive.
type Period struct {
	Start Date `bson:"start" json:"start"`
	End   Date `bson:"end" json:"end"`
}

// Guideline is how far one IRM process guideline was met, with evidence.
type Guideline struct {
	Key      GuidelineKey   `bson:"key" json:"key"`
	Level    GuidelineLevel `bson:"level,omitempty" json:"level,omitempty"`
	Evidence []string       `bson:"evidence,omitempty" json:"evidence,omitempty"`
}

// Participation is the IAP2 level of public influence during development and
// implementation; empty means not recorded.
type Participation struct {
	Development    IAP2Level `bson:"development,omitempty" json:"development,omitempty"`
	Implementation IAP2Level `bson:"implementation,omitempty" json:"implementation,omitempty"`
}

// NewActionPlan returns a plan with its guideline keys filled in, so that
// callers only set levels.
func NewActionPlan(id string) ActionPlan {
	p := ActionPlan{ID: id, Status: ogp.PlanDevelopment}
	p.NormalizeGuidelines()
	return p
}

// NormalizeGuidelines sets each guideline's Key from its position, so a plan
// decoded from storage or input always names its guidelines.
func (p *ActionPlan) NormalizeGuidelines() {
	for i := range p.Guidelines {
		if p.Guidelines[i].Key == "" {
			p.Guidelines[i].Key = ogp.GuidelineKeys[i]
		}
	}
}

// Commitment is one commitment of an action plan, in the OGP template's
// fields.
type Commitment struct {
	// ID is the OGP identifier: jurisdiction prefix + 4 digits ("JAL0001").
	ID              string      `bson:"_id" json:"id"`
	PlanID          string      `bson:"planId" json:"planId"`
	Title           Text        `bson:"title" json:"title"`
	StartDate       Date        `bson:"startDate" json:"startDate"`
	EndDate         Date        `bson:"endDate" json:"endDate"`
	LeadInstitution string      `bson:"leadInstitution" json:"leadInstitution"`
	OtherActors     OtherActors `bson:"otherActors" json:"otherActors"`
	Problem         Text        `bson:"problem,omitempty" json:"problem,omitzero"`
	Objective       Text        `bson:"objective,omitempty" json:"objective,omitzero"`
	Description     Text        `bson:"description,omitempty" json:"description,omitzero"`
	Values          []Value     `bson:"values,omitempty" json:"values,omitempty"`
	// PolicyAreas are slugs of the taxonomy named by TaxonomyVersion.
	PolicyAreas []string    `bson:"policyAreas,omitempty" json:"policyAreas,omitempty"`
	Milestones  []Milestone `bson:"milestones,omitempty" json:"milestones,omitempty"`
	Completion  Completion  `bson:"completion" json:"completion"`
	// IRM is nil when the IRM has not reviewed the commitment ("No IRM
	// data"); its fields say "pending" while a review is under way.
	IRM     *IRMAssessment `bson:"irm,omitempty" json:"irm,omitempty"`
	Created time.Time      `bson:"created" json:"created"`
	Updated time.Time      `bson:"updated" json:"updated"`
	// Deleted marks a withdrawn commitment: it stays stored (its IRI must
	// answer with a Tombstone) but is no longer listed.
	Deleted   bool      `bson:"deleted,omitempty" json:"deleted,omitempty"`
	DeletedAt time.Time `bson:"deletedAt,omitempty" json:"deletedAt,omitzero"`
}

// OtherActors are the other parties involved, split as the template does.
type OtherActors struct {
	Government   []string `bson:"government,omitempty" json:"government,omitempty"`
	CivilSociety []string `bson:"civilSociety,omitempty" json:"civilSociety,omitempty"`
}

// Milestone is a verifiable deliverable of a commitment.
type Milestone struct {
	// ID is a short slug unique within the commitment ("1", "m2"); it is
	// the fragment of the milestone's IRI.
	ID          string          `bson:"id" json:"id"`
	Title       Text            `bson:"title" json:"title"`
	Deliverable Text            `bson:"deliverable,omitempty" json:"deliverable,omitzero"`
	Start       Date            `bson:"start,omitempty" json:"start,omitempty"`
	End         Date            `bson:"end,omitempty" json:"end,omitempty"`
	Status      MilestoneStatus `bson:"status" json:"status"`
	CompletedOn Date            `bson:"completedOn,omitempty" json:"completedOn,omitempty"`
}

// IRMAssessment is the Independent Reporting Mechanism's rating.
type IRMAssessment struct {
	Verifiable          YesNo           `bson:"verifiable" json:"verifiable"`
	PotentialImpact     PotentialImpact `bson:"potentialImpact" json:"potentialImpact"`
	Starred             YesNo           `bson:"starred" json:"starred"`
	DidItOpenGovernment EarlyResults    `bson:"didItOpenGovernment" json:"didItOpenGovernment"`
}

// PendingIRM returns an assessment with every indicator pending.
func PendingIRM() *IRMAssessment {
	return &IRMAssessment{ogp.Pending, ogp.ImpactPending, ogp.Pending, ogp.ResultsPending}
}

// ProgressUpdate is a dated report on a commitment's implementation.
type ProgressUpdate struct {
	// ID is sortable by creation time (planstore generates it).
	ID           string `bson:"_id" json:"id"`
	CommitmentID string `bson:"commitmentId" json:"commitmentId"`
	// Date is the day the progress refers to.
	Date Date `bson:"date" json:"date"`
	Text Text `bson:"text" json:"text"`
	// Completion, when set, is the commitment's completion after this update.
	Completion       Completion        `bson:"completion,omitempty" json:"completion,omitempty"`
	MilestoneChanges []MilestoneChange `bson:"milestoneChanges,omitempty" json:"milestoneChanges,omitempty"`
	// Evidence are absolute http(s) links.
	Evidence []string  `bson:"evidence,omitempty" json:"evidence,omitempty"`
	Created  time.Time `bson:"created" json:"created"`
	// Updated is set when an operator edited the update after posting it
	// (zero for one never edited); it is the Note's "updated".
	Updated time.Time `bson:"updated,omitempty" json:"updated,omitzero"`
	// Deleted marks an update an operator removed: it stays stored (its
	// IRI must answer with a Tombstone) but is no longer listed.
	Deleted   bool      `bson:"deleted,omitempty" json:"deleted,omitempty"`
	DeletedAt time.Time `bson:"deletedAt,omitempty" json:"deletedAt,omitzero"`
}

// SameContent reports whether u and v say the same thing (date, text,
// completion, milestone changes, evidence), ignoring identity and
// bookkeeping (ID, CommitmentID, Created, Updated, Deleted, DeletedAt). An
// edit that changes nothing must not bump Updated or federate an Update.
func (u ProgressUpdate) SameContent(v ProgressUpdate) bool {
	key := func(x ProgressUpdate) string {
		x.ID, x.CommitmentID = "", ""
		x.Created, x.Updated, x.Deleted, x.DeletedAt = time.Time{}, time.Time{}, false, time.Time{}
		b, err := json.Marshal(x)
		if err != nil {
			// Only strings, slices and maps of strings: cannot fail.
			panic("plan: encode progress update: " + err.Error())
		}
		return string(b)
	}
	return key(u) == key(v)
}

// MilestoneChange sets a milestone's status as part of a progress update.
type MilestoneChange struct {
	MilestoneID string          `bson:"milestoneId" json:"milestoneId"`
	Status      MilestoneStatus `bson:"status" json:"status"`
}

// Apply returns c with the update's completion and milestone changes
// applied: the commitment's current state follows its latest update. A
// milestone set to complete gets the update's date as CompletedOn.
func (u ProgressUpdate) Apply(c Commitment) Commitment {
	if u.Completion != "" {
		c.Completion = u.Completion
	}
	if len(u.MilestoneChanges) > 0 {
		c.Milestones = append([]Milestone(nil), c.Milestones...)
		for _, ch := range u.MilestoneChanges {
			for i := range c.Milestones {
				if c.Milestones[i].ID != ch.MilestoneID {
					continue
				}
				c.Milestones[i].Status = ch.Status
				if ch.Status == ogp.MilestoneComplete && c.Milestones[i].CompletedOn.IsZero() {
					c.Milestones[i].CompletedOn = u.Date
				}
				if ch.Status != ogp.MilestoneComplete {
					c.Milestones[i].CompletedOn = ""
				}
			}
		}
	}
	return c
}

// SameContent reports whether c and d say the same thing, ignoring the
// bookkeeping fields (Created, Updated, Deleted, DeletedAt). Re-importing an
// unchanged commitment must not bump Updated or federate an Update.
func (c Commitment) SameContent(d Commitment) bool {
	return contentKey(c) == contentKey(d)
}

// contentKey is a canonical encoding of c's content: encoding/json writes
// map keys sorted and omits empty values, so equal content encodes equally
// whether a list is nil or empty.
func contentKey(c Commitment) string {
	c.Created, c.Updated, c.Deleted, c.DeletedAt = time.Time{}, time.Time{}, false, time.Time{}
	b, err := json.Marshal(c)
	if err != nil {
		// Only strings, slices and maps of strings: cannot fail.
		panic("plan: encode commitment: " + err.Error())
	}
	return string(b)
}

// SameContent reports whether p and q say the same thing, ignoring Created
// and Updated.
func (p ActionPlan) SameContent(q ActionPlan) bool {
	p.Created, p.Updated, q.Created, q.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	p.NormalizeGuidelines()
	q.NormalizeGuidelines()
	a, errA := json.Marshal(p)
	b, errB := json.Marshal(q)
	return errA == nil && errB == nil && string(a) == string(b)
}
