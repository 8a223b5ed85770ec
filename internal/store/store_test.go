package store_test

import (
	"context"
	"testing"

	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestEmbeddedInsertDuplicateAndFind(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	c := db.Collection("things")
	if err := store.EnsureIndexes(ctx, c, mongo.IndexModel{Keys: bson.D{{Key: "k", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	// Idempotent: the same specs again are accepted, several at once (a
	// restart), which crashed the embedded store when sent in one command.
	two := []mongo.IndexModel{{Keys: bson.D{{Key: "k", Value: 1}}}, {Keys: bson.D{{Key: "j", Value: 1}}}}
	for range 2 {
		if err := store.EnsureIndexes(ctx, c, two...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.InsertOne(ctx, bson.M{"_id": "https://a.example/1", "k": 1}); err != nil {
		t.Fatal(err)
	}
	_, err := c.InsertOne(ctx, bson.M{"_id": "https://a.example/1", "k": 2})
	if !store.IsDuplicate(err) {
		t.Fatalf("second insert: want duplicate-key error, got %v", err)
	}
	var got struct {
		K int `bson:"k"`
	}
	if err := c.FindOne(ctx, bson.M{"_id": "https://a.example/1"}).Decode(&got); err != nil || got.K != 1 {
		t.Fatalf("find: %v %+v", err, got)
	}
	err = store.NotFound(c.FindOne(ctx, bson.M{"_id": "nope"}).Err())
	if err != store.ErrNotFound {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	// findOneAndUpdate with upsert and sort: the lease query shape.
	res := c.FindOneAndUpdate(ctx, bson.M{"k": bson.M{"$lte": 1}}, bson.M{"$set": bson.M{"leased": true}},
		options.FindOneAndUpdate().SetSort(bson.D{{Key: "k", Value: 1}}).SetReturnDocument(options.After))
	if res.Err() != nil {
		t.Fatal(res.Err())
	}
}
