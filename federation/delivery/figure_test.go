package delivery

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/benchfig"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// figures caches each figure measured by this test binary: a benchmark
// function runs again with a larger b.N when its first run was short, and
// the figure is measured and reported once.
var figures sync.Map // name → benchfig.Row

func figureOnce(b *testing.B, name string, measure func() benchfig.Row) {
	b.Helper()
	if v, ok := figures.Load(name); ok {
		r := v.(benchfig.Row)
		b.ReportMetric(r.Value, r.Figure+"_"+r.Unit)
		return
	}
	r := measure()
	figures.Store(name, r)
	benchfig.Report(b, r)
}

// BenchmarkFigureQueueClaim is the figure "queue-claim": jobs claimed per
// second, in batches of 16 as a dispatcher with 16 workers claims them,
// with 100 jobs queued.
func BenchmarkFigureQueueClaim(b *testing.B) { benchClaims(b, "queue-claim", 100) }

// BenchmarkFigureQueueClaim100k is "queue-claim-100k": the same with
// 100,000 jobs queued. The goal: the same rate as with 100 (issue 11).
func BenchmarkFigureQueueClaim100k(b *testing.B) { benchClaims(b, "queue-claim-100k", 100_000) }

func benchClaims(b *testing.B, figure string, queued int) {
	figureOnce(b, figure, func() benchfig.Row {
		ctx := context.Background()
		db := storetest.DB(b)
		clk := newClock(testEpoch)
		o := clockOpts(clk)
		o.Rescan = time.Hour // measure the claims, not a rescan
		q := newQueue(b, db, testSigner("a"), o)
		// Fill: one Enqueue per 10,000 inboxes (batched inserts, insertChunk a command).
		fill := time.Now()
		for start := 0; start < queued; start += 10_000 {
			var inboxes []string
			for i := start; i < min(queued, start+10_000); i++ {
				inboxes = append(inboxes, fmt.Sprintf("https://h%d.example/inbox", i))
			}
			if err := q.Enqueue(ctx, fmt.Sprintf("https://node.example/activities/%d", start), []byte(testBody), inboxes); err != nil {
				b.Fatal(err)
			}
		}
		filled := time.Since(fill)
		// A second replica starting on this backlog: its index is one scan.
		rebuild := time.Now()
		q = newQueue(b, db, testSigner("b"), o)
		rebuilt := time.Since(rebuild)
		clk.Add(time.Second)
		const batch, want = 16, 2000
		var took time.Duration
		claimed := 0
		for claimed < want {
			start := time.Now()
			got, err := q.claim(ctx, batch)
			took += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			claimed += len(got)
			for _, j := range got {
				// The holder "stops" without an outcome: the job is
				// claimable again when its lease runs out.
				q.putBack(j, j.LeaseUntil)
			}
			if len(got) == 0 {
				// All queued jobs are leased (100 queued): let the leases run
				// out and claim them again, with their next keys.
				clk.Add(o.Lease + time.Second)
			}
		}
		b.ReportMetric(filled.Seconds(), "fill_s")
		b.ReportMetric(rebuilt.Seconds(), "rebuild_s")
		return benchfig.Row{
			Figure: figure, Value: float64(claimed) / took.Seconds(), Unit: "claims/s",
			Scale: fmt.Sprintf("%d jobs queued, claims in batches of %d, embedded store", queued, batch),
		}
	})
}
