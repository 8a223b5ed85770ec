package jsonshape

import (
	"fmt"
	"strings"
	"time"

	"github.com/ogpnet/ogpnet/node/plan"
)

// Update is a progress update on a commitment.
type Update struct {
	ID string `json:"id,omitempty"`
	// CommitmentID is the commitment the update is about (in the API it
	// comes from the URL and may be left out).
	CommitmentID string `json:"commitmentId,omitempty"`
	// CommitmentAlias is "commitment", the spelling JSON imports used
	// before commitmentId.
	//
	// Deprecated: accepted on input for one release (it must then agree
	// with commitmentId); never sent. Write commitmentId.
	CommitmentAlias  string   `json:"commitment,omitempty"`
	Date             string   `json:"date,omitempty"`
	Text             Text     `json:"text"`
	Completion       string   `json:"completion,omitempty"`
	MilestoneChanges []Change `json:"milestoneChanges,omitempty"`
	Evidence         []string `json:"evidence,omitempty"`
	// Output only.
	IRI     string    `json:"iri,omitempty"`
	Created time.Time `json:"created,omitzero"`
	Updated time.Time `json:"updated,omitzero"` // set once edited
}

// Change is a milestone's new status, reported by a progress update.
type Change struct {
	MilestoneID string `json:"milestoneId"`
	// MilestoneAlias is "milestone", the spelling JSON imports used before
	// milestoneId.
	//
	// Deprecated: accepted on input for one release; never sent. Write
	// milestoneId.
	MilestoneAlias string `json:"milestone,omitempty"`
	Status         string `json:"status"`
}

// Commitment returns the commitment reference, from commitmentId or its
// deprecated alias "commitment", and whether the two disagree.
func (in Update) Commitment() (id string, conflict bool) {
	return pick(in.CommitmentID, in.CommitmentAlias)
}

// pick returns the canonical value, else the deprecated alias, and whether
// both are given and disagree.
func pick(canonical, alias string) (string, bool) {
	canonical, alias = strings.TrimSpace(canonical), strings.TrimSpace(alias)
	if canonical == "" {
		return alias, false
	}
	return canonical, alias != "" && alias != canonical
}

// Domain maps in to a plan.ProgressUpdate, untagged text being in lang;
// the field errors are what could not be mapped (see Commitment.Domain).
func (in Update) Domain(lang string) (plan.ProgressUpdate, []plan.FieldError) {
	var f fields
	cid, conflict := in.Commitment()
	if conflict {
		f.Add("commitmentId", "%s", `"commitment" (deprecated) and "commitmentId" differ; send commitmentId only`)
	}
	u := plan.ProgressUpdate{ID: strings.TrimSpace(in.ID), CommitmentID: cid, Date: f.date("date", in.Date),
		Text: in.Text.Domain(lang), Completion: plan.Completion(strings.TrimSpace(in.Completion)), Evidence: trimAll(in.Evidence)}
	for i, ch := range in.MilestoneChanges {
		id, conflict := pick(ch.MilestoneID, ch.MilestoneAlias)
		if conflict {
			f.Add(fmt.Sprintf("milestoneChanges[%d].milestoneId", i), "%s", `"milestone" (deprecated) and "milestoneId" differ; send milestoneId only`)
		}
		u.MilestoneChanges = append(u.MilestoneChanges, plan.MilestoneChange{MilestoneID: id, Status: plan.MilestoneStatus(strings.TrimSpace(ch.Status))})
	}
	return u, f.Fields
}

// FromUpdate maps u to its JSON form; iri is its ActivityPub IRI.
func FromUpdate(u plan.ProgressUpdate, iri string) Update {
	out := Update{ID: u.ID, CommitmentID: u.CommitmentID, Date: string(u.Date), Text: FromText(u.Text),
		Completion: string(u.Completion), Evidence: u.Evidence, IRI: iri, Created: u.Created, Updated: u.Updated}
	for _, ch := range u.MilestoneChanges {
		out.MilestoneChanges = append(out.MilestoneChanges, Change{MilestoneID: ch.MilestoneID, Status: string(ch.Status)})
	}
	return out
}
