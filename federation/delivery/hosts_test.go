package delivery

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

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
