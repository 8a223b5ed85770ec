package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Inserter groups single-document inserts that concurrent callers make into
// one collection into unordered InsertMany commands: while one command is
// in flight, the inserts that arrive wait and go together in the next
// (group commit). On the embedded store each command is one SQLite
// transaction and SQLite takes one writer at a time, so concurrent senders
// that each inserted alone queued behind each other's commits; grouped, N
// senders share one. Each caller still learns its own outcome: nil, a
// duplicate-key error (IsDuplicate), or the command's error.
type Inserter struct {
	coll    *mongo.Collection
	mu      sync.Mutex
	pending []*pendingInsert
	running bool
}

type pendingInsert struct {
	doc  any
	done chan error
}

// insertBatchMax bounds one grouped command; insertTimeout bounds its wait
// for the store (a caller gives up earlier with its own context).
const (
	insertBatchMax = 500
	insertTimeout  = 30 * time.Second
)

// NewInserter groups inserts into coll.
func NewInserter(coll *mongo.Collection) *Inserter { return &Inserter{coll: coll} }

// InsertOne inserts doc with the next group. When ctx ends first it
// returns ctx's error; the insert may still happen, as with a timed-out
// InsertOne.
func (b *Inserter) InsertOne(ctx context.Context, doc any) error {
	p := &pendingInsert{doc: doc, done: make(chan error, 1)}
	b.mu.Lock()
	b.pending = append(b.pending, p)
	if !b.running {
		b.running = true
		go b.flush()
	}
	b.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush sends the waiting inserts, a group at a time, until none wait.
func (b *Inserter) flush() {
	for {
		b.mu.Lock()
		n := min(len(b.pending), insertBatchMax)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		group := b.pending[:n:n]
		b.pending = b.pending[n:]
		b.mu.Unlock()
		docs := make([]any, len(group))
		for i, p := range group {
			docs[i] = p.doc
		}
		ctx, cancel := context.WithTimeout(context.Background(), insertTimeout)
		_, err := b.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		cancel()
		errs := make([]error, len(group))
		var bwe mongo.BulkWriteException
		switch {
		case err == nil:
		case errors.As(err, &bwe) && bwe.WriteConcernError == nil:
			for _, we := range bwe.WriteErrors {
				if we.Index >= 0 && we.Index < len(group) {
					errs[we.Index] = mongo.WriteException{WriteErrors: mongo.WriteErrors{we.WriteError}}
				}
			}
		default:
			for i := range errs {
				errs[i] = err
			}
		}
		for i, p := range group {
			p.done <- errs[i]
		}
	}
}
