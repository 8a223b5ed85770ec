package httpsig

import (
	"context"
	"crypto"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type countingFetch struct {
	n    atomic.Int32
	err  error
	gate chan struct{} // when non-nil, fetches block until it is closed
}

func (f *countingFetch) fetch(ctx context.Context, keyID string) (crypto.PublicKey, string, error) {
	f.n.Add(1)
	if f.gate != nil {
		<-f.gate
	}
	if f.err != nil {
		return nil, "", f.err
	}
	// A distinct value per keyId, so mix-ups between entries show.
	return keyID + "-pub", keyID + "-owner", nil
}

func TestKeyCache(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	newCache := func(f *countingFetch, size int) *KeyCache {
		c := NewKeyCache(f.fetch, size, time.Hour)
		c.Now = func() time.Time { return clock }
		return c
	}

	t.Run("caches and honours refresh", func(t *testing.T) {
		f := &countingFetch{}
		c := newCache(f, 10)
		for range 3 {
			pub, owner, err := c.ResolveKey(ctx, "k1", false)
			if err != nil || pub != "k1-pub" || owner != "k1-owner" {
				t.Fatalf("got %v %q %v", pub, owner, err)
			}
		}
		if f.n.Load() != 1 {
			t.Fatalf("%d fetches, want 1", f.n.Load())
		}
		// A refresh right after a fetch is absorbed by MinRefresh.
		c.ResolveKey(ctx, "k1", true)
		if f.n.Load() != 1 {
			t.Fatalf("refresh within MinRefresh fetched again")
		}
		clock = clock.Add(DefaultMinRefresh + time.Second)
		c.ResolveKey(ctx, "k1", true)
		if f.n.Load() != 2 {
			t.Fatalf("refresh after MinRefresh did not fetch")
		}
		clock = clock.Add(time.Hour + time.Second)
		c.ResolveKey(ctx, "k1", false)
		if f.n.Load() != 3 {
			t.Fatalf("expired entry was not refetched")
		}
		c.Invalidate("k1")
		c.ResolveKey(ctx, "k1", false)
		if f.n.Load() != 4 {
			t.Fatalf("invalidated entry was not refetched")
		}
	})

	t.Run("bounded LRU", func(t *testing.T) {
		f := &countingFetch{}
		c := newCache(f, 2)
		c.ResolveKey(ctx, "a", false)
		c.ResolveKey(ctx, "b", false)
		c.ResolveKey(ctx, "a", false) // a is now most recent
		c.ResolveKey(ctx, "c", false) // evicts b
		if c.Len() != 2 {
			t.Fatalf("len %d", c.Len())
		}
		before := f.n.Load()
		c.ResolveKey(ctx, "a", false)
		if f.n.Load() != before {
			t.Fatal("a was evicted instead of b")
		}
		c.ResolveKey(ctx, "b", false)
		if f.n.Load() != before+1 {
			t.Fatal("b was not evicted")
		}
	})

	t.Run("errors are not cached", func(t *testing.T) {
		f := &countingFetch{err: errors.New("boom")}
		c := newCache(f, 10)
		for range 2 {
			if _, _, err := c.ResolveKey(ctx, "k", false); err == nil {
				t.Fatal("no error")
			}
		}
		if f.n.Load() != 2 || c.Len() != 0 {
			t.Fatalf("fetches %d len %d", f.n.Load(), c.Len())
		}
	})

	t.Run("concurrent lookups share one fetch", func(t *testing.T) {
		f := &countingFetch{gate: make(chan struct{})}
		c := newCache(f, 10)
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for range 50 {
			wg.Go(func() {
				pub, _, err := c.ResolveKey(ctx, "k", false)
				if err == nil && pub != "k-pub" {
					err = errors.New("wrong key")
				}
				errs <- err
			})
		}
		// Let the goroutines pile up on the in-flight fetch, then release it.
		for f.n.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		close(f.gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := f.n.Load(); n != 1 {
			t.Fatalf("%d fetches, want 1", n)
		}
	})
}
