package search

import (
	"sync"
	"time"

	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// ModelIndex keeps an Index in step with the hub's read model: the search
// page, the search API and the peers (hub/peers) all ask it. It syncs
// lazily, on the first query after the model's version moved, and
// re-analyses only the commitments that changed: a new version stamp, a
// new count or date of progress updates, or a progress update put or
// removed (readmodel.OnUpdate). So a query after one ingest costs one
// commitment's analysis plus a walk over the model's commitments. Hidden
// pilots' and deleted commitments leave the index at the sync. It is safe
// for concurrent use.
type ModelIndex struct {
	model *readmodel.Model
	index *Index

	mu      sync.Mutex
	version uint64
	synced  bool
	seen    map[string]fingerprint // commitment IRI -> what was indexed

	dirtyMu sync.Mutex
	dirty   map[string]bool // commitments whose timeline changed
}

// fingerprint is what says a commitment changed since it was indexed.
type fingerprint struct {
	stamp      time.Time
	updates    int
	lastUpdate time.Time
}

func (f fingerprint) same(g fingerprint) bool {
	return f.stamp.Equal(g.stamp) && f.updates == g.updates && f.lastUpdate.Equal(g.lastUpdate)
}

// NewModelIndex returns an index over m's visible commitments; it reads
// nothing until the first query.
func NewModelIndex(m *readmodel.Model) *ModelIndex {
	x := &ModelIndex{model: m, index: New(), seen: map[string]fingerprint{}, dirty: map[string]bool{}}
	m.OnUpdate(func(_, commitment string) {
		x.dirtyMu.Lock()
		x.dirty[commitment] = true
		x.dirtyMu.Unlock()
	})
	return x
}

// Model is the read model the index follows.
func (x *ModelIndex) Model() *readmodel.Model { return x.model }

// Index returns the index, synced with the model.
func (x *ModelIndex) Index() *Index {
	x.sync()
	return x.index
}

// DocOf is what the index holds of a commitment and its progress updates.
func DocOf(c readmodel.Commitment, tl []readmodel.Update) Doc {
	return Doc{ID: c.ID, Pilot: c.Pilot, Areas: c.Themes, Fields: Fields(c, tl)}
}

func (x *ModelIndex) sync() {
	x.mu.Lock()
	defer x.mu.Unlock()
	v := x.model.Version()
	if x.synced && v == x.version {
		return
	}
	x.dirtyMu.Lock()
	dirty := x.dirty
	x.dirty = map[string]bool{}
	x.dirtyMu.Unlock()
	live := make(map[string]bool, len(x.seen))
	x.model.Each(func(c readmodel.Commitment) bool {
		live[c.ID] = true
		fp := fingerprint{stamp: c.Updated, updates: c.Updates, lastUpdate: c.LastUpdate}
		if fp.stamp.IsZero() {
			fp.stamp = c.Published
		}
		if old, ok := x.seen[c.ID]; ok && old.same(fp) && !fp.stamp.IsZero() && !dirty[c.ID] {
			return true
		}
		x.seen[c.ID] = fp
		x.index.Put(DocOf(c, x.model.Timeline(c.ID)))
		return true
	})
	for id := range x.seen {
		if !live[id] {
			delete(x.seen, id)
			x.index.Remove(id)
		}
	}
	x.version, x.synced = v, true
}

// Search runs q over the model's visible commitments (Index.Search).
func (x *ModelIndex) Search(q Query) (Result, error) {
	return x.Index().Search(q)
}

// Related lists the visible commitments related to id (Index.Related).
func (x *ModelIndex) Related(id string) []Related {
	return x.Index().Related(id)
}
