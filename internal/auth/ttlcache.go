package auth

import (
	"sync"
	"time"
)

const (
	// cacheTTL bounds how long a replica trusts its cached copy of a session
	// or token: a revocation on another replica takes effect within it.
	cacheTTL = 30 * time.Second
	// cacheMax bounds memory; past it the cache simply starts over.
	cacheMax = 10000
)

// ttlCache keeps recently read documents (sessions, tokens) by _id for a
// short while: every store read is a scan on the embedded store, and these
// are looked up on every request. It is safe for concurrent use.
type ttlCache[V any] struct {
	ttl time.Duration
	max int
	now func() time.Time // the clock; tests replace it

	mu      sync.Mutex
	entries map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	value   V
	fetched time.Time
}

// newTTLCache makes a cache whose entries live for ttl and which starts over
// once it holds max of them.
func newTTLCache[V any](ttl time.Duration, max int) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, max: max, now: time.Now, entries: map[string]ttlEntry[V]{}}
}

// get returns the value cached for key unless it is missing or older than
// the TTL.
func (c *ttlCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || c.now().Sub(e.fetched) > c.ttl {
		var zero V
		return zero, false
	}
	return e.value, true
}

// put caches v for key as of now.
func (c *ttlCache[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.entries = map[string]ttlEntry[V]{}
	}
	c.entries[key] = ttlEntry[V]{value: v, fetched: c.now()}
}

// drop forgets key, so the next get reads the store.
func (c *ttlCache[V]) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}
