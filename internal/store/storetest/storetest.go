// Package storetest gives each test its own database on one store shared by
// the test binary: the embedded FerretDB by default, or the MongoDB named by
// OGPNET_TEST_MONGO_URI (so every query shape can be checked on both).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

var (
	once    sync.Once
	shared  *store.Store
	openErr error
)

// Store returns the test binary's shared store, starting it on first use.
// The embedded store's files live in a temporary folder removed at exit of
// the OS temp cleaner; each test uses its own database name.
func Store(t testing.TB) *store.Store {
	t.Helper()
	once.Do(func() {
		dir, err := os.MkdirTemp("", "ogpnet-storetest-")
		if err != nil {
			openErr = err
			return
		}
		shared, openErr = store.Open(context.Background(), store.Options{
			URI:     os.Getenv("OGPNET_TEST_MONGO_URI"),
			DataDir: dir,
			Logger:  slog.New(slog.DiscardHandler),
			Observe: observe, // guard.go
		})
	})
	if openErr != nil {
		t.Fatalf("storetest: %v", openErr)
	}
	return shared
}

// DB returns a fresh, uniquely named database, dropped when the test ends.
func DB(t testing.TB) *mongo.Database {
	t.Helper()
	s := Store(t)
	db := s.DB(Name())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
	})
	return db
}

// Name returns a unique database name (MongoDB caps names at 63 bytes).
func Name() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t_" + hex.EncodeToString(b)
}
