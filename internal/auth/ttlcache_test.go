package auth

import (
	"testing"
	"time"
)

// A replica trusts its cached copy for cacheTTL and no longer: past it, a
// revocation made on another replica must be read from the store.
func TestTTLCacheExpiresDropsAndStartsOver(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	c := newTTLCache[string](30*time.Second, 2)
	c.now = func() time.Time { return now }

	c.put("a", "alice")
	if v, ok := c.get("a"); !ok || v != "alice" {
		t.Fatalf("get after put = %q, %v", v, ok)
	}
	now = now.Add(30 * time.Second)
	if _, ok := c.get("a"); !ok {
		t.Error("entry gone at exactly its TTL; want it kept until the TTL has passed")
	}
	now = now.Add(time.Nanosecond)
	if v, ok := c.get("a"); ok || v != "" {
		t.Errorf("get past TTL = %q, %v; want a miss and the zero value", v, ok)
	}

	c.put("a", "alice")
	c.drop("a")
	if _, ok := c.get("a"); ok {
		t.Error("get after drop hit")
	}

	// At max entries the cache starts over rather than grow.
	c.put("a", "alice")
	c.put("b", "bob")
	c.put("c", "carol")
	_, hasA := c.get("a")
	_, hasB := c.get("b")
	v, hasC := c.get("c")
	if hasA || hasB || !hasC || v != "carol" {
		t.Errorf("after overflow: a %v, b %v, c %q %v; want only c", hasA, hasB, v, hasC)
	}
}
