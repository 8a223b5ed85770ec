package delivery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/benchfig"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// BenchmarkFigureQueueClaim is the figure "queue-claim": jobs claimed per
// second, in batches of 16 as a dispatcher with 16 workers claims them,
// with 100 jobs queued.
func BenchmarkFigureQueueClaim(b *testing.B) { benchClaims(b, "queue-claim", 100) }

// BenchmarkFigureQueueClaim100k is "queue-claim-100k": the same with
// 100,000 jobs queued. The goal: the same rate as with 100 (issue 11).
func BenchmarkFigureQueueClaim100k(b *testing.B) { benchClaims(b, "queue-claim-100k", 100_000) }

func benchClaims(b *testing.B, figure string, queued int) {
	benchfig.Once(b, figure, func() benchfig.Row {
		ctx := context.Background()
		db := storetest.DB(b)
		clk := newClock(testEpoch)
		o := clockOpts(clk)
		o.Rescan = time.Hour // measure the claims, not a rescan
		q := newQueue(b, db, testSigner("a"), o)
		// Fill: the job documents in batched inserts (insertChunk a
		// command), as Enqueue writes them, without its dedupe markers.
		fill := time.Now()
		now := clk.Now()
		var docs []any
		for i := range queued {
			inbox := fmt.Sprintf("https://h%d.example/inbox", i)
			activity := fmt.Sprintf("https://node.example/activities/%d", i/10_000)
			j := &job{ID: JobID(activity, inbox), Activity: activity, Inbox: inbox, Host: fmt.Sprintf("h%d.example", i),
				State: statePending, Due: now, Created: now, Nonce: randomID(8)}
			docs = append(docs, j)
			q.idx.put(j, now)
		}
		if _, err := insertUnique(ctx, q.jobs, docs); err != nil {
			b.Fatal(err)
		}
		filled := time.Since(fill)
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
		return benchfig.Row{
			Figure: figure, Value: float64(claimed) / took.Seconds(), Unit: "claims/s",
			Scale: fmt.Sprintf("%d jobs queued, claims in batches of %d, embedded store", queued, batch),
		}
	})
}
