package readmodel

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

var day = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return day }

func commitment(pilot, id string, c ogp.Completion, areas ...string) ogp.Commitment {
	return ogp.Commitment{
		Post: ogp.Post{
			ID:           pilot + "/commitments/" + id,
			Type:         ogp.TypeCommitment,
			AttributedTo: pilot + "/users/x",
			Name:         "Commitment " + id,
			Published:    day.Add(-48 * time.Hour),
		},
		Identifier: id, ActionPlan: pilot + "/plans/p1",
		Completion: c, PolicyAreas: areas, Values: []ogp.Value{ogp.ValueCivicParticipation},
		StartDate: "2024-01-01", EndDate: "2026-12-31",
		Milestones: []ogp.Milestone{
			{ID: "m1", Name: "done on time", EndDate: "2025-01-01", Status: ogp.MilestoneComplete, CompletedDate: "2024-12-01"},
			{ID: "m2", Name: "done late", EndDate: "2025-01-01", Status: ogp.MilestoneComplete, CompletedDate: "2025-02-01"},
			{ID: "m3", Name: "overdue", EndDate: "2025-05-31", Status: ogp.MilestoneInProgress},
			{ID: "m4", Name: "on track", EndDate: "2025-06-01", Status: ogp.MilestoneNotStarted},
			{ID: "m5", Name: "cancelled", Status: ogp.MilestoneCancelled},
		},
	}
}

func seeded(t *testing.T) (*Model, string, string) {
	t.Helper()
	m := New(fixedNow)
	a, b := "http://a.localhost", "http://b.localhost"
	m.SetPilot(PilotInfo{Actor: a, Name: "Ávila"})
	m.SetPilot(PilotInfo{Actor: b, Name: "Bogotá"})
	m.ApplyPlan(a, ogp.ActionPlan{Post: ogp.Post{ID: a + "/plans/p1", Type: ogp.TypeActionPlan, Name: "Plan A"},
		Period: ogp.Period{Start: "2024-01-01", End: "2026-12-31"}, Status: ogp.PlanImplementation,
		Guidelines:    []ogp.Guideline{{Key: ogp.GuidelineProcessPublished, Level: ogp.GuidelineMet}, {Key: ogp.GuidelineBreadth, Level: ogp.GuidelinePartly}, {Key: ogp.GuidelineFeedback, Level: ogp.GuidelineNotMet}},
		Participation: &ogp.Participation{Development: ogp.IAP2Collaborate}})
	for i := 1; i <= 12; i++ {
		comp := ogp.Completions[i%len(ogp.Completions)]
		areas := []string{"open-data"}
		if i%2 == 0 {
			areas = append(areas, "Justice")
		}
		m.ApplyCommitment(a, commitment(a, fmt.Sprintf("A%04d", i), comp, areas...), day)
	}
	c := commitment(b, "B0001", ogp.CompletionComplete, "justice")
	c.Summary = `Participación <b>ciudadana</b>`
	c.IRM = &ogp.IRM{Starred: ogp.Yes}
	m.ApplyCommitment(b, c, day)
	return m, a, b
}

