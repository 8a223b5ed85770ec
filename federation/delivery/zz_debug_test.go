package delivery

import (
	"context"
	"testing"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestZZDebugInsertMany(t *testing.T) {
	ctx := context.Background()
	c := storetest.DB(t).Collection("k")
	_, _ = c.InsertMany(ctx, []any{bson.M{"_id": "b"}, bson.M{"_id": "d"}})
	_, err := c.InsertMany(ctx, []any{bson.M{"_id": "a"}, bson.M{"_id": "b"}, bson.M{"_id": "c"}, bson.M{"_id": "d"}, bson.M{"_id": "e"}}, options.InsertMany().SetOrdered(false))
	t.Logf("%#v", err)
	n, _ := c.CountDocuments(ctx, bson.M{})
	t.Log(n)
}
