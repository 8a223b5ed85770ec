// Package migrate versions a server's database: one metadata document
// (collection ogpnet_meta, _id "schema") records the layout's version, and
// numbered, idempotent migrations bring older data up to the layout this
// binary reads. Node and hub run Up at start, before serving; a database
// written by a newer binary is refused with a *NewerError, so an old binary
// never writes into a layout it does not know.
//
// The embedded store (FerretDB 1.24) has no transactions, so a migration
// can be cut off half-way; every migration is therefore idempotent, and the
// version is recorded only after it finished: a restart runs it again. Two
// replicas starting at once do not both migrate: the one that inserts the
// lock document (a unique _id, the one atomic write on both stores) runs
// the migrations, the other waits for it.
package migrate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ogpnet/ogpnet/internal/store"
)

// Collection holds the schema document and the migration lock.
const Collection = "ogpnet_meta"

const (
	schemaID = "schema"
	lockID   = "migration-lock"
)

// Migration is one numbered step from the layout before it to the layout
// after it. Names of collections and fields are written out in each
// migration, not taken from the packages that use them: a migration
// describes the data as it was when it was written.
type Migration struct {
	Version int
	Name    string
	// Plan says what Apply would change, without changing anything (the
	// dry run): one line per change, empty when there is nothing to do.
	Plan func(ctx context.Context, db *mongo.Database) ([]string, error)
	// Apply changes the data; running it again on its own result changes
	// nothing. It returns what it changed, one line per change.
	Apply func(ctx context.Context, db *mongo.Database) ([]string, error)
}

// Step is one entry of the schema document's history.
type Step struct {
	Version       int       `bson:"version" json:"version"`
	Name          string    `bson:"name" json:"name"`
	AppliedAt     time.Time `bson:"appliedAt" json:"appliedAt"`
	BinaryVersion string    `bson:"binaryVersion" json:"binaryVersion"`
	Changed       []string  `bson:"changed,omitempty" json:"changed,omitempty"`
}

// Schema is the metadata document: the data's layout version, when and by
// which binary it was last changed, and every step taken.
type Schema struct {
	ID            string    `bson:"_id" json:"-"`
	Version       int       `bson:"version" json:"version"`
	AppliedAt     time.Time `bson:"appliedAt" json:"appliedAt"`
	BinaryVersion string    `bson:"binaryVersion" json:"binaryVersion"`
	History       []Step    `bson:"history" json:"history"`
}

// NewerError is the refusal to run on data written by a newer binary.
type NewerError struct {
	DB          string
	DataVersion int
	Known       int
	WrittenBy   string // the binary version that last migrated the data
}

func (e *NewerError) Error() string {
	return fmt.Sprintf("database %s has schema version %d, written by ogpnet %s; this binary knows versions up to %d. "+
		"Run ogpnet %s or newer on this data, or restore the backup taken before the upgrade (docs/operations.md, \"Upgrading\")",
		e.DB, e.DataVersion, e.WrittenBy, e.Known, e.WrittenBy)
}

// ExitCode is the exit status of ogpnet when it refuses newer data, so
// that scripts and orchestrators can tell it from other failures.
const ExitCode = 3

// Latest is the newest version this binary knows.
func Latest() int { return All()[len(All())-1].Version }

// Options configure Up.
type Options struct {
	BinaryVersion string
	Logger        *slog.Logger
	// LockWait bounds the wait for another process's migration (default 10 min).
	LockWait time.Duration
	// StaleLock is the age after which a lock is taken over (default 15 min):
	// its owner died mid-migration; the migrations are idempotent.
	StaleLock time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LockWait == 0 {
		o.LockWait = 10 * time.Minute
	}
	if o.StaleLock == 0 {
		o.StaleLock = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BinaryVersion == "" {
		o.BinaryVersion = "dev"
	}
}

// Read returns the schema document; a database without one has version 0
// (the layout before versioned data) and fresh reports whether it holds no
// collection at all (a new database).
func Read(ctx context.Context, db *mongo.Database) (s Schema, fresh bool, err error) {
	err = db.Collection(Collection).FindOne(ctx, bson.M{"_id": schemaID}).Decode(&s)
	if err == nil {
		return s, false, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return s, false, fmt.Errorf("migrate: reading the schema of %s: %w", db.Name(), err)
	}
	names, err := db.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return s, false, fmt.Errorf("migrate: listing the collections of %s: %w", db.Name(), err)
	}
	return Schema{ID: schemaID}, len(names) == 0, nil
}

// Pending is one migration the data still needs, with what it would change.
type Pending struct {
	Migration
	Changes []string
}

// Plan returns the schema and the migrations Up would run, each with what it
// would change; it writes nothing.
func Plan(ctx context.Context, db *mongo.Database) (Schema, []Pending, error) {
	s, fresh, err := Read(ctx, db)
	if err != nil {
		return s, nil, err
	}
	if s.Version > Latest() {
		return s, nil, &NewerError{DB: db.Name(), DataVersion: s.Version, Known: Latest(), WrittenBy: s.BinaryVersion}
	}
	if fresh {
		return s, nil, nil
	}
	var out []Pending
	for _, m := range All() {
		if m.Version <= s.Version {
			continue
		}
		ch, err := m.Plan(ctx, db)
		if err != nil {
			return s, nil, fmt.Errorf("migrate: %s: planning %d (%s): %w", db.Name(), m.Version, m.Name, err)
		}
		out = append(out, Pending{Migration: m, Changes: ch})
	}
	return s, out, nil
}

