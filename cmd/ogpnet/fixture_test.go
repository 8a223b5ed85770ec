package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ogpnet/ogpnet/federation/delivery"
	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/internal/store/migrate"
)

// The stored fixture: a node's and a hub's databases as ogpnet wrote them
// before versioned data (schema version 0), one file of canonical extended
// JSON per collection, plus each collection's indexes. Tests load it into
// a fresh store and migrate it, as an upgrade does.
//
// go test ./cmd/ogpnet -run TestGenerateFixture -update-fixture
//
// rebuilds it. The data of today's code is the version-0 layout plus the
// schema document (migrations 1 and 2 change nothing today's code writes),
// so the generator leaves ogpnet_meta out. Once a migration changes what
// the code writes, version 0 can no longer be rebuilt: the generator then
// refuses, and a new layout gets a fixture folder of its own.
var updateFixture = flag.Bool("update-fixture", false, "rebuild testdata/layout-v0 with the current code")

const fixtureDir = "testdata/layout-v0"

// fixtureBuiltAt is the schema version whose data equals the version-0
// layout plus ogpnet_meta.
const fixtureBuiltAt = 2

var fixtureDBs = []string{"ogpnet_jalisco", "ogpnet_hub"}

// fixtureInfo is testdata/layout-v0/fixture.json: what the tests compare
// the served data with.
type fixtureInfo struct {
	Node, Hub, Reader string // base URLs the data was made under
	ActorKeyPEM       string // the node actor's public key
	Token             string // an operator API token (plaintext; stored hashed)
	Objects           []string
	Made              string
}

