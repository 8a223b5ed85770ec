package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

func TestDeliverOnceExactBytesSigned(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	rc := newReceiver(t, nil)
	q := newQueue(t, db, testSigner("a"), fastOpts())
	processed := countProcessed(q)
	inbox := rc.URL + "/inbox"
	// Duplicates, a different spelling of the same inbox, and a second
	// Enqueue of the same activity must all collapse into one job.
	upper := strings.Replace(inbox, "http://127.0.0.1", "HTTP://127.0.0.1", 1)
	if err := q.Enqueue(ctx, "https://node.example/activities/1", []byte(testBody), []string{inbox, inbox, upper, inbox + "#x"}); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(ctx, "https://node.example/activities/1", []byte(testBody), []string{inbox}); err != nil {
		t.Fatal(err)
	}
	if s := stats(t, q); s.Pending != 1 {
		t.Fatalf("pending = %d, want 1 job after duplicate enqueues", s.Pending)
	}
	run(t, q)
	waitFor(t, "delivery", 20*time.Second, func() bool { return processed.Load() >= 1 })
	time.Sleep(200 * time.Millisecond) // a second POST would show up here
	hits := rc.all()
	if len(hits) != 1 {
		t.Fatalf("POSTs = %d, want 1", len(hits))
	}
	h := hits[0]
	if h.Method != http.MethodPost || h.Path != "/inbox" {
		t.Errorf("got %s %s", h.Method, h.Path)
	}
	if string(h.Body) != testBody {
		t.Errorf("body changed:\n got %q\nwant %q", h.Body, testBody)
	}
	if h.ContentType != ContentType {
		t.Errorf("Content-Type = %q", h.ContentType)
	}
	if h.Signature != sigOf([]byte(testBody)) {
		t.Errorf("Signature = %q, want the signer's over the exact body", h.Signature)
	}
	if s := stats(t, q); s.Delivered != 1 || s.Dead != 0 {
		t.Errorf("stats = %+v", s)
	}
	// Enqueued again after delivery (a publisher retrying): still nothing
	// new, while a new inbox for the same activity is delivered.
	if err := q.Enqueue(ctx, "https://node.example/activities/1", []byte(testBody), []string{inbox, rc.URL + "/other"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "second inbox", 20*time.Second, func() bool { return processed.Load() >= 2 })
	time.Sleep(200 * time.Millisecond)
	if hits := rc.all(); len(hits) != 2 || hits[1].Path != "/other" {
		t.Fatalf("after re-enqueue: %d POSTs, want the new inbox only", len(hits))
	}
	host := strings.TrimPrefix(rc.URL, "http://")
	hs, err := q.HostStatus(ctx, host)
	if err != nil || hs.LastSuccess.IsZero() || hs.Unavailable {
		t.Errorf("host status = %+v, %v", hs, err)
	}
}

func TestConcurrentEnqueueSameActivityOnePOST(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	rc := newReceiver(t, nil)
	q := newQueue(t, db, testSigner("a"), fastOpts())
	run(t, q)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := q.Enqueue(ctx, "https://node.example/activities/c", []byte(testBody), []string{rc.URL + "/inbox"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	waitFor(t, "delivery", 20*time.Second, func() bool { return rc.count() >= 1 && idle(t, q)() })
	time.Sleep(200 * time.Millisecond)
	if n := rc.count(); n != 1 {
		t.Fatalf("POSTs = %d, want 1", n)
	}
}

func TestEnqueueInvalidInboxSkipped(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	q := newQueue(t, db, testSigner("a"), fastOpts())
	err := q.Enqueue(ctx, "https://node.example/activities/2", []byte(testBody),
		[]string{"https://ok.example/inbox", "ftp://x.example/inbox", "not a url", "https:///nohost"})
	if !errors.Is(err, ErrInvalidInbox) {
		t.Fatalf("err = %v, want ErrInvalidInbox", err)
	}
	if s := stats(t, q); s.Pending != 1 {
		t.Fatalf("pending = %d, want the one valid inbox stored", s.Pending)
	}
}

func TestRestartPicksUpPendingJobs(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	rc := newReceiver(t, nil)
	q1 := newQueue(t, db, testSigner("1"), fastOpts())
	for i := range 5 {
		if err := q1.Enqueue(ctx, fmt.Sprintf("https://node.example/activities/x%d", i), []byte(testBody), []string{rc.URL + "/inbox"}); err != nil {
			t.Fatal(err)
		}
	}
	// q1 never runs (the process "stopped"); a new Queue on the same
	// database delivers everything.
	q2 := newQueue(t, db, testSigner("2"), fastOpts())
	run(t, q2)
	waitFor(t, "5 deliveries", 20*time.Second, func() bool { return rc.count() == 5 && idle(t, q2)() })
}

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
