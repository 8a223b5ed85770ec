package hub_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/hub"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// replicaSet puts several hub replicas behind one listener and base URL, as
// a load balancer would: GETs go round-robin, POSTs (the inbox) to the
// first replica, so what the others learn of deliveries they learn from the
// shared store.
type replicaSet struct {
	mu   sync.Mutex
	hs   []http.Handler
	next int
}

func (rs *replicaSet) set(i int, h http.Handler) {
	rs.mu.Lock()
	rs.hs[i] = h
	rs.mu.Unlock()
}

func (rs *replicaSet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	h := rs.hs[0]
	if r.Method != http.MethodPost {
		h = rs.hs[rs.next%len(rs.hs)]
		rs.next++
	}
	rs.mu.Unlock()
	h.ServeHTTP(w, r)
}

// newReplica opens one hub replica on db with the shared base URL.
func newReplica(t *testing.T, base string, db *mongo.Database) *hub.Hub {
	t.Helper()
	h, err := hub.New(context.Background(), hub.Config{BaseURL: base, Name: "Test hub", DB: db, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// runReplica runs h's background work until the returned stop is called
// (or the test ends).
func runReplica(t *testing.T, h *hub.Hub) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// TestReplicasShareOneStore: two hub replicas on one database behind one
// base URL. What one replica ingests or decides reaches the other within
// seconds (tailing by sequence number, member refresh); a backfill forced
// on both at once walks the member once (lease); an object ingested by both
// is announced once; a replica restarted picks up from the store.
func TestReplicasShareOneStore(t *testing.T) {
	hub.SetAcceptPoll(t, 200*time.Millisecond)
	var walks atomic.Int64
	n := startNodeWith(t, "lima", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Every walk starts by reading the outbox collection once.
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/outbox") && r.URL.Query().Get("page") == "" {
				walks.Add(1)
				time.Sleep(300 * time.Millisecond) // a walk long enough for another to overlap it
			}
			next.ServeHTTP(w, r)
		})
	})
	n.seedPlan(t)
	n.create(t, 1, "Gobierno abierto", "open-data")
	ctx := context.Background()

	db := storetest.DB(t)
	ln, base := listen(t, "hub", "")
	a, b := newReplica(t, base, db), newReplica(t, base, db)
	rs := &replicaSet{hs: []http.Handler{a.Handler(), b.Handler()}}
	serve(t, ln, rs, func(ctx context.Context) error { <-ctx.Done(); return nil })
	runReplica(t, a)
	stopB := runReplica(t, b)

	// Staff add the member on A; B hears of it from the store.
	th := &testHub{Hub: a, db: db}
	th.base = base
	join(t, th, n)
	eventually(t, 5*time.Second, "B learns the member added on A", func() bool {
		m, ok := b.Members().Get(n.actor())
		return ok && m.State == "active"
	})
	eventually(t, 15*time.Second, "the history in both read models", func() bool {
		_, okA := a.ReadModel().Commitment(n.commitmentIRI(1))
		_, okB := b.ReadModel().Commitment(n.commitmentIRI(1))
		return okA && okB
	})

	fan := startFollower(t, "fan")
	if _, err := fan.Follow(ctx, a.Federation().ActorID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the hub accepts the follower", func() bool {
		fo, err := fan.FollowingOf(ctx, a.Federation().ActorID())
		return err == nil && fo.State == federation.FollowAccepted
	})

	// Let the walks that follow the acceptance end (each replica looks once).
	last, stableSince := walks.Load(), time.Now()
	eventually(t, 10*time.Second, "no walk for 1.5 s", func() bool {
		if w := walks.Load(); w != last {
			last, stableSince = w, time.Now()
		}
		return time.Since(stableSince) > 1500*time.Millisecond
	})
	// A backfill forced on both replicas at once walks the member once.
	before := walks.Load()
	var wg sync.WaitGroup
	for _, h := range []*hub.Hub{a, b} {
		wg.Go(func() {
			if err := h.Backfill(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := walks.Load() - before; got != 1 {
		t.Errorf("a backfill forced on both replicas walked the outbox %d times, want 1", got)
	}

	// Delivered to A (POSTs go there): in B's read model within seconds.
	start := time.Now()
	n.create(t, 2, "Presupuesto abierto", "fiscal-openness")
	eventually(t, 5*time.Second, "A's delivery in B's read model", func() bool {
		_, ok := b.ReadModel().Commitment(n.commitmentIRI(2))
		return ok
	})
	t.Logf("node publish → replica B: %v", time.Since(start).Round(time.Millisecond))

	// Both replicas ingest a new object at once (A from its inbox, B by a
	// walk of the outbox): one Announce.
	n.create(t, 3, "Contratación abierta", "open-contracting")
	if err := b.Backfill(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "commitment 3 on both", func() bool {
		_, okA := a.ReadModel().Commitment(n.commitmentIRI(3))
		_, okB := b.ReadModel().Commitment(n.commitmentIRI(3))
		return okA && okB
	})
	seen := map[string]int{}
	for deadline := time.After(2 * time.Second); ; {
		select {
		case in := <-fan.got:
			seen[in.ObjectID]++
			continue
		case <-deadline:
		}
		break
	}
	// What the Group published (its outbox, in the shared store) is the
	// measure; a follower may miss an Announce sent by a replica whose
	// follower list is up to 30 s old (federation re-reads it), never get two.
	for _, num := range []int{2, 3} {
		k, err := db.Collection("outbox").CountDocuments(ctx, bson.M{"type": "Announce", "objectId": n.commitmentIRI(num)})
		if err != nil || k != 1 {
			t.Errorf("commitment %d announced %d times (%v)", num, k, err)
		}
	}
	if len(seen) > 2 || seen[n.commitmentIRI(2)] != 1 || seen[n.commitmentIRI(3)] > 1 {
		t.Errorf("follower got %v, want commitment 2 once and 3 at most once", seen)
	}

	// B restarts while A ingests: its rebuilt read model has what A stored
	// meanwhile, and it tails A again.
	stopB()
	n.create(t, 4, "Parlamento abierto", "legislature")
	eventually(t, 5*time.Second, "A ingests commitment 4", func() bool {
		_, ok := a.ReadModel().Commitment(n.commitmentIRI(4))
		return ok
	})
	b2 := newReplica(t, base, db)
	if _, ok := b2.ReadModel().Commitment(n.commitmentIRI(4)); !ok {
		t.Fatal("restarted replica: commitment 4 missing from the rebuilt read model")
	}
	rs.set(1, b2.Handler())
	runReplica(t, b2)
	n.create(t, 5, "Justicia abierta", "justice")
	eventually(t, 5*time.Second, "A's delivery in the restarted replica", func() bool {
		_, ok := b2.ReadModel().Commitment(n.commitmentIRI(5))
		return ok
	})

	// Staff suspend the member on A: hidden on B within seconds, and B
	// stops accepting its objects.
	if _, ok := b2.ReadModel().Pilot(n.actor()); !ok {
		t.Fatal("pilot not visible on B before the suspension")
	}
	idle := newReplica(t, base, db) // opened but not running: it never refreshes
	if _, err := a.Members().Suspend(ctx, n.actor()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the suspension on A reaching B", func() bool {
		_, visible := b2.ReadModel().Pilot(n.actor())
		return !visible && !b2.Members().Accepting(n.actor())
	})
	// A replica that has not heard of the suspension yet flushes its
	// delivery health: that must not write the member back as active.
	idle.Members().RecordDelivery(n.actor(), time.Now(), time.Time{})
	if err := idle.Members().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check := newReplica(t, base, db)
	if m, _ := check.Members().Get(n.actor()); m.State != "suspended" || m.LastDelivery.IsZero() {
		t.Errorf("stored member after a stale replica's flush: state %q, last delivery %v", m.State, m.LastDelivery)
	}
}
