package migrate

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// legacyHosts writes delivery_hosts documents in the layout before failure
// days were documents of their own (before commit a46c03d).
func legacyHosts(t *testing.T, db *mongo.Database) {
	t.Helper()
	ctx := context.Background()
	_, err := db.Collection("delivery_hosts").InsertMany(ctx, []any{
		bson.M{"_id": "down.example", "lastFailure": time.Now().UTC(), "failureDays": bson.A{"2026-01-01", "2026-01-02"},
			"unavailable": true, "unavailableSince": time.Now().UTC()},
		bson.M{"_id": "up.example", "lastSuccess": time.Now().UTC(), "unavailable": false},
		bson.M{"_id": "new.example", "lastSuccess": time.Now().UTC()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("keys").InsertOne(ctx, bson.M{"_id": "actor"}); err != nil {
		t.Fatal(err)
	}
}

func TestNewDatabaseIsStampedNewest(t *testing.T) {
	db := storetest.DB(t)
	ctx := context.Background()
	steps, err := Up(ctx, db, Options{BinaryVersion: "v9"})
	if err != nil || len(steps) != 1 || steps[0].Version != Latest() || steps[0].Name != "new database" {
		t.Fatalf("steps %+v, %v", steps, err)
	}
	s, _, err := Read(ctx, db)
	if err != nil || s.Version != Latest() || s.BinaryVersion != "v9" || len(s.History) != 1 {
		t.Fatalf("schema %+v, %v", s, err)
	}
	if steps, err := Up(ctx, db, Options{}); err != nil || len(steps) != 0 {
		t.Fatalf("second Up: %+v, %v", steps, err)
	}
}

// TestUpFromUnversionedData: data without a schema document (every store
// written before versioned data) runs every migration once; the dry run
// says what the real run then does, and a second run changes nothing.
func TestUpFromUnversionedData(t *testing.T) {
	db := storetest.DB(t)
	ctx := context.Background()
	legacyHosts(t, db)
	s, pending, err := Plan(ctx, db)
	if err != nil || s.Version != 0 || len(pending) != Latest() {
		t.Fatalf("plan: %+v %+v %v", s, pending, err)
	}
	if got := strings.Join(pending[1].Changes, ";"); !strings.Contains(got, "delivery_hosts") || !strings.Contains(got, "from 2 documents") {
		t.Errorf("dry run of 2 says %q", got)
	}
	// The dry run changed nothing.
	if n, _ := db.Collection("delivery_hosts").CountDocuments(ctx, bson.M{"failureDays": bson.M{"$exists": true}}); n != 1 {
		t.Fatalf("the dry run changed the data: %d documents with failureDays", n)
	}
	if _, fresh, _ := Read(ctx, db); fresh {
		t.Fatal("data read as a new database")
	}
	steps, err := Up(ctx, db, Options{BinaryVersion: "v2"})
	if err != nil || len(steps) != Latest() {
		t.Fatalf("up: %+v, %v", steps, err)
	}
	if got := strings.Join(steps[1].Changed, ";"); !strings.Contains(got, "from 2 documents") {
		t.Errorf("migration 2 reports %q", got)
	}
	n, err := db.Collection("delivery_hosts").CountDocuments(ctx, hostFields.filter())
	if err != nil || n != 0 {
		t.Fatalf("%d host documents keep the old fields (%v)", n, err)
	}
	var h bson.M
	if err := db.Collection("delivery_hosts").FindOne(ctx, bson.M{"_id": "down.example"}).Decode(&h); err != nil || h["lastFailure"] == nil {
		t.Fatalf("the fields the code reads went too: %v %v", h, err)
	}
	if _, p, err := Plan(ctx, db); err != nil || len(p) != 0 {
		t.Fatalf("after Up, plan %+v %v", p, err)
	}
	// Idempotent: a migration cut off before its version was recorded runs
	// again at the next start, and changes nothing more.
	if ch, err := hostFields.apply(ctx, db); err != nil || len(ch) != 0 {
		t.Fatalf("second apply: %v %v", ch, err)
	}
}

// TestRefusesNewerData: a binary never runs on a layout it does not know.
func TestRefusesNewerData(t *testing.T) {
	db := storetest.DB(t)
	ctx := context.Background()
	legacyHosts(t, db)
	if _, err := db.Collection(Collection).InsertOne(ctx, bson.M{"_id": schemaID, "version": Latest() + 1, "binaryVersion": "v99.0.0"}); err != nil {
		t.Fatal(err)
	}
	_, err := Up(ctx, db, Options{})
	var ne *NewerError
	if !errors.As(err, &ne) || ne.DataVersion != Latest()+1 || ne.Known != Latest() {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{db.Name(), "v99.0.0", "restore the backup"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if _, _, err := Plan(ctx, db); !errors.As(err, &ne) {
		t.Errorf("plan: %v", err)
	}
	// Nothing was migrated under the refusal.
	if n, _ := db.Collection("delivery_hosts").CountDocuments(ctx, hostFields.filter()); n != 2 {
		t.Errorf("%d legacy documents left, want 2", n)
	}
}

// TestConcurrentStartsMigrateOnce: replicas starting together run each
// migration once; the others wait for the lock holder and find the data
// migrated.
func TestConcurrentStartsMigrateOnce(t *testing.T) {
	db := storetest.DB(t)
	ctx := context.Background()
	legacyHosts(t, db)
	var wg sync.WaitGroup
	ran := make([][]Step, 6)
	errs := make([]error, 6)
	for i := range ran {
		wg.Add(1)
		go func() { defer wg.Done(); ran[i], errs[i] = Up(ctx, db, Options{}) }()
	}
	wg.Wait()
	total := 0
	for i := range ran {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		total += len(ran[i])
	}
	s, _, _ := Read(ctx, db)
	if total != Latest() || len(s.History) != Latest() || s.Version != Latest() {
		t.Fatalf("%d steps run over all replicas, history %+v", total, s.History)
	}
	if n, _ := db.Collection(Collection).CountDocuments(ctx, bson.M{"_id": lockID}); n != 0 {
		t.Error("the lock was left behind")
	}
}

// TestStaleLockIsTakenOver: a process that died holding the lock does not
// block every later start; a live holder does, up to LockWait.
func TestStaleLockIsTakenOver(t *testing.T) {
	db := storetest.DB(t)
	ctx := context.Background()
	legacyHosts(t, db)
	if _, err := db.Collection(Collection).InsertOne(ctx, lockDoc{ID: lockID, Owner: "dead", At: time.Now().Add(-time.Hour).UTC()}); err != nil {
		t.Fatal(err)
	}
	if _, err := Up(ctx, db, Options{LockWait: time.Second}); err != nil {
		t.Fatalf("stale lock: %v", err)
	}
	db2 := storetest.DB(t)
	legacyHosts(t, db2)
	if _, err := db2.Collection(Collection).InsertOne(ctx, lockDoc{ID: lockID, Owner: "alive", At: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	_, err := Up(ctx, db2, Options{LockWait: 500 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "alive") || !strings.Contains(err.Error(), "migration lock") {
		t.Fatalf("live lock: %v", err)
	}
}
