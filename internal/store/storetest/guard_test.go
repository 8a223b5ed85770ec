package storetest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// TestWatchTellsIDLookupsFromScans: the guard sees every selecting command
// the driver sends to the watched database, and calls a command "by _id"
// only when each of its statements is a single _id equality with a string
// or ObjectID (what the embedded store answers from its index).
func TestWatchTellsIDLookupsFromScans(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	other := storetest.DB(t)
	w := storetest.Watch(t, db)
	c := db.Collection("things")
	if _, err := c.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: "a"}, {Key: "at", Value: 1}}, bson.D{{Key: "_id", Value: "b"}, {Key: "at", Value: 2}}}); err != nil {
		t.Fatal(err)
	}
	_ = other.Collection("things").FindOne(ctx, bson.D{{Key: "at", Value: 1}}).Err() // not watched
	start := time.Now()
	byID := []func() error{
		func() error { return c.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Err() },
		func() error { return c.FindOne(ctx, bson.D{{Key: "_id", Value: bson.NewObjectID()}}).Err() },
		func() error {
			_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "a"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: 3}}}})
			return err
		},
		func() error { _, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: "b"}}); return err },
	}
	scans := []func() error{
		func() error { return c.FindOne(ctx, bson.D{{Key: "at", Value: 1}}).Err() },
		func() error { return c.FindOne(ctx, bson.D{{Key: "_id", Value: 7}}).Err() },
		func() error {
			return c.FindOne(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{"a"}}}}}).Err()
		},
		func() error { _, err := c.CountDocuments(ctx, bson.D{{Key: "_id", Value: "a"}}); return err },
		func() error { _, err := c.EstimatedDocumentCount(ctx); return err },
		func() error {
			_, err := c.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: 0}}}})
			return err
		},
		func() error {
			_, err := c.UpdateMany(ctx, bson.D{{Key: "at", Value: 9}}, bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: 3}}}})
			return err
		},
	}
	for _, f := range append(byID, scans...) {
		if err := f(); err != nil && !strings.Contains(err.Error(), "no documents") {
			t.Fatal(err)
		}
	}
	got := w.Commands(start)
	if len(got) != len(byID)+len(scans) {
		t.Fatalf("watched %d commands, want %d: %v", len(got), len(byID)+len(scans), got)
	}
	for i, cmd := range got {
		if cmd.Collection != "things" {
			t.Errorf("%v: collection %q, want things", cmd, cmd.Collection)
		}
		if want := i >= len(byID); cmd.Scans() != want {
			t.Errorf("command %d (%v): scans = %v, want %v", i, cmd, cmd.Scans(), want)
		}
	}
	if s := w.Scans(start); len(s) != len(scans) || s[0].Filter != `{"at": {"$numberInt":"1"}}` || strings.Join(s[0].Keys, ",") != "at" {
		t.Errorf("scans %v, want %d starting with the filter on at", s, len(scans))
	}
	allowed := []storetest.Allowed{{Name: "find", Collection: "things", Keys: "at"}}
	if left := storetest.Unexpected(w.Scans(start), allowed); len(left) != len(scans)-1 {
		t.Errorf("an allow-list entry for find by at left %v", left)
	}
	// A read allowed once is unexpected the second time.
	_ = c.FindOne(ctx, bson.D{{Key: "at", Value: 2}}).Err()
	allowed[0].AtMost = 1
	if left := storetest.Unexpected(w.Scans(start), allowed); len(left) != len(scans) || left[len(left)-1].Filter != `{"at": {"$numberInt":"2"}}` {
		t.Errorf("an entry allowing one find by at left %v, want the second one too", left)
	}
}
