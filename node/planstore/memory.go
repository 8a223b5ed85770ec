package planstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ogpnet/ogpnet/node/plan"
)

// memory is the node's plans, commitments, progress updates and plan
// touches held in memory: every read of the Store is served from here,
// since the embedded store scans a whole collection for any query other
// than a single _id lookup (a commitment page on a node with 1,500
// commitments took 1.2 s). One government's data is small (150,000
// progress updates are a few hundred MB at most).
//
// It is rebuilt from the store by Store.Load and kept current by the
// Store's own writes, which go to the store first and then here, under
// Store.wmu, so memory never holds what the store refused. The node runs as
// one process (one writer, node/service serialises writes): another
// process writing the same database is not seen until a restart (see
// docs/architecture.md, "Node memory").
//
// Values are stored as the store would return them (round-tripped through
// BSON) and handed out as deep copies, so no caller can change what
// another one reads.
type memory struct {
	mu          sync.RWMutex
	plans       map[string]plan.ActionPlan
	commitments map[string]plan.Commitment
	// commitmentIDs are every commitment's id (withdrawn ones included),
	// sorted.
	commitmentIDs []string
	updates       map[string]plan.ProgressUpdate
	// updatesOf holds each commitment's update ids (deleted ones
	// included), sorted, i.e. oldest first.
	updatesOf map[string][]string
	touched   map[string]time.Time
	// dirty is the Store's: set by every write, cleared when Refresh
	// announces the writes to other processes.
	dirty *atomic.Bool
}

func newMemory(dirty *atomic.Bool) *memory {
	return &memory{plans: map[string]plan.ActionPlan{}, commitments: map[string]plan.Commitment{},
		updates: map[string]plan.ProgressUpdate{}, updatesOf: map[string][]string{}, touched: map[string]time.Time{},
		dirty: dirty}
}

// LoadStats says what Load read and how long it took.
type LoadStats struct {
	Plans, Commitments, Updates int
	Took                        time.Duration
}

// Load (re)builds the in-memory model from the store: one pass over each
// collection. The node calls it at start, before serving; reads before
// it load lazily.
func (s *Store) Load(ctx context.Context) (LoadStats, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	return s.loadLocked(ctx)
}

func (s *Store) loadLocked(ctx context.Context) (LoadStats, error) {
	start := time.Now()
	// The generation first: a write another process announces after this
	// read makes Refresh load again, whether or not this load saw it.
	gen, err := s.generation(ctx)
	if err != nil {
		return LoadStats{}, err
	}
	m := newMemory(&s.dirty)
	plans, err := findAll[plan.ActionPlan](ctx, s.plans)
	if err != nil {
		return LoadStats{}, err
	}
	for _, p := range plans {
		p.NormalizeGuidelines()
		m.plans[p.ID] = p
	}
	cs, err := findAll[plan.Commitment](ctx, s.commitments)
	if err != nil {
		return LoadStats{}, err
	}
	for _, c := range cs {
		m.commitments[c.ID] = c
		m.commitmentIDs = append(m.commitmentIDs, c.ID)
	}
	slices.Sort(m.commitmentIDs)
	ups, err := findAll[plan.ProgressUpdate](ctx, s.updates)
	if err != nil {
		return LoadStats{}, err
	}
	for _, u := range ups {
		m.updates[u.ID] = u
		m.updatesOf[u.CommitmentID] = append(m.updatesOf[u.CommitmentID], u.ID)
	}
	for _, ids := range m.updatesOf {
		slices.Sort(ids)
	}
	touches, err := findAll[planTouch](ctx, s.touchedColl())
	if err != nil {
		return LoadStats{}, err
	}
	for _, t := range touches {
		m.touched[t.PlanID] = t.At
	}
	s.mem.Store(m)
	s.gen.Store(gen)
	return LoadStats{Plans: len(plans), Commitments: len(cs), Updates: len(ups), Took: time.Since(start)}, nil
}

func findAll[T any](ctx context.Context, coll *mongo.Collection) ([]T, error) {
	cur, err := coll.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("planstore: load %s: %w", coll.Name(), err)
	}
	var out []T
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("planstore: load %s: %w", coll.Name(), err)
	}
	return out, nil
}

