// Package backfill pages through member nodes' outboxes and ingests what
// the hub missed: a member's history when it joins, and whatever was
// published while the hub (or its inbox) was down.
//
// Trust: each outbox page is fetched signed from the member's host and must
// carry its own URL as id (federation.WalkOutbox / fetch), so the host
// vouches for the activities on it exactly as it would for an object
// fetched by id; items are still held to the ingest rules (actor is the
// member, object on its host and attributed to it). Items given only by IRI
// are fetched from their origin.
//
// With DB set, replicas sharing the store walk each member one at a time,
// under a lease, and the periodic walk once per interval between them
// (lease.go).
package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/hub/ingest"
	"github.com/ogpnet/ogpnet/hub/members"
	"github.com/ogpnet/ogpnet/hub/objects"
	"github.com/ogpnet/ogpnet/internal/store"
)

// DefaultMaxPages bounds one walk (20 items a page: 200k activities).
const DefaultMaxPages = 10000

// Backfiller walks outboxes.
type Backfiller struct {
	Fed      *federation.Server
	Members  *members.Service
	Ingest   *ingest.Service
	Log      *slog.Logger
	MaxPages int
	// DB holds the claims that coordinate replicas; nil: this process is
	// alone (no claims are taken).
	DB    *mongo.Database
	Lease time.Duration    // lease window; 0 → DefaultLease
	Now   func() time.Time // clock for claims; nil → time.Now

	mu      sync.Mutex
	running map[string]bool
	wg      sync.WaitGroup // walks started by Loop

	ownerOnce sync.Once
	owner     string // this replica's name on its claims

	outage store.Outage // one warning per store outage, not one per member
}

// Stats counts one walk.
type Stats struct {
	// Leased is set when the walk did not happen because another replica
	// (or a dead one, until its lease runs out) holds the member's lease.
	Leased bool

	Activities int // items read
	Stored     int // objects created or replaced
	Deleted    int
	Skipped    int // unsupported, stale or rejected
	// Unfetched counts items that could not be fetched from their origin
	// (a node restarting, say): the walk then keeps the old mark, so the
	// next walk reads them again.
	Unfetched int
}

func (b *Backfiller) log() *slog.Logger {
	if b.Log != nil {
		return b.Log
	}
	return slog.Default()
}

// All backfills every active member, one after another, and returns the
// joined errors.
func (b *Backfiller) All(ctx context.Context) error {
	var errs []error
	for _, m := range b.Members.Active() {
		if _, err := b.Member(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Member walks one member's outbox from the newest activity down to the mark
// left by its last complete walk (or to the end), and records the outcome.
// Concurrent calls for the same member return at once, on this replica and,
// with DB set, across replicas (the one that holds the lease walks).
func (b *Backfiller) Member(ctx context.Context, m members.Member) (Stats, error) {
	b.mu.Lock()
	if b.running == nil {
		b.running = map[string]bool{}
	}
	if b.running[m.Actor] {
		b.mu.Unlock()
		return Stats{}, nil
	}
	b.running[m.Actor] = true
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.running, m.Actor)
		b.mu.Unlock()
	}()
	parent := ctx
	if b.DB != nil {
		l, lctx, ok, err := b.acquire(ctx, m.Actor)
		if err != nil {
			b.log().WarnContext(ctx, "backfill: lease", "member", m.Actor, "err", err)
			return Stats{}, fmt.Errorf("backfill %s: %w", m.Actor, err)
		}
		if !ok {
			return Stats{Leased: true}, nil // another replica is walking it
		}
		defer l.release(ctx)
		ctx = lctx
		// The last walk may have been another replica's: start from its
		// mark, and not at all if staff suspended the member there.
		fresh, err := b.Members.Reload(ctx, m.Actor)
		if err != nil {
			return Stats{}, fmt.Errorf("backfill %s: %w", m.Actor, err)
		}
		if fresh.State != members.StateActive {
			return Stats{}, nil
		}
		m = fresh
	}

	maxPages := b.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	var st Stats
	newest, reached := "", false
	err := b.Fed.WalkOutbox(ctx, m.Outbox, maxPages, func(item json.RawMessage) error {
		st.Activities++
		id, err := b.item(ctx, m, item, &st)
		if err != nil {
			return err
		}
		if newest == "" {
			newest = id
		}
		if id != "" && id == m.BackfillMark {
			reached = true
			return federation.ErrStop
		}
		return nil
	})
	if st.Unfetched > 0 || (m.BackfillMark != "" && !reached) {
		// Something was not read, or the walk ended (page limit) before the
		// last walk's mark: moving the mark would skip that stretch for ever.
		newest = ""
	}
	if err != nil && ctx.Err() != nil && parent.Err() == nil {
		// The lease was lost: the replica that took it records its walk.
		return st, fmt.Errorf("backfill %s: lease lost", m.Actor)
	}
	if err != nil {
		err = fmt.Errorf("backfill %s: %w", m.Actor, err)
		b.log().WarnContext(ctx, "backfill failed", "member", m.Actor, "err", err)
	} else {
		b.log().InfoContext(ctx, "backfill done", "member", m.Actor, "activities", st.Activities,
			"stored", st.Stored, "deleted", st.Deleted, "skipped", st.Skipped)
	}
	if rerr := b.Members.RecordBackfill(context.WithoutCancel(ctx), m.Actor, newest, b.Fed.Now(), err); rerr != nil && err == nil {
		err = rerr
	}
	return st, err
}

// item processes one outbox item and returns its activity id.
func (b *Backfiller) item(ctx context.Context, m members.Member, item json.RawMessage, st *Stats) (string, error) {
	if len(item) > 0 && item[0] == '"' {
		// An item by reference: fetch it from its origin.
		var iri string
		if err := json.Unmarshal(item, &iri); err != nil {
			st.Skipped++
			return "", nil
		}
		raw, err := b.Fed.Fetcher().Get(ctx, iri)
		if err != nil {
			st.Skipped++
			st.Unfetched++
			b.log().WarnContext(ctx, "backfill: fetch item", "iri", iri, "err", err)
			return iri, nil
		}
		item = raw
	}
	var act struct {
		ID     string          `json:"id"`
		Type   string          `json:"type"`
		Actor  json.RawMessage `json:"actor"`
		Object json.RawMessage `json:"object"`
	}
	if err := json.Unmarshal(item, &act); err != nil {
		st.Skipped++
		return "", nil
	}
	if linkID(act.Actor) != m.Actor {
		st.Skipped++
		return act.ID, nil
	}
	objectID := linkID(act.Object)
	switch act.Type {
	case "Create", "Update":
		raw := []byte(act.Object)
		if len(raw) > 0 && raw[0] == '"' {
			fetched, err := b.Fed.Fetcher().Get(ctx, objectID)
			if err != nil {
				st.Skipped++
				st.Unfetched++
				return act.ID, nil
			}
			raw = fetched
		}
		var update []byte
		if act.Type == "Update" {
			update = item // relayed if it changes an announced object the hub missed live
		}
		res, err := b.Ingest.AcceptUpdate(ctx, m.Actor, objectID, raw, update, ingest.Backfill)
		if err != nil && !errors.Is(err, ingest.ErrRejected) && !isUnsupported(err) {
			return act.ID, err
		}
		if err == nil && (res == objects.Created || res == objects.Replaced) {
			st.Stored++
		} else {
			st.Skipped++
		}
	case "Delete":
		if objectID == "" || objectID == m.Actor {
			st.Skipped++
			return act.ID, nil
		}
		if err := b.Ingest.DeleteActivity(ctx, m.Actor, objectID, item, ingest.Backfill); err != nil {
			return act.ID, err
		}
		st.Deleted++
	default:
		st.Skipped++
	}
	return act.ID, nil
}

func isUnsupported(err error) bool { return err != nil && errors.Is(err, ingest.ErrUnsupported) }

func linkID(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &o)
	return o.ID
}

