package api

import (
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// The JSON shapes below are the public contract documented in
// docs/api-hub.md and docs/openapi-hub.yaml; other tools rely on the field
// names, so they are spelled out here rather than derived from the read
// model's Go types (which may change).

// PilotJSON is one pilot in GET /api/v1/pilots.
type PilotJSON struct {
	Actor         string                 `json:"actor"`
	Name          string                 `json:"name"`
	Handle        string                 `json:"handle"`
	URL           string                 `json:"url"`
	Jurisdiction  string                 `json:"jurisdiction"`
	Commitments   int                    `json:"commitments"`
	ByCompletion  map[ogp.Completion]int `json:"byCompletion"`
	Starred       int                    `json:"starred"`
	Milestones    MilestonesJSON         `json:"milestones"`
	Updates       int                    `json:"updates"`
	LastUpdate    *time.Time             `json:"lastUpdate"`
	Guidelines    GuidelinesJSON         `json:"guidelines"`
	Participation ParticipationJSON      `json:"participation"`
	Themes        []string               `json:"themes"`
	CurrentPlan   *string                `json:"currentPlan"`
	Plans         []PlanJSON             `json:"plans"`
}

// MilestonesJSON counts milestones by status against their end dates.
type MilestonesJSON struct {
	Total        int `json:"total"`
	Complete     int `json:"complete"`
	CompleteLate int `json:"completeLate"`
	OnTrack      int `json:"onTrack"`
	Overdue      int `json:"overdue"`
	Cancelled    int `json:"cancelled"`
}

// GuidelinesJSON is the IRM process-guideline score of the current plan.
type GuidelinesJSON struct {
	Met       int `json:"met"`
	Partly    int `json:"partly"`
	NotMet    int `json:"notMet"`
	Unknown   int `json:"unknown"`
	Points    int `json:"points"`
	MaxPoints int `json:"maxPoints"`
	Percent   int `json:"percent"`
}

// ParticipationJSON is the IAP2 level during development and implementation.
type ParticipationJSON struct {
	Development    *string `json:"development"`
	Implementation *string `json:"implementation"`
}

// PlanJSON is an action plan.
type PlanJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	PeriodStart string `json:"periodStart"`
	PeriodEnd   string `json:"periodEnd"`
	Status      string `json:"status"`
	Commitments int    `json:"commitments"`
}

// CommitmentJSON is one commitment in GET /api/v1/commitments and the JSON
// export.
type CommitmentJSON struct {
	ID              string            `json:"id"`
	Pilot           string            `json:"pilot"`
	PilotName       string            `json:"pilotName"`
	Identifier      string            `json:"identifier"`
	Name            string            `json:"name"`
	NameMap         map[string]string `json:"nameMap"`
	Summary         string            `json:"summary"` // sanitised HTML
	SummaryMap      map[string]string `json:"summaryMap"`
	Content         string            `json:"content"` // sanitised HTML
	ContentMap      map[string]string `json:"contentMap"`
	Problem         string            `json:"problem"`
	Objective       string            `json:"objective"`
	URL             string            `json:"url"`
	ActionPlan      string            `json:"actionPlan"`
	PlanName        string            `json:"planName"`
	PeriodStart     string            `json:"periodStart"`
	PeriodEnd       string            `json:"periodEnd"`
	Jurisdiction    string            `json:"jurisdiction"`
	StartDate       string            `json:"startDate"`
	EndDate         string            `json:"endDate"`
	LeadInstitution string            `json:"leadInstitution"`
	OtherActors     OtherActorsJSON   `json:"otherActors"`
	Themes          []string          `json:"themes"`
	Values          []ogp.Value       `json:"values"`
	Taxonomy        string            `json:"taxonomy"`
	Completion      ogp.Completion    `json:"completion"`
	Starred         bool              `json:"starred"`
	IRM             *IRMJSON          `json:"irm"`
	Milestones      MilestonesJSON    `json:"milestones"`
	MilestoneList   []MilestoneJSON   `json:"milestoneList"`
	Updates         int               `json:"updates"`
	LastUpdate      *time.Time        `json:"lastUpdate"`
	Published       *time.Time        `json:"published"`
	Updated         *time.Time        `json:"updated"`
}

// OtherActorsJSON lists other parties involved.
type OtherActorsJSON struct {
	Government   []string `json:"government"`
	CivilSociety []string `json:"civilSociety"`
}

// IRMJSON is the IRM assessment.
type IRMJSON struct {
	Verifiable          string `json:"verifiable"`
	PotentialImpact     string `json:"potentialImpact"`
	Starred             string `json:"starred"`
	DidItOpenGovernment string `json:"didItOpenGovernment"`
}

// MilestoneJSON is one milestone.
type MilestoneJSON struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Deliverable   string `json:"deliverable"`
	StartDate     string `json:"startDate"`
	EndDate       string `json:"endDate"`
	Status        string `json:"status"`
	CompletedDate string `json:"completedDate"`
}