// TestGenerateFixture builds the fixture with the current code: a node
// with a plan, commitments and progress updates, an API token, the hub and
// a reader as followers, and deliveries queued to the reader, which went
// away; the hub with the node as member and its objects.
func TestGenerateFixture(t *testing.T) {
	if !*updateFixture {
		t.Skip("run with -update-fixture to rebuild " + fixtureDir)
	}
	if migrate.Latest() != fixtureBuiltAt {
		t.Fatalf("the data layout is at version %d: %s (version 0) cannot be rebuilt by this code; make a fixture for the new layout instead", migrate.Latest(), fixtureDir)
	}
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{DataDir: dir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore(st)
	lh, hubBase := listenAt(t, "hub", "127.0.0.1:0")
	h, hubRun := startHub(t, st, lh, hubBase)

	// The node on the same store (its own database).
	ln, nodeBase := listenAt(t, "jalisco", "127.0.0.1:0")
	n, err := newNodeOn(ctx, st, nodeBase, delivery.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nodeRun := start(t, ln, n.Handler(), n.Run, nil)
	importPlan(t, n)
	token, err := n.CreateAPIToken(ctx, "fixture")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.AddMember(ctx, n.Federation().ActorID()); err != nil {
		t.Fatal(err)
	}
	r := startReader(t, st)
	if _, err := r.Follow(ctx, n.Federation().ActorID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two followers", 20*time.Second, func() bool { return len(n.Federation().Followers()) == 2 })
	hubObjects := func() int64 {
		c, _ := st.DB("ogpnet_hub").Collection("hub_objects").CountDocuments(ctx, bson.M{})
		return c
	}
	// plan, 2 commitments, 3 updates
	waitFor(t, "the hub's copies", 30*time.Second, func() bool { return hubObjects() >= 6 })

	// The reader goes away; what the node publishes now queues for it.
	r.stop()
	if status, body := postUpdate(t, nodeBase, token, "JAL0001", "Avance publicado con el lector caído."); status != http.StatusCreated {
		t.Fatalf("post update: %d %s", status, body)
	}
	waitFor(t, "the hub's copy of the new update", 30*time.Second, func() bool { return hubObjects() >= 7 })
	jobs := st.DB("ogpnet_jalisco").Collection("delivery_jobs")
	waitFor(t, "a failed delivery to the reader", 30*time.Second, func() bool {
		c, _ := jobs.CountDocuments(ctx, bson.M{"attempts": bson.M{"$gte": 1}})
		return c > 0
	})
	info := fixtureInfo{Node: nodeBase, Hub: hubBase, Reader: r.BaseURL(), Token: token,
		ActorKeyPEM: publicKeyPEM(t, n.Federation().ActorID()), Made: time.Now().UTC().Format(time.RFC3339)}
	for _, coll := range []string{"plans", "commitments", "progress_updates"} {
		cur, err := st.DB("ogpnet_jalisco").Collection(coll).Find(ctx, bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.M
		_ = cur.All(ctx, &docs)
		for _, d := range docs {
			info.Objects = append(info.Objects, objectIRI(nodeBase, coll, d))
		}
	}
	slices.Sort(info.Objects)
	nodeRun.stop()
	hubRun.stop()

	if err := os.RemoveAll(fixtureDir); err != nil {
		t.Fatal(err)
	}
	for _, name := range fixtureDBs {
		if err := exportDB(ctx, st.DB(name), filepath.Join(fixtureDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(filepath.Join(fixtureDir, "fixture.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// objectIRI is the IRI of a stored plan, commitment or progress update.
func objectIRI(base, coll string, d bson.M) string {
	switch coll {
	case "plans":
		return base + "/plans/" + d["_id"].(string)
	case "commitments":
		return base + "/commitments/" + d["_id"].(string)
	}
	return base + "/commitments/" + d["commitmentId"].(string) + "/updates/" + d["_id"].(string)
}

// exportDB writes every collection but ogpnet_meta: documents in _id
// order as canonical extended JSON (types survive: dates, binary,
// int64), and the index specifications.
func exportDB(ctx context.Context, db *mongo.Database, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names, err := db.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return err
	}
	for _, c := range names {
		if c == migrate.Collection {
			continue
		}
		cur, err := db.Collection(c).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return err
		}
		docs, err := extJSON(ctx, cur)
		if err != nil {
			return err
		}
		icur, err := db.Collection(c).Indexes().List(ctx)
		if err != nil {
			return err
		}
		idx, err := extJSON(ctx, icur)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, c+".json"), docs, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, c+".indexes.json"), idx, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func extJSON(ctx context.Context, cur *mongo.Cursor) ([]byte, error) {
	defer cur.Close(ctx)
	var b bytes.Buffer
	b.WriteString("[\n")
	first := true
	for cur.Next(ctx) {
		raw, err := bson.MarshalExtJSON(cur.Current, true, false)
		if err != nil {
			return nil, err
		}
		if !first {
			b.WriteString(",\n")
		}
		first = false
		b.Write(raw)
	}
	b.WriteString("\n]\n")
	return b.Bytes(), cur.Err()
}

// fixture is the stored data: database → collection → documents in _id
// order (canonical extended JSON strings, for comparison).
type fixture map[string]map[string][]string

func readFixture(t *testing.T) (fixture, fixtureInfo) {
	t.Helper()
	var info fixtureInfo
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "fixture.json"))
	if err != nil {
		t.Fatalf("%v (build it with -update-fixture)", err)
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	fx := fixture{}
	for _, name := range fixtureDBs {
		files, _ := filepath.Glob(filepath.Join(fixtureDir, name, "*.json"))
		fx[name] = map[string][]string{}
		for _, f := range files {
			if strings.HasSuffix(f, ".indexes.json") {
				continue
			}
			var docs []json.RawMessage
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &docs); err != nil {
				t.Fatal(err)
			}
			coll := strings.TrimSuffix(filepath.Base(f), ".json")
			for _, d := range docs {
				fx[name][coll] = append(fx[name][coll], canonical(t, d))
			}
		}
	}
	return fx, info
}

// canonical re-encodes an extended JSON document so that equal documents
// compare equal as strings.
func canonical(t *testing.T, ext []byte) string {
	t.Helper()
	var d bson.D
	if err := bson.UnmarshalExtJSON(ext, false, &d); err != nil {
		t.Fatal(err)
	}
	out, err := bson.MarshalExtJSON(d, true, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// loadFixture writes the fixture into the embedded store in dataDir,
// indexes included.
func loadFixture(t *testing.T, dataDir string, fx fixture) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: dataDir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore(st)
	for name, colls := range fx {
		db := st.DB(name)
		for coll, docs := range colls {
			if err := db.CreateCollection(ctx, coll); err != nil {
				t.Fatal(err)
			}
			var idx []bson.M
			raw, _ := os.ReadFile(filepath.Join(fixtureDir, name, coll+".indexes.json"))
			var specs []json.RawMessage
			_ = json.Unmarshal(raw, &specs)
			for _, s := range specs {
				var m bson.M
				if err := bson.UnmarshalExtJSON(s, true, &m); err != nil {
					t.Fatal(err)
				}
				idx = append(idx, m)
			}
			for _, ix := range idx {
				if ix["name"] == "_id_" {
					continue
				}
				o := options.Index().SetName(ix["name"].(string))
				if u, ok := ix["unique"].(bool); ok && u {
					o.SetUnique(true)
				}
				if e, ok := ix["expireAfterSeconds"]; ok {
					o.SetExpireAfterSeconds(toInt32(e))
				}
				if err := store.EnsureIndexes(ctx, db.Collection(coll), mongo.IndexModel{Keys: ix["key"], Options: o}); err != nil {
					t.Fatal(err)
				}
			}
			var many []any
			for _, d := range docs {
				var doc bson.D
				if err := bson.UnmarshalExtJSON([]byte(d), true, &doc); err != nil {
					t.Fatal(err)
				}
				many = append(many, doc)
			}
			if len(many) > 0 {
				if _, err := db.Collection(coll).InsertMany(ctx, many); err != nil {
					t.Fatalf("%s.%s: %v", name, coll, err)
				}
			}
		}
	}
}

func toInt32(v any) int32 {
	switch n := v.(type) {
	case int32:
		return n
	case int64:
		return int32(n)
	case float64:
		return int32(n)
	}
	return 0
}

// dump reads the databases of fx's shape back from dataDir.
func dump(t *testing.T, st *store.Store, names []string) fixture {
	t.Helper()
	ctx := context.Background()
	out := fixture{}
	for _, name := range names {
		db := st.DB(name)
		out[name] = map[string][]string{}
		colls, err := db.ListCollectionNames(ctx, bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range colls {
			cur, err := db.Collection(c).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := extJSON(ctx, cur)
			if err != nil {
				t.Fatal(err)
			}
			var docs []json.RawMessage
			if err := json.Unmarshal(raw, &docs); err != nil {
				t.Fatal(err)
			}
			for _, d := range docs {
				out[name][c] = append(out[name][c], canonical(t, d))
			}
		}
	}
	return out
}
