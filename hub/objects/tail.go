package objects

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// gapGrace is how long a tailer keeps looking for a missing sequence
// number. Numbers are taken before the write they belong to lands, so a
// writer can store number 7 after another stored 8: a tailer that read 8
// looks for 7 again on every poll. Most missing numbers never appear (the
// object was written again under a newer number before the poll, or the
// write was refused as stale), so the wait has to end; a write slower than
// half of this is renumbered by its writer (renumberIfSlow).
const gapGrace = time.Minute

// Tailer bounds.
const (
	tailBatch    = 500  // documents per query
	tailPages    = 20   // queries per poll for new numbers; the rest waits for the next poll
	maxGaps      = 1000 // missing numbers looked for at once; beyond that they are not looked for
	seqRetention = time.Hour
	pruneEvery   = 10 * time.Minute
)

// Tailer reads, poll after poll, every object written since Load or its
// previous poll, by any replica, in sequence order. One per replica; not
// safe for concurrent use.
type Tailer struct {
	s         *Store
	high      int64               // highest number read
	gaps      map[int64]time.Time // numbers below high not read yet → when first missed
	grace     time.Duration
	lastPrune time.Time
}

// Tailer starts a tailer where Load left off.
func (s *Store) Tailer() *Tailer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := &Tailer{s: s, high: s.loadedHigh, gaps: map[int64]time.Time{}, grace: gapGrace, lastPrune: time.Now()}
	now := time.Now()
	for _, n := range s.loadedGaps {
		t.gaps[n] = now
	}
	return t
}

// High returns the highest sequence number read so far.
func (t *Tailer) High() int64 { return t.high }

// Gaps returns how many missing numbers the tailer is still looking for.
func (t *Tailer) Gaps() int { return len(t.gaps) }

// Poll hands fn every object written since the last poll (and any late
// write of a number it missed), and returns how many it read. Each query
// is on the indexed seq field and bounded; own writes come back too, and
// fn must be idempotent (ingest.Service.ApplyStored skips what the index
// already reflects).
func (t *Tailer) Poll(ctx context.Context, fn func(Object)) (int, error) {
	now := time.Now()
	n := 0
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
			for g := max(t.high+1, o.Seq-maxGaps); g < o.Seq && len(t.gaps) < maxGaps; g++ {
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