// UpdateJSON is one progress update.
type UpdateJSON struct {
	ID               string                `json:"id"`
	Commitment       string                `json:"commitment"`
	Pilot            string                `json:"pilot"`
	URL              string                `json:"url"`
	Date             string                `json:"date"`
	Content          string                `json:"content"` // sanitised HTML
	Completion       *string               `json:"completion"`
	MilestoneChanges []ogp.MilestoneChange `json:"milestoneChanges"`
	Evidence         []string              `json:"evidence"`
	Published        *time.Time            `json:"published"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func strPtr[T ~string](s T) *string {
	if s == "" {
		return nil
	}
	v := string(s)
	return &v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func htmlMap(h readmodel.HTML) map[string]string {
	out := map[string]string{}
	for k, v := range h.Map {
		out[k] = string(v)
	}
	return out
}

func textMap(t readmodel.Text) map[string]string {
	out := map[string]string{}
	for k, v := range t.Map {
		out[k] = v
	}
	return out
}

func milestonesJSON(m readmodel.MilestoneCounts) MilestonesJSON {
	return MilestonesJSON{Total: m.Total, Complete: m.Complete, CompleteLate: m.CompleteLate,
		OnTrack: m.OnTrack, Overdue: m.Overdue, Cancelled: m.Cancelled}
}

// ToPilot converts a read-model pilot.
func ToPilot(p readmodel.Pilot) PilotJSON {
	s := p.Summary
	out := PilotJSON{
		Actor: p.Actor, Name: p.Name, Handle: p.Handle, URL: p.URL, Jurisdiction: p.Jurisdiction,
		Commitments: s.Commitments, ByCompletion: s.ByCompletion, Starred: s.Starred,
		Milestones: milestonesJSON(s.Milestones), Updates: s.Updates, LastUpdate: timePtr(s.LastUpdate),
		Guidelines: GuidelinesJSON{Met: s.Guidelines.Met, Partly: s.Guidelines.Partly, NotMet: s.Guidelines.NotMet,
			Unknown: s.Guidelines.Unknown, Points: s.Guidelines.Points, MaxPoints: s.Guidelines.MaxPoints, Percent: s.Guidelines.Percent()},
		Participation: ParticipationJSON{Development: strPtr(s.Participation.Development), Implementation: strPtr(s.Participation.Implementation)},
		Themes:        nonNil(p.Themes),
		CurrentPlan:   strPtr(p.CurrentPlan),
		Plans:         []PlanJSON{},
	}
	for _, pl := range p.Plans {
		out.Plans = append(out.Plans, PlanJSON{ID: pl.ID, Name: pl.Name.Default, URL: pl.URL,
			PeriodStart: string(pl.Period.Start), PeriodEnd: string(pl.Period.End), Status: string(pl.Status), Commitments: len(pl.Commitments)})
	}
	return out
}

// ToCommitment converts a read-model commitment.
func ToCommitment(c readmodel.Commitment) CommitmentJSON {
	out := CommitmentJSON{
		ID: c.ID, Pilot: c.Pilot, PilotName: c.PilotName, Identifier: c.Identifier,
		Name: c.Name.Default, NameMap: textMap(c.Name),
		Summary: string(c.SummaryHTML.Default), SummaryMap: htmlMap(c.SummaryHTML),
		Content: string(c.ContentHTML.Default), ContentMap: htmlMap(c.ContentHTML),
		Problem: c.Problem.Default, Objective: c.Objective.Default,
		URL: c.URL, ActionPlan: c.ActionPlan, PlanName: c.PlanName,
		PeriodStart: string(c.Period.Start), PeriodEnd: string(c.Period.End),
		Jurisdiction: c.Jurisdiction, StartDate: string(c.StartDate), EndDate: string(c.EndDate),
		LeadInstitution: c.LeadInstitution,
		OtherActors:     OtherActorsJSON{Government: nonNil(c.OtherActors.Government), CivilSociety: nonNil(c.OtherActors.CivilSociety)},
		Themes:          nonNil(c.Themes), Values: nonNil(c.Values), Taxonomy: c.Taxonomy,
		Completion: c.Completion, Starred: c.Starred,
		Milestones: milestonesJSON(c.MilestoneCounts), MilestoneList: []MilestoneJSON{},
		Updates: c.Updates, LastUpdate: timePtr(c.LastUpdate), Published: timePtr(c.Published), Updated: timePtr(c.Updated),
	}
	if c.IRM != nil {
		out.IRM = &IRMJSON{Verifiable: string(c.IRM.Verifiable), PotentialImpact: string(c.IRM.PotentialImpact),
			Starred: string(c.IRM.Starred), DidItOpenGovernment: string(c.IRM.DidItOpenGovernment)}
	}
	for _, m := range c.Milestones {
		out.MilestoneList = append(out.MilestoneList, MilestoneJSON{ID: m.ID, Name: m.Name, Deliverable: m.Deliverable,
			StartDate: string(m.StartDate), EndDate: string(m.EndDate), Status: string(m.Status), CompletedDate: string(m.CompletedDate)})
	}
	return out
}

// ToUpdate converts a read-model progress update.
func ToUpdate(u readmodel.Update) UpdateJSON {
	return UpdateJSON{ID: u.ID, Commitment: u.Commitment, Pilot: u.Pilot, URL: u.URL, Date: string(u.Date),
		Content: string(u.ContentHTML.Default), Completion: strPtr(u.Completion),
		MilestoneChanges: nonNil(u.MilestoneChanges), Evidence: nonNil(u.Evidence), Published: timePtr(u.Published)}
}
