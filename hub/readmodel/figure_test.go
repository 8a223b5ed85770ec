package readmodel

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/benchfig"
)

// BenchmarkFigureHubMemory is issue 11's hub-memory figure: the heap the
// read model holds (in use after GC, its view built) at design §5's scale,
// 1,000 pilots × 50 commitments × 20 progress updates (1M updates). Every
// object arrives with its own strings, as decoding a delivery gives them.
// OGPNET_BENCH_HEAPPROFILE=file writes the heap profile behind the figure.
func BenchmarkFigureHubMemory(b *testing.B) {
	pilots, perPilot, updates := 1000, 50, 20
	if s := os.Getenv("OGPNET_BENCH_PILOTS"); s != "" {
		fmt.Sscan(s, &pilots)
	}
	if s := os.Getenv("OGPNET_BENCH_UPDATES"); s != "" {
		fmt.Sscan(s, &updates)
	}
	var once sync.Once
	for b.Loop() {
		once.Do(func() {
			mb := modelHeapMB(b, pilots, perPilot, updates)
			benchfig.Report(b, benchfig.Row{Figure: "hub-memory", Value: mb, Unit: "MB",
				Scale: fmt.Sprintf("%d pilots × %d commitments × %d updates (heap in use after GC)", pilots, perPilot, updates)})
		})
	}
}

func modelHeapMB(b *testing.B, pilots, perPilot, updates int) float64 {
	heapInuse := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	before := heapInuse()
	m := realisticModel(pilots, perPilot, updates)
	m.Pilots() // the view, as a serving hub has it
	after := heapInuse()
	if path := os.Getenv("OGPNET_BENCH_HEAPPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		_ = pprof.WriteHeapProfile(f)
		_ = f.Close()
	}
	runtime.KeepAlive(m)
	return float64(after-before) / (1 << 20)
}

// own gives s its own backing array, as a JSON decoder would.
func own(s string) string { return strings.Clone(s) }

// realisticModel fills a model as ingest does, with the objects of
// hub/pages BenchmarkComparisonAtScale (where the read model first measured
// 557 MB), every string freshly allocated as decoding gives it.
// OGPNET_BENCH_RICH=1 adds a plan, leads, descriptions, a second milestone
// and longer reports (docs/benchmarks.md gives both).
func realisticModel(pilots, perPilot, updates int) *Model {
	rich := os.Getenv("OGPNET_BENCH_RICH") != ""
	today := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	m := New(func() time.Time { return today })
	areas := []string{"open-data", "budget", "justice", "health", "education", "anti-corruption", "fiscal-openness"}
	for p := range pilots {
		base := fmt.Sprintf("http://p%d.localhost", p)
		actor := fmt.Sprintf("%s/users/p%d", base, p)
		m.SetPilot(PilotInfo{Actor: own(actor), Name: fmt.Sprintf("Pilot %d", p), State: StateActive})
		plan := base + "/plans/2024"
		if rich {
			m.ApplyPlan(own(actor), ogp.ActionPlan{Post: ogp.Post{ID: own(plan), Type: ogp.TypeActionPlan, AttributedTo: own(actor),
				Name: fmt.Sprintf("Action plan 2024–2026 of pilot %d", p), Published: today.AddDate(-1, 0, 0)},
				Period: ogp.Period{Start: "2024-01-01", End: "2026-12-31"}, Status: ogp.PlanImplementation})
		}
		for i := range perPilot {
			id := fmt.Sprintf("%s/commitments/P%04d", base, i)
			c := ogp.Commitment{
				Post: ogp.Post{
					ID: own(id), Type: ogp.TypeCommitment, AttributedTo: own(actor),
					Name:      fmt.Sprintf("Commitment %d of pilot %d", i, p),
					Published: today.AddDate(0, 0, -100),
				},
				Identifier: fmt.Sprintf("P%04d", i), Completion: ogp.Completions[(i+p)%5],
				PolicyAreas: []string{own(areas[i%len(areas)])}, Values: []ogp.Value{ogp.ValueCivicParticipation},
				StartDate: "2024-01-01", EndDate: "2026-12-31",
				Milestones: []ogp.Milestone{{ID: own(id) + "#m1", Name: "m1", EndDate: "2025-01-01", Status: ogp.MilestoneInProgress}},
			}
			report := "<p>progress</p>"
			if rich {
				c.Name = fmt.Sprintf("Commitment %d of pilot %d: open contracting for public works", i, p)
				c.Summary = fmt.Sprintf("<p>Pilot %d publishes every public works contract, from tender to payment, as open data.</p>", p)
				c.Content = "<p>The city will publish its contracts in the Open Contracting Data Standard and hold quarterly reviews with civil society.</p>"
				c.ActionPlan, c.LeadInstitution = own(plan), "Secretariat of Public Works"
				c.Milestones = append(c.Milestones, ogp.Milestone{ID: own(id) + "#m2", Name: "Quarterly review with civil society", EndDate: "2026-01-01", Status: ogp.MilestoneInProgress})
				report = "<p>Progress report %d: contracts published.</p>"
			}
			m.ApplyCommitment(own(actor), c, today)
			for u := range updates {
				d := today.AddDate(0, 0, -u)
				content := report
				if rich {
					content = fmt.Sprintf(report, u)
				}
				m.ApplyUpdate(own(actor), ogp.ProgressUpdate{ID: fmt.Sprintf("%s/updates/%d", id, u), Type: ogp.TypeProgressUpdate,
					AttributedTo: own(actor), InReplyTo: own(id), Content: own(content),
					Date: ogp.DateOf(d), Published: d})
			}
		}
	}
	return m
}