// Up brings db to the newest layout: nothing to do is one read; a new
// database is stamped with the newest version; data newer than this binary
// is a *NewerError. It returns the steps it took.
func Up(ctx context.Context, db *mongo.Database, o Options) ([]Step, error) {
	o.defaults()
	s, _, err := Read(ctx, db)
	if err != nil {
		return nil, err
	}
	switch {
	case s.Version > Latest():
		return nil, &NewerError{DB: db.Name(), DataVersion: s.Version, Known: Latest(), WrittenBy: s.BinaryVersion}
	case s.Version == Latest():
		return nil, nil
	}
	release, err := lock(ctx, db, o)
	if err != nil {
		return nil, err
	}
	defer release()
	// Read again under the lock: another process may have migrated while
	// this one waited, or created the first collections.
	s, fresh, err := Read(ctx, db)
	if err != nil {
		return nil, err
	}
	if s.Version > Latest() {
		return nil, &NewerError{DB: db.Name(), DataVersion: s.Version, Known: Latest(), WrittenBy: s.BinaryVersion}
	}
	if fresh || s.Version == 0 && onlyMeta(ctx, db) {
		// A new database (nothing in it but the lock just taken) has the
		// newest layout by construction.
		st := Step{Version: Latest(), Name: "new database", AppliedAt: o.Now().UTC(), BinaryVersion: o.BinaryVersion}
		return []Step{st}, save(ctx, db, &s, st)
	}
	var done []Step
	for _, m := range All() {
		if m.Version <= s.Version {
			continue
		}
		started := o.Now()
		changed, err := m.Apply(ctx, db)
		if err != nil {
			return done, fmt.Errorf("migrate: %s: migration %d (%s): %w; the data is at version %d, and the migration runs again at the next start",
				db.Name(), m.Version, m.Name, err, s.Version)
		}
		st := Step{Version: m.Version, Name: m.Name, AppliedAt: o.Now().UTC(), BinaryVersion: o.BinaryVersion, Changed: changed}
		if err := save(ctx, db, &s, st); err != nil {
			return done, err
		}
		done = append(done, st)
		o.Logger.Info("migration applied", "db", db.Name(), "version", m.Version, "name", m.Name,
			"changed", changed, "took", o.Now().Sub(started).Round(time.Millisecond))
	}
	return done, nil
}

// onlyMeta reports whether the database holds nothing but the meta
// collection (the lock of a first start).
func onlyMeta(ctx context.Context, db *mongo.Database) bool {
	names, err := db.ListCollectionNames(ctx, bson.M{})
	return err == nil && len(names) == 1 && names[0] == Collection
}

func save(ctx context.Context, db *mongo.Database, s *Schema, st Step) error {
	s.ID = schemaID
	s.Version, s.AppliedAt, s.BinaryVersion = st.Version, st.AppliedAt, st.BinaryVersion
	s.History = append(s.History, st)
	_, err := db.Collection(Collection).ReplaceOne(ctx, bson.M{"_id": schemaID}, s, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("migrate: %s: recording version %d: %w", db.Name(), st.Version, err)
	}
	return nil
}

type lockDoc struct {
	ID    string    `bson:"_id"`
	Owner string    `bson:"owner"`
	At    time.Time `bson:"at"`
}

// lock inserts the lock document, waiting while another process holds it.
func lock(ctx context.Context, db *mongo.Database, o Options) (func(), error) {
	c := db.Collection(Collection)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
	deadline := o.Now().Add(o.LockWait)
	logged := false
	for {
		_, err := c.InsertOne(ctx, lockDoc{ID: lockID, Owner: owner, At: o.Now().UTC()})
		if err == nil {
			return func() {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				_, _ = c.DeleteOne(ctx, bson.M{"_id": lockID, "owner": owner})
			}, nil
		}
		if !store.IsDuplicate(err) {
			return nil, fmt.Errorf("migrate: %s: taking the migration lock: %w", db.Name(), err)
		}
		var held lockDoc
		if err := c.FindOne(ctx, bson.M{"_id": lockID}).Decode(&held); err == nil {
			if o.Now().Sub(held.At) > o.StaleLock {
				// Its owner died mid-migration. Delete exactly that lock
				// (a guarded delete: of two takers only one deletes it), then
				// race for a new one by insert.
				o.Logger.Warn("migrate: taking over a stale migration lock", "db", db.Name(), "owner", held.Owner, "since", held.At)
				_, _ = c.DeleteOne(ctx, bson.M{"_id": lockID, "owner": held.Owner, "at": held.At})
				continue
			}
			if !logged {
				o.Logger.Info("migrate: waiting for another process's migration", "db", db.Name(), "owner", held.Owner)
				logged = true
			}
		}
		if o.Now().After(deadline) {
			return nil, fmt.Errorf("migrate: %s: another process (%s) has held the migration lock since %s; "+
				"if no ogpnet process is migrating this data, delete the document {_id: %q} from %s",
				db.Name(), held.Owner, held.At.Format(time.RFC3339), lockID, Collection)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Databases lists the ogpnet server databases in a store: those holding
// a key pair (every node and hub) or a schema document.
func Databases(ctx context.Context, client *mongo.Client) ([]string, error) {
	names, err := client.ListDatabaseNames(ctx, bson.M{})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		colls, err := client.Database(n).ListCollectionNames(ctx, bson.M{})
		if err != nil {
			return nil, err
		}
		if slices.Contains(colls, "keys") || slices.Contains(colls, Collection) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}
