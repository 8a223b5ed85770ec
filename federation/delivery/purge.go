package delivery

import (
	"context"
	"time"

	"github.com/ogpnet/ogpnet/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Why finished jobs are deleted later, many at a time
//
// The embedded store runs each statement of a delete command as its own
// query and its own SQLite transaction: deleting each delivered job cost a
// fan-out to 500 inboxes 500 transactions through the store's one writer,
// in the middle of the deliveries (about a quarter of the fan-out's CPU
// besides signing). Instead, the job's "done" claim key is its record (no
// one claims or sends it again: claims.go), its document stays for a
// while, and this replica remembers it in memory (finishedStored). A purge
// then deletes them together, after the burst: when they are many compared
// with the jobs stored, with one command {_id: {$in: ids}} (one scan of the
// collection, one transaction); when they are few, by _id (served from the
// _id index, internal/store/idindex.go), one statement each but in one
// command.
//
// A purge runs when deliveries have paused for purgeQuiet (after a burst),
// or under steady load once the oldest remembered job is purgeMaxAge old;
// either way never more than a thirtieth of the time (a scan of a large
// backlog takes seconds), except that more than purgeMax remembered jobs
// are purged at once to bound memory. Idle, it costs nothing: the check is
// in memory. A replica that stops gracefully purges before Run returns.
//
// Restart-safe: a replica killed before its purge leaves finished jobs
// stored with their "done" keys. Whoever claims one next (a rescan reads
// it) fails to insert the key at the job's stored generation, follows the
// keys to "done" (follow), and remembers the job for its own purge without
// sending it. Stats skips such jobs by their keys.

const (
	purgeQuiet  = 100 * time.Millisecond // no job finished for this long: purge
	purgeMaxAge = 10 * time.Second       // purge under steady load at least this often
	purgeMax    = 50_000                 // remembered jobs that force a purge (memory bound)
	purgeChunk  = 5_000                  // ids per delete command
	// purgeScanShare: a purge deletes with one scan when its jobs are at
	// least this share of the jobs stored (a statement by _id costs about
	// as much as decoding four stored jobs), else by _id.
	purgeScanShare = 4
)

// rememberFinished notes jobs whose final claim key was taken (done or
// dropped) and whose documents are still stored, for the next purge.
func (q *Queue) rememberFinished(js ...*job) {
	if len(js) == 0 {
		return
	}
	now := time.Now()
	q.mu.Lock()
	if len(q.finishedStored) == 0 {
		q.finishedSince = now
	}
	for _, j := range js {
		q.finishedStored[j.ID] = j.Nonce
	}
	q.lastFinished = now
	q.mu.Unlock()
}

// purgeDue reports whether the remembered finished jobs should be deleted
// now (see the comment at the top of this file).
func (q *Queue) purgeDue(now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.finishedStored)
	switch {
	case n == 0:
		return false
	case n >= purgeMax:
		return true
	case now.Sub(q.lastPurge) < 30*q.purgeTook:
		return false
	default:
		return now.Sub(q.lastFinished) >= purgeQuiet || now.Sub(q.finishedSince) >= purgeMaxAge
	}
}

// purgeFinished deletes the documents of the finished jobs remembered so
// far, in commands of purgeChunk ids; ids whose delete failed stay
// remembered for the next purge.
func (q *Queue) purgeFinished(ctx context.Context) {
	began := time.Now()
	q.mu.Lock()
	ids := make([]string, 0, len(q.finishedStored))
	for id := range q.finishedStored {
		ids = append(ids, id)
	}
	q.mu.Unlock()
	stored := q.idx.size() + len(ids) // the live jobs known here, and these
	failed := false
	for from := 0; from < len(ids); from += purgeChunk {
		chunk := ids[from:min(len(ids), from+purgeChunk)]
		if err := q.deleteJobs(ctx, chunk, stored); err != nil {
			if ctx.Err() == nil && !store.Unavailable(err) {
				q.log.Warn("delivery: delete finished jobs", "err", err, "jobs", len(chunk))
			}
			failed = true
			break
		}
		// A rescan that read these documents before they went must not
		// bring them back.
		q.idx.gone(chunk)
		q.mu.Lock()
		for _, id := range chunk {
			delete(q.finishedStored, id)
		}
		q.mu.Unlock()
	}
	q.mu.Lock()
	q.lastPurge, q.purgeTook = time.Now(), time.Since(began)
	if failed {
		q.purgeTook = max(q.purgeTook, time.Second) // the store is away or refusing: try again in half a minute
	}
	if len(q.finishedStored) > 0 {
		q.finishedSince = q.lastPurge
	}
	q.mu.Unlock()
}

// deleteJobs deletes the jobs ids from delivery_jobs, with one scan or by
// _id, whichever reads less given about stored jobs in the collection.
func (q *Queue) deleteJobs(ctx context.Context, ids []string, stored int) error {
	if purgeScanShare*len(ids) >= stored {
		_, err := q.jobs.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}})
		return err
	}
	models := make([]mongo.WriteModel, len(ids))
	for i, id := range ids {
		models[i] = mongo.NewDeleteOneModel().SetFilter(bson.M{"_id": id})
	}
	_, err := q.jobs.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	return err
}
