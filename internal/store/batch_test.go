package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestInserterEachCallerGetsItsOutcome: concurrent inserts grouped into
// shared commands each report their own result; a duplicate _id is a
// duplicate-key error for that caller only, and every new document is stored.
func TestInserterEachCallerGetsItsOutcome(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	coll := s.DB("app").Collection("c")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "taken"}); err != nil {
		t.Fatal(err)
	}
	ins := NewInserter(coll)
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		id := fmt.Sprint("d", i)
		if i == 7 {
			id = "taken"
		}
		wg.Go(func() { errs[i] = ins.InsertOne(ctx, bson.M{"_id": id}) })
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i == 7 && !IsDuplicate(err):
			t.Errorf("insert of a taken _id: %v, want a duplicate-key error", err)
		case i != 7 && err != nil:
			t.Errorf("insert %d: %v", i, err)
		}
	}
	if n, _ := coll.CountDocuments(ctx, bson.M{}); n != 50 {
		t.Errorf("stored %d documents, want 50 (49 new and the one taken)", n)
	}
}
