package objects

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ogpnet/ogpnet/internal/store"
)

// gapGrace is how long a tailer keeps looking for a missing sequence
// number. Numbers are taken before the write they belong to lands, so a
// writer can store number 7 after another stored 8: a tailer that read 8
// looks for 7 again on every poll. Most missing numbers never appear (the
// object was written again under a newer number before the poll, or the
// write was refused as stale), so the wait has to end; a write slower than
// half of this is renumbered by its writer (renumberIfSlow).
const gapGrace = time.Minute

// tailPoll is how often each replica reads the other replicas' writes
// (design §3: "seconds behind at most"). On the embedded store every read
// scans, so a poll that took long pushes the next one back (tailWait).
const tailPoll = time.Second

// tailWait is the pause before the next poll: tailPoll, or five times the
// last poll's duration when that is longer, so tailing never takes more
// than about a sixth of the store's time.
func tailWait(took time.Duration) time.Duration { return max(tailPoll, 5*took) }

// Tailer bounds.
const (
	tailBatch    = 500  // documents per query
	tailPages    = 20   // queries per poll for new numbers; the rest waits for the next poll
	maxGaps      = 1000 // missing numbers looked for at once; beyond that, a re-scan (Tailer.unwatched)
	seqRetention = time.Hour
	pruneEvery   = 10 * time.Minute
)

// Tailer reads, poll after poll, every object written since Load or its
// previous poll, by any replica, in sequence order. One per replica; not
// safe for concurrent use.
type Tailer struct {
	// Log receives the warning when too many numbers are missing to watch
	// (nil: slog.Default()).
	Log *slog.Logger

	s         *Store
	outage    store.Outage        // quiet, paced polls while the store is away
	high      int64               // highest number read
	gaps      map[int64]time.Time // numbers below high not read yet → when first missed
	grace     time.Duration
	maxGaps   int
	lastPrune time.Time
	// Missing numbers left unwatched (maxGaps reached) since the last
	// re-scan: the lowest, and when the first and the latest were left. A
	// write under one of them lands within grace or is renumbered (and
	// read as new), so one re-scan of the numbers from rescanFrom, grace
	// after the first, finds those left until grace before it; any left
	// later wait for the next.
	rescanFrom                    int64
	unwatchedFirst, unwatchedLast time.Time
}

// Tailer starts a tailer where Load left off.
func (s *Store) Tailer() *Tailer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := &Tailer{s: s, high: s.loadedHigh, gaps: map[int64]time.Time{}, grace: gapGrace, maxGaps: maxGaps, lastPrune: time.Now()}
	now := time.Now()
	for _, n := range s.loadedGaps {
		t.gaps[n] = now
	}
	return t
}

// Run keeps this replica current with the others sharing its store until
// ctx ends: Follow, then each of alongside (the hub re-reads its member
// list in the same rhythm), then a pause of tailWait. A single replica
// reads back only its own writes, which change nothing. Errors are logged
// and the next round tries again.
func (t *Tailer) Run(ctx context.Context, alongside ...func(context.Context) error) {
	t.outage.What, t.outage.Log = "objects: tail", t.log()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		began := time.Now()
		_, err := t.Follow(ctx)
		switch {
		case err == nil:
			t.outage.OK()
		case ctx.Err() != nil || t.outage.Failed(err):
		default:
			t.log().Warn("objects: tail", "err", err)
		}
		if t.outage.Down() {
			// The store is away: the poll's duration says nothing about its
			// load (it is the driver's wait). Look again in a few seconds,
			// quietly, and read on from where we were when it answers.
			timer.Reset(t.outage.Wait())
			continue
		}
		for _, fn := range alongside {
			if err := fn(ctx); err != nil && ctx.Err() == nil && !t.outage.Failed(err) {
				t.log().Warn("objects: tail: alongside", "err", err)
			}
		}
		timer.Reset(tailWait(time.Since(began)))
	}
}

// Follow reads what was written since the last poll and hands the news on
// (Store.Observe, then HandTo), returning how many objects it read.
func (t *Tailer) Follow(ctx context.Context) (int, error) {
	return t.Poll(ctx, func(o Object) { t.s.Observe(o) })
}

func (t *Tailer) log() *slog.Logger {
	if t.Log != nil {
		return t.Log
	}
	return slog.Default()
}

// High returns the highest sequence number read so far.
func (t *Tailer) High() int64 { return t.high }

// Gaps returns how many missing numbers the tailer is still looking for.
func (t *Tailer) Gaps() int { return len(t.gaps) }

