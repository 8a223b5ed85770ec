package httpsig

import (
	"container/list"
	"context"
	"crypto"
	"sync"
	"time"
)

// sharedFetchTimeout bounds one key fetch shared by concurrent requests.
const sharedFetchTimeout = 20 * time.Second

// FetchKeyFunc fetches a key and its owner's IRI from the network.
type FetchKeyFunc func(ctx context.Context, keyID string) (pub crypto.PublicKey, owner string, err error)

// DefaultMinRefresh is the default KeyCache.MinRefresh.
const DefaultMinRefresh = 10 * time.Second

// KeyCache is a bounded, concurrency-safe LRU cache of public keys in front
// of a FetchKeyFunc; it implements KeyResolver. Failed fetches are not
// cached. Concurrent lookups of one keyId share a single fetch, so a burst
// of deliveries from a new server costs one key fetch.
type KeyCache struct {
	fetch FetchKeyFunc
	size  int
	ttl   time.Duration

	// MinRefresh is the shortest time between two network fetches of one
	// key when refresh=true is requested. Every badly signed request asks
	// for a refresh, so without this floor anyone could make us hammer a
	// third party's key URL. Set it before first use; 0 disables the floor.
	MinRefresh time.Duration
	// Now is the clock (nil means time.Now); set it before first use.
	Now func() time.Time

	mu       sync.Mutex
	lru      *list.List // of *cacheEntry, most recent first
	items    map[string]*list.Element
	inflight map[string]*flight
}

type cacheEntry struct {
	keyID     string
	pub       crypto.PublicKey
	owner     string
	fetchedAt time.Time
}

type flight struct {
	done  chan struct{}
	pub   crypto.PublicKey
	owner string
	err   error
}

// NewKeyCache returns a cache holding at most size keys (default 10,000 when
// size <= 0), each trusted for ttl (default 1 hour when ttl <= 0) before it
// is fetched again.
func NewKeyCache(fetch FetchKeyFunc, size int, ttl time.Duration) *KeyCache {
	if size <= 0 {
		size = 10000
	}
	if ttl <= 0 {
		ttl = time.Hour
	}
	return &KeyCache{
		fetch:      fetch,
		size:       size,
		ttl:        ttl,
		MinRefresh: DefaultMinRefresh,
		lru:        list.New(),
		items:      map[string]*list.Element{},
		inflight:   map[string]*flight{},
	}
}

func (c *KeyCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// ResolveKey implements KeyResolver. refresh=true bypasses the cache unless
// the key was fetched less than MinRefresh ago.
func (c *KeyCache) ResolveKey(ctx context.Context, keyID string, refresh bool) (crypto.PublicKey, string, error) {
	c.mu.Lock()
	now := c.now()
	if el, ok := c.items[keyID]; ok {
		e := el.Value.(*cacheEntry)
		age := now.Sub(e.fetchedAt)
		if age < c.ttl && (!refresh || age < c.MinRefresh) {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return e.pub, e.owner, nil
		}
	}
	if f, ok := c.inflight[keyID]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.pub, f.owner, f.err
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	c.inflight[keyID] = f
	c.mu.Unlock()

	// The fetch is shared by every request waiting on this key, so it must
	// not die with the first caller's request (a sender hanging up would
	// fail the others); it gets its own bound instead.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedFetchTimeout)
	f.pub, f.owner, f.err = c.fetch(fctx, keyID)
	cancel()

	c.mu.Lock()
	delete(c.inflight, keyID)
	if f.err == nil {
		c.store(&cacheEntry{keyID: keyID, pub: f.pub, owner: f.owner, fetchedAt: c.now()})
	}
	c.mu.Unlock()
	close(f.done)
	return f.pub, f.owner, f.err
}

// store inserts or replaces e and evicts the least recently used entries
// beyond the size bound. c.mu must be held.
func (c *KeyCache) store(e *cacheEntry) {
	if el, ok := c.items[e.keyID]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.items[e.keyID] = c.lru.PushFront(e)
	for c.lru.Len() > c.size {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).keyID)
	}
}

// Invalidate drops keyID from the cache, e.g. when an actor Update or Delete
// arrives.
func (c *KeyCache) Invalidate(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[keyID]; ok {
		c.lru.Remove(el)
		delete(c.items, keyID)
	}
}

// Len reports how many keys are cached.
func (c *KeyCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
