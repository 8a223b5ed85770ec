package delivery

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

func BenchmarkEnqueue(b *testing.B) {
	ctx := context.Background()
	db := storetest.DB(b)
	q := newQueue(b, db, testSigner("a"), fastOpts())
	const fanout = 100
	inboxes := make([]string, fanout)
	for i := range inboxes {
		inboxes[i] = fmt.Sprintf("https://h%d.example/inbox", i)
	}
	body := []byte(strings.Repeat("x", 2000))
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if err := q.Enqueue(ctx, fmt.Sprintf("https://node.example/activities/b%d", i), body, inboxes); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*fanout)/time.Since(start).Seconds(), "jobs/s")
}

// BenchmarkDeliver measures end-to-end jobs/s through the store and
// loopback HTTP with a trivial signer (RSA signing adds ~1.9 ms a job).
func BenchmarkDeliver(b *testing.B) {
	ctx := context.Background()
	db := storetest.DB(b)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	b.Cleanup(srv.Close)
	q := newQueue(b, db, testSigner("a"), fastOpts())
	inboxes := make([]string, b.N)
	for i := range inboxes {
		inboxes[i] = fmt.Sprintf("%s/users/%d/inbox", srv.URL, i)
	}
	if err := q.Enqueue(ctx, "https://node.example/activities/bench", []byte(testBody), inboxes); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	run(b, q)
	for n.Load() < int64(b.N) {
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}