// memory returns the loaded model, loading it first when no one has.
// Every write reads through here before it writes (under wmu), so memory
// is loaded before the first write lands.
func (s *Store) memory(ctx context.Context) (*memory, error) {
	if m := s.mem.Load(); m != nil {
		return m, nil
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if m := s.mem.Load(); m != nil {
		return m, nil
	}
	if _, err := s.loadLocked(ctx); err != nil {
		return nil, err
	}
	return s.mem.Load(), nil
}

// asStored returns v as the store gives it back (BSON's omissions and
// millisecond times), a copy that shares nothing with v.
func asStored[T any](v T) T {
	raw, err := bson.Marshal(v)
	if err != nil {
		return deepCopy(v)
	}
	var out T
	if err := bson.Unmarshal(raw, &out); err != nil {
		return deepCopy(v)
	}
	return out
}

// The memory's writers are called with Store.wmu held, after the store
// accepted the write.

func (m *memory) putPlan(p plan.ActionPlan) {
	m.dirty.Store(true)
	p = asStored(p)
	p.NormalizeGuidelines()
	m.mu.Lock()
	m.plans[p.ID] = p
	m.mu.Unlock()
}

func (m *memory) putCommitment(c plan.Commitment) {
	m.dirty.Store(true)
	c = asStored(c)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.commitments[c.ID]; !ok {
		i, _ := slices.BinarySearch(m.commitmentIDs, c.ID)
		m.commitmentIDs = slices.Insert(m.commitmentIDs, i, c.ID)
	}
	m.commitments[c.ID] = c
}

func (m *memory) putUpdate(u plan.ProgressUpdate) {
	m.dirty.Store(true)
	u = asStored(u)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.updates[u.ID]; !ok {
		ids := m.updatesOf[u.CommitmentID]
		i, _ := slices.BinarySearch(ids, u.ID)
		m.updatesOf[u.CommitmentID] = slices.Insert(ids, i, u.ID)
	}
	m.updates[u.ID] = u
}

func (m *memory) putTouch(planID string, at time.Time) {
	m.dirty.Store(true)
	m.mu.Lock()
	m.touched[planID] = at
	m.mu.Unlock()
}

// Readers.

func (m *memory) plan(id string) (plan.ActionPlan, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.plans[id]
	return deepCopy(p), ok
}

func (m *memory) planList() []plan.ActionPlan {
	m.mu.RLock()
	out := make([]plan.ActionPlan, 0, len(m.plans))
	for _, p := range m.plans {
		out = append(out, deepCopy(p))
	}
	m.mu.RUnlock()
	// Newest period first, then by id (as the store's sort did).
	slices.SortFunc(out, func(a, b plan.ActionPlan) int {
		if c := cmp.Compare(b.Period.Start, a.Period.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

func (m *memory) commitment(id string) (plan.Commitment, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.commitments[id]
	return deepCopy(c), ok
}

// liveCommitments are the live commitments of planID (every plan when
// ""), by id.
func (m *memory) liveCommitments(planID string) []plan.Commitment {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []plan.Commitment
	for _, id := range m.commitmentIDs {
		c := m.commitments[id]
		if c.Deleted || (planID != "" && c.PlanID != planID) {
			continue
		}
		out = append(out, deepCopy(c))
	}
	return out
}

func (m *memory) update(id string) (plan.ProgressUpdate, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u, ok := m.updates[id]
	return deepCopy(u), ok
}

// liveUpdates are a commitment's live updates, oldest first, the newest
// limit of them when limit > 0.
func (m *memory) liveUpdates(commitmentID string, limit int) []plan.ProgressUpdate {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ids := m.updatesOf[commitmentID]
	var out []plan.ProgressUpdate
	for i := len(ids) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		if u := m.updates[ids[i]]; !u.Deleted {
			out = append(out, deepCopy(u))
		}
	}
	slices.Reverse(out)
	return out
}

// hasUpdate reports whether a live update of commitmentID satisfies same.
func (m *memory) hasUpdate(commitmentID string, same func(plan.ProgressUpdate) bool) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, id := range m.updatesOf[commitmentID] {
		if u := m.updates[id]; !u.Deleted && same(u) {
			return true
		}
	}
	return false
}

func (m *memory) touch(planID string) time.Time {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.touched[planID]
}

// deepCopy returns v with every map, slice and pointer reachable through
// exported fields copied, so the copy shares nothing mutable with v (times
// and strings are immutable and stay shared).
func deepCopy[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	out := reflect.New(rv.Type()).Elem()
	copyValue(out, rv)
	return out.Interface().(T)
}

func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Struct:
		dst.Set(src) // unexported fields (time.Time's) as they are
		t := src.Type()
		for i := range src.NumField() {
			if t.Field(i).IsExported() && hasRefs(t.Field(i).Type) {
				copyValue(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Map:
		if src.IsNil() {
			dst.Set(reflect.Zero(src.Type()))
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		it := src.MapRange()
		for it.Next() {
			v := reflect.New(src.Type().Elem()).Elem()
			copyValue(v, it.Value())
			m.SetMapIndex(it.Key(), v)
		}
		dst.Set(m)
	case reflect.Slice:
		if src.IsNil() {
			dst.Set(reflect.Zero(src.Type()))
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		if hasRefs(src.Type().Elem()) {
			for i := range src.Len() {
				copyValue(s.Index(i), src.Index(i))
			}
		} else {
			reflect.Copy(s, src)
		}
		dst.Set(s)
	case reflect.Array:
		for i := range src.Len() {
			copyValue(dst.Index(i), src.Index(i))
		}
	case reflect.Pointer:
		if src.IsNil() {
			dst.Set(reflect.Zero(src.Type()))
			return
		}
		p := reflect.New(src.Type().Elem())
		copyValue(p.Elem(), src.Elem())
		dst.Set(p)
	default:
		dst.Set(src)
	}
}

var refsCache sync.Map // reflect.Type → bool

// hasRefs reports whether values of t can reach a map, slice or pointer
// through exported fields (else a plain assignment copies them).
func hasRefs(t reflect.Type) bool {
	if v, ok := refsCache.Load(t); ok {
		return v.(bool)
	}
	var r bool
	switch t.Kind() {
	case reflect.Map, reflect.Slice, reflect.Pointer, reflect.Interface:
		r = true
	case reflect.Array:
		r = hasRefs(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() && hasRefs(t.Field(i).Type) {
				r = true
				break
			}
		}
	}
	refsCache.Store(t, r)
	return r
}

// GenerationCollection holds one document, {_id: "plans", n}: a counter
// every node process sharing the database increments after it wrote plans,
// commitments or progress updates, so the others know to reload.
const GenerationCollection = "node_plan_generation"

type generationDoc struct {
	ID string `bson:"_id"`
	N  int64  `bson:"n"`
}

func (s *Store) generationColl() *mongo.Collection {
	return s.plans.Database().Collection(GenerationCollection)
}

func (s *Store) generation(ctx context.Context) (int64, error) {
	d, err := byID[generationDoc](ctx, s.generationColl(), "plans")
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	return d.N, err
}

// Refresh keeps memory current when several node processes share one
// database (replicas on MongoDB): it announces this process's writes since
// the last call by incrementing the generation counter, and reloads
// everything when the counter shows writes by another process. It reports
// whether it reloaded. The node calls it every second; with one process it
// costs one read of a one-document collection (and one increment after
// writes), and never reloads.
func (s *Store) Refresh(ctx context.Context) (bool, error) {
	if s.mem.Load() == nil {
		return false, nil // not loaded yet: the first read loads
	}
	stale := false
	if s.dirty.Swap(false) {
		var d generationDoc
		err := s.generationColl().FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "plans"}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: int64(1)}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
		if err != nil {
			s.dirty.Store(true) // announce at the next call
			return false, fmt.Errorf("planstore: announce writes: %w", err)
		}
		// Anything but our own increment means another process wrote too.
		stale = !s.gen.CompareAndSwap(d.N-1, d.N)
	} else {
		n, err := s.generation(ctx)
		if err != nil {
			return false, fmt.Errorf("planstore: generation: %w", err)
		}
		stale = n != s.gen.Load()
	}
	if !stale {
		return false, nil
	}
	_, err := s.Load(ctx)
	return err == nil, err
}
