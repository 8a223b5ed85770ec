package objects

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ogpnet/ogpnet/internal/store"
)

// SeqCollection holds one small document per allocated sequence number.
const SeqCollection = "hub_seq"

// seqDoc records who took a sequence number and when. The IRI and time let
// a replica starting up tell which recent numbers it has not seen yet (see
// Load), and let old numbers be pruned.
type seqDoc struct {
	N   int64     `bson:"_id"`
	IRI string    `bson:"iri"`
	At  time.Time `bson:"at"`
}

// Why sequence numbers are inserts: the hub's replicas tail hub_objects by
// an increasing number (design §3), so every write needs a number no other
// writer has. A counter bumped with findOneAndUpdate($inc) would be the
// obvious choice on MongoDB, but the embedded FerretDB runs findAndModify as
// "query, then write" without a transaction, so two writers can read the
// same value (the delivery queue saw two workers win one claim). The one
// write both stores make atomic is an insert with a unique _id, so a number
// is taken by inserting {_id: n} into hub_seq; a duplicate-key error means
// another writer has n, and the allocator jumps past the highest number
// taken and tries again. A time-based key (received time + IRI) would need
// no extra write, but every replica's clock skew and write latency would
// have to fit an overlap window re-read on every poll; dense numbers let the
// tailer see exactly which writes it has not read yet (tail.go).
type allocator struct {
	coll    *mongo.Collection
	inserts *store.Inserter // concurrent writers' numbers go in one command
	last    atomic.Int64    // highest number this process knows to be taken
}

// maxAllocTries bounds the retries of one allocation; each failure jumps to
// the store's maximum, so running out means the store is misbehaving.
const maxAllocTries = 50

// next takes the next free number for a write of iri.
func (a *allocator) next(ctx context.Context, iri string) (int64, time.Time, error) {
	for range maxAllocTries {
		// Add gives concurrent writers of this process distinct candidates,
		// so they do not collide with each other, only with other replicas.
		n := a.last.Add(1)
		at := time.Now().UTC()
		err := a.inserts.InsertOne(ctx, seqDoc{N: n, IRI: iri, At: at})
		if err == nil {
			return n, at, nil
		}
		if !store.IsDuplicate(err) {
			return 0, time.Time{}, fmt.Errorf("objects: sequence: %w", err)
		}
		m, err := a.max(ctx)
		if err != nil {
			return 0, time.Time{}, err
		}
		a.raise(m)
	}
	return 0, time.Time{}, errors.New("objects: sequence: no free number after many tries")
}

// max reads the highest number taken (0 when none).
func (a *allocator) max(ctx context.Context) (int64, error) {
	var d seqDoc
	err := a.coll.FindOne(ctx, bson.M{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("objects: sequence max: %w", err)
	}
	return d.N, nil
}

// list reads the documents of the numbers ns (those still there).
func (a *allocator) list(ctx context.Context, ns []int64) ([]seqDoc, error) {
	cur, err := a.coll.Find(ctx, bson.M{"_id": bson.M{"$in": ns}})
	if err != nil {
		return nil, fmt.Errorf("objects: sequence: %w", err)
	}
	var docs []seqDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("objects: sequence: %w", err)
	}
	return docs, nil
}

// above reads up to limit numbers above n, in order. hub_seq holds the
// last hour's numbers (prune), so this reads little whatever the data.
func (a *allocator) above(ctx context.Context, n int64, limit int64) ([]seqDoc, error) {
	cur, err := a.coll.Find(ctx, bson.M{"_id": bson.M{"$gt": n}}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("objects: sequence: %w", err)
	}
	var docs []seqDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("objects: sequence: %w", err)
	}
	return docs, nil
}

// raise makes sure the next candidate is above n.
func (a *allocator) raise(n int64) {
	for {
		cur := a.last.Load()
		if n <= cur || a.last.CompareAndSwap(cur, n) {
			return
		}
	}
}

// prune removes numbers taken before cutoff, always keeping the highest
// (below keep), so that an idle hub still knows where numbering stands.
func (a *allocator) prune(ctx context.Context, cutoff time.Time, keep int64) error {
	_, err := a.coll.DeleteMany(ctx, bson.M{"at": bson.M{"$lt": cutoff}, "_id": bson.M{"$lt": keep}})
	return err
}
