package delivery

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// housekeeping refreshes the host table, flushes counters and prunes old
// dead jobs until ctx ends.
func (q *Queue) housekeeping(ctx context.Context) {
	hostT := time.NewTicker(q.o.HostRefresh)
	defer hostT.Stop()
	flushT := time.NewTicker(5 * time.Second)
	defer flushT.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hostT.C:
			if err := q.refreshHosts(ctx); err != nil && ctx.Err() == nil {
				q.log.Warn("delivery: refresh hosts", "err", err)
			}
		case <-flushT.C:
			q.flushCounters(ctx)
			q.flushSuccesses(ctx, false)
			if time.Since(q.lastPruned) > time.Hour {
				q.sweep(ctx)
			}
		}
	}
}

// sweep prunes dead jobs older than DeadRetention, old claim keys, enqueue
// markers and bodies. (Moves to delivery_dead that a crash interrupted are
// finished by rescan, which reads every job anyway.)
func (q *Queue) sweep(ctx context.Context) {
	q.lastPruned = time.Now()
	cutoff := q.o.Now().Add(-q.o.DeadRetention)
	if _, err := q.dead.DeleteMany(ctx, bson.M{"deadAt": bson.M{"$lt": cutoff}}); err != nil && ctx.Err() == nil {
		q.log.Warn("delivery: prune dead jobs", "err", err)
	}
	// Claim keys carry real time, not Options.Now: a fake clock jumping
	// ahead must not expire keys that a live worker may still insert.
	if _, err := q.claims.DeleteMany(ctx, bson.M{"at": bson.M{"$lt": time.Now().Add(-claimRetention)}}); err != nil && ctx.Err() == nil {
		q.log.Warn("delivery: prune claim keys", "err", err)
	}
	if _, err := q.seen.DeleteMany(ctx, bson.M{"at": bson.M{"$lt": q.o.Now().Add(-q.o.DedupeWindow)}}); err != nil && ctx.Err() == nil {
		q.log.Warn("delivery: prune enqueue markers", "err", err)
	}
	// Bodies outlive every job that needs them: 16 default attempts span
	// about 3 days; a job whose body is gone dies with reason "no body".
	if _, err := q.bodies.DeleteMany(ctx, bson.M{"at": bson.M{"$lt": q.o.Now().Add(-max(q.o.DedupeWindow, 7*24*time.Hour))}}); err != nil && ctx.Err() == nil {
		q.log.Warn("delivery: prune bodies", "err", err)
	}
}
