package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/internal/store/migrate"
)

// TestBackupRestoreMidPublishing is the move to a new server: a node
// publishes progress updates to a follower whose inbox is down, a backup is
// taken while it publishes, the archive is restored into a fresh folder, and
// a node started on it at the same URL has the same actor key, objects and
// followers, and delivers what its queue held when the backup was taken.
func TestBackupRestoreMidPublishing(t *testing.T) {
	ctx := context.Background()
	dir1 := t.TempDir()
	n1, r, token := followedNode(t, dir1)
	base := n1.base
	pem := publicKeyPEM(t, n1.Federation().ActorID())

	// The reader's inbox goes down; the node publishes 20 updates, and the
	// backup is taken while it does.
	r.down.Store(true)
	var posted atomic.Int32
	done := make(chan error, 1)
	go func() {
		for i := range 20 {
			if status, body, err := tryPostUpdate(base, token, "JAL0001", fmt.Sprintf("Avance %d.", i)); err != nil || status != http.StatusCreated {
				done <- fmt.Errorf("post %d: %d %s %v", i, status, body, err)
				return
			}
			posted.Add(1)
		}
		done <- nil
	}()
	waitFor(t, "five updates posted", 30*time.Second, func() bool { return posted.Load() >= 5 })
	archive := filepath.Join(t.TempDir(), "node.tar.gz")
	var out bytes.Buffer
	if err := backupCmd(ctx, &out, []string{"--data", dir1, "--out", archive}); err != nil {
		t.Fatal(err)
	}
	atBackup := posted.Load()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if atBackup == 20 {
		t.Log("the publishing finished before the backup did: the backup was not taken mid-publishing")
	}
	n1.stop()

	// The archive: a secret, said so; mode 0600; a manifest first.
	if !strings.Contains(out.String(), "SECRET") || !strings.Contains(out.String(), "private signing keys") {
		t.Errorf("backup did not say the archive is a secret:\n%s", out.String())
	}
	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("archive mode %v, %v", fi.Mode(), err)
	}
	m := readManifest(t, archive)
	if m.Format != backupFormat || m.SchemaVersion != migrate.Latest() || len(m.Databases) != 1 ||
		m.Databases[0].Name != "ogpnet_jalisco" || m.Databases[0].Collections["keys"] != 2 {
		t.Fatalf("manifest: %+v", m)
	}

	// Restore refuses a folder with data in it, and writes nothing there.
	before, _ := os.ReadDir(dir1)
	err := restoreCmd(ctx, io.Discard, []string{"--in", archive, "--data", dir1})
	if err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Fatalf("restore into a used folder: %v", err)
	}
	if after, _ := os.ReadDir(dir1); len(after) != len(before) {
		t.Fatal("the refused restore wrote into the folder")
	}
	dir2 := filepath.Join(t.TempDir(), "restored")
	out.Reset()
	if err := restoreCmd(ctx, &out, []string{"--in", archive, "--data", dir2}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "same --url") {
		t.Errorf("restore said:\n%s", out.String())
	}

	// What the restored queue holds for the reader: every job is one the
	// old node could not deliver (the reader was down throughout).
	st, err := store.Open(ctx, store.Options{DataDir: dir2, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	var jobs []struct {
		Activity string `bson:"activity"`
		Inbox    string `bson:"inbox"`
	}
	cur, err := st.DB("ogpnet_jalisco").Collection("delivery_jobs").Find(ctx, bson.M{})
	if err == nil {
		err = cur.All(ctx, &jobs)
	}
	var updates int64
	if err == nil {
		updates, err = st.DB("ogpnet_jalisco").Collection("progress_updates").CountDocuments(ctx, bson.M{})
	}
	closeStore(st)
	if err != nil {
		t.Fatal(err)
	}
	// 3 imported, and at least the 5 posted before the backup started.
	if updates < 3+5 || len(jobs) < 5 {
		t.Fatalf("restored %d progress updates and %d queued jobs; want ≥ 8 and ≥ 5", updates, len(jobs))
	}

	// The new server: same URL, the restored folder; the reader is back.
	r.down.Store(false)
	l2, _ := listenAt(t, "jalisco", portOf(base))
	n2 := startNode(t, dir2, l2, base, fastDelivery)
	if got := publicKeyPEM(t, n2.Federation().ActorID()); got != pem {
		t.Errorf("the actor key changed:\n%s\nwant\n%s", got, pem)
	}
	if f := n2.Federation().Followers(); len(f) != 1 || f[0].Actor != r.ActorID() {
		t.Errorf("followers after restore: %+v", f)
	}
	for _, id := range []string{"/plans/2016-2018", "/commitments/JAL0001", "/commitments/JAL0002"} {
		if status, obj := apGet(t, base+id); status != http.StatusOK || obj["id"] != base+id {
			t.Errorf("%s: %d %v", id, status, obj["id"])
		}
	}
	status, coll := apGet(t, base+"/commitments/JAL0001/updates")
	if total, _ := coll["totalItems"].(float64); status != http.StatusOK || int64(total) != updates-1 {
		// JAL0002 has one of the three imported updates.
		t.Errorf("JAL0001's progress collection: %d, %v items; want %d", status, coll["totalItems"], updates-1)
	}
	defer func() {
		if t.Failed() {
			s, err := n2.Federation().Queue().Stats(ctx)
			r.mu.Lock()
			t.Logf("queue %+v %v; reader got %d; jobs %d: %+v", s, err, len(r.got), len(jobs), jobs[:2])
			r.mu.Unlock()
			cur, _ := n2.st.DB("ogpnet_jalisco").Collection("delivery_jobs").Find(ctx, bson.M{})
			var docs []bson.M
			_ = cur.All(ctx, &docs)
			for _, d := range docs[:min(3, len(docs))] {
				delete(d, "body")
				t.Logf("job %v", d)
			}
		}
	}()
	waitFor(t, "the restored queue delivered to the reader", 20*time.Second, func() bool {
		for _, j := range jobs {
			if !r.received(j.Activity) {
				return false
			}
		}
		return true
	})
}

func readManifest(t *testing.T, archive string) manifest {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != manifestName {
		t.Fatalf("first entry %v, %v", hdr, err)
	}
	var m manifest
	raw, _ := io.ReadAll(tr)
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRestoreRefusesBadArchives: a damaged file, a path out of the data
// folder, an entry the manifest does not list and a newer data layout are
// each refused with the reason, and nothing is left in the folder.
func TestRestoreRefusesBadArchives(t *testing.T) {
	sum := func(s string) string { _, h, _ := hashString(s); return h }
	cases := []struct {
		name    string
		m       manifest
		entries map[string]string
		want    string
	}{
		{"damaged", manifest{Files: []backupFile{{Path: "db/a.sqlite", Size: 3, SHA256: sum("abc")}}}, map[string]string{"db/a.sqlite": "abd"}, "does not match the manifest"},
		{"escape", manifest{Files: []backupFile{{Path: "../evil", Size: 3, SHA256: sum("abc")}}}, map[string]string{"../evil": "abc"}, "outside the data folder"},
		{"unlisted", manifest{}, map[string]string{"db/b.sqlite": "abc"}, "which its manifest does not list"},
		{"missing", manifest{Files: []backupFile{{Path: "db/a.sqlite", Size: 3, SHA256: sum("abc")}}}, nil, "the archive is incomplete"},
		{"newer", manifest{SchemaVersion: migrate.Latest() + 1, OgpnetVersion: "v9"}, nil, "this binary knows versions up to"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.m.Format = backupFormat
			archive := filepath.Join(t.TempDir(), "x.tar.gz")
			var buf bytes.Buffer
			gz := gzip.NewWriter(&buf)
			tw := tar.NewWriter(gz)
			raw, _ := json.Marshal(c.m)
			_ = writeEntry(tw, manifestName, time.Now(), int64(len(raw)), bytes.NewReader(raw))
			for name, body := range c.entries {
				_ = writeEntry(tw, name, time.Now(), int64(len(body)), strings.NewReader(body))
			}
			tw.Close()
			gz.Close()
			if err := os.WriteFile(archive, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "data")
			err := restoreCmd(context.Background(), io.Discard, []string{"--in", archive, "--data", dir})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the refused restore left %s behind (%v)", dir, err)
			}
		})
	}
	// Not an archive at all.
	junk := filepath.Join(t.TempDir(), "junk")
	_ = os.WriteFile(junk, []byte("hello"), 0o600)
	if err := restoreCmd(context.Background(), io.Discard, []string{"--in", junk, "--data", filepath.Join(t.TempDir(), "d")}); err == nil || !strings.Contains(err.Error(), "not an ogpnet backup") {
		t.Errorf("junk: %v", err)
	}
	// Backup of a folder without an embedded store says what to do instead.
	if err := backupCmd(context.Background(), io.Discard, []string{"--data", t.TempDir(), "--out", filepath.Join(t.TempDir(), "b.tar.gz")}); err == nil || !strings.Contains(err.Error(), "mongodump") {
		t.Errorf("empty folder: %v", err)
	}
}

func hashString(s string) (int64, string, error) {
	p := filepath.Join(os.TempDir(), fmt.Sprintf("ogpnet-hash-%d", time.Now().UnixNano()))
	defer os.Remove(p)
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		return 0, "", err
	}
	return hashFile(p)
}
