package federation

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// markedSet is a small collection kept whole in memory and written
// through to the store (the followers, the actors we follow): requests and
// loops read memory, never the collection (a scan on the embedded store,
// issue 11). Replicas sharing the store stay in step through a mark: one
// document whose token every write changes, after the write, so that
// reload reads the collection only when some replica wrote to it and one
// document by _id otherwise. The hub's members use the same rule.
type markedSet[T any] struct {
	what   string // the collection's name, for errors
	coll   *mongo.Collection
	mark   *mongo.Collection
	markID string
	key    func(T) string // the document's _id
	mu     sync.RWMutex
	byID   map[string]T
	// seenMark is the mark's token when the collection was last read.
	seenMark string
}

func loadMarkedSet[T any](ctx context.Context, what string, coll, mark *mongo.Collection, markID string, key func(T) string) (*markedSet[T], error) {
	ms := &markedSet[T]{what: what, coll: coll, mark: mark, markID: markID, key: key, byID: map[string]T{}}
	if err := ms.readAll(ctx); err != nil {
		return nil, err
	}
	return ms, nil
}

// reload takes in what other replicas changed: it replaces the set in
// memory with the store's when the mark moved since the last read.
func (ms *markedSet[T]) reload(ctx context.Context) error {
	token, err := ms.readMark(ctx)
	if err != nil {
		return err
	}
	ms.mu.RLock()
	same := token == ms.seenMark
	ms.mu.RUnlock()
	if same {
		return nil
	}
	return ms.readAll(ctx)
}

// readAll reads every document, after the mark (a write landing in between
// changes the mark again, so the next reload reads once more).
func (ms *markedSet[T]) readAll(ctx context.Context) error {
	token, err := ms.readMark(ctx)
	if err != nil {
		return err
	}
	cur, err := ms.coll.Find(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("federation: load %s: %w", ms.what, err)
	}
	var all []T
	if err := cur.All(ctx, &all); err != nil {
		return fmt.Errorf("federation: load %s: %w", ms.what, err)
	}
	byID := make(map[string]T, len(all))
	for _, v := range all {
		byID[ms.key(v)] = v
	}
	ms.mu.Lock()
	ms.byID, ms.seenMark = byID, token
	ms.mu.Unlock()
	return nil
}

// readMark reads the mark's token ("" before any write).
func (ms *markedSet[T]) readMark(ctx context.Context) (string, error) {
	var d struct {
		Token string `bson:"token"`
	}
	err := ms.mark.FindOne(ctx, bson.M{"_id": ms.markID}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("federation: %s mark: %w", ms.what, err)
	}
	return d.Token, nil
}

// touch changes the mark after a write: a fresh random token, not a
// counter, because FerretDB's $inc is read-then-write.
func (ms *markedSet[T]) touch(ctx context.Context) error {
	_, err := ms.mark.UpdateOne(ctx, bson.M{"_id": ms.markID},
		bson.M{"$set": bson.M{"token": rand.Text()}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("federation: %s mark: %w", ms.what, err)
	}
	return nil
}

// put stores v (replacing the document with its _id), then memory.
func (ms *markedSet[T]) put(ctx context.Context, v T) error {
	id := ms.key(v)
	if _, err := ms.coll.ReplaceOne(ctx, bson.M{"_id": id}, v, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("federation: store %s: %w", ms.what, err)
	}
	return ms.remember(ctx, id, v)
}

// update applies set to v's stored document, then puts v in memory (v is
// the document as it is after the update).
func (ms *markedSet[T]) update(ctx context.Context, v T, set bson.M) error {
	id := ms.key(v)
	if _, err := ms.coll.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": set}); err != nil {
		return fmt.Errorf("federation: store %s: %w", ms.what, err)
	}
	return ms.remember(ctx, id, v)
}

func (ms *markedSet[T]) remember(ctx context.Context, id string, v T) error {
	ms.mu.Lock()
	ms.byID[id] = v
	ms.mu.Unlock()
	return ms.touch(ctx)
}

func (ms *markedSet[T]) remove(ctx context.Context, id string) error {
	if _, err := ms.coll.DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return fmt.Errorf("federation: remove from %s: %w", ms.what, err)
	}
	ms.mu.Lock()
	delete(ms.byID, id)
	ms.mu.Unlock()
	return ms.touch(ctx)
}

func (ms *markedSet[T]) get(id string) (T, bool) {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	v, ok := ms.byID[id]
	return v, ok
}

// sorted returns the documents ordered by _id (the actor IRI for both
// sets: the collections' cursor order).
func (ms *markedSet[T]) sorted() []T {
	ms.mu.RLock()
	out := make([]T, 0, len(ms.byID))
	for _, v := range ms.byID {
		out = append(out, v)
	}
	ms.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return ms.key(out[i]) < ms.key(out[j]) })
	return out
}
