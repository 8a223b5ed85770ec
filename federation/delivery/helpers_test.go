package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

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