func TestSummariesAndMatrix(t *testing.T) {
	m, a, b := seeded(t)
	pa, ok := m.Pilot(a)
	if !ok {
		t.Fatal("pilot a missing")
	}
	s := pa.Summary
	if s.Commitments != 12 || s.ByCompletion[ogp.CompletionComplete] != 2 || s.ByCompletion[ogp.CompletionNoEvidence] != 2 {
		t.Errorf("summary %+v", s)
	}
	if want := (MilestoneCounts{Total: 60, Complete: 12, CompleteLate: 12, Overdue: 12, OnTrack: 12, Cancelled: 12}); s.Milestones != want {
		t.Errorf("milestones %+v, want %+v", s.Milestones, want)
	}
	if s.Guidelines.Points != 3 || s.Guidelines.Met != 1 || s.Guidelines.Unknown != 4 || s.Participation.Development != ogp.IAP2Collaborate {
		t.Errorf("process %+v %+v", s.Guidelines, s.Participation)
	}
	pb, _ := m.Pilot(b)
	if pb.Summary.Starred != 1 {
		t.Errorf("starred %+v", pb.Summary)
	}
	mx := m.Matrix(Filter{})
	if len(mx.Rows) != 2 || mx.Rows[0].Name != "Ávila" {
		t.Fatalf("rows %+v", mx.Rows)
	}
	// "Justice" and "justice" are one column; shared by two pilots, it leads.
	if len(mx.Themes) != 2 || !strings.EqualFold(mx.Themes[0], "justice") {
		t.Fatalf("themes %v", mx.Themes)
	}
	if mx.Rows[0].Cells[0].Commitments != 6 || mx.Rows[1].Cells[0].Commitments != 1 || mx.Rows[1].Cells[1].Commitments != 0 {
		t.Errorf("cells %+v", mx.Rows)
	}
}

