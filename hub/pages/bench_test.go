package pages

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/api"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// BenchmarkComparisonAtScale is design §5's comparison figure: 1,000 pilots
// × 50 commitments × 20 progress updates (1M updates) in the hub's read
// model, served over loopback HTTP through the full web stack. It reports
// p50/p99 of the comparison page (HTML) and of the commitments JSON next to
// the same run's /healthz (the HTTP floor), and the heap the read model
// takes.
func BenchmarkComparisonAtScale(b *testing.B) {
	const pilots, perPilot, updates = 1000, 50, 20
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	m := readmodel.New(fixedNow)
	areas := []string{"open-data", "budget", "justice", "health", "education", "anti-corruption", "fiscal-openness"}
	for p := range pilots {
		actor := fmt.Sprintf("http://p%d.localhost/users/p%d", p, p)
		base := fmt.Sprintf("http://p%d.localhost", p)
		m.SetPilot(readmodel.PilotInfo{Actor: actor, Name: fmt.Sprintf("Pilot %d", p), State: readmodel.StateActive})
		for i := range perPilot {
			id := fmt.Sprintf("%s/commitments/P%04d", base, i)
			m.ApplyCommitment(actor, ogp.Commitment{
				Post: ogp.Post{
					ID:           id,
					Type:         ogp.TypeCommitment,
					AttributedTo: actor,
					Name:         fmt.Sprintf("Commitment %d of pilot %d", i, p),
					Published:    today.AddDate(0, 0, -100),
				},
				Identifier: fmt.Sprintf("P%04d", i), Completion: ogp.Completions[(i+p)%5],
				PolicyAreas: []string{areas[i%len(areas)]}, Values: []ogp.Value{ogp.ValueCivicParticipation},
				StartDate: "2024-01-01", EndDate: "2026-12-31",
				Milestones: []ogp.Milestone{{ID: id + "#m1", Name: "m1", EndDate: "2025-01-01", Status: ogp.MilestoneInProgress}},
			}, today)
			for u := range updates {
				m.ApplyUpdate(actor, ogp.ProgressUpdate{ID: fmt.Sprintf("%s/updates/%d", id, u), Type: ogp.TypeProgressUpdate,
					AttributedTo: actor, InReplyTo: id, Content: "<p>progress</p>",
					Date: ogp.DateOf(today.AddDate(0, 0, -u)), Published: today.AddDate(0, 0, -u)})
			}
		}
	}
	m.Pilots() // build the view once
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	r, err := NewRenderer()
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	e := web.NewEcho(web.Options{Logger: logger, Renderer: r})
	Register(e, Deps{Model: m, Renderer: r, Logger: logger, Now: fixedNow})
	api.Register(e, api.Deps{Model: m, BaseURL: "http://hub.localhost"})
	srv := httptest.NewServer(e)
	defer srv.Close()

	measure := func(path, accept string, n int) (p50, p99 time.Duration) {
		lat := make([]time.Duration, 0, n)
		for range n {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			req.Header.Set("Accept", accept)
			t0 := time.Now()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("%s: %d", path, res.StatusCode)
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		return lat[len(lat)/2], lat[len(lat)*99/100]
	}
	b.ResetTimer()
	floor50, _ := measure("/healthz", "text/plain", 200)
	html50, html99 := measure("/compare?theme=budget&completion=complete", "text/html", b.N)
	json50, json99 := measure("/api/v1/commitments?theme=budget&completion=complete", "application/json", b.N)
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(html50), "compare-p50-ms")
	b.ReportMetric(ms(html99), "compare-p99-ms")
	b.ReportMetric(ms(json50), "json-p50-ms")
	b.ReportMetric(ms(json99), "json-p99-ms")
	b.ReportMetric(ms(floor50), "healthz-p50-ms")
	b.ReportMetric(float64(html50)/float64(floor50), "compare/healthz")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "readmodel-heap-MB")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(pilots*perPilot), "heap-B/commitment")
}