// Loop backfills every active member each interval until ctx ends, and
// each member as soon as its follow is accepted: on a signal from wake (an
// Accept arrived), and every poll as a safety net.
func (b *Backfiller) Loop(ctx context.Context, interval, poll time.Duration, wake <-chan struct{}) {
	defer b.wg.Wait() // no walk outlives Loop (the store closes after it)
	b.outage.What, b.outage.Log = "backfill", b.log()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	pollTick := time.NewTicker(poll)
	defer pollTick.Stop()
	// At start every accepted member counts as newly accepted: a hub that
	// was down catches up at once, not at the next tick.
	b.backfillAccepted(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			b.backfillAccepted(ctx)
		case <-pollTick.C:
			b.backfillAccepted(ctx)
		case <-tick.C:
			b.periodic(ctx, interval)
		}
	}
}

// periodic walks every active member whose walk for this interval no
// other replica has claimed (with DB set; otherwise every active member).
func (b *Backfiller) periodic(ctx context.Context, interval time.Duration) {
	if b.DB == nil {
		_ = b.All(ctx)
		return
	}
	b.pruneClaims(ctx, 2*interval+time.Hour)
	n := b.now().UnixNano() / int64(interval)
	for _, m := range b.Members.Active() {
		ok, err := b.insertClaim(ctx, "tick", m.Actor, n)
		if b.storeAway(err) {
			return // this interval's walks are skipped; the next one catches up
		}
		if err != nil {
			b.log().WarnContext(ctx, "backfill: claim", "member", m.Actor, "err", err)
			continue
		}
		if ok {
			_, _ = b.Member(ctx, m)
		}
	}
}

// storeAway reports whether err is the store being out of reach (logged
// once per outage); a nil err ends an outage. Only Loop's goroutine calls it.
func (b *Backfiller) storeAway(err error) bool {
	if err == nil {
		b.outage.OK()
		return false
	}
	return b.outage.Failed(err)
}

// backfillAccepted walks every member whose follow was accepted since the
// last look.
func (b *Backfiller) backfillAccepted(ctx context.Context) {
	accepted, err := b.Members.NewlyAccepted(ctx)
	if b.storeAway(err) {
		return // looked at again at the next poll
	}
	if err != nil {
		b.log().WarnContext(ctx, "backfill: follow states", "err", err)
		return
	}
	for _, m := range accepted {
		b.wg.Go(func() {
			if st, err := b.Member(ctx, m); st.Leased || store.Unavailable(err) {
				// The holder may be a replica that died mid-walk, or the
				// store went away during the walk: look again at the next
				// poll rather than at the next interval.
				b.Members.RetryAccepted(m.Actor)
			}
		})
	}
}
