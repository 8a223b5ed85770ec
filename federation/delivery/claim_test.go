package delivery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// enqueueDue enqueues n jobs and moves the clock past the enqueue hold.
func enqueueDue(t *testing.T, q *Queue, clk *clock, n int) {
	t.Helper()
	for i := range n {
		if err := q.Enqueue(context.Background(), fmt.Sprintf("https://node.example/activities/c%d", i), []byte(testBody),
			[]string{"http://127.0.0.1:9/inbox"}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(time.Second)
}

func clockOpts(clk *clock) Options {
	o := fastOpts()
	o.Now = clk.Now
	o.Lease = time.Minute
	return o
}

// A shutdown (Run's context cancelled) between the claim key inserts and
// the job updates must not leave jobs whose key is taken but which still
// read the old generation.
func TestClaimSurvivesCancelBetweenKeyAndUpdate(t *testing.T) {
	db := storetest.DB(t)
	clk := newClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	q := newQueue(t, db, testSigner("a"), clockOpts(clk))
	enqueueDue(t, q, clk, 3)
	ctx, cancel := context.WithCancel(context.Background())
	q.beforeClaimUpdate = func(uctx context.Context, _ *job) context.Context {
		cancel()
		return uctx
	}
	got, err := q.claim(ctx, 3)
	if err != nil || len(got) != 3 {
		t.Fatalf("claim = %d jobs, %v; want all 3 claimed despite the cancel", len(got), err)
	}
	for _, j := range got {
		var cur job
		if err := q.jobs.FindOne(context.Background(), bson.M{"_id": j.ID}).Decode(&cur); err != nil {
			t.Fatal(err)
		}
		if cur.State != stateLeased || cur.Gen != 1 || cur.Owner != q.o.Owner {
			t.Fatalf("job not updated after its key: %+v", cur)
		}
	}
}

// A job update that fails after its key was inserted gives the key back and
// releases the job locally; the other jobs of the batch are still claimed.
func TestClaimUpdateFailureGivesKeyBack(t *testing.T) {
	db := storetest.DB(t)
	clk := newClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	q := newQueue(t, db, testSigner("a"), clockOpts(clk))
	enqueueDue(t, q, clk, 3)
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	var failed string
	q.beforeClaimUpdate = func(uctx context.Context, j *job) context.Context {
		if failed == "" {
			failed = j.ID
			return dead // the store "fails" for the first job only
		}
		return uctx
	}
	got, err := q.claim(context.Background(), 3)
	if err == nil {
		t.Fatal("claim reported no error for the failed update")
	}
	if len(got) != 2 {
		t.Fatalf("claim = %d jobs, want the 2 whose update worked", len(got))
	}
	q.mu.Lock()
	stuck := q.claiming[failed]
	q.mu.Unlock()
	if stuck {
		t.Fatal("failed job left in q.claiming: this replica would never claim it again")
	}
	// Another replica can claim the failed job at once, with the same key.
	q2 := newQueue(t, db, testSigner("b"), clockOpts(clk))
	got2, err := q2.claim(context.Background(), 3)
	if err != nil || len(got2) != 1 || got2[0].ID != failed || got2[0].Gen != 1 {
		t.Fatalf("reclaim = %+v, %v; want the failed job at generation 1", got2, err)
	}
}

// A failure day recorded while a success clears the host must not bring
// the cleared days back (the embedded store's updates are read-then-write).
func TestHostSuccessRacingFailureDay(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	clk := newClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
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

// The lease is checked again after loading the body, just before the POST.
func TestProcessLeavesJobWhoseLeaseRanShort(t *testing.T) {
	db := storetest.DB(t)
	rc := newReceiver(t, nil)
	clk := newClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
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
