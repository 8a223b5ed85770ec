package delivery

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
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
// Large batches (a fan-out to thousands of inboxes) go in chunks of
// insertChunk, each one command well within the store's timeout.
func insertUnique(ctx context.Context, c *mongo.Collection, docs []any) ([]bool, error) {
	fresh := make([]bool, len(docs))
	for i := range fresh {
		fresh[i] = true
	}
	for from := 0; from < len(docs); from += insertChunk {
		chunk := docs[from:min(len(docs), from+insertChunk)]
		_, err := c.InsertMany(ctx, chunk, options.InsertMany().SetOrdered(false))
		if err == nil {
			continue
		}
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
			return nil, err
		}
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 || we.Index < 0 || we.Index >= len(chunk) {
				return nil, err
			}
			fresh[from+we.Index] = false
		}
	}
	return fresh, nil
}

// insertChunk is the most documents insertUnique sends in one command.
const insertChunk = 1000

// claim leases up to max of the most overdue jobs this replica knows of
// (index.go): pending and due, or leased by someone whose lease has run
// out. Each is taken by inserting its next claim key, all in one batched
// insert, which records the lease too (step "lease", until when, the
// attempt's number): the job document is not written, so a claim costs one
// insert for the batch whatever the backlog. Jobs whose key another replica
// took first are looked up (follow) and put back where they stand.
func (q *Queue) claim(ctx context.Context, max int) ([]*job, error) {
	now := q.o.Now()
	if q.rescanDue(now) {
		if err := q.rescan(ctx); err != nil {
			return nil, err
		}
	}
	var mine []*job
	q.mu.Lock()
	skip := func(id string) bool { return q.claiming[id] }
	for _, j := range q.idx.take(now, max, skip) {
		q.claiming[j.ID] = true
		mine = append(mine, j)
	}
	q.mu.Unlock()
	if len(mine) == 0 {
		return nil, nil
	}
	if ctx.Err() != nil { // shutting down: claim nothing new
		for _, j := range mine {
			q.putBack(j, now)
		}
		return nil, ctx.Err()
	}
	// From the key insert on, the claim runs to completion whatever happens
	// to ctx (Run's, cancelled on a graceful shutdown), so that a key that
	// reached the store is either used or given back.
	bg := context.WithoutCancel(ctx)
	tok := randomID(8)                                          // marks this call's keys, so an undo deletes only those
	leaseUntil := now.Add(q.o.Lease).Truncate(time.Millisecond) // as the store keeps it
	// The "done" keys of jobs finished since the last claim go in the same
	// insert: one write through the store's one writer for both.
	done := q.takeDone()
	docs := append(q.keyDocs(mine, tok, stepLease, leaseUntil, 1), q.keyDocs(done, "", stepDone, time.Time{}, 0)...)
	actx, cancel := context.WithTimeout(bg, claimStepTimeout)
	won, err := insertUnique(actx, q.claims, docs)
	cancel()
	if err != nil {
		won = make([]bool, len(docs))
	}
	for i, j := range append(slices.Clip(mine), done...) {
		if won[i] {
			j.Gen++
		}
	}
	q.settleDone(done, won[len(mine):], err)
	won = won[:len(mine)]
	if err != nil {
		// The insert may have taken effect on the server all the same
		// (an unordered InsertMany that timed out): take back any key
		// this call inserted, so each job reads the generation of its key.
		keys := make([]string, len(mine))
		for i, j := range mine {
			keys[i] = claimKey(j.Nonce, j.Gen)
		}
		q.unclaim(bg, keys, tok)
		for _, j := range mine {
			q.putBack(j, now)
		}
		return nil, err
	}
	var got []*job
	for i, j := range mine {
		if !won[i] {
			q.follow(bg, j, now)
			continue
		}
		j.State, j.Owner, j.LeaseUntil = stateLeased, q.o.Owner, leaseUntil
		j.Attempts++
		got = append(got, j)
	}
	return got, nil
}

// putBack returns a job this replica held, unchanged, to the index,
// claimable from at, and lets this replica claim it again.
func (q *Queue) putBack(j *job, at time.Time) {
	q.idx.put(j, at)
	q.release(j.ID)
}

// forget drops a job from the index (finished, dead or gone) and lets this
// replica claim it again should it come back through a rescan.
func (q *Queue) forget(j *job) {
	q.idx.remove(j.ID)
	q.release(j.ID)
}

// followSteps bounds the claim keys follow reads for one job; a job with
// more state changes since this replica last knew it waits for the next
// round.
const followSteps = 16

