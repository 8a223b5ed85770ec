package delivery

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestRetryUntilReceiverRecovers(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	// 503 three times, then accept.
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n <= 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	q := newQueue(t, db, testSigner("a"), fastOpts())
	processed := countProcessed(q)
	run(t, q)
	if err := q.Enqueue(ctx, "https://node.example/activities/r", []byte(testBody), []string{rc.URL + "/inbox"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after 503s", 20*time.Second, func() bool { return processed.Load() == 4 && stats(t, q).Delivered == 1 })
	if n := rc.count(); n != 4 {
		t.Fatalf("attempts = %d, want 4", n)
	}
	hs, _ := q.HostStatus(ctx, strings.TrimPrefix(rc.URL, "http://"))
	if hs.LastFailure.IsZero() || hs.LastSuccess.IsZero() || len(hs.FailureDays) != 0 {
		t.Errorf("host status = %+v", hs)
	}
}

func TestRetryClosedPortThenUp(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens: connection refused
	var failures atomic.Int32
	o := fastOpts()
	o.Backoff = func(int) time.Duration { failures.Add(1); return 50 * time.Millisecond }
	q := newQueue(t, db, testSigner("a"), o)
	run(t, q)
	if err := q.Enqueue(ctx, "https://node.example/activities/p", []byte(testBody), []string{"http://" + addr + "/inbox"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a few refused attempts", 20*time.Second, func() bool { return failures.Load() >= 3 })
	// The receiver comes back on the same port.
	var got atomic.Value
	l2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b))
		w.WriteHeader(http.StatusAccepted)
	})}
	go func() { _ = srv.Serve(l2) }()
	t.Cleanup(func() { _ = srv.Close() })
	waitFor(t, "delivery once up", 20*time.Second, func() bool { return stats(t, q).Delivered == 1 })
	if got.Load() != testBody {
		t.Fatalf("body = %v", got.Load())
	}
}

func TestStatusClassification(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	// The path names the status the inbox answers with, forever.
	rc := newReceiver(t, func(_ int, r *http.Request) int {
		var code int
		_, _ = fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/"), "%d", &code)
		return code
	})
	o := fastOpts()
	o.MaxAttempts = 3
	q := newQueue(t, db, testSigner("a"), o)
	run(t, q)
	permanent := []int{400, 403, 404, 410, 422}
	retryable := []int{401, 408, 429, 500, 502, 503, 302}
	var inboxes []string
	for _, c := range append(append([]int{}, permanent...), retryable...) {
		inboxes = append(inboxes, fmt.Sprintf("%s/%d", rc.URL, c))
	}
	if err := q.Enqueue(ctx, "https://node.example/activities/s", []byte(testBody), inboxes); err != nil {
		t.Fatal(err)
	}
	want := len(permanent) + len(retryable)
	waitFor(t, "all jobs dead", 30*time.Second, func() bool { return stats(t, q).Dead == int64(want) })
	per := map[string]int{}
	for _, h := range rc.all() {
		per[h.Path]++
	}
	for _, c := range permanent {
		if n := per[fmt.Sprintf("/%d", c)]; n != 1 {
			t.Errorf("status %d: %d attempts, want exactly 1", c, n)
		}
	}
	for _, c := range retryable {
		if n := per[fmt.Sprintf("/%d", c)]; n != 3 {
			t.Errorf("status %d: %d attempts, want MaxAttempts=3", c, n)
		}
	}
	// Dead jobs keep what is needed to inspect them, body included.
	var d job
	if err := q.dead.FindOne(ctx, bson.M{"_id": JobID("https://node.example/activities/s", rc.URL+"/410")}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Reason != ReasonRejected || d.LastStatus != 410 || string(d.Body) != testBody || d.Attempts != 1 {
		t.Errorf("dead 410 job = reason %q status %d attempts %d", d.Reason, d.LastStatus, d.Attempts)
	}
	if err := q.dead.FindOne(ctx, bson.M{"_id": JobID("https://node.example/activities/s", rc.URL+"/503")}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Reason != ReasonExhausted || d.LastStatus != 503 || d.Attempts != 3 {
		t.Errorf("dead 503 job = reason %q status %d attempts %d", d.Reason, d.LastStatus, d.Attempts)
	}
}

func TestRunDrainsInFlight(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	arrived := make(chan struct{}, 1)
	rc := newReceiver(t, func(int, *http.Request) int {
		arrived <- struct{}{}
		time.Sleep(500 * time.Millisecond)
		return http.StatusAccepted
	})
	q := newQueue(t, db, testSigner("a"), fastOpts())
	stop := run(t, q)
	if err := q.Enqueue(ctx, "https://node.example/activities/g", []byte(testBody), []string{rc.URL + "/inbox"}); err != nil {
		t.Fatal(err)
	}
	<-arrived
	stop() // returns only once the POST finished and was recorded
	s := stats(t, q)
	if s.Pending != 0 || s.Leased != 0 || s.Delivered != 1 {
		t.Fatalf("after drain: %+v", s)
	}
}

func TestDefaultBackoff(t *testing.T) {
	var total time.Duration
	for a := 1; a < 16; a++ {
		d := DefaultBackoff(a)
		base := time.Duration(a*a*a*a) * time.Second
		if d < base/2+15*time.Second || d > base*3/2+15*time.Second {
			t.Errorf("attempt %d: %v outside ±50%% of %v + 15s", a, d, base)
		}
		total += d
	}
	// 15 waits between 16 attempts: about two days, at most three.
	if total < 30*time.Hour || total > 75*time.Hour {
		t.Errorf("total backoff %v", total)
	}
	t.Logf("one sample of 16 attempts spans %v", total.Round(time.Minute))
}

func TestClassify(t *testing.T) {
	for code, want := range map[int]outcome{
		200: outDone, 201: outDone, 202: outDone, 204: outDone,
		400: outPermanent, 403: outPermanent, 404: outPermanent, 410: outPermanent, 422: outPermanent, 413: outPermanent,
		401: outRetry, 408: outRetry, 429: outRetry, 500: outRetry, 503: outRetry, 301: outRetry, 100: outRetry,
	} {
		if got := classify(code); got != want {
			t.Errorf("classify(%d) = %v, want %v", code, got, want)
		}
	}
}

// The lease is checked again after loading the body, just before the POST.
func TestProcessLeavesJobWhoseLeaseRanShort(t *testing.T) {
	db := storetest.DB(t)
	rc := newReceiver(t, nil)
	clk := newClock(testEpoch)
	q := newQueue(t, db, testSigner("a"), clockOpts(clk))
	if err := q.Enqueue(context.Background(), "https://node.example/activities/s", []byte(testBody), []string{rc.URL + "/inbox"}); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	got, err := q.claim(context.Background(), 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim: %d, %v", len(got), err)
	}
	clk.Add(55 * time.Second) // e.g. a slow body load: under AttemptTimeout left
	q.process(context.Background(), got[0])
	if rc.count() != 0 {
		t.Fatal("POSTed although the lease could run out during the attempt")
	}
	q.mu.Lock()
	held := q.claiming[got[0].ID]
	q.mu.Unlock()
	if held {
		t.Fatal("job not released")
	}
	if s := stats(t, q); s.Leased != 1 || s.Dead != 0 {
		t.Fatalf("stats = %+v; the job should wait for its lease to end", s)
	}
}
