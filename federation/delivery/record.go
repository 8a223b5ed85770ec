package delivery

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// finish hands a delivered or skipped job this worker holds over to be
// recorded in a batch with others: one insert of their "done" claim keys,
// which rides on the dispatcher's next claim (claim) or, when there is
// none within a tick, is the recorder's. The documents are deleted later,
// many with one command (purge.go). A job whose key another replica took
// first (its lease was taken over) is left to that replica; one that could
// not be recorded stays stored and is delivered again after its lease
// (at-least-once).
func (q *Queue) finish(ctx context.Context, j *job) bool {
	if q.running.Load() {
		q.mu.Lock()
		q.doneBuf = append(q.doneBuf, j)
		full := len(q.doneBuf) >= recordBatchMax
		q.mu.Unlock()
		if full {
			select {
			case q.recordNow <- struct{}{}:
			default:
			}
		}
		return true
	}
	// Not running (tests drive process directly): record it now.
	q.recordBatch(ctx, []*job{j})
	return true
}

// recordTick is how long a finished job may wait for a claim to take its
// "done" key along before the recorder inserts it alone. While jobs are
// being delivered the dispatcher claims more often than that (a fan-out
// to 500 inboxes claims about every 16 ms), so the keys ride on claims
// and the recorder writes mostly at the end of a burst.
const recordTick = 100 * time.Millisecond

// recordBatchMax is the most finished jobs waiting to be recorded before
// the recorder records them without waiting for its tick.
const recordBatchMax = 100

// takeDone returns the finished jobs waiting to be recorded, emptying the
// buffer.
func (q *Queue) takeDone() []*job {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.doneBuf
	q.doneBuf = nil
	return b
}

// recorder records the finished jobs no claim took along, every
// recordTick, until stop is closed (then once more), and purges their
// documents when due (purge.go).
func (q *Queue) recorder(stop <-chan struct{}) {
	t := time.NewTicker(recordTick)
	defer t.Stop()
	flush := func() {
		if batch := q.takeDone(); len(batch) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			q.recordBatch(ctx, batch)
			cancel()
		}
	}
	for {
		select {
		case <-stop:
			flush()
			return
		case <-q.recordNow:
			flush()
		case <-t.C:
			flush()
			if q.purgeDue(time.Now()) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				q.purgeFinished(ctx)
				cancel()
			}
		}
	}
}

// recordBatch inserts the "done" keys of finished jobs in one round trip
// and settles them (settleDone).
func (q *Queue) recordBatch(ctx context.Context, batch []*job) {
	won, err := q.advanceMany(ctx, batch, "", stepDone, time.Time{}, 0)
	q.settleDone(batch, won, err)
}

// settleDone counts the finished jobs whose "done" key this replica won
// (their documents wait for the purge) and puts back the others.
func (q *Queue) settleDone(batch []*job, won []bool, err error) {
	if err != nil {
		q.log.Warn("delivery: record outcomes", "err", err, "jobs", len(batch))
	}
	var d, s int64
	var recorded []*job
	for i, j := range batch {
		if err != nil || !won[i] {
			// Lost the lease to another replica, or the store failed: the
			// job stays where the store has it.
			q.putBack(j, j.LeaseUntil)
			q.afterDone(j)
			continue
		}
		if j.Reason == "skipped" {
			s++
		} else {
			d++
		}
		recorded = append(recorded, j)
	}
	// Remembered before the jobs leave the index, so that a rescan never
	// sees one as neither.
	q.rememberFinished(recorded...)
	for _, j := range recorded {
		q.forget(j)
		q.afterDone(j)
	}
	q.mu.Lock()
	q.delivered += d
	q.skipped += s
	q.mu.Unlock()
}

// done ends this replica's work on a job whose outcome was not handed to
// the recorder: it is claimable again when its lease ends, as the store has
// it, unless an outcome already settled it (reschedule, markDead).
func (q *Queue) done(j *job) {
	q.mu.Lock()
	held := q.claiming[j.ID]
	q.mu.Unlock()
	if held {
		q.putBack(j, j.LeaseUntil)
	}
	q.afterDone(j)
}

func (q *Queue) afterDone(j *job) {
	if q.afterProcess != nil {
		q.afterProcess(j)
	}
}

// reschedule puts a job this worker still holds back to pending: a "retry"
// key with the due time, then the job document (so that a rescan reads the
// new generation without following keys).
func (q *Queue) reschedule(ctx context.Context, j *job, msg string) {
	due := q.o.Now().Add(q.o.Backoff(j.Attempts))
	won, err := q.advance(ctx, j, stepRetry, due)
	if err == nil && won {
		_, err = q.jobs.UpdateOne(ctx, bson.M{"_id": j.ID, "nonce": j.Nonce}, bson.M{
			"$set":   bson.M{"state": statePending, "due": due, "gen": j.Gen, "attempts": j.Attempts, "lastStatus": j.LastStatus, "lastError": msg},
			"$unset": bson.M{"owner": "", "leaseUntil": ""},
		})
		q.log.Debug("delivery: will retry", "inbox", j.Inbox, "attempt", j.Attempts, "due", due, "err", msg)
		j.State, j.Due, j.Owner, j.LeaseUntil = statePending, due, "", time.Time{}
		q.putBack(j, due) // the key decides, whatever the document update did
	}
	if err != nil {
		q.log.Warn("delivery: reschedule", "err", err, "inbox", j.Inbox)
	}
}

// markDead takes the job out of the live collection into delivery_dead. It
// reports false when this worker no longer holds the lease (another replica
// took over), in which case nothing is written. Without transactions it goes
// in three idempotent steps; sweep completes any that a crash interrupted.
func (q *Queue) markDead(ctx context.Context, j *job, reason string) bool {
	now := q.o.Now()
	won, err := q.advance(ctx, j, stepDead, now)
	if err != nil {
		q.log.Warn("delivery: mark dead", "err", err, "inbox", j.Inbox)
		return false
	}
	if !won {
		return false
	}
	q.forget(j) // the key decides: the job is dead whatever the next steps do
	if _, err := q.jobs.UpdateOne(ctx, bson.M{"_id": j.ID, "nonce": j.Nonce}, bson.M{"$set": bson.M{
		"state": stateDead, "gen": j.Gen, "attempts": j.Attempts, "reason": reason, "deadAt": now, "lastStatus": j.LastStatus, "lastError": j.LastError,
	}}); err != nil {
		q.log.Warn("delivery: mark dead", "err", err, "inbox", j.Inbox)
		return true
	}
	j.State, j.Reason, j.DeadAt = stateDead, reason, now
	if err := q.moveDead(ctx, j); err != nil {
		q.log.Warn("delivery: move dead job", "err", err, "inbox", j.Inbox)
	}
	return true
}

// moveDead copies a job marked dead into delivery_dead, then deletes it
// from delivery_jobs; both steps are idempotent, so sweep can redo them.
func (q *Queue) moveDead(ctx context.Context, j *job) error {
	if len(j.Body) == 0 {
		_ = q.loadBody(ctx, j) // read back from the store (rescan): kept for inspection when still there
	}
	if _, err := q.dead.ReplaceOne(ctx, bson.M{"_id": j.ID}, j, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	_, err := q.jobs.DeleteOne(ctx, bson.M{"_id": j.ID, "state": stateDead})
	return err
}
