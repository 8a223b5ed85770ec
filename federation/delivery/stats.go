package delivery

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Stats are the queue's counts across all replicas sharing the database.
type Stats struct {
	Pending          int64 // waiting, including scheduled retries
	Leased           int64 // claimed by a worker right now (or by a dead replica until its lease ends)
	Dead             int64 // given up on, kept in delivery_dead
	Delivered        int64 // total successful deliveries (done jobs are deleted, so this is a counter)
	Skipped          int64 // total jobs dropped because their host was unavailable
	HostsUnavailable int64 // hosts currently marked unavailable
}

// Stats counts jobs across all replicas. It scans delivery_jobs and the
// claim keys (running leases, and final keys of jobs waiting for a purge)
// on the embedded store, so call it for
// dashboards, not per request. A lease is a claim key (claims.go), not a
// state of the job document: a job is leased when a lease key at or after
// its document's generation has not run out.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	now := q.o.Now()
	// Running leases, and final keys: a finished job's document stays
	// until a purge (purge.go), and it is neither pending nor leased.
	cur, err := q.claims.Find(ctx, bson.M{"$or": bson.A{
		bson.M{"step": stepLease, "until": bson.M{"$gt": now}},
		bson.M{"step": bson.M{"$in": bson.A{stepDone, stepDrop}}},
	}}, options.Find().SetProjection(bson.M{"step": 1}))
	if err != nil {
		return s, err
	}
	var keys []claimDoc
	if err := cur.All(ctx, &keys); err != nil {
		return s, err
	}
	leasedFrom := map[string]int{} // nonce → highest generation under a running lease
	finished := map[string]bool{}  // nonces with a final key
	for _, k := range keys {
		nonce, gen, ok := splitClaimKey(k.ID)
		switch {
		case !ok:
		case k.Step == stepLease:
			leasedFrom[nonce] = max(leasedFrom[nonce], gen+1)
		default:
			finished[nonce] = true
		}
	}
	cur, err = q.jobs.Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"state": 1, "nonce": 1, "gen": 1, "leaseUntil": 1}))
	if err != nil {
		return s, err
	}
	var live []job
	if err := cur.All(ctx, &live); err != nil {
		return s, err
	}
	for _, j := range live {
		switch {
		case j.State == stateDead, finished[j.Nonce]:
		case leasedFrom[j.Nonce] > j.Gen, j.State == stateLeased && j.LeaseUntil.After(now):
			s.Leased++
		default:
			s.Pending++
		}
	}
	if s.Dead, err = q.dead.CountDocuments(ctx, bson.M{}); err != nil {
		return s, err
	}
	byHost, err := q.loadDays(ctx, bson.M{})
	if err != nil {
		return s, err
	}
	for _, days := range byHost {
		if len(days) >= q.o.DeadHostDays {
			s.HostsUnavailable++
		}
	}
	// One counter document per replica: updates are not atomic on the
	// embedded store, so replicas must never $inc the same document.
	cur, err = q.stats.Find(ctx, bson.M{})
	if err != nil {
		return s, err
	}
	var tots []struct {
		Delivered int64 `bson:"delivered"`
		Skipped   int64 `bson:"skipped"`
	}
	if err := cur.All(ctx, &tots); err != nil {
		return s, err
	}
	q.mu.Lock()
	s.Delivered, s.Skipped = q.delivered, q.skipped
	q.mu.Unlock()
	for _, t := range tots {
		s.Delivered += t.Delivered
		s.Skipped += t.Skipped
	}
	return s, nil
}

// flushCounters adds this replica's unflushed totals to its own document in
// delivery_stats. One
// $inc every few seconds instead of one per delivery; a crash loses at most
// those few seconds of counts, never a job.
func (q *Queue) flushCounters(ctx context.Context) {
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	q.mu.Lock()
	d, s := q.delivered, q.skipped
	q.mu.Unlock()
	if d == 0 && s == 0 {
		return
	}
	_, err := q.stats.UpdateOne(ctx, bson.M{"_id": q.o.Owner},
		bson.M{"$inc": bson.M{"delivered": d, "skipped": s}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		if ctx.Err() == nil {
			q.log.Warn("delivery: flush counters", "err", err)
		}
		return
	}
	q.mu.Lock()
	q.delivered -= d
	q.skipped -= s
	q.mu.Unlock()
}
