// Package planstore keeps a node's action plans, commitments and progress
// updates in MongoDB (or the embedded store). Plans are keyed by their slug,
// commitments by their OGP identifier, progress updates by a sortable id
// generated here. Every read is served from an in-memory model (memory.go)
// rebuilt at start and kept current by the writes, which go to the store
// first: the embedded store scans a whole collection for any query but a
// single _id lookup.
package planstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/node/plan"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collection names.
const (
	PlansCollection       = "plans"
	CommitmentsCollection = "commitments"
	UpdatesCollection     = "progress_updates"
)

// ErrNotFound is store.ErrNotFound, re-exported for callers' convenience.
var ErrNotFound = store.ErrNotFound

// ErrDeleted is returned when editing a progress update that was deleted.
var ErrDeleted = errors.New("planstore: the progress update was deleted")

// ChangeKind says what a write did.
type ChangeKind string

// Change kinds.
const (
	Created   ChangeKind = "created"
	Updated   ChangeKind = "updated"
	Unchanged ChangeKind = "unchanged"
)

// Store is the plan storage of one node.
type Store struct {
	plans, commitments, updates *mongo.Collection
	ids                         *IDGenerator
	now                         func() time.Time

	// wmu serialises writes, each a store write then its memory update,
	// so memory applies them in the store's order.
	wmu sync.Mutex
	// loadMu guards the first (lazy) load of mem.
	loadMu sync.Mutex
	mem    atomic.Pointer[memory]
	// gen is the generation counter as of this process's last load or
	// announcement; dirty says this process wrote since (Refresh).
	gen   atomic.Int64
	dirty atomic.Bool
}

// Option configures New.
type Option func(*Store)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns the store over db. Call EnsureIndexes once at start-up.
func New(db *mongo.Database, opts ...Option) *Store {
	s := &Store{
		plans:       db.Collection(PlansCollection),
		commitments: db.Collection(CommitmentsCollection),
		updates:     db.Collection(UpdatesCollection),
		ids:         NewIDGenerator(),
		now:         time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// EnsureIndexes creates the secondary indexes, idempotently. Reads are
// served from memory; the indexes serve ad-hoc queries on MongoDB.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	if err := store.EnsureIndexes(ctx, s.commitments, mongo.IndexModel{Keys: bson.D{{Key: "planId", Value: 1}, {Key: "_id", Value: 1}}}); err != nil {
		return err
	}
	if err := store.EnsureIndexes(ctx, s.updates, mongo.IndexModel{Keys: bson.D{{Key: "commitmentId", Value: 1}, {Key: "_id", Value: 1}}}); err != nil {
		return err
	}
	// UnfinishedImportJobs, at start: on MongoDB the index keeps it to the
	// unfinished jobs rather than every import ever made.
	return store.EnsureIndexes(ctx, s.plans.Database().Collection(ImportJobsCollection), mongo.IndexModel{Keys: bson.D{{Key: "state", Value: 1}}})
}

func (s *Store) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// PutPlan validates and stores p, keeping the original Created. It reports
// Unchanged (and writes nothing) when the stored plan says the same.
func (s *Store) PutPlan(ctx context.Context, p plan.ActionPlan) (ChangeKind, error) {
	p.NormalizeGuidelines()
	p.StripBidi()
	if err := p.Validate(); err != nil {
		return "", err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	old, err := s.GetPlan(ctx, p.ID)
	kind := Created
	switch {
	case err == nil:
		p.Created = old.Created
		p.Updated = old.Updated
		if old.SameContent(p) {
			return Unchanged, nil
		}
		kind = Updated
	case errors.Is(err, ErrNotFound):
		p.Created = s.stamp()
	default:
		return "", err
	}
	p.Updated = s.stamp()
	if err = s.putDoc(ctx, s.plans, p.ID, p, kind == Updated); err != nil {
		return "", fmt.Errorf("planstore: put plan %s: %w", p.ID, err)
	}
	s.mem.Load().putPlan(p)
	return kind, nil
}

// putDoc stores doc under id: a replace when it is stored (exists), an
// insert when it is new. On the embedded store an insert costs the same
// whatever the collection's size, while a replace (or update, or delete)
// by _id reads the whole collection (300 ms at 20,000 documents; see
// docs/architecture.md, "Node memory"), so a 1,500-row import of new
// commitments must not replace. An insert that finds the id taken (written by someone memory
// does not know of) replaces after all.
func (s *Store) putDoc(ctx context.Context, coll *mongo.Collection, id string, doc any, exists bool) error {
	if !exists {
		_, err := coll.InsertOne(ctx, doc)
		if !store.IsDuplicate(err) {
			return err
		}
	}
	_, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc, options.Replace().SetUpsert(true))
	return err
}

