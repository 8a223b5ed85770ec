package delivery

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Why the queue keeps an index in memory
//
// The embedded store answers only a single _id equality without reading the
// whole collection: a claim that asked it for "the most overdue pending
// jobs" decoded every queued job, so claims slowed down as the backlog grew
// (152 jobs/s, falling further with a few thousand queued). So each replica
// keeps the live jobs it knows of in memory, ordered by when each becomes
// claimable, rebuilt from one scan of delivery_jobs when the queue opens and
// kept current by its own Enqueue and its own claims and outcomes. A claim
// then costs the same at 100 and at 100,000 queued jobs: the next due jobs
// come from a heap, and taking them is one batched insert of claim keys
// (claims.go), whatever the backlog.
//
// The index is a hint, never the authority: what decides who owns a job is
// still the unique claim key. Another replica's claims and outcomes reach
// this one when its key insert for a job fails (it then reads the keys that
// were taken, by _id, to learn where the job stands: follow in claims.go)
// and through a periodic rescan (Options.Rescan) that also adopts jobs other
// replicas enqueued or left behind when they died.

// indexed is one live job in the index: the job as this replica knows it
// (without its body) and when it becomes claimable.
type indexed struct {
	j   job
	at  time.Time
	pos int    // position in the heap; -1 while held (claimed here) or parked
	ver uint64 // index version of its last local change (see rescan)
}

// readyIndex is the in-memory index of live jobs, a min-heap by at.
type readyIndex struct {
	mu   sync.Mutex
	byID map[string]*indexed
	heap readyHeap
	ver  uint64
	// While a rescan reads the store, removals made here are remembered so
	// that the scan, which may have read the job before it went, does not
	// bring it back.
	scanning bool
	removed  map[string]uint64
}

func newReadyIndex() *readyIndex {
	return &readyIndex{byID: map[string]*indexed{}}
}

// put adds or replaces the job, claimable from at.
func (x *readyIndex) put(j *job, at time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.putLocked(j, at)
}

func (x *readyIndex) putLocked(j *job, at time.Time) {
	x.ver++
	c := *j
	c.Body = nil // bodies live once per activity (loadBody), not per job
	e := x.byID[j.ID]
	if e == nil {
		e = &indexed{pos: -1}
		x.byID[j.ID] = e
	}
	e.j, e.at, e.ver = c, at, x.ver
	if e.pos >= 0 {
		heap.Fix(&x.heap, e.pos)
	} else {
		heap.Push(&x.heap, e)
	}
}

// remove forgets the job (delivered, dead, or gone from the store).
func (x *readyIndex) remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.ver++
	if e := x.byID[id]; e != nil {
		if e.pos >= 0 {
			heap.Remove(&x.heap, e.pos)
		}
		delete(x.byID, id)
	}
	if x.scanning {
		x.removed[id] = x.ver
	}
}

// gone records, while a rescan reads the store, that these jobs' documents
// were deleted, so that the scan does not bring them back; known jobs are
// left as they are.
func (x *readyIndex) gone(ids []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.scanning {
		return
	}
	x.ver++
	for _, id := range ids {
		x.removed[id] = x.ver
	}
}

// take pops up to n jobs claimable at now, skipping those skip reports
// (held here). Popped jobs stay known but out of the heap until put back
// or removed.
func (x *readyIndex) take(now time.Time, n int, skip func(id string) bool) []*job {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []*job
	var held []*indexed
	for len(out) < n && x.heap.Len() > 0 && !x.heap[0].at.After(now) {
		e := heap.Pop(&x.heap).(*indexed)
		if skip(e.j.ID) {
			held = append(held, e)
			continue
		}
		c := e.j
		out = append(out, &c)
	}
	_ = held // held jobs come back through put when their holder settles them
	return out
}

// next is when the earliest job becomes claimable (zero when none).
func (x *readyIndex) next() time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.heap.Len() == 0 {
		return time.Time{}
	}
	return x.heap[0].at
}

// size is the number of live jobs known, held ones included.
func (x *readyIndex) size() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.byID)
}

