package jsonshape

import (
	"fmt"
	"strings"
	"time"

	"github.com/ogpnet/ogpnet/node/plan"
)

// Commitment is a commitment with its milestones.
type Commitment struct {
	ID string `json:"id"`
	// PlanID is the id of the action plan the commitment belongs to.
	PlanID string `json:"planId"`
	// PlanAlias is "plan", the spelling JSON imports used before planId.
	//
	// Deprecated: accepted on input for one release (it must then agree
	// with planId); never sent. Write planId.
	PlanAlias       string      `json:"plan,omitempty"`
	Title           Text        `json:"title"`
	StartDate       string      `json:"startDate"`
	EndDate         string      `json:"endDate"`
	LeadInstitution string      `json:"leadInstitution"`
	OtherActors     Actors      `json:"otherActors"`
	Problem         Text        `json:"problem,omitempty"`
	Objective       Text        `json:"objective,omitempty"`
	Description     Text        `json:"description,omitempty"`
	Values          []string    `json:"values,omitempty"`
	PolicyAreas     []string    `json:"policyAreas,omitempty"`
	Milestones      []Milestone `json:"milestones,omitempty"`
	Completion      string      `json:"completion"`
	IRM             *IRM        `json:"irm,omitempty"`
	// Output only.
	IRI     string    `json:"iri,omitempty"`
	Created time.Time `json:"created,omitzero"`
	Updated time.Time `json:"updated,omitzero"`
}

// Actors are the other actors involved besides the lead institution.
type Actors struct {
	Government   []string `json:"government,omitempty"`
	CivilSociety []string `json:"civilSociety,omitempty"`
}

// Milestone is one milestone of a commitment.
type Milestone struct {
	ID          string `json:"id"`
	Title       Text   `json:"title"`
	Deliverable Text   `json:"deliverable,omitempty"`
	Start       string `json:"start,omitempty"`
	End         string `json:"end,omitempty"`
	Status      string `json:"status"`
	CompletedOn string `json:"completedOn,omitempty"`
}

// IRM is the Independent Reporting Mechanism's assessment.
type IRM struct {
	Verifiable          string `json:"verifiable"`
	PotentialImpact     string `json:"potentialImpact"`
	Starred             string `json:"starred"`
	DidItOpenGovernment string `json:"didItOpenGovernment"`
}

// Plan returns the plan reference, from planId or its deprecated alias
// "plan", and whether the two disagree.
func (in Commitment) Plan() (id string, conflict bool) { return pick(in.PlanID, in.PlanAlias) }

// Domain maps in to a plan.Commitment, untagged text being in lang. The
// field errors are what could not be mapped (dates, a "plan" that
// contradicts "planId"); the value is checked by plan.Commitment.Validate,
// not here.
func (in Commitment) Domain(lang string) (plan.Commitment, []plan.FieldError) {
	var f fields
	planID, conflict := in.Plan()
	if conflict {
		f.Add("planId", "%s", `"plan" (deprecated) and "planId" name different plans; send planId only`)
	}
	c := plan.Commitment{
		ID: strings.TrimSpace(in.ID), PlanID: planID, Title: in.Title.Domain(lang),
		StartDate: f.date("startDate", in.StartDate), EndDate: f.date("endDate", in.EndDate),
		LeadInstitution: strings.TrimSpace(in.LeadInstitution),
		OtherActors:     plan.OtherActors{Government: trimAll(in.OtherActors.Government), CivilSociety: trimAll(in.OtherActors.CivilSociety)},
		Problem:         in.Problem.Domain(lang), Objective: in.Objective.Domain(lang), Description: in.Description.Domain(lang),
		Values: conv[plan.Value](in.Values), PolicyAreas: trimAll(in.PolicyAreas), Completion: plan.Completion(strings.TrimSpace(in.Completion)),
	}
	for i, jm := range in.Milestones {
		m, errs := jm.Domain(lang)
		for _, e := range errs {
			f.Add(fmt.Sprintf("milestones[%d].%s", i, e.Field), "%s", e.Message)
		}
		c.Milestones = append(c.Milestones, m)
	}
	if in.IRM != nil {
		c.IRM = &plan.IRMAssessment{Verifiable: plan.YesNo(strings.TrimSpace(in.IRM.Verifiable)),
			PotentialImpact:     plan.PotentialImpact(strings.TrimSpace(in.IRM.PotentialImpact)),
			Starred:             plan.YesNo(strings.TrimSpace(in.IRM.Starred)),
			DidItOpenGovernment: plan.EarlyResults(strings.TrimSpace(in.IRM.DidItOpenGovernment))}
	}
	return c, f.Fields
}

// Domain maps in to a plan.Milestone (see Commitment.Domain); its field
// errors are named relative to the milestone ("start").
func (in Milestone) Domain(lang string) (plan.Milestone, []plan.FieldError) {
	var f fields
	m := plan.Milestone{
		ID: strings.TrimSpace(in.ID), Title: in.Title.Domain(lang), Deliverable: in.Deliverable.Domain(lang),
		Start: f.date("start", in.Start), End: f.date("end", in.End),
		Status: plan.MilestoneStatus(strings.TrimSpace(in.Status)), CompletedOn: f.date("completedOn", in.CompletedOn),
	}
	return m, f.Fields
}

// FromCommitment maps c to its JSON form; iri is its ActivityPub IRI.
func FromCommitment(c plan.Commitment, iri string) Commitment {
	out := Commitment{ID: c.ID, PlanID: c.PlanID, Title: FromText(c.Title), StartDate: string(c.StartDate), EndDate: string(c.EndDate),
		LeadInstitution: c.LeadInstitution, OtherActors: Actors{Government: c.OtherActors.Government, CivilSociety: c.OtherActors.CivilSociety},
		Problem: FromText(c.Problem), Objective: FromText(c.Objective), Description: FromText(c.Description),
		Values: conv[string](c.Values), PolicyAreas: c.PolicyAreas, Completion: string(c.Completion), IRI: iri, Created: c.Created, Updated: c.Updated}
	for _, m := range c.Milestones {
		out.Milestones = append(out.Milestones, Milestone{ID: m.ID, Title: FromText(m.Title), Deliverable: FromText(m.Deliverable),
			Start: string(m.Start), End: string(m.End), Status: string(m.Status), CompletedOn: string(m.CompletedOn)})
	}
	if c.IRM != nil {
		out.IRM = &IRM{Verifiable: string(c.IRM.Verifiable), PotentialImpact: string(c.IRM.PotentialImpact), Starred: string(c.IRM.Starred), DidItOpenGovernment: string(c.IRM.DidItOpenGovernment)}
	}
	return out
}
