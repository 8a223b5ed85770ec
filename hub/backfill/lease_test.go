package backfill

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// Two replicas (Backfillers on one store) contend for one member's lease:
// only one holds it at a time, renewal keeps it past its first windows, a
// release hands it over at once, and a holder that dies without releasing
// loses it within two windows.
func TestLeaseOneReplicaAtATime(t *testing.T) {
	db := storetest.DB(t)
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	const leaseLen = 400 * time.Millisecond
	a := &Backfiller{DB: db, Lease: leaseLen, Log: quiet}
	b := &Backfiller{DB: db, Lease: leaseLen, Log: quiet}
	if err := a.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	const member = "http://a.localhost/users/a"

	la, actx, ok, err := a.acquire(ctx, member)
	if err != nil || !ok {
		t.Fatalf("A: %v %v", ok, err)
	}
	// For four windows B keeps trying and never gets it: A renews.
	for end := time.Now().Add(4 * leaseLen); time.Now().Before(end); time.Sleep(leaseLen / 10) {
		if _, _, ok, err := b.acquire(ctx, member); ok || err != nil {
			t.Fatalf("B took a held lease (%v)", err)
		}
	}
	if actx.Err() != nil {
		t.Fatal("A lost a lease it was renewing")
	}
	la.release(ctx)
	lb, _, ok, err := b.acquire(ctx, member)
	if err != nil || !ok {
		t.Fatalf("B after release: %v %v", ok, err)
	}

	// B dies mid-walk: it stops renewing and never releases.
	close(lb.stop)
	<-lb.done
	took := time.Now()
	var la2 *lease
	for la2 == nil {
		if time.Since(took) > 3*leaseLen+leaseLen/2 {
			t.Fatal("the lease of a dead replica was never taken over")
		}
		if l, _, ok, err := a.acquire(ctx, member); err != nil {
			t.Fatal(err)
		} else if ok {
			la2 = l
		}
		time.Sleep(leaseLen / 20)
	}
	t.Logf("taken over %v after the holder died", time.Since(took).Round(time.Millisecond))
	defer la2.release(ctx)
	// The dead replica coming back cannot renew: the window is taken.
	if ok, err := b.insertClaim(ctx, "lease", member, b.window(time.Now())); ok || err != nil {
		t.Errorf("the former holder renewed a taken window: %v %v", ok, err)
	}

	// The periodic walk of an interval is claimed once between replicas.
	if ok, _ := a.insertClaim(ctx, "tick", member, 42); !ok {
		t.Error("first tick claim refused")
	}
	if ok, _ := b.insertClaim(ctx, "tick", member, 42); ok {
		t.Error("second replica claimed the same interval")
	}
}
