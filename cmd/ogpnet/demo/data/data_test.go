// Package data_test checks the demo's sample data (the JSON files beside
// this test) with the node's own importer, the way the demo loads them.
// It lives apart from package demo so it runs even while demo.go's
// dependencies are in progress.
package data_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/node/importer"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/planstore"
)

type pilot struct {
	Slug      string   `json:"slug"`
	Name      string   `json:"name"`
	Summary   string   `json:"summary"`
	Lang      string   `json:"lang"`
	Languages []string `json:"languages"`
}

var wantSlugs = []string{
	"austin", "buenos-aires", "jalisco", "la-libertad", "ontario", "sao-paulo", "scotland", "madrid",
	"paris", "elgeyo-marakwet", "kigoma", "sekondi-takoradi", "bojonegoro", "seoul", "tbilisi",
}

func readPilots(t *testing.T) []pilot {
	t.Helper()
	raw, err := os.ReadFile("pilots.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var ps []pilot
	if err := dec.Decode(&ps); err != nil {
		t.Fatalf("pilots.json: %v", err)
	}
	return ps
}

func TestSampleDataPilots(t *testing.T) {
	ps := readPilots(t)
	var slugs []string
	for _, p := range ps {
		slugs = append(slugs, p.Slug)
		if p.Name == "" || p.Summary == "" || strings.ContainsAny(p.Summary, "<>") {
			t.Errorf("%s: needs a name and an HTML-free summary", p.Slug)
		}
		if !strings.Contains(strings.ToLower(p.Summary), "illustrative") {
			t.Errorf("%s: summary %q does not say the data is illustrative", p.Slug, p.Summary)
		}
		if !ogp.ValidLanguageTag(p.Lang) || len(p.Languages) == 0 || p.Languages[0] != p.Lang {
			t.Errorf("%s: lang %q must be valid and first in languages %v", p.Slug, p.Lang, p.Languages)
		}
		if !slices.Contains(p.Languages, "en") {
			t.Errorf("%s: languages %v must include en", p.Slug, p.Languages)
		}
	}
	if !slices.Equal(slugs, wantSlugs) {
		t.Errorf("slugs = %v, want %v", slugs, wantSlugs)
	}
}

// TestSampleData parses every pilot's file with the importer, dry-runs it
// against an empty store (which runs the domain validation), and checks the
// demo's own rules: 3-7 commitments with titles in the node's language and
// English, at least two progress updates each, a labelled summary, and a
// commitment state that matches the latest progress updates.
func TestSampleData(t *testing.T) {
	for _, p := range readPilots(t) {
		t.Run(p.Slug, func(t *testing.T) {
			f, err := os.Open(filepath.Join(".", p.Slug+".json"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b, errs := importer.Parse(importer.FormatJSON, f, importer.DefaultLimits(p.Lang))
			for _, e := range errs {
				t.Errorf("parse: %v", e)
			}
			if b == nil {
				t.Fatalf("parse failed")
			}
			if b.Lang != p.Lang {
				t.Errorf("file lang %q, pilot lang %q", b.Lang, p.Lang)
			}
			rep, err := importer.DryRun(context.Background(), newMemStore(), b)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range rep.Errors {
				t.Errorf("dry run: %v", e)
			}
			if rep.Count(importer.ActionCreate) != len(b.Rows) {
				t.Errorf("dry run would create %d of %d commitments", rep.Count(importer.ActionCreate), len(b.Rows))
			}
			checkPlan(t, p, b.Plan)
			if n := len(b.Rows); n < 3 || n > 7 {
				t.Errorf("%d commitments, want 3 to 7", n)
			}
			updates := map[string][]plan.ProgressUpdate{}
			for _, u := range b.Updates {
				updates[u.Update.CommitmentID] = append(updates[u.Update.CommitmentID], u.Update)
			}
			for _, r := range b.Rows {
				checkCommitment(t, p, b.Plan, r.Commitment, updates[r.Commitment.ID])
			}
		})
	}
}

func checkPlan(t *testing.T, p pilot, ap *plan.ActionPlan) {
	t.Helper()
	if ap == nil {
		t.Fatal("no plan in the file")
	}
	for _, lang := range []string{p.Lang, "en"} {
		if ap.Title.Map[lang] == "" || ap.Summary.Map[lang] == "" {
			t.Errorf("plan: title and summary need %s wording", lang)
		}
	}
	if !strings.Contains(ap.Summary.Map["en"], "Illustrative") {
		t.Errorf("plan summary must say it is illustrative sample data: %q", ap.Summary.Map["en"])
	}
	for _, g := range ap.Guidelines {
		if g.Level == "" {
			t.Errorf("plan: guideline %s has no level", g.Key)
		}
	}
	if ap.Participation.Development == "" || ap.Participation.Implementation == "" {
		t.Errorf("plan: participation levels missing")
	}
}

func checkCommitment(t *testing.T, p pilot, ap *plan.ActionPlan, c plan.Commitment, us []plan.ProgressUpdate) {
	t.Helper()
	for _, lang := range []string{p.Lang, "en"} {
		for name, txt := range map[string]plan.Text{"title": c.Title, "problem": c.Problem, "objective": c.Objective, "description": c.Description} {
			if txt.Map[lang] == "" {
				t.Errorf("%s: %s has no %s wording", c.ID, name, lang)
			}
		}
	}
	if n := len(c.Milestones); n < 2 || n > 5 {
		t.Errorf("%s: %d milestones, want 2 to 5", c.ID, n)
	}
	if n := len(c.PolicyAreas); n < 1 || n > 3 {
		t.Errorf("%s: %d policy areas, want 1 to 3", c.ID, n)
	}
	if len(us) < 2 {
		t.Errorf("%s: %d progress updates, want at least 2", c.ID, len(us))
	}
	inPeriod := func(what string, d plan.Date) {
		if d.Before(ap.Period.Start) || ap.Period.End.Before(d) {
			t.Errorf("%s: %s %s is outside the plan period %s..%s", c.ID, what, d, ap.Period.Start, ap.Period.End)
		}
	}
	inPeriod("startDate", c.StartDate)
	inPeriod("endDate", c.EndDate)
	for _, m := range c.Milestones {
		inPeriod("milestone "+m.ID+" start", m.Start)
		inPeriod("milestone "+m.ID+" end", m.End)
	}
	// The file states the commitment's current state; it must be what its
	// progress history leads to.
	slices.SortStableFunc(us, func(a, b plan.ProgressUpdate) int { return strings.Compare(string(a.Date), string(b.Date)) })
	state := c
	state.Completion = ""
	state.Milestones = slices.Clone(c.Milestones)
	for i := range state.Milestones {
		state.Milestones[i].Status, state.Milestones[i].CompletedOn = ogp.MilestoneNotStarted, ""
	}
	lastDate := plan.Date("2018-06-30")
	for _, u := range us {
		if u.Date.Before(ap.Period.Start) || lastDate.Before(u.Date) {
			t.Errorf("%s: update of %s is outside %s..%s", c.ID, u.Date, ap.Period.Start, lastDate)
		}
		for _, lang := range []string{p.Lang, "en"} {
			if u.Text.Map[lang] == "" {
				t.Errorf("%s: update of %s has no %s wording", c.ID, u.Date, lang)
			}
		}
		for _, l := range u.Evidence {
			if !strings.HasPrefix(l, "https://") {
				t.Errorf("%s: evidence %q is not https", c.ID, l)
			}
		}
		state = u.Apply(state)
	}
	if state.Completion != c.Completion {
		t.Errorf("%s: completion %s, but the latest update says %s", c.ID, c.Completion, state.Completion)
	}
	for i, m := range c.Milestones {
		s := state.Milestones[i]
		if s.Status != m.Status || s.CompletedOn != m.CompletedOn {
			t.Errorf("%s: milestone %s is %s/%s, but the updates lead to %s/%s", c.ID, m.ID, m.Status, m.CompletedOn, s.Status, s.CompletedOn)
		}
	}
}

// memStore is an empty in-memory importer.Store, enough for a dry run.
type memStore struct {
	plans       map[string]plan.ActionPlan
	commitments map[string]plan.Commitment
}

func newMemStore() *memStore {
	return &memStore{plans: map[string]plan.ActionPlan{}, commitments: map[string]plan.Commitment{}}
}

func (s *memStore) GetPlan(_ context.Context, id string) (plan.ActionPlan, error) {
	p, ok := s.plans[id]
	if !ok {
		return plan.ActionPlan{}, planstore.ErrNotFound
	}
	return p, nil
}

func (s *memStore) PutPlan(_ context.Context, p plan.ActionPlan) (planstore.ChangeKind, error) {
	s.plans[p.ID] = p
	return planstore.Created, nil
}

func (s *memStore) GetCommitment(_ context.Context, id string) (plan.Commitment, error) {
	c, ok := s.commitments[id]
	if !ok {
		return plan.Commitment{}, planstore.ErrNotFound
	}
	return c, nil
}

func (s *memStore) UpsertCommitment(_ context.Context, c plan.Commitment) (plan.Commitment, planstore.ChangeKind, error) {
	s.commitments[c.ID] = c
	return c, planstore.Created, nil
}

func (s *memStore) HasUpdate(context.Context, string, func(plan.ProgressUpdate) bool) (bool, error) {
	return false, nil
}

func (s *memStore) GetUpdate(context.Context, string) (plan.ProgressUpdate, error) {
	return plan.ProgressUpdate{}, planstore.ErrNotFound
}

func (s *memStore) RecordUpdate(_ context.Context, u plan.ProgressUpdate) (plan.ProgressUpdate, error) {
	return u, nil
}

var _ importer.Store = (*memStore)(nil)
