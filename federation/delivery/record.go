package delivery

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// finish takes the last step of a job this worker still holds (delivered or
// skipped) and hands it to the recorder for deletion. false means the lease
// was lost (or the store failed): the job then stays and is claimed again
// after its lease (at-least-once).
func (q *Queue) finish(ctx context.Context, j *job) bool {
	won, err := q.advance(ctx, j)
	if err != nil {
		q.log.Warn("delivery: record outcome", "err", err, "inbox", j.Inbox)
		return false
	}
	if won && q.finished != nil {
		q.finished <- j
		return true
	}
	if won { // not running (tests drive process directly): delete now
		q.deleteBatch(ctx, []*job{j})
		return true
	}
	return false
}

// recorder deletes finished jobs in batches until Run closes q.finished.
func (q *Queue) recorder() {
	var batch []*job
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	flush := func() {
		if len(batch) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			q.deleteBatch(ctx, batch)
			cancel()
			batch = nil
		}
	}
	for {
		select {
		case j, ok := <-q.finished:
			if !ok {
				flush()
				return
			}
			batch = append(batch, j)
			if len(batch) >= 100 {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

// deleteBatch deletes finished jobs (their final claim keys are inserted)
// in one DeleteMany, then counts them.
func (q *Queue) deleteBatch(ctx context.Context, batch []*job) {
	for _, j := range batch {
		// By _id, one at a time: served from the primary key, where a
		// DeleteMany with $in would scan the collection.
		if _, err := q.jobs.DeleteOne(ctx, bson.M{"_id": j.ID}); err != nil {
			// The key is taken, so no one re-sends it; after claimRetention
			// it becomes claimable again and is re-sent (at-least-once).
			q.log.Warn("delivery: delete finished job", "err", err, "inbox", j.Inbox)
		}
	}
	var d, s int64
	for _, j := range batch {
		if j.Reason == "skipped" {
			s++
		} else {
			d++
		}
	}
	q.mu.Lock()
	q.delivered += d
	q.skipped += s
	q.mu.Unlock()
	for _, j := range batch {
		q.done(j)
	}
}

// done marks the end of this replica's work on j.
func (q *Queue) done(j *job) {
	q.release(j.ID)
	if q.afterProcess != nil {
		q.afterProcess(j)
	}
}

// reschedule puts a job this worker still holds back to pending.
func (q *Queue) reschedule(ctx context.Context, j *job, msg string) {
	won, err := q.advance(ctx, j)
	if err == nil && won {
		due := q.o.Now().Add(q.o.Backoff(j.Attempts))
		_, err = q.jobs.UpdateOne(ctx, bson.M{"_id": j.ID, "nonce": j.Nonce}, bson.M{
			"$set":   bson.M{"state": statePending, "due": due, "gen": j.Gen, "lastStatus": j.LastStatus, "lastError": msg},
			"$unset": bson.M{"owner": "", "leaseUntil": ""},
		})
		q.log.Debug("delivery: will retry", "inbox", j.Inbox, "attempt", j.Attempts, "due", due, "err", msg)
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
	won, err := q.advance(ctx, j)
	if err != nil {
		q.log.Warn("delivery: mark dead", "err", err, "inbox", j.Inbox)
		return false
	}
	if !won {
		return false
	}
	now := q.o.Now()
	if _, err := q.jobs.UpdateOne(ctx, bson.M{"_id": j.ID, "nonce": j.Nonce}, bson.M{"$set": bson.M{
		"state": stateDead, "gen": j.Gen, "reason": reason, "deadAt": now, "lastStatus": j.LastStatus, "lastError": j.LastError,
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
	if _, err := q.dead.ReplaceOne(ctx, bson.M{"_id": j.ID}, j, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	_, err := q.jobs.DeleteOne(ctx, bson.M{"_id": j.ID, "state": stateDead})
	return err
}
