package delivery

import (
	"cmp"
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/ogpnet/ogpnet/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Why claims are inserts
//
// The embedded FerretDB 1.24 runs findAndModify and update as "query, then
// write by _id" without a transaction, so two workers can both "win" a
// findOneAndUpdate on the same job (seen in tests: three POSTs for one job).
// The one write it makes atomic is an insert with a unique _id. So every
// state change of a job (claim, retry, dead, done) first inserts the claim
// key "<nonce>.<gen>", where nonce identifies this enqueueing of the job and
// gen counts its state changes; the job document then moves to gen+1. Only
// one writer can insert a given key, so only one worker owns each step, and a
// slow worker whose lease expired finds its next key taken and writes
// nothing. The same protocol is correct, if a little more costly, on MongoDB.

// claimRetention is how long claim keys are kept. A key only has to outlive
// any worker that could still try to insert it: one attempt plus a stall.
const claimRetention = 24 * time.Hour

// insertUnique inserts docs unordered and reports which were new: a
// duplicate-key error marks one that already existed. This is the one write
// the embedded store makes atomic, so claims and dedupe are built on it.
func insertUnique(ctx context.Context, c *mongo.Collection, docs []any) ([]bool, error) {
	fresh := make([]bool, len(docs))
	for i := range fresh {
		fresh[i] = true
	}
	_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil {
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
			return nil, err
		}
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 || we.Index < 0 || we.Index >= len(docs) {
				return nil, err
			}
			fresh[we.Index] = false
		}
	}
	return fresh, nil
}

// claim leases up to max of the most overdue jobs: pending and due, or
// leased by someone whose lease has run out. Each candidate is taken by
// inserting its next claim key (see the package comment); candidates whose
// key another worker inserted first are skipped.
func (q *Queue) claim(ctx context.Context, max int) ([]*job, error) {
	now := q.o.Now()
	filter := bson.M{"$or": bson.A{
		bson.M{"state": statePending, "due": bson.M{"$lte": now}},
		bson.M{"state": stateLeased, "leaseUntil": bson.M{"$lt": now}},
	}}
	// A few spare candidates: other replicas may win some of them.
	cur, err := q.jobs.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "due", Value: 1}}).SetLimit(int64(2*max)))
	if err != nil {
		return nil, err
	}
	var cands []job
	if err := cur.All(ctx, &cands); err != nil {
		return nil, err
	}
	var mine []*job
	q.mu.Lock()
	for i := range cands {
		if len(mine) == max {
			break
		}
		if c := &cands[i]; !q.claiming[c.ID] {
			q.claiming[c.ID] = true
			mine = append(mine, c)
		}
	}
	q.mu.Unlock()
	if len(mine) == 0 {
		return nil, nil
	}
	if ctx.Err() != nil { // shutting down: claim nothing new
		for _, j := range mine {
			q.release(j.ID)
		}
		return nil, ctx.Err()
	}
	// From the first key insert on, the claim runs to completion whatever
	// happens to ctx (Run's, cancelled on a graceful shutdown): a key
	// inserted but not followed by its job update would leave the job
	// reading the generation whose key is taken, unclaimable by anyone
	// until the keys are pruned (claimRetention). Each step gets its own
	// timeout so that a failed one still leaves time to undo it.
	bg := context.WithoutCancel(ctx)
	tok := randomID(8) // marks this call's keys, so an undo deletes only those
	actx, cancel := context.WithTimeout(bg, claimStepTimeout)
	won, err := q.advanceMany(actx, mine, tok)
	cancel()
	if err != nil {
		// The insert may have taken effect on the server all the same
		// (an unordered InsertMany that timed out): take back any key
		// this call inserted. No job was updated, so each still reads
		// the generation of its key.
		keys := make([]string, len(mine))
		for i, j := range mine {
			keys[i] = claimKey(j.Nonce, j.Gen)
			q.release(j.ID)
		}
		q.unclaim(bg, keys, tok)
		return nil, err
	}
	var got []*job
	var firstErr error
	leaseUntil := now.Add(q.o.Lease)
	for i, j := range mine {
		if !won[i] {
			q.release(j.ID)
			continue
		}
		j.State, j.Owner, j.LeaseUntil = stateLeased, q.o.Owner, leaseUntil
		j.Attempts++
		// One UpdateOne by _id per job: the embedded store serves _id
		// equality from its primary key, while an UpdateMany with $in scans
		// (measured: ~5 ms against 100-200 ms at 500 jobs). Plain $set is
		// safe although the store applies it as read-then-write: we hold
		// the claim key, so nobody else writes this document meanwhile.
		uctx, cancel := context.WithTimeout(bg, claimStepTimeout)
		if q.beforeClaimUpdate != nil {
			uctx = q.beforeClaimUpdate(uctx, j)
		}
		res, err := q.jobs.UpdateOne(uctx, bson.M{"_id": j.ID}, bson.M{"$set": bson.M{
			"state": j.State, "owner": j.Owner, "leaseUntil": leaseUntil, "gen": j.Gen, "attempts": j.Attempts,
		}})
		cancel()
		if err != nil || res.MatchedCount == 0 {
			// Gone (deleted by a repeated Enqueue), or the store failed.
			q.release(j.ID)
			if err != nil {
				// Give the key back, or nobody could take this generation
				// until claimRetention. Safe whether or not the update
				// took effect: the job reads generation Gen-1 (claimable
				// again at once) or Gen, leased to us (claimable with the
				// next key once the lease ends; we never attempt it).
				q.unclaim(bg, []string{claimKey(j.Nonce, j.Gen-1)}, tok)
				firstErr = cmp.Or(firstErr, err)
			}
			continue
		}
		got = append(got, j)
	}
	return got, firstErr
}

