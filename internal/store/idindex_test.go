package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestIDIndexServesIDLookups: on the embedded store, SQLite answers a
// lookup by _id (the expression FerretDB queries by) from the index the
// store adds, for collections that exist at start and for those given
// indexes later, instead of reading the whole table.
func TestIDIndexServesIDLookups(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	old := s.DB("app").Collection("old")
	if _, err := old.InsertOne(ctx, bson.M{"_id": "a"}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close(ctx)
	// Restart: "old" existed before, "fresh" gets its indexes now.
	s, err = Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	fresh := s.DB("app").Collection("fresh")
	if err := EnsureIndexes(ctx, fresh, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.InsertOne(ctx, bson.M{"_id": "b"}); err != nil {
		t.Fatal(err)
	}
	if err := fresh.FindOne(ctx, bson.M{"_id": "b"}).Err(); err != nil {
		t.Fatalf("find by _id through FerretDB: %v", err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "db", "app.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, coll := range []string{"old", "fresh"} {
		var table string
		if err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, coll).Scan(&table); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "` + table + `" WHERE _ferretdb_sjson->'$._id' = '"b"'`)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		_ = rows.Close()
		if got := strings.Join(plan, "; "); !strings.Contains(got, idIndexName(table)) {
			t.Errorf("%s: lookup by _id plan %q does not use %s", coll, got, idIndexName(table))
		}
	}
}