// Poll hands fn every object written since the last poll (and any late
// write of a number it missed, found by a re-scan when too many were
// missing to watch), and returns how many it read. Each query
// is on the indexed seq field and bounded; own writes come back too, and
// fn must be idempotent (Follow passes them to Observe, which skips what
// the index already reflects).
func (t *Tailer) Poll(ctx context.Context, fn func(Object)) (int, error) {
	now := time.Now()
	n := 0
	if !t.unwatchedFirst.IsZero() && now.Sub(t.unwatchedFirst) > t.grace {
		k, err := t.rescan(ctx, fn)
		n += k
		if err != nil {
			return n, err
		}
		if t.unwatchedLast.After(now.Add(-t.grace)) {
			// Left unwatched since the first: they may still land.
			t.unwatchedFirst = t.unwatchedLast
		} else {
			t.rescanFrom, t.unwatchedFirst, t.unwatchedLast = 0, time.Time{}, time.Time{}
		}
	}
	if len(t.gaps) > 0 {
		want := make([]int64, 0, len(t.gaps))
		for g, since := range t.gaps {
			if now.Sub(since) > t.grace {
				delete(t.gaps, g)
				continue
			}
			want = append(want, g)
		}
		if len(want) > 0 {
			slices.Sort(want)
			docs, err := t.find(ctx, bson.M{"seq": bson.M{"$in": want}}, 0)
			if err != nil {
				return n, err
			}
			for _, o := range docs {
				delete(t.gaps, o.Seq)
				fn(o)
				n++
			}
		}
	}
	for range tailPages {
		docs, err := t.find(ctx, bson.M{"seq": bson.M{"$gt": t.high}}, tailBatch)
		if err != nil {
			return n, err
		}
		for _, o := range docs {
			if o.Seq <= t.high {
				continue // sorted by seq, so only on a misbehaving store
			}
			for g := t.high + 1; g < o.Seq; g++ {
				if len(t.gaps) >= t.maxGaps {
					t.unwatched(now, g)
					break
				}
				t.gaps[g] = now
			}
			t.high = o.Seq
			fn(o)
			n++
		}
		if len(docs) < tailBatch {
			break
		}
	}
	// Keep this replica's next numbers above what others took, so its
	// allocations rarely collide.
	t.s.seq.raise(t.high)
	if now.Sub(t.lastPrune) > pruneEvery {
		t.lastPrune = now
		if err := t.s.seq.prune(ctx, now.Add(-seqRetention), t.high); err != nil {
			return n, fmt.Errorf("objects: prune numbers: %w", err)
		}
	}
	return n, nil
}

// unwatched records that numbers from lo up to the one being read are
// missing but cannot be watched (maxGaps are), so that Poll re-scans them.
func (t *Tailer) unwatched(now time.Time, lo int64) {
	if t.rescanFrom == 0 || lo < t.rescanFrom {
		t.rescanFrom = lo
	}
	if t.unwatchedFirst.IsZero() {
		t.unwatchedFirst = now
		t.log().Warn("objects: too many missing sequence numbers to watch; the store will be re-scanned from the first one left",
			"watched", len(t.gaps), "from", lo, "in", t.grace)
	}
	t.unwatchedLast = now
}

// rescan hands fn every object stored under a number from rescanFrom to
// the highest read (Observe tells which are news).
func (t *Tailer) rescan(ctx context.Context, fn func(Object)) (int, error) {
	cur, err := t.s.coll.Find(ctx, bson.M{"seq": bson.M{"$gte": t.rescanFrom, "$lte": t.high}})
	if err != nil {
		return 0, fmt.Errorf("objects: re-scan: %w", err)
	}
	defer cur.Close(ctx)
	n := 0
	for cur.Next(ctx) {
		var o Object
		if err := cur.Decode(&o); err != nil {
			return n, fmt.Errorf("objects: re-scan: %w", err)
		}
		delete(t.gaps, o.Seq)
		fn(o)
		n++
	}
	if err := cur.Err(); err != nil {
		return n, fmt.Errorf("objects: re-scan: %w", err)
	}
	return n, nil
}

func (t *Tailer) find(ctx context.Context, filter bson.M, limit int64) ([]Object, error) {
	opts := options.Find().SetSort(bson.D{{Key: "seq", Value: 1}})
	if limit > 0 {
		opts.SetLimit(limit)
	}
	cur, err := t.s.coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("objects: tail: %w", err)
	}
	var docs []Object
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("objects: tail: %w", err)
	}
	return docs, nil
}
