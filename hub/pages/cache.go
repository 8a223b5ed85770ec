package pages

import (
	"sync"

	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// versionCache keeps values derived from one version of a read model, by
// key. A new version empties it (what was derived is stale), and it never
// holds more than max entries, so its memory is bounded whatever readers
// ask for.
type versionCache[V any] struct {
	mu      sync.Mutex
	max     int
	model   *readmodel.Model
	version uint64
	entries map[string]V
}

func newVersionCache[V any](max int) *versionCache[V] {
	return &versionCache[V]{max: max, entries: map[string]V{}}
}

func (c *versionCache[V]) get(m *readmodel.Model, version uint64, key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	if c.model != m || c.version != version {
		return zero, false
	}
	v, ok := c.entries[key]
	return v, ok
}

func (c *versionCache[V]) put(m *readmodel.Model, version uint64, key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.model != m || c.version != version || len(c.entries) >= c.max {
		c.model, c.version = m, version
		clear(c.entries)
	}
	c.entries[key] = v
}
