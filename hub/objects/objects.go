// Package objects is the hub's store of every object it accepted from a
// member node: the bytes exactly as received (design §3 "keep the original
// bytes"), keyed by the object's IRI, newest version by `updated`, and a
// tombstone once the node deletes it.
//
// The store is written on ingest and read once, at start, to rebuild the
// read model. Nothing on a request path reads it: the embedded store scans
// on every read (design §3), so the per-IRI version index that makes
// ingest idempotent without a read lives in memory.
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
	"go.mongodb.org/mongo-driver/v2/mongo/options"

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
	version time.Time // updated, or published when never updated
	kind    string
	pilot   string
}

// Store is the object store with its in-memory version index.
type Store struct {
	coll  *mongo.Collection
	locks [64]sync.Mutex // per-IRI stripes: a delivery and a backfill of one object serialise

	mu    sync.RWMutex
	index map[string]meta
}

// Open returns the store; call Load before Put.
func Open(db *mongo.Database) *Store {
	return &Store{coll: db.Collection(Collection), index: map[string]meta{}}
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

// Load reads every object once, fills the version index, and hands each
// object to fn (the read model's rebuild).
func (s *Store) Load(ctx context.Context, fn func(Object) error) error {
	cur, err := s.coll.Find(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("objects: load: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var o Object
		if err := cur.Decode(&o); err != nil {
			return fmt.Errorf("objects: decode: %w", err)
		}
		s.mu.Lock()
		s.index[o.ID] = meta{version: versionOf(o.Updated, o.Published), kind: o.Kind, pilot: o.Pilot}
		s.mu.Unlock()
		if fn != nil {
			if err := fn(o); err != nil {
				return err
			}
		}
	}
	return cur.Err()
}

// Put stores o unless a version at least as new is stored, or the IRI was
// deleted. Versions compare by `updated` (else `published`); an equal
// version is a re-delivery and is not written again.
func (s *Store) Put(ctx context.Context, o Object) (Result, error) {
	l := s.lock(o.ID)
	l.Lock()
	defer l.Unlock()
	v := versionOf(o.Updated, o.Published)
	s.mu.RLock()
	old, known := s.index[o.ID]
	s.mu.RUnlock()
	switch {
	case known && old.kind == ogp.KindTombstone && !v.After(old.version):
		// A late or replayed version of a deleted object stays deleted.
		return Gone, nil
	case known && !v.After(old.version):
		return Stale, nil
	}
	o.Received = o.Received.UTC()
	res := Created
	if !known {
		_, err := s.coll.InsertOne(ctx, o)
		if store.IsDuplicate(err) {
			// Another replica stored it first: fall through to a replace
			// guarded by version, like a known object.
			known = true
		} else if err != nil {
			return Stale, fmt.Errorf("objects: insert %s: %w", o.ID, err)
		}
	}
	if known {
		res = Replaced
		if old.kind == ogp.KindTombstone {
			res = Created
		}
		// The filter keeps the newest even against another replica's
		// concurrent write. A tombstone's "updated" is its deletion time, so
		// only an object published anew after the deletion replaces it (a
		// node may reuse a withdrawn commitment's id).
		filter := bson.M{"_id": o.ID, "$or": bson.A{
			bson.M{"updated": bson.M{"$lt": v}},
			bson.M{"updated": bson.M{"$exists": false}},
		}}
		r, err := s.coll.ReplaceOne(ctx, filter, o)
		if err != nil {
			return Stale, fmt.Errorf("objects: replace %s: %w", o.ID, err)
		}
		if r.MatchedCount == 0 {
			return Stale, nil
		}
	}
	s.mu.Lock()
	s.index[o.ID] = meta{version: v, kind: o.Kind, pilot: o.Pilot}
	s.mu.Unlock()
	return res, nil
}

// Delete replaces the object by a tombstone (or records one for an IRI never
// seen, so a late or replayed Create cannot bring it back; only a version
// made after the deletion can). It reports
// whether a live object was removed.
func (s *Store) Delete(ctx context.Context, iri, pilot string, at time.Time) (bool, error) {
	l := s.lock(iri)
	l.Lock()
	defer l.Unlock()
	s.mu.RLock()
	old, known := s.index[iri]
	s.mu.RUnlock()
	if known && (old.kind == ogp.KindTombstone || old.version.After(at.UTC())) {
		// Already deleted, or re-created after this deletion (a backfill
		// walks newest first, so it meets the re-creation before the Delete).
		return false, nil
	}
	t := Object{ID: iri, Kind: ogp.KindTombstone, Pilot: pilot, FormerKind: old.kind, Received: at.UTC(), Deleted: at.UTC(), Updated: at.UTC()}
	if _, err := s.coll.ReplaceOne(ctx, bson.M{"_id": iri}, t, options.Replace().SetUpsert(true)); err != nil {
		return false, fmt.Errorf("objects: tombstone %s: %w", iri, err)
	}
	s.mu.Lock()
	s.index[iri] = meta{version: at.UTC(), kind: ogp.KindTombstone, pilot: pilot}
	s.mu.Unlock()
	return known, nil
}

// Has reports whether the IRI is stored (live or tombstone).
func (s *Store) Has(iri string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.index[iri]
	return ok
}

// Counts returns, per pilot, how many live objects of each kind are stored.
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
// it is for tools and tests, never for request paths.
func (s *Store) Get(ctx context.Context, iri string) (Object, error) {
	var o Object
	err := s.coll.FindOne(ctx, bson.M{"_id": iri}).Decode(&o)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Object{}, store.ErrNotFound
	}
	return o, err
}
