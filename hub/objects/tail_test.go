package objects

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

const pilotIRI = "http://a.localhost/users/a"

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func commitment(id string, updated time.Time, raw string) Object {
	return Object{ID: id, Kind: ogp.KindCommitment, Pilot: pilotIRI, Raw: raw, Published: t0, Updated: updated, Received: t0}
}

// replica opens the store on db as another hub replica would.
func replica(t *testing.T, db *mongo.Database) *Store {
	t.Helper()
	s := Open(db)
	if err := s.Load(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// sink stands for a read model: it keeps what a store hands on.
type sink struct {
	mu  sync.Mutex
	got []Object
}

func handTo(s *Store) *sink {
	k := &sink{}
	s.HandTo(func(o Object) {
		k.mu.Lock()
		k.got = append(k.got, o)
		k.mu.Unlock()
	})
	return k
}

// raws lists the bodies handed on for iri, in order.
func (k *sink) raws(iri string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, o := range k.got {
		if o.ID == iri {
			out = append(out, o.Raw)
		}
	}
	return out
}

func poll(t *testing.T, tl *Tailer) []Object {
	t.Helper()
	var got []Object
	if _, err := tl.Poll(context.Background(), func(o Object) { got = append(got, o) }); err != nil {
		t.Fatal(err)
	}
	return got
}

// Two replicas allocating at once, several writers each, get distinct
// numbers with none skipped: the insert-with-unique-_id claim is the only
// thing keeping them apart on the embedded store.
func TestSequenceAllocationAcrossReplicas(t *testing.T) {
	db := storetest.DB(t)
	a, b := replica(t, db), replica(t, db)
	ctx := context.Background()
	const writers, each = 4, 25
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b} {
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					n, _, err := s.seq.next(ctx, fmt.Sprintf("http://a.localhost/x/%d/%d", w, i))
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					got = append(got, n)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	slices.Sort(got)
	want := 2 * writers * each
	if len(got) != want || len(slices.Compact(slices.Clone(got))) != want || got[0] != 1 || got[len(got)-1] != int64(want) {
		t.Fatalf("numbers %v, want 1..%d each once", got, want)
	}
}

// A replica's tailer reads the other replica's puts, replacements and
// tombstones in order, reads its own writes as nothing new, and keeps
// looking for a number taken before a higher one that landed first.
func TestTailerFollowsAnotherReplica(t *testing.T) {
	db := storetest.DB(t)
	a, b := replica(t, db), replica(t, db)
	ctx := context.Background()
	tb := b.Tailer()
	id := "http://a.localhost/commitments/A0001"

	if res, err := a.Put(ctx, commitment(id, time.Time{}, "v1")); res != Created || err != nil {
		t.Fatalf("put: %v %v", res, err)
	}
	got := poll(t, tb)
	if len(got) != 1 || got[0].Raw != "v1" || !b.Observe(got[0]) || !b.Has(id) {
		t.Fatalf("B read %+v", got)
	}
	if b.Observe(got[0]) {
		t.Error("the same write observed twice as news")
	}
	// B now knows v1: its own replay of v1 is stale without a write.
	if res, _ := b.Put(ctx, commitment(id, time.Time{}, "v1 again")); res != Stale {
		t.Errorf("replay on B: %v", res)
	}
	if _, err := a.Put(ctx, commitment(id, t0.Add(time.Hour), "v2")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Delete(ctx, id, pilotIRI, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got = poll(t, tb)
	// v2 was overwritten by the tombstone before B looked: only the
	// tombstone is there, and v2's number is a gap given up later.
	if len(got) != 1 || got[0].Kind != ogp.KindTombstone || !b.Observe(got[0]) {
		t.Fatalf("B read %+v", got)
	}
	if tb.Gaps() != 1 {
		t.Errorf("gaps %d, want 1 (the overwritten v2)", tb.Gaps())
	}

	// B's own write comes back through its tailer as nothing new.
	own := "http://a.localhost/commitments/A0002"
	if _, err := b.Put(ctx, commitment(own, time.Time{}, "mine")); err != nil {
		t.Fatal(err)
	}
	got = poll(t, tb)
	if len(got) != 1 || got[0].ID != own || b.Observe(got[0]) {
		t.Fatalf("own write read back as %+v", got)
	}

	// reserve takes A's next number for iri, as a write in flight does;
	// land stores that write late, under the number it took.
	reserve := func(iri string) int64 {
		t.Helper()
		n, _, err := a.seq.next(ctx, iri)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	land := func(iri string, n int64, raw string) {
		t.Helper()
		o := commitment(iri, time.Time{}, raw)
		o.Seq = n
		if _, err := a.coll.InsertOne(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	// A number taken before another that lands first: A takes n, B
	// stores n+1, the tailer sees n+1 and keeps looking for n.
	late := "http://a.localhost/commitments/A0003"
	n := reserve(late)
	if _, err := b.Put(ctx, commitment("http://a.localhost/commitments/A0004", time.Time{}, "quick")); err != nil {
		t.Fatal(err)
	}
	if got = poll(t, tb); len(got) != 1 || got[0].Seq != n+1 {
		t.Fatalf("read %+v, want only number %d", got, n+1)
	}
	land(late, n, "slow")
	if got = poll(t, tb); len(got) != 1 || got[0].ID != late {
		t.Fatalf("late write not read: %+v", got)
	}
	// Numbers never written are given up after the grace period.
	tb.grace = 0
	time.Sleep(time.Millisecond)
	poll(t, tb)
	if tb.Gaps() != 0 {
		t.Errorf("gaps %d after the grace period", tb.Gaps())
	}

	// A replica started now continues above everything stored, and keeps
	// looking for a recent number whose write has not landed.
	pending := "http://a.localhost/commitments/A0005"
	p := reserve(pending)
	if _, err := a.Put(ctx, commitment("http://a.localhost/commitments/A0006", time.Time{}, "after")); err != nil {
		t.Fatal(err)
	}
	c := replica(t, db)
	tc := c.Tailer()
	if got = poll(t, tc); len(got) != 0 {
		t.Fatalf("a fresh replica re-read %d loaded objects", len(got))
	}
	land(pending, p, "landed")
	if got = poll(t, tc); len(got) != 1 || got[0].ID != pending {
		t.Fatalf("write in flight at load: %+v", got)
	}
}

// A replica whose index has not caught up yet cannot overwrite a newer
// version or undo a re-creation: the store's guard refuses, and the
// refused write teaches its index what is stored.
func TestStaleIndexCannotOverwrite(t *testing.T) {
	db := storetest.DB(t)
	a, b := replica(t, db), replica(t, db)
	tb := b.Tailer()
	ctx := context.Background()
	id := "http://a.localhost/commitments/A0001"
	if _, err := a.Put(ctx, commitment(id, t0.Add(2*time.Hour), "v2 by A")); err != nil {
		t.Fatal(err)
	}
	// B never heard of it and offers an older version.
	if res, err := b.Put(ctx, commitment(id, t0.Add(time.Hour), "v1 by B")); res != Stale || err != nil {
		t.Fatalf("older version on B: %v %v", res, err)
	}
	if o, _ := b.Get(ctx, id); o.Raw != "v2 by A" {
		t.Fatalf("stored %q", o.Raw)
	}
	if m, _ := b.get(id); !m.version.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("B's index after the refusal: %+v", m)
	}
	// A deletion older than the stored version leaves it.
	if removed, err := b.Delete(ctx, id, pilotIRI, t0.Add(90*time.Minute)); removed || err != nil {
		t.Fatalf("delete older than stored: %v %v", removed, err)
	}
	// A deletes it; B, not told yet, still believes v2 and gets a
	// replayed v2: gone.
	if _, err := a.Delete(ctx, id, pilotIRI, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if res, _ := b.Put(ctx, commitment(id, t0.Add(150*time.Minute), "v2.5")); res != Gone {
		t.Errorf("a version older than A's deletion on B: %v", res)
	}
	if o, _ := b.Get(ctx, id); o.Kind != ogp.KindTombstone {
		t.Errorf("stored %+v", o)
	}
	// Both offer the same new object at once: one creates it.
	fresh := "http://a.localhost/commitments/A0009"
	results := make(chan Result, 2)
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b} {
		wg.Go(func() {
			res, err := s.Put(ctx, commitment(fresh, time.Time{}, "new"))
			if err != nil {
				t.Error(err)
			}
			results <- res
		})
	}
	wg.Wait()
	close(results)
	var got []Result
	for r := range results {
		got = append(got, r)
	}
	slices.Sort(got)
	if !slices.Equal(got, []Result{Stale, Created}) {
		t.Errorf("results %v, want one Created and one Stale", got)
	}

	// B learns A's object by a refused write: the store hands what it
	// holds to B's read model at once, and B's tailer does not again.
	other := "http://a.localhost/commitments/A0010"
	if _, err := a.Put(ctx, commitment(other, time.Time{}, "A's")); err != nil {
		t.Fatal(err)
	}
	toB := handTo(b)
	if res, _ := b.Put(ctx, commitment(other, time.Time{}, "B's")); res != Stale {
		t.Fatalf("same version on B: %v", res)
	}
	if got := toB.raws(other); !slices.Equal(got, []string{"A's"}) {
		t.Errorf("B's read model got %q from the refused write, want A's object", got)
	}
	for _, o := range poll(t, tb) {
		if o.ID == other && b.Observe(o) {
			t.Error("B's tailer handed on again what the refused write did")
		}
	}
}

// The interleaving of finding 1, on the stores alone: A's Put(v2) takes
// number n, B stores v1 under n+1, A's guarded replace lands v2 under n.
// C's tailer read n+1 first; v2 under the lower number is still news to
// C, and v1 is not news to A. B, offered v2 again, is refused by the store
// and gets v2 back as news.
func TestNewerVersionUnderLowerNumber(t *testing.T) {
	db := storetest.DB(t)
	a, b, c := replica(t, db), replica(t, db), replica(t, db)
	ta, tc := a.Tailer(), c.Tailer()
	ctx := context.Background()
	id := "http://a.localhost/commitments/A0001"
	v1, v2 := commitment(id, t0.Add(time.Hour), "v1"), commitment(id, t0.Add(2*time.Hour), "v2")

	n, _, err := a.seq.next(ctx, id) // A's Put(v2) takes its number
	if err != nil {
		t.Fatal(err)
	}
	if res, err := b.Put(ctx, v1); res != Created || err != nil {
		t.Fatalf("v1 on B: %v %v", res, err)
	}
	got := poll(t, tc)
	if len(got) != 1 || got[0].Seq != n+1 || !c.Observe(got[0]) {
		t.Fatalf("C read %+v, want v1 under %d", got, n+1)
	}
	// A's guarded replace lands (the store held v1: older).
	v2.Seq = n
	if err := a.coll.FindOneAndReplace(ctx, olderThan(id, t0.Add(2*time.Hour)), v2).Err(); err != nil {
		t.Fatal(err)
	}
	a.remember(v2, false)
	got = poll(t, tc)
	if len(got) != 1 || got[0].Raw != "v2" || !c.Observe(got[0]) {
		t.Fatalf("C read %+v: v2 under the lower number %d not news", got, n)
	}
	if m, _ := c.get(id); !m.version.Equal(t0.Add(2*time.Hour)) || m.handed.seq != n {
		t.Errorf("C's index %+v", m)
	}
	// A's tailer reads both: v1 is older than what A handed on, v2 its own.
	for _, o := range poll(t, ta) {
		if a.Observe(o) {
			t.Errorf("A: %q under %d observed as news", o.Raw, o.Seq)
		}
	}
	// The node re-delivers v2 to B, whose tailer has not run: the store
	// refuses the write and hands B's read model the v2 it holds.
	toB := handTo(b)
	if res, err := b.Put(ctx, commitment(id, t0.Add(2*time.Hour), "v2 again")); res != Stale || err != nil {
		t.Fatalf("v2 again on B: %v %v", res, err)
	}
	if got := toB.raws(id); !slices.Equal(got, []string{"v2"}) {
		t.Errorf("B's read model got %q from the refused write, want the stored v2", got)
	}
}

// Observe orders writes by version, whatever their numbers, with the
// store's tombstone rules.
func TestObserveOrdersByVersion(t *testing.T) {
	s := replica(t, storetest.DB(t))
	id := "http://a.localhost/commitments/A0001"
	at := func(h int, raw string, seq int64) Object {
		o := commitment(id, t0.Add(time.Duration(h)*time.Hour), raw)
		o.Seq = seq
		return o
	}
	tomb := func(h int, seq int64) Object {
		d := t0.Add(time.Duration(h) * time.Hour)
		return Object{ID: id, Kind: ogp.KindTombstone, Pilot: pilotIRI, Updated: d, Deleted: d, Received: d, Seq: seq}
	}
	steps := []struct {
		o    Object
		news bool
	}{
		{at(2, "v2", 10), true},
		{at(1, "v1", 11), false},   // older version, higher number
		{at(2, "v2", 10), false},   // the same write again
		{at(2, "v2", 12), true},    // the same version renumbered
		{tomb(2, 9), true},         // deleted at the version's time: the tombstone wins
		{at(2, "v2", 13), false},   // the version the deletion replaced
		{tomb(1, 14), false},       // an older deletion
		{at(3, "reborn", 8), true}, // made after the deletion
	}
	for i, st := range steps {
		if got := s.Observe(st.o); got != st.news {
			t.Errorf("step %d (%s %v under %d): news %v, want %v", i, st.o.Kind, st.o.Updated, st.o.Seq, got, st.news)
		}
	}
	if m, _ := s.get(id); m.kind != ogp.KindCommitment || !m.version.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("index %+v", m)
	}
}

// Beyond maxGaps missing numbers, the ones left unwatched are found by a
// re-scan once their writes have had time to land.
func TestTailerRescansUnwatchedNumbers(t *testing.T) {
	db := storetest.DB(t)
	a, b := replica(t, db), replica(t, db)
	tb := b.Tailer()
	tb.maxGaps = 2
	tb.Log = slog.New(slog.DiscardHandler)
	ctx := context.Background()
	var taken []int64
	for i := range 3 {
		n, _, err := a.seq.next(ctx, fmt.Sprintf("http://a.localhost/commitments/L%d", i))
		if err != nil {
			t.Fatal(err)
		}
		taken = append(taken, n)
	}
	if _, err := a.Put(ctx, commitment("http://a.localhost/commitments/Q", time.Time{}, "quick")); err != nil {
		t.Fatal(err)
	}
	if got := poll(t, tb); len(got) != 1 || !b.Observe(got[0]) || tb.Gaps() != 2 {
		t.Fatalf("read %d, watching %d numbers; want 1 and 2", len(got), tb.Gaps())
	}
	// The write of the third number, not watched, lands.
	late := commitment("http://a.localhost/commitments/L2", time.Time{}, "late")
	late.Seq = taken[2]
	if _, err := a.coll.InsertOne(ctx, late); err != nil {
		t.Fatal(err)
	}
	if got := poll(t, tb); len(got) != 0 {
		t.Fatalf("read %+v before the grace period", got)
	}
	tb.grace = 0
	time.Sleep(time.Millisecond)
	found := false
	for _, o := range poll(t, tb) {
		// The re-scan reads the numbers from the first unwatched one up,
		// news or not.
		news := b.Observe(o)
		found = found || o.ID == late.ID && news
		if o.ID != late.ID && news {
			t.Errorf("%s re-read as news", o.ID)
		}
	}
	if !found {
		t.Fatal("the late write of an unwatched number never read")
	}
	if got := poll(t, tb); len(got) != 0 {
		t.Errorf("a second re-scan read %+v", got)
	}
}