// byID reads the document with _id id from coll: the zero T and
// ErrNotFound when there is none.
func byID[T any](ctx context.Context, coll *mongo.Collection, id string) (T, error) {
	var v T
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&v); err != nil {
		var zero T
		return zero, store.NotFound(err)
	}
	return v, nil
}

// GetPlan returns the plan with id, or ErrNotFound.
func (s *Store) GetPlan(ctx context.Context, id string) (plan.ActionPlan, error) {
	m, err := s.memory(ctx)
	if err != nil {
		return plan.ActionPlan{}, err
	}
	p, ok := m.plan(id)
	if !ok {
		return plan.ActionPlan{}, ErrNotFound
	}
	return p, nil
}

// ListPlans returns every plan, newest period first.
func (s *Store) ListPlans(ctx context.Context) ([]plan.ActionPlan, error) {
	m, err := s.memory(ctx)
	if err != nil {
		return nil, err
	}
	return m.planList(), nil
}

// GetCommitment returns the commitment with id, deleted or not (a deleted
// one must still answer its IRI with a Tombstone), or ErrNotFound.
func (s *Store) GetCommitment(ctx context.Context, id string) (plan.Commitment, error) {
	m, err := s.memory(ctx)
	if err != nil {
		return plan.Commitment{}, err
	}
	c, ok := m.commitment(id)
	if !ok {
		return plan.Commitment{}, ErrNotFound
	}
	return c, nil
}

// UpsertCommitment validates c and stores it under its identifier:
// Created when new (or when restoring a deleted one), Updated when its
// content changed, Unchanged (nothing written) otherwise. Running it twice
// with the same commitment never duplicates and never bumps Updated.
func (s *Store) UpsertCommitment(ctx context.Context, c plan.Commitment) (plan.Commitment, ChangeKind, error) {
	c.StripBidi()
	if err := c.Validate(); err != nil {
		return plan.Commitment{}, "", err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	old, err := s.GetCommitment(ctx, c.ID)
	kind := Created
	switch {
	case err == nil && !old.Deleted:
		if old.SameContent(c) {
			return old, Unchanged, nil
		}
		c.Created = old.Created
		kind = Updated
	case err == nil: // restoring a withdrawn commitment publishes it anew
		c.Created = old.Created
	case errors.Is(err, ErrNotFound):
		c.Created = s.stamp()
	default:
		return plan.Commitment{}, "", err
	}
	c.Updated = s.stamp()
	c.Deleted, c.DeletedAt = false, time.Time{}
	if err := s.putDoc(ctx, s.commitments, c.ID, c, err == nil); err != nil {
		return plan.Commitment{}, "", fmt.Errorf("planstore: upsert commitment %s: %w", c.ID, err)
	}
	s.mem.Load().putCommitment(c)
	return c, kind, nil
}

// DeleteCommitment withdraws a commitment (soft delete) and returns it as
// stored. Deleting an already deleted commitment changes nothing.
func (s *Store) DeleteCommitment(ctx context.Context, id string) (plan.Commitment, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	c, err := s.GetCommitment(ctx, id)
	if err != nil {
		return plan.Commitment{}, err
	}
	if c.Deleted {
		return c, nil
	}
	now := s.stamp()
	c.Deleted, c.DeletedAt, c.Updated = true, now, now
	_, err = s.commitments.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "deleted", Value: true}, {Key: "deletedAt", Value: now}, {Key: "updated", Value: now}}}})
	if err != nil {
		return plan.Commitment{}, fmt.Errorf("planstore: delete commitment %s: %w", id, err)
	}
	s.mem.Load().putCommitment(c)
	return c, nil
}

