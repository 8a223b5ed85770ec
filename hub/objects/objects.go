// Package objects is the hub's store of every object it accepted from a
// member node: the bytes exactly as received (design §3 "keep the original
// bytes"), keyed by the object's IRI, newest version by `updated`, and a
// tombstone once the node deletes it.
//
// The store is written on ingest and read once, at start, to rebuild the
// read model. Nothing on a request path reads it: the embedded store scans
// on every read (design §3), so the per-IRI version index that makes
// ingest idempotent without a read lives in memory.
//
// Several hub replicas may share the store. Every write carries a sequence
// number (seq.go) and each replica tails the store by it (tail.go), which
// keeps its read model and its version index current with the others'
// writes. The index can still lag by a poll, so it is only a hint: every
// write is guarded in the store by version, and a write the store refuses
// reads the stored document back into the index (and hands it on, since
// the read model may not have it yet).
//
// The store is the read model's only source after start: every write this
// replica must reflect (its own, a refused write's stored document, the
// tailer's news) is handed on through HandTo under the object's stripe,
// the one per-IRI lock (docs/architecture.md, "Replica consistency").
//
// The number only says where to look, never which write wins: it is taken
// before the write, which the store then guards by version, so a newer
// version can land under a lower number than an older one (A takes 10 for
// v2, B stores v1 under 11, A's replace of v1 lands). What reaches the read
// model is decided by version (stamp.after).
package objects

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/store"
)

// Collection holds the objects.
const Collection = "hub_objects"

// Object is one stored object.
type Object struct {
	ID        string    `bson:"_id"`
	Kind      string    `bson:"kind"` // ogp.Kind* (ogp.KindTombstone once deleted)
	Pilot     string    `bson:"pilot"`
	Raw       string    `bson:"raw,omitempty"` // as received; empty for tombstones
	Published time.Time `bson:"published,omitzero"`
	Updated   time.Time `bson:"updated,omitzero"`
	Received  time.Time `bson:"received"`
	// FormerKind and Deleted are set on tombstones.
	FormerKind string    `bson:"formerKind,omitempty"`
	Deleted    time.Time `bson:"deleted,omitzero"`
	// Seq is the write's sequence number (seq.go), set by Put and Delete:
	// higher is later. Objects stored before numbering existed have 0 and
	// are read by Load only.
	Seq int64 `bson:"seq,omitempty"`
}

// Result says what Put did.
type Result int

// Put results.
const (
	Stale    Result = iota // an older or equal version than the one stored: nothing written
	Created                // first time this IRI was stored
	Replaced               // a newer version replaced the stored one
	Gone                   // the IRI was deleted after this version was made: it stays deleted
)

type meta struct {
	// The newest stored write this replica knows of, which decides its
	// next writes: version is updated, or published when never updated.
	version time.Time
	kind    string
	pilot   string
	// handed is the latest write this replica has handed on (to the read
	// model, through ingest, Load or the tailer). A write learnt only by
	// reading the store after a refused write (readThrough) updates the
	// version, not handed, so that write is still handed on (by the
	// caller of the refused write, or by the tailer).
	handed stamp
}

// stamp places one write of an object among the others.
type stamp struct {
	version time.Time
	tomb    bool
	seq     int64
}

func stampOf(o Object) stamp {
	return stamp{version: versionOf(o.Updated, o.Published), tomb: o.Kind == ogp.KindTombstone, seq: o.Seq}
}

// after reports whether a is a later write of the object than b, in the
// order the store's guards allow: a newer version; at an equal version, a
// tombstone after a live object (a deletion replaces the version it was
// made at, and only a version made after it replaces the tombstone); and
// the same write under a higher number (renumberIfSlow). The number alone
// never decides: it is taken before the write lands.
func (a stamp) after(b stamp) bool {
	switch {
	case !a.version.Equal(b.version):
		return a.version.After(b.version)
	case a.tomb != b.tomb:
		return a.tomb
	default:
		return a.seq > b.seq
	}
}

// Store is the object store with its in-memory version index.
type Store struct {
	coll *mongo.Collection
	// inserts groups concurrent writers' inserts of new objects into one
	// store command (store.Inserter): live deliveries arrive concurrently.
	inserts *store.Inserter
	seq     allocator
	// locks are the per-IRI stripes, the only ones: a write, the read-model
	// update it causes (hand) and the tailer's Observe of the same IRI
	// serialise, so no other replica's write read by the tailer can slip
	// between this replica's write and its read-model update.
	locks [64]sync.Mutex
	hand  func(Object) // the read model's door (HandTo); nil: none
	mu    sync.RWMutex
	index map[string]meta
	// Where Load left off, for Tailer: the highest number read and the
	// recent numbers not read (writes of other replicas in flight then).
	loadedHigh int64
	loadedGaps []int64
}

