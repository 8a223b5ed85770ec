package backfill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/internal/store"
)

// ClaimsCollection holds the backfill claims shared by hub replicas.
const ClaimsCollection = "hub_backfill_claims"

// DefaultLease is the length of one lease window.
const DefaultLease = time.Minute

// Why claims are inserts: one walk of a member's outbox at a time across
// replicas needs a lease, and a lease document taken over with
// findOneAndUpdate is not safe on the embedded store (its findAndModify is
// "query, then write", so two replicas can both win; the delivery queue saw
// it). The one atomic write on both stores is an insert with a unique _id.
// So time is cut into windows of Lease, and holding a member's lease in
// window w means having inserted "lease|<member>|<w>". A walker takes the
// current and the next window before it starts, and keeps taking the next
// one (every Lease/4) while it walks, so nobody else can take the window
// that begins; a walker that finds a window already taken by someone else
// has lost the lease and stops. A replica that dies holds at most the
// window it died in and the next: another one can walk the member two
// windows later. A finished walk deletes its claims, so the next walk
// (another replica's start-up, a member accepted again) need not wait.
// Replica clocks only need to agree to well within a quarter of Lease.
//
// Periodic walks also insert "tick|<member>|<n>" for interval number n
// before walking, so the replicas' timers, which do not tick together, walk
// each member once per interval between them, not once each.
type claim struct {
	ID     string    `bson:"_id"`
	Kind   string    `bson:"kind"` // "lease" or "tick"
	Member string    `bson:"member"`
	Owner  string    `bson:"owner"`
	At     time.Time `bson:"at"`
}

func newOwner() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// EnsureIndexes creates the claims' indexes (release by member and owner,
// pruning by time). Call once at start when DB is set.
func (b *Backfiller) EnsureIndexes(ctx context.Context) error {
	if b.DB == nil {
		return nil
	}
	c := b.DB.Collection(ClaimsCollection)
	return store.EnsureIndexes(ctx, c,
		mongo.IndexModel{Keys: bson.D{{Key: "member", Value: 1}, {Key: "owner", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}})
}

func (b *Backfiller) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *Backfiller) leaseLen() time.Duration {
	if b.Lease > 0 {
		return b.Lease
	}
	return DefaultLease
}

func (b *Backfiller) ownerID() string {
	b.ownerOnce.Do(func() { b.owner = newOwner() })
	return b.owner
}

// insertClaim takes a claim key; it reports false when someone else has
// it (true when this replica took it earlier).
func (b *Backfiller) insertClaim(ctx context.Context, kind, member string, n int64) (bool, error) {
	c := claim{ID: fmt.Sprintf("%s|%s|%d", kind, member, n), Kind: kind, Member: member, Owner: b.ownerID(), At: b.now().UTC()}
	coll := b.DB.Collection(ClaimsCollection)
	_, err := coll.InsertOne(ctx, c)
	if err == nil {
		return true, nil
	}
	if !store.IsDuplicate(err) {
		return false, fmt.Errorf("backfill: claim %s: %w", c.ID, err)
	}
	var have claim
	if err := coll.FindOne(ctx, bson.M{"_id": c.ID}).Decode(&have); err != nil {
		return false, fmt.Errorf("backfill: claim %s: %w", c.ID, err)
	}
	return have.Owner == c.Owner, nil
}

// lease is a held member lease; its context ends when the lease is lost.
type lease struct {
	b      *Backfiller
	member string
	held   map[int64]bool
	cancel context.CancelFunc
	done   chan struct{}
	stop   chan struct{}
	once   sync.Once
}

func (b *Backfiller) window(t time.Time) int64 { return t.UnixNano() / int64(b.leaseLen()) }

// acquire takes member's lease for a walk, or reports false when another
// replica holds it. The returned context ends if the lease is lost.
func (b *Backfiller) acquire(ctx context.Context, member string) (*lease, context.Context, bool, error) {
	w := b.window(b.now())
	l := &lease{b: b, member: member, held: map[int64]bool{}, done: make(chan struct{}), stop: make(chan struct{})}
	for _, n := range []int64{w, w + 1} {
		ok, err := b.insertClaim(ctx, "lease", member, n)
		if err != nil || !ok {
			l.deleteClaims(ctx)
			return nil, nil, false, err
		}
		l.held[n] = true
	}
	lctx, cancel := context.WithCancel(ctx)
	l.cancel = cancel
	go l.heartbeat(lctx)
	return l, lctx, true, nil
}

// heartbeat takes the current and next windows as time passes; losing one
// to another replica ends the walk.
func (l *lease) heartbeat(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.b.leaseLen() / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.stop:
			return
		case <-t.C:
		}
		w := l.b.window(l.b.now())
		for _, n := range []int64{w, w + 1} {
			if l.held[n] {
				continue
			}
			ok, err := l.b.insertClaim(ctx, "lease", l.member, n)
			if err != nil {
				l.b.log().WarnContext(ctx, "backfill: renew lease", "member", l.member, "err", err)
				break // the store may be back at the next beat
			}
			if !ok {
				l.b.log().WarnContext(ctx, "backfill: lease lost to another replica", "member", l.member)
				l.cancel()
				return
			}
			l.held[n] = true
		}
	}
}

// release stops renewing and deletes this replica's claims on the member.
func (l *lease) release(ctx context.Context) {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		l.cancel()
		l.deleteClaims(ctx)
	})
}

func (l *lease) deleteClaims(ctx context.Context) {
	_, err := l.b.DB.Collection(ClaimsCollection).DeleteMany(context.WithoutCancel(ctx),
		bson.M{"member": l.member, "owner": l.b.ownerID(), "kind": "lease"})
	if err != nil {
		l.b.log().WarnContext(ctx, "backfill: release lease", "member", l.member, "err", err)
	}
}

// pruneClaims deletes claims older than keep.
func (b *Backfiller) pruneClaims(ctx context.Context, keep time.Duration) {
	if b.DB == nil {
		return
	}
	if _, err := b.DB.Collection(ClaimsCollection).DeleteMany(ctx, bson.M{"at": bson.M{"$lt": b.now().Add(-keep).UTC()}}); err != nil && ctx.Err() == nil {
		b.log().WarnContext(ctx, "backfill: prune claims", "err", err)
	}
}