// readyHeap orders jobs by when they become claimable.
type readyHeap []*indexed

func (h readyHeap) Len() int           { return len(h) }
func (h readyHeap) Less(a, b int) bool { return h[a].at.Before(h[b].at) }
func (h readyHeap) Swap(a, b int) {
	h[a], h[b] = h[b], h[a]
	h[a].pos, h[b].pos = a, b
}
func (h *readyHeap) Push(v any) {
	e := v.(*indexed)
	e.pos = len(*h)
	*h = append(*h, e)
}
func (h *readyHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.pos = -1
	return e
}

// readyAt is when a job as stored becomes claimable.
func readyAt(j *job) time.Time {
	if j.State == stateLeased {
		return j.LeaseUntil
	}
	return j.Due
}

// rescan rebuilds the index from one scan of delivery_jobs: jobs other
// replicas enqueued, or held when they died, become claimable here (their
// claim keys still decide, see follow). Jobs held by this replica keep
// their in-memory state, as do jobs changed here while the scan ran. Jobs
// left marked dead by a crash are moved to delivery_dead.
func (q *Queue) rescan(ctx context.Context) error {
	began := time.Now()
	x := q.idx
	x.mu.Lock()
	x.scanning, x.removed = true, map[string]uint64{}
	v0 := x.ver
	x.mu.Unlock()
	defer func() {
		x.mu.Lock()
		x.scanning, x.removed = false, nil
		x.mu.Unlock()
	}()
	cur, err := q.jobs.Find(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("delivery: rescan: %w", err)
	}
	var live []job
	var stuck []job
	for cur.Next(ctx) {
		var j job
		if err := cur.Decode(&j); err != nil {
			_ = cur.Close(ctx)
			return fmt.Errorf("delivery: rescan: %w", err)
		}
		if j.State == stateDead {
			stuck = append(stuck, j)
			continue
		}
		live = append(live, j)
	}
	if err := cur.Err(); err != nil {
		_ = cur.Close(ctx)
		return fmt.Errorf("delivery: rescan: %w", err)
	}
	_ = cur.Close(ctx)
	// Taken after the read (a job purged since is in x.removed) and
	// together: a job being recorded is always in one of the two.
	q.mu.Lock()
	holding := make(map[string]bool, len(q.claiming))
	for id := range q.claiming {
		holding[id] = true
	}
	finished := make(map[string]bool, len(q.finishedStored))
	for id := range q.finishedStored {
		finished[id] = true
	}
	q.mu.Unlock()
	x.mu.Lock()
	seen := make(map[string]bool, len(live))
	for i := range live {
		j := &live[i]
		seen[j.ID] = true
		if holding[j.ID] || finished[j.ID] {
			continue // held here, or finished here and waiting for the purge
		}
		if e := x.byID[j.ID]; e != nil && (e.ver > v0 || e.j.Nonce == j.Nonce && e.j.Gen > j.Gen) {
			continue // changed here since the scan began, or known at a later generation
		}
		if _, gone := x.removed[j.ID]; gone {
			continue
		}
		x.putLocked(j, readyAt(j))
	}
	// Jobs no longer stored (finished by other replicas) are forgotten,
	// unless held or changed here since the scan began.
	for id, e := range x.byID {
		if !seen[id] && !holding[id] && e.ver <= v0 {
			if e.pos >= 0 {
				heap.Remove(&x.heap, e.pos)
			}
			delete(x.byID, id)
		}
	}
	x.mu.Unlock()
	var moveErr error
	for i := range stuck {
		moveErr = errors.Join(moveErr, q.moveDead(ctx, &stuck[i]))
	}
	q.mu.Lock()
	q.lastScan, q.scanTook = q.o.Now(), time.Since(began)
	q.mu.Unlock()
	return moveErr
}

// rescanDue reports whether the periodic rescan is due: every
// Options.Rescan, but never more than a thirtieth of the time (a scan of a
// large backlog takes seconds on the embedded store).
func (q *Queue) rescanDue(now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return now.Sub(q.lastScan) >= max(q.o.Rescan, 30*q.scanTook)
}
