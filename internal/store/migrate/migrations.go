package migrate

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// All is every migration, in order. Append only: a released migration is
// never changed or renumbered, since data out there records having run it.
func All() []Migration {
	return []Migration{
		{
			Version: 1,
			Name:    "stamp the layout before versioned data",
			Plan: func(context.Context, *mongo.Database) ([]string, error) {
				return []string{"no data change: records that the data has the layout of ogpnet before versioned data (version 0)"}, nil
			},
			Apply: func(context.Context, *mongo.Database) ([]string, error) { return nil, nil },
		},
		{
			Version: 2,
			Name:    "drop the failure fields of delivery host documents",
			Plan:    hostFields.plan,
			Apply:   hostFields.apply,
		},
	}
}

// hostFields: before failure days became documents of their own
// (delivery_host_days, one per day, so that a success deletes them
// atomically), each delivery_hosts document carried failureDays,
// unavailable and unavailableSince. The code has ignored them since; left
// in place they read as a host's state and are not.
var hostFields = unsetFields{
	coll:   "delivery_hosts",
	fields: []string{"failureDays", "unavailable", "unavailableSince"},
}

// unsetFields removes fields no code reads any more.
type unsetFields struct {
	coll   string
	fields []string
}

func (u unsetFields) filter() bson.M {
	var or bson.A
	for _, f := range u.fields {
		or = append(or, bson.M{f: bson.M{"$exists": true}})
	}
	return bson.M{"$or": or}
}

func (u unsetFields) plan(ctx context.Context, db *mongo.Database) ([]string, error) {
	n, err := db.Collection(u.coll).CountDocuments(ctx, u.filter())
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	return []string{fmt.Sprintf("%s: remove %v from %d documents", u.coll, u.fields, n)}, nil
}

func (u unsetFields) apply(ctx context.Context, db *mongo.Database) ([]string, error) {
	unset := bson.M{}
	for _, f := range u.fields {
		unset[f] = ""
	}
	// updateMany works on both stores; a cut-off run leaves some documents
	// cleaned and the rest for the next run.
	res, err := db.Collection(u.coll).UpdateMany(ctx, u.filter(), bson.M{"$unset": unset})
	if err != nil {
		return nil, err
	}
	if res.ModifiedCount == 0 {
		return nil, nil
	}
	return []string{fmt.Sprintf("%s: removed %v from %d documents", u.coll, u.fields, res.ModifiedCount)}, nil
}