// claimStepTimeout bounds each store write of a claim, which runs detached
// from Run's context (see claim).
const claimStepTimeout = 10 * time.Second

// unclaim deletes claim keys that this claim call (tok) inserted, giving
// their jobs' generations back; keys inserted by anyone else are kept. If
// it fails, the jobs wait for the keys to be pruned (claimRetention).
func (q *Queue) unclaim(ctx context.Context, keys []string, tok string) {
	ctx, cancel := context.WithTimeout(ctx, claimStepTimeout)
	defer cancel()
	for _, k := range keys {
		if _, err := q.claims.DeleteOne(ctx, bson.M{"_id": k, "tok": tok}); err != nil {
			q.log.Warn("delivery: give back claim key; job blocked until the key is pruned", "err", err, "key", k)
		}
	}
}

// claimKey is the _id in delivery_claims that owns state change gen of one
// enqueueing (nonce) of a job.
func claimKey(nonce string, gen int) string { return nonce + "." + strconv.Itoa(gen) }

// advanceMany is advance for a batch, in one round trip. tok, if not
// empty, is stored in the keys so that the caller can take back exactly the
// keys it inserted (see unclaim).
func (q *Queue) advanceMany(ctx context.Context, js []*job, tok string) ([]bool, error) {
	docs := make([]any, len(js))
	at := time.Now()
	for i, j := range js {
		d := bson.M{"_id": claimKey(j.Nonce, j.Gen), "owner": q.o.Owner, "at": at}
		if tok != "" {
			d["tok"] = tok
		}
		docs[i] = d
	}
	won, err := insertUnique(ctx, q.claims, docs)
	if err != nil {
		return make([]bool, len(js)), err
	}
	for i, j := range js {
		if won[i] {
			j.Gen++
		}
	}
	return won, nil
}

// advance inserts the claim key for j's next state change. true means this
// worker owns the change and j.Gen has moved on; false means another worker
// got there first (for a holder: its lease was taken over).
func (q *Queue) advance(ctx context.Context, j *job) (bool, error) {
	_, err := q.claims.InsertOne(ctx, bson.M{"_id": claimKey(j.Nonce, j.Gen), "owner": q.o.Owner, "at": time.Now()})
	if store.IsDuplicate(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	j.Gen++
	return true, nil
}

// release lets this replica claim the job again (see Queue.claiming).
func (q *Queue) release(id string) {
	q.mu.Lock()
	delete(q.claiming, id)
	q.mu.Unlock()
}
