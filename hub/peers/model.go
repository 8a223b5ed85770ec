package peers

import (
	"github.com/ogpnet/ogpnet/hub/search"
)

// ModelIndex answers peers from the hub's search index, so the pages'
// peers panel and the API's peers endpoint share one index (and the
// search page a third use of it). It is safe for concurrent use.
type ModelIndex struct {
	search *search.ModelIndex
}

// NewModelIndex returns peers over x (which follows the read model).
func NewModelIndex(x *search.ModelIndex) *ModelIndex {
	return &ModelIndex{search: x}
}

// Similar returns up to limit peers of the visible commitment id, best
// first (Select); none for an unknown or hidden one.
func (p *ModelIndex) Similar(id string, limit int) []Match {
	c, ok := p.search.Model().Commitment(id)
	if !ok || limit <= 0 {
		return nil
	}
	x := p.search.Index()
	return Select(c.Pilot, x.Related(id), limit, func(other string) []string { return x.Words(id, other) })
}