func TestFiltersAndPaging(t *testing.T) {
	m, a, b := seeded(t)
	yes := true
	cases := []struct {
		f    Filter
		want int
	}{
		{Filter{}, 13},
		{Filter{Pilots: []string{b}}, 1},
		{Filter{Theme: "JUSTICE"}, 7},
		{Filter{Completion: []ogp.Completion{ogp.CompletionComplete, ogp.CompletionLimited}}, 6},
		{Filter{Starred: &yes}, 1},
		{Filter{Query: "participacion CIUDADANA"}, 1}, // accents and tags folded
		{Filter{Value: ogp.ValueAccessToInformation}, 0},
		{Filter{From: "2027-01-01"}, 0},
		{Filter{To: "2024-06-01"}, 13},
	}
	for _, c := range cases {
		p, err := m.Commitments(c.f, "", 0)
		if err != nil || p.Total != c.want || len(p.Items) != c.want {
			t.Errorf("%+v: total %d items %d err %v, want %d", c.f, p.Total, len(p.Items), err, c.want)
		}
	}
	// Paging returns every item once, in order, while the model changes.
	var ids []string
	cursor := ""
	for i := 0; ; i++ {
		p, err := m.Commitments(Filter{Pilots: []string{a}}, cursor, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Items {
			ids = append(ids, c.Identifier)
		}
		if i == 0 { // a concurrent insert before the cursor does not shift pages
			m.ApplyCommitment(a, commitment(a, "A0000", ogp.CompletionLimited), day)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(ids) != 12 || ids[0] != "A0001" || ids[11] != "A0012" {
		t.Errorf("paged ids %v", ids)
	}
	if _, err := m.Commitments(Filter{}, "%%%", 5); err != ErrBadCursor {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestNewestWinsDeleteAndHide(t *testing.T) {
	m, a, _ := seeded(t)
	id := a + "/commitments/A0001"
	newer := commitment(a, "A0001", ogp.CompletionComplete)
	newer.Updated = day
	if !m.ApplyCommitment(a, newer, day) {
		t.Fatal("newer version not applied")
	}
	older := commitment(a, "A0001", ogp.CompletionNotStarted)
	older.Updated = day.Add(-time.Hour)
	if m.ApplyCommitment(a, older, day) {
		t.Error("older version applied")
	}
	if c, _ := m.Commitment(id); c.Completion != ogp.CompletionComplete {
		t.Errorf("completion %s", c.Completion)
	}
	m.ApplyUpdate(a, ogp.ProgressUpdate{ID: id + "/updates/2", InReplyTo: id, Date: "2025-05-02", Content: "<p>two</p><script>x</script>", Published: day})
	m.ApplyUpdate(a, ogp.ProgressUpdate{ID: id + "/updates/1", InReplyTo: id, Date: "2025-05-01", Content: "one", Published: day})
	tl := m.Timeline(id)
	if len(tl) != 2 || tl[0].Date != "2025-05-01" || strings.Contains(string(tl[1].ContentHTML.Default), "script") {
		t.Errorf("timeline %+v", tl)
	}
	m.Remove(id)
	if _, ok := m.Commitment(id); ok || len(m.Timeline(id)) != 0 {
		t.Error("deleted commitment still visible")
	}
	m.SetPilot(PilotInfo{Actor: a, Name: "Ávila", State: StateSuspended})
	if _, ok := m.Pilot(a); ok || m.Totals().Commitments != 1 || len(m.AllPilots()) != 2 {
		t.Errorf("suspended pilot visible: totals %+v", m.Totals())
	}
}

func TestConcurrentIngestAndQueries(t *testing.T) {
	m := New(fixedNow)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			p := fmt.Sprintf("http://p%d.localhost", w)
			for i := range 200 {
				m.ApplyCommitment(p, commitment(p, fmt.Sprintf("P%04d", i), ogp.CompletionLimited, "open-data"), day)
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				_, _ = m.Commitments(Filter{Theme: "open-data"}, "", 10)
				_ = m.Matrix(Filter{})
				_ = m.Pilots()
			}
		}()
	}
	wg.Wait()
	if n := m.Totals().Commitments; n != 800 {
		t.Errorf("total %d", n)
	}
}

func BenchmarkCommitmentsQuery(b *testing.B) {
	m := scaleModel(0)
	m.Pilots() // build the view once
	b.Run("page-theme-filter", func(b *testing.B) {
		for b.Loop() {
			_, _ = m.Commitments(Filter{Theme: "area-3", Completion: []ogp.Completion{ogp.CompletionComplete}}, "", 50)
		}
	})
	benchWholeModelQueries(b, m)
}

// BenchmarkScale is design §5's comparison scale: 1,000 pilots × 50
// commitments × 20 progress updates. It reports the rebuild after one ingest
// and the query latencies on a current view.
func BenchmarkScale(b *testing.B) {
	m := scaleModel(20)
	b.Run("rebuild", func(b *testing.B) {
		for b.Loop() {
			m.mu.RLock()
			m.build(ogp.DateOf(day))
			m.mu.RUnlock()
		}
	})
	m.view.Store(nil)
	m.Pilots()
	b.Run("commitments-page", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			t0 := time.Now()
			_, _ = m.Commitments(Filter{Theme: "area-3"}, "", 50)
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	})
	benchWholeModelQueries(b, m)
}

// scaleModel is 1,000 pilots × 50 commitments (17 policy areas, every
// completion level), each with updates progress updates.
func scaleModel(updates int) *Model {
	m := New(fixedNow)
	for p := range 1000 {
		pilot := fmt.Sprintf("http://p%d.localhost", p)
		m.SetPilot(PilotInfo{Actor: pilot, Name: fmt.Sprintf("Pilot %d", p)})
		for i := range 50 {
			c := commitment(pilot, fmt.Sprintf("P%04d", i), ogp.Completions[i%5], "open-data", fmt.Sprintf("area-%d", i%17))
			m.ApplyCommitment(pilot, c, day)
			for u := range updates {
				m.ApplyUpdate(pilot, ogp.ProgressUpdate{ID: fmt.Sprintf("%s/updates/%d", c.ID, u), InReplyTo: c.ID,
					Date: ogp.DateOf(day.AddDate(0, 0, -u)), Content: "<p>progress</p>", Published: day.AddDate(0, 0, -u)})
			}
		}
	}
	return m
}

// benchWholeModelQueries times the queries every comparison page makes
// over the whole model: the matrix and the pilots.
func benchWholeModelQueries(b *testing.B, m *Model) {
	b.Run("matrix", func(b *testing.B) {
		for b.Loop() {
			_ = m.Matrix(Filter{})
		}
	})
	b.Run("pilots", func(b *testing.B) {
		for b.Loop() {
			_ = m.Pilots()
		}
	})
}