// ListCommitments returns the live (not deleted) commitments of planID, or
// of every plan when planID is empty, ordered by identifier.
func (s *Store) ListCommitments(ctx context.Context, planID string) ([]plan.Commitment, error) {
	m, err := s.memory(ctx)
	if err != nil {
		return nil, err
	}
	return m.liveCommitments(planID), nil
}

// AddUpdate records a progress update on its commitment: it validates u
// against the commitment, gives it a sortable ID and its Created time,
// stores it, then applies it to the commitment (completion, milestone
// states) and saves that. It returns both, for publishing.
//
// There are no transactions on the embedded store, so the update, the
// record of what happened, is written first. If saving the commitment then
// fails, the error says so and the caller can retry with
// UpsertCommitment(ctx, u.Apply(c)) rather than adding the update twice.
func (s *Store) AddUpdate(ctx context.Context, u plan.ProgressUpdate) (plan.ProgressUpdate, plan.Commitment, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	u, c, err := s.insertUpdate(ctx, u)
	if err != nil {
		return plan.ProgressUpdate{}, plan.Commitment{}, err
	}
	applied := u.Apply(c)
	if !applied.SameContent(c) {
		applied.Updated = u.Created
		if _, err := s.commitments.ReplaceOne(ctx, bson.D{{Key: "_id", Value: c.ID}}, applied); err != nil {
			return u, c, fmt.Errorf("planstore: apply update to %s: %w", c.ID, err)
		}
		s.mem.Load().putCommitment(applied)
	}
	return u, applied, nil
}

// RecordUpdate stores u as history only, without applying it to the
// commitment. The importer uses it: an imported file states each
// commitment's current state itself, and applying old updates on top would
// make re-imports flip-flop.
//
// An update that comes with an ID (an import job's deterministic one) is
// stored under it; when that ID is stored already (a job resumed after a
// crash), the stored update is returned and nothing is written.
func (s *Store) RecordUpdate(ctx context.Context, u plan.ProgressUpdate) (plan.ProgressUpdate, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if u.ID != "" {
		if old, err := s.GetUpdate(ctx, u.ID); err == nil {
			return old, nil
		}
	}
	u, _, err := s.insertUpdate(ctx, u)
	return u, err
}

// insertUpdate validates u against its live commitment, gives it an id and
// Created time, and inserts it.
func (s *Store) insertUpdate(ctx context.Context, u plan.ProgressUpdate) (plan.ProgressUpdate, plan.Commitment, error) {
	c, err := s.GetCommitment(ctx, u.CommitmentID)
	if err != nil {
		return plan.ProgressUpdate{}, plan.Commitment{}, fmt.Errorf("planstore: update for %s: %w", u.CommitmentID, err)
	}
	if c.Deleted {
		return plan.ProgressUpdate{}, plan.Commitment{}, fmt.Errorf("planstore: commitment %s is withdrawn: %w", c.ID, ErrNotFound)
	}
	u.StripBidi()
	if err := u.ValidateFor(c); err != nil {
		return plan.ProgressUpdate{}, plan.Commitment{}, err
	}
	now := s.stamp()
	if u.ID == "" {
		u.ID = s.ids.New(now)
	}
	u.Created = now
	if _, err := s.updates.InsertOne(ctx, u); err != nil {
		return plan.ProgressUpdate{}, plan.Commitment{}, fmt.Errorf("planstore: add update: %w", err)
	}
	s.mem.Load().putUpdate(u)
	return u, c, nil
}

