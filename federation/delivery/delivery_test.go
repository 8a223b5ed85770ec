package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// ---- Shared test helpers: a queue over the test store, a fake clock.

// A body that a decode/encode round trip would change (spacing, key order,
// escapes, non-ASCII): the receiver must get these exact bytes.
const testBody = `{"@context":"https://www.w3.org/ns/activitystreams",  "type":"Create","id":"https://node.example/activities/1",
 "object":{"contentMap":{"es":"Compromiso <b>abierto</b> – ñ"},"content":"x\u0026y"}}`

// sigOf is what testSigner puts in the Signature header, so the receiver
// can check that the signer saw the exact body it received.
func sigOf(body []byte) string {
	h := sha256.Sum256(body)
	return `keyId="https://node.example/users/n#main-key",signature="` + hex.EncodeToString(h[:]) + `"`
}

func testSigner(replica string) Signer {
	return func(req *http.Request, body []byte) error {
		req.Header.Set("Signature", sigOf(body))
		req.Header.Set("X-Replica", replica)
		return nil
	}
}

type hit struct {
	Path, ContentType, Signature, Replica, Method string
	Body                                          []byte
}

// receiver is a loopback inbox recording every POST; status decides the
// answer per request (nil means 202).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	hits   []hit
	status func(n int, r *http.Request) int
}

func newReceiver(t *testing.T, status func(n int, r *http.Request) int) *receiver {
	rc := &receiver{status: status}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Signature"), r.Header.Get("X-Replica"), r.Method, b})
		n := len(rc.hits)
		f := rc.status
		rc.mu.Unlock()
		code := http.StatusAccepted
		if f != nil {
			code = f(n, r)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.hits)
}

func (rc *receiver) all() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func fastOpts() Options {
	return Options{
		PollInterval: 10 * time.Millisecond,
		Backoff:      func(int) time.Duration { return 30 * time.Millisecond },
		Lease:        5 * time.Second,
		HostRefresh:  100 * time.Millisecond,
		Rescan:       100 * time.Millisecond,
		Logger:       quiet(),
	}
}