// Open returns the store; call Load before Put.
func Open(db *mongo.Database) *Store {
	seq := db.Collection(SeqCollection)
	return &Store{coll: db.Collection(Collection), inserts: store.NewInserter(db.Collection(Collection)),
		seq: allocator{coll: seq, inserts: store.NewInserter(seq)}, index: map[string]meta{}}
}

// HandTo makes fn receive every write this replica's read model must
// reflect, under the object's stripe: its own accepted writes, what the
// store holds when it refuses a write and that is news (another replica's
// write the tailer has not read yet), and news the tailer observes. Call it
// before the first write; fn must not call back into the store.
func (s *Store) HandTo(fn func(Object)) { s.hand = fn }

// handOn records o as handed on and gives it to the read model, unless the
// index reflects a later write handed on already. The caller holds o's
// stripe.
func (s *Store) handOn(o Object) bool {
	if !s.remember(o, false) {
		return false
	}
	if s.hand != nil {
		s.hand(o)
	}
	return true
}

func (s *Store) lock(iri string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(iri))
	return &s.locks[h.Sum32()%uint32(len(s.locks))]
}

func versionOf(updated, published time.Time) time.Time {
	if !updated.IsZero() {
		return updated.UTC()
	}
	return published.UTC()
}

func (s *Store) get(iri string) (meta, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.index[iri]
	return m, ok
}

// remember records o, a write handed on to the read model, unless the
// index reflects a later write handed on (stamp.after; orEqual also takes
// the same one, for Load). It reports whether it did. The version kept for
// the next writes is the later of the two: readThrough may have learnt a
// later version than the write being handed on.
func (s *Store) remember(o Object, orEqual bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := stampOf(o)
	old, known := s.index[o.ID]
	if known && !st.after(old.handed) && (!orEqual || old.handed.after(st)) {
		return false
	}
	m := meta{version: st.version, kind: o.Kind, pilot: o.Pilot, handed: st}
	// Without a number, the version learnt is after st only when it is a
	// later version, not the same one.
	if learnt := (stamp{version: old.version, tomb: old.kind == ogp.KindTombstone}); known && learnt.after(st) {
		m.version, m.kind, m.pilot = old.version, old.kind, old.pilot
	}
	s.index[o.ID] = m
	return true
}

// Observe records o, read from the store by a Tailer, in the index, hands
// it on (HandTo) and reports true when it is news to this replica's read
// model: a later write (stamp.after) than the one it last handed on,
// whatever its sequence number. Its own writes, and versions older than
// one handed on, come back false.
func (s *Store) Observe(o Object) bool {
	l := s.lock(o.ID)
	l.Lock()
	defer l.Unlock()
	return s.handOn(o)
}

// Load creates the indexes, reads every object once, fills the version
// index, and hands each object to fn (the read model's rebuild).
func (s *Store) Load(ctx context.Context, fn func(Object) error) error {
	if err := store.EnsureIndexes(ctx, s.coll, mongo.IndexModel{Keys: bson.D{{Key: "seq", Value: 1}}}); err != nil {
		return fmt.Errorf("objects: %w", err)
	}
	if err := store.EnsureIndexes(ctx, s.seq.coll, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}}); err != nil {
		return fmt.Errorf("objects: %w", err)
	}
	started := time.Now().UTC()
	cur, err := s.coll.Find(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("objects: load: %w", err)
	}
	defer cur.Close(ctx)
	var high int64
	for cur.Next(ctx) {
		var o Object
		if err := cur.Decode(&o); err != nil {
			return fmt.Errorf("objects: decode: %w", err)
		}
		high = max(high, o.Seq)
		s.remember(o, true)
		if fn != nil {
			if err := fn(o); err != nil {
				return err
			}
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("objects: load: %w", err)
	}
	top, err := s.seq.max(ctx)
	if err != nil {
		return err
	}
	s.seq.raise(max(top, high))
	gaps, err := s.unseenSince(ctx, started.Add(-gapGrace), high)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.loadedHigh, s.loadedGaps = high, gaps
	s.mu.Unlock()
	return nil
}

// unseenSince lists the numbers up to high taken since cutoff whose write
// the index does not reflect: other replicas' writes that were in flight
// (numbered, not yet stored) while Load read, or that Load's cursor passed
// before they landed. The tailer keeps looking for them.
func (s *Store) unseenSince(ctx context.Context, cutoff time.Time, high int64) ([]int64, error) {
	cur, err := s.seq.coll.Find(ctx, bson.M{"at": bson.M{"$gte": cutoff}, "_id": bson.M{"$lte": high}})
	if err != nil {
		return nil, fmt.Errorf("objects: recent numbers: %w", err)
	}
	var docs []seqDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("objects: recent numbers: %w", err)
	}
	var out []int64
	for _, d := range docs {
		// Any number but the one of the write loaded: a lower number can
		// carry a newer version still in flight (see the package doc).
		if m, ok := s.get(d.IRI); !ok || m.handed.seq != d.N {
			out = append(out, d.N)
		}
	}
	return out, nil
}

