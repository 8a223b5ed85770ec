package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestTwoReplicasNoDuplicatesNoLoss(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	var mu sync.Mutex
	seen := map[string]int{}
	byReplica := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[r.URL.Path+" "+string(b)]++
		byReplica[r.Header.Get("X-Replica")]++
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // a receiver doing some work
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	o := fastOpts()
	qa := newQueue(t, db, testSigner("a"), o)
	qb := newQueue(t, db, testSigner("b"), o)
	const activities, perActivity = 20, 10
	start := time.Now()
	run(t, qa)
	run(t, qb)
	for a := range activities {
		var inboxes []string
		for i := range perActivity {
			inboxes = append(inboxes, fmt.Sprintf("%s/users/u%d/inbox", srv.URL, i))
		}
		body := fmt.Sprintf(`{"id":"https://node.example/activities/%d"}`, a)
		// Enqueue through both replicas, as two publishers might, each
		// first for half of the activities (the first one's jobs are new,
		// the other's duplicates).
		order := []*Queue{qa, qb}
		if a%2 == 1 {
			order = []*Queue{qb, qa}
		}
		for _, q := range order {
			if err := q.Enqueue(ctx, fmt.Sprintf("https://node.example/activities/%d", a), []byte(body), inboxes); err != nil {
				t.Fatal(err)
			}
		}
	}
	total := activities * perActivity
	waitFor(t, "200 deliveries", 60*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == total && idle(t, qa)()
	})
	elapsed := time.Since(start)
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
	if len(seen) != total {
		t.Errorf("distinct deliveries = %d, want %d", len(seen), total)
	}
	t.Logf("%d jobs by 2 replicas in %v (%.0f/s); split %v", total, elapsed, float64(total)/elapsed.Seconds(), byReplica)
	if byReplica["a"] == 0 || byReplica["b"] == 0 {
		t.Errorf("one replica did no work: %v", byReplica)
	}
}

func TestStalledReplicaLosesLease(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	rc := newReceiver(t, nil)
	o := fastOpts()
	o.Lease = 1 * time.Second
	o.Workers = 1
	// Replica a hangs inside the delivery (as a frozen or dying process
	// would) until released; it then fails.
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	var releaseOnce sync.Once
	unfreeze := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unfreeze)
	qa := newQueue(t, db, func(*http.Request, []byte) error {
		entered <- struct{}{}
		<-release
		return errors.New("replica a was frozen")
	}, o)
	stopA := run(t, qa)
	if err := qa.Enqueue(ctx, "https://node.example/activities/l", []byte(testBody), []string{rc.URL + "/inbox"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("replica a never claimed the job")
	}
	claimed := time.Now()
	qb := newQueue(t, db, testSigner("b"), o)
	run(t, qb)
	waitFor(t, "replica b delivers", 20*time.Second, func() bool { return rc.count() == 1 })
	if took := time.Since(claimed); took < 800*time.Millisecond {
		t.Errorf("b delivered %v after a's claim, before the 1s lease ran out", took)
	}
	waitFor(t, "job done", 10*time.Second, idle(t, qb))
	// a wakes up late and reports a failure: its lease is gone, so the job
	// must not come back to life as pending.
	unfreeze()
	stopA()
	s := stats(t, qb)
	if s.Pending != 0 || s.Leased != 0 || s.Dead != 0 {
		t.Fatalf("stale replica changed the job: %+v", s)
	}
	if h := rc.all()[0]; h.Replica != "b" || string(h.Body) != testBody {
		t.Fatalf("delivered by %q", h.Replica)
	}
}

