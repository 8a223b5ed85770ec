package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/mongo"
	_ "modernc.org/sqlite" // the SQLite FerretDB uses: same library, same locks
)

// Why the store adds an index of its own to the embedded store's tables
//
// FerretDB 1.24 on SQLite keeps each collection as a table of JSON documents
// and pushes a filter on a single _id down as
// `WHERE _ferretdb_sjson->'$._id' = ?`, but the unique index it creates on
// _id is on the expression `_ferretdb_sjson->"_id"`. SQLite matches
// expression indexes by their text, so it never uses that index for the
// query: every find, update and delete by _id read the whole table
// (measured: a delete by _id took 0.66 ms with 100 documents and 160 ms
// with 20,000). Only inserts used the index (for uniqueness). So, for the
// embedded store only, each collection's table also gets an index on the
// very expression FerretDB queries by, created directly in the SQLite file
// (FerretDB does not list it and a dropped collection drops it), and lookups,
// updates and deletes by _id cost the same at any size.

// embeddedDirs maps the client of each embedded store opened by this
// process to its data folder.
var embeddedDirs sync.Map // *mongo.Client → string

// idIndexName is the name of the added index of table.
func idIndexName(table string) string { return table + "_ogpnet_id" }

// indexIDs adds the _id expression index to the tables of dbName in the
// embedded store in dir (to the one of collection coll, or to all when coll
// is empty). A missing database file is not an error: it has no tables yet.
func indexIDs(ctx context.Context, dir, dbName, coll string) error {
	path := filepath.Join(dir, dbName+".sqlite")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	q, args := `SELECT table_name FROM _ferretdb_collections`, []any{}
	if coll != "" {
		q, args = q+` WHERE name = ?`, append(args, coll)
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil
		}
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			_ = rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, t := range tables {
		stmt := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, idIndexName(t), t)
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: _id index on %s.%s: %w", dbName, t, err)
		}
	}
	return nil
}

// indexAllIDs adds the index to every table of every database in dir (at
// start: collections created by earlier versions).
func indexAllIDs(ctx context.Context, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if err != nil {
		return err
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sqlite")
		if err := indexIDs(ctx, dir, name, ""); err != nil {
			return err
		}
	}
	return nil
}

// indexCollectionIDs adds the index to coll's table when coll is on an
// embedded store opened by this process.
func indexCollectionIDs(ctx context.Context, coll *mongo.Collection) error {
	dir, ok := embeddedDirs.Load(coll.Database().Client())
	if !ok {
		return nil
	}
	return indexIDs(ctx, dir.(string), coll.Database().Name(), coll.Name())
}
