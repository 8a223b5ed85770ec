package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/federation/delivery"
	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/internal/store/migrate"
)

// legacyHost is a delivery_hosts document in the layout before failure
// days were documents of their own (commit a46c03d): stores written by that
// code still carry such documents, and migration 2 cleans them.
const legacyHost = `{"_id":"gone.example","lastFailure":{"$date":"2026-01-02T00:00:00Z"},"failureDays":["2026-01-01","2026-01-02"],"unavailable":true,"unavailableSince":{"$date":"2026-01-02T00:00:00Z"}}`

// TestMigrateStoredFixture is the upgrade: data as today's code stored it
// (testdata/layout-v0) is listed by migrate --dry-run, migrated by
// ogpnet migrate, and every document survives unchanged but for what a
// migration removes; a node and a hub started on the migrated data serve
// the same actor key, objects and token, and keep their followers,
// members and queued deliveries.
func TestMigrateStoredFixture(t *testing.T) {
	ctx := context.Background()
	fx, info := readFixture(t)
	fx["ogpnet_jalisco"]["delivery_hosts"] = append(fx["ogpnet_jalisco"]["delivery_hosts"], canonical(t, []byte(legacyHost)))
	dir := t.TempDir()
	loadFixture(t, dir, fx)

	var out bytes.Buffer
	if err := migrateTo(ctx, &out, []string{"--data", dir, "--dry-run", "--log-level", "error"}); err != nil {
		t.Fatal(err)
	}
	dry := out.String()
	for _, want := range []string{
		"ogpnet_hub: version 0 (no version recorded", "ogpnet_jalisco: version 0",
		"1 stamp the layout before versioned data", "2 drop the failure fields of delivery host documents",
		"delivery_hosts: remove [failureDays unavailable unavailableSince] from 1 documents", "dry run: nothing was changed",
	} {
		if !strings.Contains(dry, want) {
			t.Errorf("dry run lacks %q:\n%s", want, dry)
		}
	}
	// The dry run wrote nothing.
	st, err := store.Open(ctx, store.Options{DataDir: dir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if got := dump(t, st, fixtureDBs); !same(got, fx) {
		t.Fatal("the dry run changed the data")
	}
	closeStore(st)

	out.Reset()
	if err := migrateTo(ctx, &out, []string{"--data", dir, "--log-level", "error"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "applied 2 migration(s); now at version 2") {
		t.Errorf("migrate said:\n%s", out.String())
	}

	st, err = store.Open(ctx, store.Options{DataDir: dir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	got := dump(t, st, fixtureDBs)
	want := fx
	want["ogpnet_jalisco"]["delivery_hosts"] = slices.Clone(want["ogpnet_jalisco"]["delivery_hosts"])
	want["ogpnet_jalisco"]["delivery_hosts"][len(want["ogpnet_jalisco"]["delivery_hosts"])-1] =
		canonical(t, []byte(`{"_id":"gone.example","lastFailure":{"$date":"2026-01-02T00:00:00Z"}}`))
	for db, colls := range want {
		for coll, docs := range colls {
			if g := got[db][coll]; !slices.Equal(sortedCopy(g), sortedCopy(docs)) {
				t.Errorf("%s.%s after migration:\n got %d %v\nwant %d %v", db, coll, len(g), g, len(docs), docs)
			}
		}
		for _, name := range []string{"keys", "followers", "auth_tokens", "delivery_jobs", "commitments", "progress_updates", "hub_objects", "hub_members"} {
			if _, ok := colls[name]; ok && len(got[db][name]) == 0 {
				t.Errorf("%s.%s is empty", db, name)
			}
		}
		s, _, err := migrate.Read(ctx, st.DB(db))
		if err != nil || s.Version != migrate.Latest() || len(s.History) != migrate.Latest() {
			t.Errorf("%s schema: %+v %v", db, s, err)
		}
	}

	// A node on the migrated data, at its URL, and the hub.
	n, err := newNodeOn(ctx, st, info.Node, delivery.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := listenAt(t, "jalisco", portOf(info.Node))
	start(t, l, n.Handler(), func(context.Context) error { return nil }, nil)
	if pem := publicKeyPEM(t, n.Federation().ActorID()); pem != info.ActorKeyPEM {
		t.Errorf("the actor key changed:\n%s\nwant\n%s", pem, info.ActorKeyPEM)
	}
	for _, iri := range info.Objects {
		if status, obj := apGet(t, iri); status != http.StatusOK || obj["id"] != iri {
			t.Errorf("%s: status %d, id %v", iri, status, obj["id"])
		}
	}
	if len(n.Federation().Followers()) != 2 {
		t.Errorf("followers: %+v", n.Federation().Followers())
	}
	if s, err := n.Federation().Queue().Stats(ctx); err != nil || s.Pending != 2 {
		t.Errorf("queued deliveries: %+v %v", s, err)
	}
	// The operator token still signs in: the API accepts a post with it.
	if status, body := postUpdate(t, info.Node, info.Token, "JAL0002", "Después de la actualización."); status != http.StatusCreated {
		t.Errorf("post with the stored token: %d %s", status, body)
	}
	h, err := newHubOn(ctx, st, info.Hub)
	if err != nil {
		t.Fatal(err)
	}
	if ps := h.ReadModel().Pilots(); len(ps) != 1 || len(ps[0].Plans) != 1 || len(ps[0].Plans[0].Commitments) != 2 {
		t.Errorf("the hub's read model from the migrated data: %+v", ps)
	}
	closeStore(st)
}

func same(a, b fixture) bool {
	for db, colls := range b {
		for coll, docs := range colls {
			if !slices.Equal(sortedCopy(a[db][coll]), sortedCopy(docs)) {
				return false
			}
		}
	}
	return true
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestRefusesNewerDataAtStart: the binary exits with status 3 and says
// why when the data was written by a newer ogpnet; the data is untouched.
func TestRefusesNewerDataAtStart(t *testing.T) {
	bin := buildBinary(t)
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{DataDir: dir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.DB("ogpnet_jalisco").Collection(migrate.Collection).InsertOne(ctx,
		bson.M{"_id": "schema", "version": migrate.Latest() + 1, "binaryVersion": "v9.9.9"})
	closeStore(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"node", "--name", "jalisco", "--url", "http://jalisco.localhost:1", "--addr", "127.0.0.1:0", "--data", dir},
		{"migrate", "--data", dir, "--dry-run"},
	} {
		// A binary that does not refuse serves until killed: bound it.
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != migrate.ExitCode {
			t.Fatalf("%s: %v, want exit status %d; stderr: %s", args[0], err, migrate.ExitCode, stderr.String())
		}
		for _, want := range []string{"ogpnet_jalisco has schema version 3", "v9.9.9", "this binary knows versions up to 2"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("%s: stderr lacks %q: %s", args[0], want, stderr.String())
			}
		}
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// buildBinary builds ogpnet once per test run, stamped like make build.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ogpnet-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "ogpnet")
		head, _ := exec.Command("git", "rev-parse", "HEAD").Output()
		cmd := exec.Command("go", "build", "-buildvcs=auto", "-ldflags", "-X main.version=v1.2.3-test -X main.buildDate=2026-01-02T03:04:05Z -X main.commit="+strings.TrimSpace(string(head)), "-o", binPath, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return binPath
}