// olderThan matches the stored IRI when its version (updated, else
// published) is before v. A tombstone's "updated" is its deletion time, so
// only an object published anew after the deletion replaces it (a node may
// reuse a withdrawn commitment's id).
func olderThan(iri string, v time.Time) bson.M {
	return bson.M{"_id": iri, "$or": versionBefore("$lt", v)}
}

// versionBefore is the $or that compares a stored version with v (op is
// "$lt" or "$lte"). "No updated" is a missing field or the zero time: the
// driver writes zero times although the fields say omitzero.
func versionBefore(op string, v time.Time) bson.A {
	zero := time.Time{}
	noUpdated := bson.M{"$or": bson.A{bson.M{"updated": bson.M{"$exists": false}}, bson.M{"updated": bson.M{"$lte": zero}}}}
	publishedBefore := bson.M{"$or": bson.A{bson.M{"published": bson.M{op: v}}, bson.M{"published": bson.M{"$exists": false}}}}
	return bson.A{
		bson.M{"updated": bson.M{"$gt": zero, op: v}},
		bson.M{"$and": bson.A{noUpdated, publishedBefore}},
	}
}

// Put stores o unless a version at least as new is stored, or the IRI was
// deleted. Versions compare by `updated` (else `published`); an equal
// version is a re-delivery and is not written again.
//
// The index decides first, without a read. It may not know another
// replica's latest write yet, so the store decides again: the replace only
// matches an older stored version (atomic per document on MongoDB; the
// embedded store, whose update is query-then-write, serves one replica,
// whose stripe lock serialises writers). A write stored is handed on
// (HandTo). When the store refuses, the stored document is read into the
// index and handed on if it is news: the write refused may be a node's
// re-delivery of a version another replica stored under a number this
// replica's tailer has passed.
func (s *Store) Put(ctx context.Context, o Object) (Result, error) {
	l := s.lock(o.ID)
	l.Lock()
	defer l.Unlock()
	v := versionOf(o.Updated, o.Published)
	old, known := s.get(o.ID)
	switch {
	case known && old.kind == ogp.KindTombstone && !v.After(old.version):
		// A late or replayed version of a deleted object stays deleted.
		return Gone, nil
	case known && !v.After(old.version):
		return Stale, nil
	}
	o.Received = o.Received.UTC()
	began := time.Now()
	seq, _, err := s.seq.next(ctx, o.ID)
	if err != nil {
		return Stale, err
	}
	o.Seq = seq
	res := Created
	written := false
	if !known {
		err := s.inserts.InsertOne(ctx, o)
		switch {
		case err == nil:
			written = true
		case store.IsDuplicate(err):
			// Another replica stored it first: the guarded replace decides.
		default:
			return Stale, fmt.Errorf("objects: insert %s: %w", o.ID, err)
		}
	}
	if !written {
		var prev struct {
			Kind string `bson:"kind"`
		}
		// No projection: the embedded store's findAndModify does not take one.
		err := s.coll.FindOneAndReplace(ctx, olderThan(o.ID, v), o).Decode(&prev)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return s.refused(ctx, o.ID)
		}
		if err != nil {
			return Stale, fmt.Errorf("objects: replace %s: %w", o.ID, err)
		}
		res = Replaced
		if prev.Kind == ogp.KindTombstone {
			res = Created
		}
	}
	s.handOn(o)
	s.renumberIfSlow(ctx, o.ID, seq, began)
	return res, nil
}

// refused hands on what the store holds after it refused a write, when
// that is news, and says why the write was refused.
func (s *Store) refused(ctx context.Context, iri string) (Result, error) {
	res, stored, err := s.readThrough(ctx, iri)
	if stored != nil {
		s.handOn(*stored)
	}
	return res, err
}

// readThrough reads the stored document into the index after the store
// refused a write the index allowed, says why it was refused, and returns
// the document (nil when there is none).
func (s *Store) readThrough(ctx context.Context, iri string) (Result, *Object, error) {
	o, err := s.Get(ctx, iri)
	if errors.Is(err, store.ErrNotFound) {
		// Removed from the store behind the hub's back (an operator's purge).
		s.mu.Lock()
		delete(s.index, iri)
		s.mu.Unlock()
		return Stale, nil, nil
	}
	if err != nil {
		return Stale, nil, fmt.Errorf("objects: read %s: %w", iri, err)
	}
	// The version decides this replica's next writes now; what was handed
	// on stays, so the write is still handed to the read model (by
	// refused, or by the tailer).
	s.mu.Lock()
	s.index[iri] = meta{version: versionOf(o.Updated, o.Published), kind: o.Kind, pilot: o.Pilot, handed: s.index[iri].handed}
	s.mu.Unlock()
	if o.Kind == ogp.KindTombstone {
		return Gone, &o, nil
	}
	return Stale, &o, nil
}