// GetUpdate returns the progress update with id, deleted or not (a
// deleted one must still answer its IRI with a Tombstone), or ErrNotFound.
func (s *Store) GetUpdate(ctx context.Context, id string) (plan.ProgressUpdate, error) {
	m, err := s.memory(ctx)
	if err != nil {
		return plan.ProgressUpdate{}, err
	}
	u, ok := m.update(id)
	if !ok {
		return plan.ProgressUpdate{}, ErrNotFound
	}
	return u, nil
}

// later returns now, or 1 ms after the latest of prev when now is not
// after it: an edit's "updated" must be newer than what followers hold,
// even when the clock has not moved on.
func later(now time.Time, prev ...time.Time) time.Time {
	for _, p := range prev {
		if !now.After(p) {
			now = p.Add(time.Millisecond)
		}
	}
	return now
}

// UpdateUpdate replaces the content of an existing, live progress update
// (date, text, completion, milestone changes, evidence) with u's, keeping
// its ID, commitment and Created, and setting Updated to a time newer than
// its Created and previous Updated. u.ID names the update; u.CommitmentID
// must be the stored one. The update is validated against its commitment,
// which must be live. It never touches the commitment itself.
//
// It reports Unchanged (and writes nothing) when the content is the same;
// ErrNotFound for an unknown update (or one of another commitment, or
// whose commitment is missing or withdrawn); ErrDeleted for a deleted one.
func (s *Store) UpdateUpdate(ctx context.Context, u plan.ProgressUpdate) (plan.ProgressUpdate, ChangeKind, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	old, err := s.GetUpdate(ctx, u.ID)
	if err != nil {
		return plan.ProgressUpdate{}, "", fmt.Errorf("planstore: update %s: %w", u.ID, err)
	}
	if old.CommitmentID != u.CommitmentID {
		return plan.ProgressUpdate{}, "", fmt.Errorf("planstore: update %s is not on commitment %s: %w", u.ID, u.CommitmentID, ErrNotFound)
	}
	if old.Deleted {
		return old, "", fmt.Errorf("planstore: update %s: %w", u.ID, ErrDeleted)
	}
	c, err := s.GetCommitment(ctx, u.CommitmentID)
	if err != nil {
		return plan.ProgressUpdate{}, "", fmt.Errorf("planstore: update for %s: %w", u.CommitmentID, err)
	}
	if c.Deleted {
		return plan.ProgressUpdate{}, "", fmt.Errorf("planstore: commitment %s is withdrawn: %w", c.ID, ErrNotFound)
	}
	u.StripBidi()
	if err := u.ValidateFor(c); err != nil {
		return plan.ProgressUpdate{}, "", err
	}
	if old.SameContent(u) {
		return old, Unchanged, nil
	}
	u.Created = old.Created
	u.Updated = later(s.stamp(), old.Created, old.Updated)
	u.Deleted, u.DeletedAt = false, time.Time{}
	// An _id lookup (the one query the embedded store does not scan for):
	// writes are serialised by wmu, so memory's "not deleted" still holds.
	res, err := s.updates.ReplaceOne(ctx, bson.D{{Key: "_id", Value: u.ID}}, u)
	if err != nil {
		return plan.ProgressUpdate{}, "", fmt.Errorf("planstore: edit update %s: %w", u.ID, err)
	}
	if res.MatchedCount == 0 {
		return plan.ProgressUpdate{}, "", fmt.Errorf("planstore: update %s: %w", u.ID, ErrNotFound)
	}
	s.mem.Load().putUpdate(u)
	return u, Updated, nil
}

// DeleteUpdate removes a progress update (soft delete: it stays stored,
// marked deleted, so its IRI answers with a Tombstone) and returns it as
// stored. Deleting an already deleted update changes nothing and returns it
// as it is. It never touches the commitment.
func (s *Store) DeleteUpdate(ctx context.Context, id string) (plan.ProgressUpdate, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	u, err := s.GetUpdate(ctx, id)
	if err != nil {
		return plan.ProgressUpdate{}, fmt.Errorf("planstore: delete update %s: %w", id, err)
	}
	if u.Deleted {
		return u, nil
	}
	now := later(s.stamp(), u.Created, u.Updated)
	_, err = s.updates.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "deleted", Value: true}, {Key: "deletedAt", Value: now}}}})
	if err != nil {
		return plan.ProgressUpdate{}, fmt.Errorf("planstore: delete update %s: %w", id, err)
	}
	u.Deleted, u.DeletedAt = true, now
	s.mem.Load().putUpdate(u)
	return u, nil
}

