package pages

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/api"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/benchfig"
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
	m := scaleModel(pilots, perPilot, updates)
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

// scaleModel fills a read model with pilots × perPilot commitments ×
// updates progress updates (design §5's comparison scale at 1000, 50, 20).
func scaleModel(pilots, perPilot, updates int) *readmodel.Model {
	m := readmodel.New(fixedNow)
	// The model takes writes from several goroutines (sanitising, the bulk
	// of the cost, runs outside its lock): one per core.
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { addScalePilots(m, pilots*w/workers, pilots*(w+1)/workers, perPilot, updates) })
	}
	wg.Wait()
	m.Pilots() // build the view once
	return m
}

// addScalePilots adds the synthetic pilots numbered from to to-1.
func addScalePilots(m *readmodel.Model, from, to, perPilot, updates int) {
	areas := []string{"open-data", "budget", "justice", "health", "education", "anti-corruption", "fiscal-openness"}
	for p := from; p < to; p++ {
		actor := fmt.Sprintf("http://p%d.localhost/users/p%d", p, p)
		base := fmt.Sprintf("http://p%d.localhost", p)
		m.SetPilot(readmodel.PilotInfo{Actor: actor, Name: fmt.Sprintf("Pilot %d", p), Handle: fmt.Sprintf("@p%d@p%d.localhost", p, p), State: readmodel.StateActive})
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
}

// compareURLs are what readers of the comparison ask for: the page at its
// default filters, a filtered one, the pilot table sorted and paged, and
// the overdue list opened on a later page.
var compareURLs = []string{
	"/compare",
	"/compare?theme=budget&completion=complete",
	"/compare?by=overdue&dir=desc&page=3",
	"/compare?theme=budget&opage=2",
}

// comparePercentiles serves the comparison over loopback HTTP through the
// full web stack and measures n requests cycling through compareURLs,
// after one warm-up request each (the first request of a filter after the
// read model changes derives its figures; cold reports the slowest of those).
// gc counts the collections that ran during the n requests and alloc is
// the bytes allocated per request (server and client): what makes the
// collector run, and what it marks each time is the whole live heap, so
// these explain a tail that CPU per request does not show. gcCPU is the
// process CPU of one full collection after the requests (the cost of
// marking what the server holds, median of three).
func comparePercentiles(b *testing.B, m *readmodel.Model, n int) (p50, p99, cold, cpu time.Duration, gc uint32, alloc uint64, gcCPU time.Duration) {
	r, err := NewRenderer()
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	e := web.NewEcho(web.Options{Logger: logger, Renderer: r})
	Register(e, Deps{Model: m, Renderer: r, Logger: logger, Now: fixedNow})
	srv := httptest.NewServer(e)
	defer srv.Close()
	get := func(path string) time.Duration {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Accept", "text/html")
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
		return time.Since(t0)
	}
	for _, u := range compareURLs {
		cold = max(cold, get(u))
	}
	lat := make([]time.Duration, 0, n)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := processCPU()
	for i := range n {
		lat = append(lat, get(compareURLs[i%len(compareURLs)]))
	}
	cpu = (processCPU() - cpu0) / time.Duration(n)
	runtime.ReadMemStats(&ms1)
	var gcs [3]time.Duration
	for i := range gcs {
		c0 := processCPU()
		runtime.GC()
		gcs[i] = processCPU() - c0
	}
	slices.Sort(gcs[:])
	runtime.KeepAlive(m)
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100], cold, cpu, ms1.NumGC - ms0.NumGC, (ms1.TotalAlloc - ms0.TotalAlloc) / uint64(n), gcs[1]
}

// processCPU is the CPU time this process has used (user + system): on a
// shared machine, wall-clock latencies include waiting for a core, CPU per
// request does not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFigureCompare is issue 11's "compare" and "compare-15" figures:
// p99 of the comparison page at 1,000 pilots × 50 commitments × 20 updates,
// against the same page at 15 pilots (same per-pilot shape) measured in the
// same run. Goal: ≤ 50 ms, and ≤ 1.5 × the 15-pilot p99.
func BenchmarkFigureCompare(b *testing.B) {
	const requests = 400
	var once sync.Once
	for range b.N {
		once.Do(func() {
			small := scaleModel(15, 50, 20)
			s50, s99, sCold, sCPU, sGC, sAlloc, sGCCPU := comparePercentiles(b, small, requests)
			big := scaleModel(1000, 50, 20)
			runtime.GC()
			l50, l99, lCold, lCPU, lGC, lAlloc, lGCCPU := comparePercentiles(b, big, requests)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(s50), "compare-15-p50-ms")
			b.ReportMetric(ms(l50), "compare-p50-ms")
			b.ReportMetric(ms(sCold), "compare-15-cold-ms")
			b.ReportMetric(ms(lCold), "compare-cold-ms")
			b.ReportMetric(ms(sCPU), "compare-15-cpu-ms/req")
			b.ReportMetric(ms(lCPU), "compare-cpu-ms/req")
			b.ReportMetric(float64(sGC), "compare-15-gc-cycles")
			b.ReportMetric(float64(lGC), "compare-gc-cycles")
			b.ReportMetric(float64(sAlloc)/1024, "compare-15-alloc-KB/req")
			b.ReportMetric(float64(lAlloc)/1024, "compare-alloc-KB/req")
			b.ReportMetric(ms(sGCCPU), "compare-15-gc-cpu-ms")
			b.ReportMetric(ms(lGCCPU), "compare-gc-cpu-ms")
			benchfig.Report(b, benchfig.Row{Figure: "compare-15", Value: ms(s99), Unit: "ms",
				Scale: "15 pilots × 50 commitments × 20 updates; p99 of 400 requests over 4 comparison URLs"})
			benchfig.Report(b, benchfig.Row{Figure: "compare", Value: ms(l99), Unit: "ms", Baseline: ms(s99),
				Scale: "1,000 pilots × 50 commitments × 20 updates; p99 of 400 requests over 4 comparison URLs; baseline = compare-15 p99"})
		})
	}
}