// renumberIfSlow gives a write that reached the store long after its number
// was taken a fresh number: tailers stop waiting for a missing number after
// gapGrace, so a write landing near that horizon could be missed by them.
// It is rare (a replica stalled mid-write) and costs one more small write.
func (s *Store) renumberIfSlow(ctx context.Context, iri string, seq int64, began time.Time) {
	if time.Since(began) < gapGrace/2 {
		return
	}
	n, _, err := s.seq.next(ctx, iri)
	if err != nil {
		return
	}
	r, err := s.coll.UpdateOne(ctx, bson.M{"_id": iri, "seq": seq}, bson.M{"$set": bson.M{"seq": n}})
	if err != nil || r.MatchedCount == 0 {
		return // rewritten since: that write carries a newer number anyway
	}
	s.mu.Lock()
	if m, ok := s.index[iri]; ok && m.handed.seq == seq {
		m.handed.seq = n
		s.index[iri] = m
	}
	s.mu.Unlock()
}

// Delete replaces the object by a tombstone (or records one for an IRI never
// seen, so a late or replayed Create cannot bring it back; only a version
// made after the deletion can). It reports whether a live object was
// removed. Like Put, the store has the last word: only a live version not
// newer than the deletion is replaced; the tombstone written, or what the
// store holds when it refuses, is handed on as by Put.
func (s *Store) Delete(ctx context.Context, iri, pilot string, at time.Time) (bool, error) {
	l := s.lock(iri)
	l.Lock()
	defer l.Unlock()
	at = at.UTC()
	old, known := s.get(iri)
	if known && (old.kind == ogp.KindTombstone || old.version.After(at)) {
		// Already deleted, or re-created after this deletion (a backfill
		// walks newest first, so it meets the re-creation before the Delete).
		return false, nil
	}
	began := time.Now()
	seq, _, err := s.seq.next(ctx, iri)
	if err != nil {
		return false, err
	}
	t := Object{ID: iri, Kind: ogp.KindTombstone, Pilot: pilot, FormerKind: old.kind, Received: at, Deleted: at, Updated: at, Seq: seq}
	if !known {
		err := s.inserts.InsertOne(ctx, t)
		if err == nil {
			s.handOn(t)
			s.renumberIfSlow(ctx, iri, seq, began)
			return false, nil
		}
		if !store.IsDuplicate(err) {
			return false, fmt.Errorf("objects: tombstone %s: %w", iri, err)
		}
		// Another replica stored this IRI: learn what, then decide as for a
		// known object.
		_, stored, err := s.readThrough(ctx, iri)
		if err != nil {
			return false, err
		}
		if old, known = s.get(iri); !known || old.kind == ogp.KindTombstone || old.version.After(at) {
			if stored != nil {
				s.handOn(*stored)
			}
			return false, nil
		}
		t.FormerKind = old.kind
	}
	filter := bson.M{"_id": iri, "kind": bson.M{"$ne": ogp.KindTombstone}, "$or": versionBefore("$lte", at)}
	r, err := s.coll.ReplaceOne(ctx, filter, t)
	if err != nil {
		return false, fmt.Errorf("objects: tombstone %s: %w", iri, err)
	}
	if r.MatchedCount == 0 {
		_, err := s.refused(ctx, iri)
		return false, err
	}
	s.handOn(t)
	s.renumberIfSlow(ctx, iri, seq, began)
	return true, nil
}

// Has reports whether the IRI is stored (live or tombstone), as far as this
// replica knows: other replicas' writes reach it through the tailer.
func (s *Store) Has(iri string) bool {
	_, ok := s.get(iri)
	return ok
}

// Counts returns, per pilot, how many objects of each kind are stored
// (tombstones under ogp.KindTombstone).
func (s *Store) Counts() map[string]map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]map[string]int{}
	for _, m := range s.index {
		if out[m.pilot] == nil {
			out[m.pilot] = map[string]int{}
		}
		out[m.pilot][m.kind]++
	}
	return out
}

// Get reads one object from the store. It scans on the embedded store, so
// it is for tools, tests and the rare refused write, never for request
// paths.
func (s *Store) Get(ctx context.Context, iri string) (Object, error) {
	var o Object
	err := s.coll.FindOne(ctx, bson.M{"_id": iri}).Decode(&o)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Object{}, store.ErrNotFound
	}
	return o, err
}