// ListUpdates returns a commitment's live (not deleted) progress updates,
// oldest first (ids sort by creation time), at most limit of them from the
// newest end when limit > 0.
func (s *Store) ListUpdates(ctx context.Context, commitmentID string, limit int) ([]plan.ProgressUpdate, error) {
	m, err := s.memory(ctx)
	if err != nil {
		return nil, err
	}
	return m.liveUpdates(commitmentID, limit), nil
}

// HasUpdate reports whether commitmentID has a live progress update for
// which same is true, without copying them all out.
func (s *Store) HasUpdate(ctx context.Context, commitmentID string, same func(plan.ProgressUpdate) bool) (bool, error) {
	m, err := s.memory(ctx)
	if err != nil {
		return false, err
	}
	return m.hasUpdate(commitmentID, same), nil
}

// Database is the database the store writes to (benchmarks seed it).
func (s *Store) Database() *mongo.Database { return s.plans.Database() }

// CommitmentChange is what UpsertCommitments did with one commitment.
type CommitmentChange struct {
	Commitment plan.Commitment
	Kind       ChangeKind
}

// UpsertCommitments is UpsertCommitment for many commitments at once, as
// an import applies them: the new ones are inserted with one command (one
// transaction on the embedded store, instead of one per commitment), the
// changed ones replaced one by one. It stops at the first invalid
// commitment, having written none.
func (s *Store) UpsertCommitments(ctx context.Context, cs []plan.Commitment) ([]CommitmentChange, error) {
	if _, err := s.memory(ctx); err != nil {
		return nil, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	m := s.mem.Load()
	out := make([]CommitmentChange, len(cs))
	var fresh []any
	var freshAt []int
	seen := map[string]bool{}
	now := s.stamp()
	for i, c := range cs {
		c.StripBidi()
		if err := c.Validate(); err != nil {
			return nil, err
		}
		old, ok := m.commitment(c.ID)
		switch {
		case ok && !old.Deleted && old.SameContent(c):
			out[i] = CommitmentChange{Commitment: old, Kind: Unchanged}
			continue
		case ok:
			c.Created = old.Created
			out[i].Kind = Updated
			if old.Deleted {
				out[i].Kind = Created
			}
		default:
			c.Created = now
			out[i].Kind = Created
		}
		c.Updated = now
		c.Deleted, c.DeletedAt = false, time.Time{}
		out[i].Commitment = c
		if !ok && !seen[c.ID] {
			seen[c.ID] = true
			fresh = append(fresh, c)
			freshAt = append(freshAt, i)
		}
	}
	if len(fresh) > 0 {
		if _, err := s.commitments.InsertMany(ctx, fresh); err != nil {
			// Some were stored already (by someone memory does not know
			// of): write them one by one, which replaces those.
			for _, i := range freshAt {
				if err := s.putDoc(ctx, s.commitments, cs[i].ID, out[i].Commitment, false); err != nil {
					return nil, fmt.Errorf("planstore: upsert commitment %s: %w", cs[i].ID, err)
				}
			}
		}
		for _, i := range freshAt {
			m.putCommitment(out[i].Commitment)
		}
	}
	for i, ch := range out {
		if ch.Kind == Unchanged || slices.Contains(freshAt, i) {
			continue
		}
		if err := s.putDoc(ctx, s.commitments, ch.Commitment.ID, ch.Commitment, true); err != nil {
			return nil, fmt.Errorf("planstore: upsert commitment %s: %w", ch.Commitment.ID, err)
		}
		m.putCommitment(ch.Commitment)
	}
	return out, nil
}
