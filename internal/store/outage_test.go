package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// serveFor runs Serve on addr in dir until the returned stop is called.
func serveFor(t *testing.T, dir, addr string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeOptions{DataDir: dir, Addr: addr, Logger: slog.New(slog.DiscardHandler),
			Ready: func(string) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestOutageClassifiedAndHealed: with the served store stopped, a write
// fails within a few seconds with an error Unavailable recognises; when it
// is served again on the same address and folder, the same client works
// again without reconnecting by hand, and what was written before is there.
func TestOutageClassifiedAndHealed(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	stop := serveFor(t, dir, addr)
	ctx := context.Background()
	st, err := Open(ctx, Options{URI: "mongodb://" + addr + "/"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	coll := st.DB("outage").Collection("things")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "before"}); err != nil {
		t.Fatal(err)
	}
	_, err = coll.InsertOne(ctx, bson.M{"_id": "before"})
	if err == nil || Unavailable(err) || !IsDuplicate(err) {
		t.Fatalf("a duplicate key is the store answering, not unavailability: %v", err)
	}
	if Unavailable(context.Canceled) || Unavailable(errors.New("x")) {
		t.Fatal("plain errors classified as unavailability")
	}
	stop()

	start := time.Now()
	_, err = coll.InsertOne(ctx, bson.M{"_id": "during"})
	took := time.Since(start)
	t.Logf("write with the store stopped failed after %v: %v", took.Round(time.Millisecond), err)
	if !Unavailable(err) || !Unavailable(fmt.Errorf("wrapped: %w", err)) {
		t.Fatalf("write during the outage: %v (Unavailable=false)", err)
	}
	if took > DefaultServerSelectionTimeout+2*time.Second {
		t.Errorf("the write took %v to fail; want about the server selection timeout (%v)", took, DefaultServerSelectionTimeout)
	}
	if err := st.Ping(ctx, time.Second); !Unavailable(err) && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ping during the outage: %v", err)
	}

	stop = serveFor(t, dir, addr)
	defer stop()
	start = time.Now()
	for st.Ping(ctx, time.Second) != nil {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the client did not reconnect within 10 s of the store's return")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("ping answered %v after the store came back", time.Since(start).Round(time.Millisecond))
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "after"}); err != nil {
		t.Fatalf("write after the outage: %v", err)
	}
	n, err := coll.CountDocuments(ctx, bson.M{})
	if err != nil || n != 2 {
		t.Fatalf("count = %d, %v; want before and after", n, err)
	}
	// A second server on the same address is refused with a clear error.
	if err := Serve(ctx, ServeOptions{DataDir: t.TempDir(), Addr: addr}); err == nil {
		t.Error("serving twice on one address succeeded")
	}
}