// TestCompletionChecksLease drives two claims of one job by hand: the first
// holder, whose lease expired, can neither reschedule nor kill the job.
func TestCompletionChecksLease(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	code := atomic.Int32{}
	code.Store(503)
	rc := newReceiver(t, func(int, *http.Request) int { return int(code.Load()) })
	clk := newClock(testEpoch)
	o := fastOpts()
	o.Now = clk.Now
	o.Lease = time.Minute
	q1 := newQueue(t, db, testSigner("1"), o)
	q2 := newQueue(t, db, testSigner("2"), o)
	if err := q1.Enqueue(ctx, "https://node.example/activities/o", []byte(testBody), []string{rc.URL + "/inbox"}); err != nil {
		t.Fatal(err)
	}
	claimOne := func(q *Queue) *job {
		t.Helper()
		js, err := q.claim(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(js) == 0 {
			return nil
		}
		return js[0]
	}
	clk.Add(time.Second) // past the enqueue hold
	j1 := claimOne(q1)
	if j1 == nil {
		t.Fatal("claim 1 got nothing")
	}
	if j := claimOne(q2); j != nil {
		t.Fatal("a leased job was claimed again before its lease ran out")
	}
	clk.Add(61 * time.Second)
	j2 := claimOne(q2)
	if j2 == nil || j2.ID != j1.ID || j2.Attempts != 2 {
		t.Fatalf("claim 2: %+v", j2)
	}
	// q1 stalled after its lease checks (or its clock lags): only the claim
	// keys can stop it now.
	j1.LeaseUntil = clk.Now().Add(time.Hour)
	q1.process(ctx, j1) // 503: would reschedule, but the lease is q2's
	code.Store(410)
	q1.process(ctx, j1) // 410: would kill the job
	// The lease is q2's key; nothing came after it.
	var lease claimDoc
	if err := q2.claims.FindOne(ctx, bson.M{"_id": claimKey(j2.Nonce, j2.Gen-1)}).Decode(&lease); err != nil {
		t.Fatal(err)
	}
	if lease.Step != stepLease || lease.Owner != q2.o.Owner {
		t.Fatalf("lease key = %+v, want q2's lease", lease)
	}
	if n, _ := q2.claims.CountDocuments(ctx, bson.M{"_id": claimKey(j2.Nonce, j2.Gen)}); n != 0 {
		t.Fatal("stale holder recorded a change after losing its lease")
	}
	var cur job
	if err := q2.jobs.FindOne(ctx, bson.M{"_id": j1.ID}).Decode(&cur); err != nil || cur.State != statePending || cur.Attempts != 0 {
		t.Fatalf("stale holder overwrote the job: %+v, %v", cur, err)
	}
	if n, _ := q2.dead.CountDocuments(ctx, bson.M{}); n != 0 {
		t.Fatalf("stale holder moved the job to dead")
	}
	code.Store(200)
	q2.process(ctx, j2)
	if s := stats(t, q2); s.Pending+s.Leased+s.Dead != 0 || s.Delivered != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

// A claim writes one batch of claim keys and no job document: the lease
// (owner, until, attempt) is in the key. Another replica, which learns of
// the jobs by its scan at start, cannot claim them before the lease ends,
// and then takes them with the next key, counting the attempt.
func TestClaimLeasesByKeyOnly(t *testing.T) {
	q, clk, db := dueQueue(t, 3)
	ctx := context.Background()
	got, err := q.claim(ctx, 3)
	if err != nil || len(got) != 3 {
		t.Fatalf("claim = %d jobs, %v; want 3", len(got), err)
	}
	for _, j := range got {
		var cur job
		if err := q.jobs.FindOne(ctx, bson.M{"_id": j.ID}).Decode(&cur); err != nil {
			t.Fatal(err)
		}
		if cur.State != statePending || cur.Gen != 0 {
			t.Fatalf("claim wrote the job document: %+v", cur)
		}
		var k claimDoc
		if err := q.claims.FindOne(ctx, bson.M{"_id": claimKey(j.Nonce, 0)}).Decode(&k); err != nil {
			t.Fatal(err)
		}
		if k.Step != stepLease || k.Owner != q.o.Owner || !k.Until.Equal(j.LeaseUntil) || k.Attempts != 1 {
			t.Fatalf("lease key = %+v, job %+v", k, j)
		}
	}
	if s := stats(t, q); s.Leased != 3 || s.Pending != 0 {
		t.Fatalf("stats = %+v, want 3 leased", s)
	}
	q2 := newQueue(t, db, testSigner("b"), clockOpts(clk))
	if again, err := q2.claim(ctx, 3); err != nil || len(again) != 0 {
		t.Fatalf("second replica claimed %d leased jobs (%v)", len(again), err)
	}
	clk.Add(61 * time.Second)
	taken, err := q2.claim(ctx, 3)
	if err != nil || len(taken) != 3 {
		t.Fatalf("after the lease: claimed %d, %v; want 3", len(taken), err)
	}
	for _, j := range taken {
		if j.Gen != 2 || j.Attempts != 2 {
			t.Fatalf("taken over at generation %d, attempt %d; want 2, 2", j.Gen, j.Attempts)
		}
	}
}

// A job finished by another replica is forgotten by one that still had it
// in memory: its claim finds the "done" key and claims nothing.
func TestClaimFollowsOtherReplicasOutcome(t *testing.T) {
	q, clk, db := dueQueue(t, 2)
	ctx := context.Background()
	q2 := newQueue(t, db, testSigner("b"), clockOpts(clk)) // knows both jobs from its scan
	got, err := q.claim(ctx, 2)
	if err != nil || len(got) != 2 {
		t.Fatalf("claim = %d, %v", len(got), err)
	}
	q.recordBatch(ctx, got) // as if delivered
	clk.Add(61 * time.Second)
	if taken, err := q2.claim(ctx, 2); err != nil || len(taken) != 0 {
		t.Fatalf("claimed %d finished jobs (%v)", len(taken), err)
	}
	if n := q2.idx.size(); n != 0 {
		t.Fatalf("index still holds %d finished jobs", n)
	}
	if s := stats(t, q); s.Pending+s.Leased != 0 || s.Delivered != 2 {
		t.Fatalf("stats = %+v", s)
	}
}
