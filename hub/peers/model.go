package peers

import (
	"sync"
	"time"

	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// ModelIndex keeps an Index in step with the hub's read model, so the
// pages' peers panel and the API's peers endpoint answer from one index. It
// syncs lazily, on the first query after the model's version moved, and
// only re-tokenises commitments whose version stamp changed, so a query
// after one ingest costs one commitment's work plus a walk over the model.
// It is safe for concurrent use.
type ModelIndex struct {
	model *readmodel.Model

	mu      sync.Mutex
	version uint64
	synced  bool
	stamps  map[string]time.Time // commitment IRI -> Updated/Published seen
	index   *Index
}

// NewModelIndex returns an index over m's visible commitments; it reads
// nothing until the first query.
func NewModelIndex(m *readmodel.Model) *ModelIndex {
	return &ModelIndex{model: m, stamps: map[string]time.Time{}, index: New()}
}

// sync brings the index up to date with the model's visible commitments:
// hidden pilots' and deleted commitments are removed, so they are never
// offered as peers.
func (p *ModelIndex) sync() {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := p.model.Version()
	if p.synced && v == p.version {
		return
	}
	seen := make(map[string]bool, len(p.stamps))
	p.model.Each(func(c readmodel.Commitment) bool {
		seen[c.ID] = true
		stamp := c.Updated
		if stamp.IsZero() {
			stamp = c.Published
		}
		if old, ok := p.stamps[c.ID]; ok && old.Equal(stamp) && !stamp.IsZero() {
			return true
		}
		p.stamps[c.ID] = stamp
		p.index.Put(docOf(c))
		return true
	})
	for id := range p.stamps {
		if !seen[id] {
			delete(p.stamps, id)
			p.index.Remove(id)
		}
	}
	p.version, p.synced = v, true
}

// docOf collects a commitment's text in every language for TF-IDF. HTML
// fields are sanitised HTML; tags are not words, so they are stripped.
func docOf(c readmodel.Commitment) Doc {
	d := Doc{ID: c.ID, Jurisdiction: c.Pilot, PolicyAreas: c.Themes}
	add := func(s string) {
		if s != "" {
			d.Texts = append(d.Texts, s)
		}
	}
	add(c.Name.Default)
	for _, s := range c.Name.Map {
		add(s)
	}
	add(readmodel.HTMLText(string(c.SummaryHTML.Default)))
	for _, s := range c.SummaryHTML.Map {
		add(readmodel.HTMLText(string(s)))
	}
	add(readmodel.HTMLText(string(c.ContentHTML.Default)))
	for _, s := range c.ContentHTML.Map {
		add(readmodel.HTMLText(string(s)))
	}
	add(c.Objective.Default)
	for _, s := range c.Objective.Map {
		add(s)
	}
	return d
}

// Similar returns up to limit peers of the visible commitment id, best
// first (Index.Similar); none for an unknown or hidden one.
func (p *ModelIndex) Similar(id string, limit int) []Match {
	p.sync()
	return p.index.Similar(id, limit)
}