func newQueue(t testing.TB, db *mongo.Database, sign Signer, o Options) *Queue {
	t.Helper()
	q, err := New(context.Background(), db, sign, o)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// countProcessed makes q count fully recorded outcomes (see afterProcess);
// set it before Run.
func countProcessed(q *Queue) *atomic.Int64 {
	var n atomic.Int64
	q.afterProcess = func(*job) { n.Add(1) }
	return &n
}

// run starts q.Run and returns a stop func that cancels and waits for the
// drain (also registered as cleanup).
func run(t testing.TB, q *Queue) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func stats(t testing.TB, q *Queue) Stats {
	t.Helper()
	s, err := q.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func idle(t testing.TB, q *Queue) func() bool {
	return func() bool { s := stats(t, q); return s.Pending == 0 && s.Leased == 0 }
}

// clock is a fake clock for Options.Now that ticks with real time from a
// chosen start and can jump ahead (days, lease expiry) on demand.
type clock struct {
	mu    sync.Mutex
	base  time.Time
	start time.Time
}

func newClock(base time.Time) *clock { return &clock{base: base, start: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(time.Since(c.start))
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.base = c.base.Add(d)
	c.mu.Unlock()
}

// testEpoch is where fake clocks start.
var testEpoch = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// dueQueue opens a queue on a fresh store under a fake clock (see
// clockOpts) and enqueues n jobs, to a closed port, that are already due.
func dueQueue(t *testing.T, n int) (*Queue, *clock, *mongo.Database) {
	t.Helper()
	db := storetest.DB(t)
	clk := newClock(testEpoch)
	q := newQueue(t, db, testSigner("a"), clockOpts(clk))
	for i := range n {
		if err := q.Enqueue(context.Background(), fmt.Sprintf("https://node.example/activities/c%d", i), []byte(testBody),
			[]string{"http://127.0.0.1:9/inbox"}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(time.Second)
	return q, clk, db
}

func clockOpts(clk *clock) Options {
	o := fastOpts()
	o.Now = clk.Now
	o.Lease = time.Minute
	return o
}

// ---- Enqueueing and the queue itself.

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

// ---- The worker: POSTs, retries, backoff.

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

// ---- Deliveries never follow redirects.

// TestFallbackClientRefusesRedirects: a queue built without a Client (the
// fallback of Options) does not follow a 302 from an inbox: the attempt
// counts as failed with status 302, is retried, and the redirect's target
// is never reached.
func TestFallbackClientRefusesRedirects(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		if r.URL.Path == "/inbox" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	o := fastOpts()
	o.Backoff = func(int) time.Duration { return time.Hour } // one attempt, then a scheduled retry
	if o.Client != nil {
		t.Fatal("the test needs the fallback client")
	}
	q := newQueue(t, db, testSigner("a"), o)
	processed := countProcessed(q)
	run(t, q)
	if err := q.Enqueue(ctx, "https://node.example/activities/redirect", []byte(testBody), []string{srv.URL + "/inbox"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one attempt", 10*time.Second, func() bool { return processed.Load() >= 1 })
	mu.Lock()
	inbox, elsewhere := hits["/inbox"], hits["/elsewhere"]
	mu.Unlock()
	if inbox != 1 || elsewhere != 0 {
		t.Errorf("inbox reached %d times, the redirect's target %d times", inbox, elsewhere)
	}
	var j job
	if err := db.Collection("delivery_jobs").FindOne(ctx, bson.M{}).Decode(&j); err != nil {
		t.Fatalf("the job is gone (counted delivered?): %v", err)
	}
	if j.LastStatus != http.StatusFound || j.State != statePending || j.Attempts != 1 {
		t.Errorf("job after a 302: status %d, state %s, attempts %d (error %q)", j.LastStatus, j.State, j.Attempts, j.LastError)
	}
	if st := stats(t, q); st.Delivered != 0 {
		t.Errorf("a redirected delivery counted as delivered: %+v", st)
	}
}

// ---- Dead hosts, failure days, revival.

func TestDeadHostMarkedSkippedAndRevived(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	var up atomic.Bool
	rc := newReceiver(t, func(int, *http.Request) int {
		if up.Load() {
			return http.StatusAccepted
		}
		return http.StatusServiceUnavailable
	})
	host := strings.TrimPrefix(rc.URL, "http://")
	clk := newClock(testEpoch)
	o := fastOpts()
	o.Now = clk.Now
	o.MaxAttempts = 1 // every failure exhausts its job: one failure day per job
	q := newQueue(t, db, testSigner("a"), o)
	processed := countProcessed(q)
	run(t, q)
	n := 0
	deliver := func() {
		t.Helper()
		n++
		if err := q.Enqueue(ctx, fmt.Sprintf("https://node.example/activities/d%d", n), []byte(testBody), []string{rc.URL + "/inbox"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "job finished", 20*time.Second, func() bool { return processed.Load() == int64(n) })
	}
	status := func() HostStatus {
		t.Helper()
		hs, err := q.HostStatus(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		return hs
	}

	// Two failure days, two failures on the second: counted as two days.
	deliver()
	clk.Add(24 * time.Hour)
	deliver()
	deliver()
	if hs := status(); len(hs.FailureDays) != 2 || hs.Unavailable {
		t.Fatalf("after 2 days: %+v", hs)
	}
	// One success clears the record.
	up.Store(true)
	deliver()
	if hs := status(); len(hs.FailureDays) != 0 || hs.LastSuccess.IsZero() {
		t.Fatalf("after success: %+v", hs)
	}

	// Seven distinct failure days mark the host unavailable.
	up.Store(false)
	for d := range 7 {
		clk.Add(24 * time.Hour)
		deliver()
		if hs := status(); hs.Unavailable != (d == 6) {
			t.Fatalf("day %d: unavailable=%v, failure days %v", d+1, hs.Unavailable, hs.FailureDays)
		}
	}
	if s := stats(t, q); s.HostsUnavailable != 1 {
		t.Fatalf("stats = %+v", s)
	}
	// Jobs for it now fail fast without a POST, even once it is back up.
	up.Store(true)
	before := rc.count()
	deliver()
	if rc.count() != before {
		t.Fatal("POSTed to an unavailable host")
	}
	if s := stats(t, q); s.Skipped != 1 {
		t.Fatalf("skipped = %d, want 1", s.Skipped)
	}
	// Inbound activity from the host revives it.
	if err := q.MarkAlive(ctx, strings.ToUpper(host)); err != nil {
		t.Fatal(err)
	}
	if hs := status(); hs.Unavailable || len(hs.FailureDays) != 0 {
		t.Fatalf("after MarkAlive: %+v", hs)
	}
	deliver()
	if rc.count() != before+1 {
		t.Fatal("not delivered after MarkAlive")
	}

	// Another replica sharing the store learns the mark from the store.
	up.Store(false)
	for range 7 {
		clk.Add(24 * time.Hour)
		deliver()
	}
	q2 := newQueue(t, db, testSigner("b"), o)
	if !q2.hostUnavailable(host) {
		t.Fatal("a fresh replica does not see the unavailable mark")
	}
}

// A failure day recorded while a success clears the host must not bring
// the cleared days back (the embedded store's updates are read-then-write).
func TestHostSuccessRacingFailureDay(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	clk := newClock(testEpoch)
	o := clockOpts(clk)
	o.DeadHostDays = 3
	qa := newQueue(t, db, testSigner("a"), o)
	qb := newQueue(t, db, testSigner("b"), o)
	const host = "peer.example"
	for range 2 {
		qa.hostExhausted(ctx, host)
		clk.Add(24 * time.Hour)
	}
	for round := range 20 {
		// b's success and a's third failure day race.
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := qb.clearHost(ctx, host, clk.Now()); err != nil {
				t.Error(err)
			}
		}()
		qa.hostExhausted(ctx, host)
		<-done
		hs, err := qa.HostStatus(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		if hs.Unavailable || len(hs.FailureDays) > 1 {
			t.Fatalf("round %d: cleared failure days came back: %+v", round, hs)
		}
		if err := qa.refreshHosts(ctx); err != nil {
			t.Fatal(err)
		}
		if qa.hostUnavailable(host) {
			t.Fatalf("round %d: live host unavailable after refresh", round)
		}
		// Back to two failure days before the next round.
		if err := qa.clearHost(ctx, host, time.Time{}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			clk.Add(24 * time.Hour)
			qa.hostExhausted(ctx, host)
		}
		clk.Add(24 * time.Hour)
	}
}

// TestEnqueueManyEachActivityToEachInboxOnce: a batch (an import's
// activities) reaches every inbox with each activity's own bytes, once,
// and enqueueing the same batch again after delivery sends nothing more.
func TestEnqueueManyEachActivityToEachInboxOnce(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	a, b := newReceiver(t, nil), newReceiver(t, nil)
	q := newQueue(t, db, testSigner("a"), fastOpts())
	var batch []Activity
	for i := range 3 {
		batch = append(batch, Activity{ID: fmt.Sprintf("https://node.example/activities/m%d", i), Body: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	inboxes := []string{a.URL + "/inbox", b.URL + "/inbox", a.URL + "/inbox"}
	if err := q.EnqueueMany(ctx, batch, inboxes); err != nil {
		t.Fatal(err)
	}
	run(t, q)
	waitFor(t, "6 deliveries", 20*time.Second, func() bool { return a.count()+b.count() == 6 && idle(t, q)() })
	for _, rc := range []*receiver{a, b} {
		var got []string
		for _, h := range rc.all() {
			got = append(got, string(h.Body))
		}
		slices.Sort(got)
		if want := []string{`{"n":0}`, `{"n":1}`, `{"n":2}`}; !slices.Equal(got, want) {
			t.Errorf("inbox received %q, want each activity once: %q", got, want)
		}
	}
	if err := q.EnqueueMany(ctx, batch, inboxes); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // past enqueueHold: a repeat would be claimable
	if n := a.count() + b.count(); n != 6 {
		t.Errorf("the repeated batch was delivered again: %d POSTs", n)
	}
}
