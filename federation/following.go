package federation

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// followingMarkCollection is the collection of the following's mark
// (markedSet): the actors we follow (a hub's members) are read on each
// Accept, every backfill poll and by /following, from memory.
const followingMarkCollection = "following_mark"

func loadFollowing(ctx context.Context, coll, mark *mongo.Collection) (*markedSet[Following], error) {
	return loadMarkedSet(ctx, "following", coll, mark, "following", func(f Following) string { return f.Actor })
}
