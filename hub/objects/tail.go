package objects

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

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
	tailBatch    = 500  // numbers per read of hub_seq
	tailPages    = 20   // reads of hub_seq per poll for new numbers; the rest waits for the next poll
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
	outage    store.Outage  // quiet, paced polls while the store is away
	high      int64         // highest number read
	gaps      map[int64]gap // numbers below high not read yet
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
	t := &Tailer{s: s, high: s.loadedHigh, gaps: map[int64]gap{}, grace: gapGrace, maxGaps: maxGaps, lastPrune: time.Now()}
	now := time.Now()
	for _, n := range s.loadedGaps {
		t.gaps[n] = gap{since: now}
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
// missing to watch), and returns how many it read. Own writes come back
// too, and fn must be idempotent (Follow passes them to Observe, which
// skips what the index already reflects).
//
// Its cost follows what was written, not what is stored (issue 11: an idle
// hub stays idle): new and missing numbers are read from hub_seq, which
// holds only the last hour's numbers (prune), and each number's object is
// then read by its IRI, an _id lookup. On MongoDB both are index reads; on
// the embedded store, which scans for anything but a string _id, the scan
// is of hub_seq, never of hub_objects.
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
	k, err := t.pollGaps(ctx, now, fn)
	n += k
	if err != nil {
		return n, err
	}
	k, err = t.pollNew(ctx, now, fn)
	n += k
	if err != nil {
		return n, err
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

// gap is a number below the highest read whose write was not read yet.
type gap struct {
	since time.Time
	iri   string // "" until its hub_seq document was read
}

// pollGaps looks again for the missing numbers, each by _id, giving up
// those missing longer than the grace period.
func (t *Tailer) pollGaps(ctx context.Context, now time.Time, fn func(Object)) (int, error) {
	want := make([]int64, 0, len(t.gaps))
	for g, at := range t.gaps {
		if now.Sub(at.since) > t.grace {
			delete(t.gaps, g)
			continue
		}
		want = append(want, g)
	}
	slices.Sort(want)
	if err := t.gapIRIs(ctx, want); err != nil {
		return 0, err
	}
	n := 0
	for _, g := range want {
		at := t.gaps[g]
		if at.iri == "" {
			continue // not taken yet, or its taker failed: looked for again
		}
		o, ok, err := t.object(ctx, at.iri)
		if err != nil {
			return n, err
		}
		if ok && o.Seq == g {
			delete(t.gaps, g)
			fn(o)
			n++
		}
	}
	return n, nil
}

// gapIRIs reads, in one query of hub_seq, the IRIs of the watched numbers
// that lack one (those Load left, and numbers skipped in hub_seq).
func (t *Tailer) gapIRIs(ctx context.Context, want []int64) error {
	var ns []int64
	for _, g := range want {
		if t.gaps[g].iri == "" {
			ns = append(ns, g)
		}
	}
	if len(ns) == 0 {
		return nil
	}
	docs, err := t.s.seq.list(ctx, ns)
	if err != nil {
		return err
	}
	for _, d := range docs {
		if at, ok := t.gaps[d.N]; ok {
			at.iri = d.IRI
			t.gaps[d.N] = at
		}
	}
	return nil
}

// pollNew reads the numbers above the highest read and their objects.
func (t *Tailer) pollNew(ctx context.Context, now time.Time, fn func(Object)) (int, error) {
	n := 0
	read := func(docs []seqDoc) error {
		for _, d := range docs {
			if d.N <= t.high {
				continue // sorted, so only on a misbehaving store
			}
			for g := t.high + 1; g < d.N && t.watch(now, g, ""); g++ {
			}
			t.high = d.N
			o, ok, err := t.object(ctx, d.IRI)
			if err != nil {
				return err
			}
			if !ok || o.Seq != d.N {
				// Not landed yet, refused, or already replaced by a later
				// write (read under its own number); a newer version may
				// still land under this one, so it is watched.
				t.watch(now, d.N, d.IRI)
				continue
			}
			fn(o)
			n++
		}
		return nil
	}
	for range tailPages {
		docs, err := t.s.seq.above(ctx, t.high, tailBatch)
		if err != nil {
			return n, err
		}
		if err := read(docs); err != nil {
			return n, err
		}
		if len(docs) < tailBatch {
			break
		}
	}
	return n, nil
}

// watch keeps looking for number g (of iri, when known), unless maxGaps
// are watched already: then it is left for a re-scan, and watch reports
// false.
func (t *Tailer) watch(now time.Time, g int64, iri string) bool {
	if _, ok := t.gaps[g]; ok {
		return true
	}
	if len(t.gaps) >= t.maxGaps {
		t.unwatched(now, g)
		return false
	}
	t.gaps[g] = gap{since: now, iri: iri}
	return true
}

// object reads one object by IRI.
func (t *Tailer) object(ctx context.Context, iri string) (Object, bool, error) {
	var o Object
	err := t.s.coll.FindOne(ctx, bson.M{"_id": iri}).Decode(&o)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Object{}, false, nil
	}
	if err != nil {
		return Object{}, false, fmt.Errorf("objects: tail: %w", err)
	}
	return o, true, nil
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