// follow learns where a job stands after another writer took the claim key
// this replica tried: it reads the keys taken from that generation on, by
// _id, up to the first one not taken, and puts the job back claimable when
// that writer's lease ends or its retry is due, or forgets it when the job
// was finished or is no longer stored.
func (q *Queue) follow(ctx context.Context, j *job, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, claimStepTimeout)
	defer cancel()
	at := now
	for range followSteps {
		var k claimDoc
		err := q.claims.FindOne(ctx, bson.M{"_id": claimKey(j.Nonce, j.Gen)}).Decode(&k)
		if errors.Is(err, mongo.ErrNoDocuments) {
			break // the first free generation: claimable from at
		}
		if err != nil {
			q.log.Warn("delivery: read claim key", "err", err, "inbox", j.Inbox)
			q.putBack(j, now.Add(q.o.PollInterval))
			return
		}
		j.Gen++
		switch k.Step {
		case stepLease, stepRetry:
			at, j.Attempts = k.Until, max(j.Attempts, k.Attempts)
		case "":
			// A key written before keys recorded their step: the job
			// document, updated after it, holds the state.
			var cur job
			if err := q.jobs.FindOne(ctx, bson.M{"_id": j.ID}).Decode(&cur); err == nil && cur.State != stateDead {
				q.putBack(&cur, readyAt(&cur))
			} else {
				q.forget(j)
			}
			return
		default: // done, dead, or dropped by a repeated Enqueue
			q.finishStray(ctx, j, k.Step)
			q.forget(j)
			return
		}
	}
	if at.Before(now) {
		at = now
	}
	q.putBack(j, at)
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

// splitClaimKey reads a claim key back into its nonce and generation.
func splitClaimKey(k string) (string, int, bool) {
	i := strings.LastIndexByte(k, '.')
	if i < 0 {
		return "", 0, false
	}
	gen, err := strconv.Atoi(k[i+1:])
	return k[:i], gen, err == nil
}

// claimKey is the _id in delivery_claims that owns state change gen of one
// enqueueing (nonce) of a job.
func claimKey(nonce string, gen int) string { return nonce + "." + strconv.Itoa(gen) }

// Steps a claim key records: what its writer did with the job.
const (
	stepLease = "lease" // claimed for an attempt until Until
	stepRetry = "retry" // back to pending, due at Until
	stepDone  = "done"  // delivered or skipped: the job document is deleted (purge.go)
	stepDead  = "dead"  // moved to delivery_dead
	stepDrop  = "drop"  // a repeated Enqueue took it back
)

// claimDoc is one delivery_claims document: who took which state change of
// a job, and what it was.
type claimDoc struct {
	ID       string    `bson:"_id"`
	Owner    string    `bson:"owner"`
	At       time.Time `bson:"at"` // real time, for pruning
	Tok      string    `bson:"tok,omitempty"`
	Step     string    `bson:"step,omitempty"`
	Until    time.Time `bson:"until,omitzero"`     // lease: its end; retry: when due
	Attempts int       `bson:"attempts,omitempty"` // attempts made, this one included (lease)
}

// advanceMany inserts the next claim key of each job in one round trip and
// reports which this writer won (their Gen moves on). tok, if not empty, is
// stored in the keys so that the caller can take back exactly the keys it
// inserted (see unclaim); step, until and addAttempts describe the change.
func (q *Queue) advanceMany(ctx context.Context, js []*job, tok, step string, until time.Time, addAttempts int) ([]bool, error) {
	won, err := insertUnique(ctx, q.claims, q.keyDocs(js, tok, step, until, addAttempts))
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

// keyDocs are the next claim keys of js for one kind of change (see
// advanceMany).
func (q *Queue) keyDocs(js []*job, tok, step string, until time.Time, addAttempts int) []any {
	docs := make([]any, len(js))
	at := time.Now()
	for i, j := range js {
		docs[i] = claimDoc{ID: claimKey(j.Nonce, j.Gen), Owner: q.o.Owner, At: at, Tok: tok, Step: step, Until: until, Attempts: j.Attempts + addAttempts}
	}
	return docs
}

// advance inserts the claim key for j's next state change (step, until).
// true means this worker owns the change and j.Gen has moved on; false
// means another worker got there first (for a holder: its lease was taken
// over).
func (q *Queue) advance(ctx context.Context, j *job, step string, until time.Time) (bool, error) {
	_, err := q.claims.InsertOne(ctx, claimDoc{ID: claimKey(j.Nonce, j.Gen), Owner: q.o.Owner, At: time.Now(), Step: step, Until: until, Attempts: j.Attempts})
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

// finishStray completes what a writer that won a final key (done, dead,
// drop) did not finish: a done or dropped job's document waits for a purge
// (purge.go; the writer's own, or this one if the writer died or failed),
// and a job marked dead that a crash left in delivery_jobs is moved out.
// Without this, every rescan would bring the job back to be followed again.
func (q *Queue) finishStray(ctx context.Context, j *job, step string) {
	if step != stepDead {
		q.rememberFinished(j)
		return
	}
	// By _id alone, which the embedded store reads without decoding every
	// job; the nonce is compared here.
	var cur job
	if err := q.jobs.FindOne(ctx, bson.M{"_id": j.ID}).Decode(&cur); err != nil || cur.Nonce != j.Nonce {
		return // gone already (the common case), or the store failed: next time
	}
	if cur.State != stateDead {
		cur.State, cur.Reason, cur.DeadAt = stateDead, cmp.Or(cur.Reason, ReasonExhausted), q.o.Now()
	}
	_ = q.moveDead(ctx, &cur)
}
