package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/internal/store"
)

// TestRotateKeyCommand is docs/operations.md "Key rotation": a node with a
// follower is stopped, ogpnet rotate-key replaces its actor key, and the
// node started on the same folder serves the new key, its follower (which
// cached the old key) receives and verifies the Update of the actor signed
// with the new key, and a new progress update reaches it too.
func TestRotateKeyCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	n1, r, token := followedNode(t, dir)
	base, actor := n1.base, n1.Federation().ActorID()
	oldPEM := publicKeyPEM(t, actor)
	n1.stop()

	var out bytes.Buffer
	if err := rotateKeyCmd(ctx, &out, []string{"--data", dir, "--log-level", "error"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ogpnet_jalisco: replaced the actor key") || !strings.Contains(out.String(), "sends its followers an Update") {
		t.Errorf("rotate-key said:\n%s", out.String())
	}
	// The Update's id is fixed at rotation, so that the test can wait for it.
	st, err := store.Open(ctx, store.Options{DataDir: dir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	var kd struct {
		Announce string `bson:"announce"`
	}
	err = st.DB("ogpnet_jalisco").Collection("keys").FindOne(ctx, bson.M{"_id": "actor"}).Decode(&kd)
	closeStore(st)
	if err != nil || kd.Announce == "" {
		t.Fatalf("no pending announcement after rotate-key: %+v %v", kd, err)
	}
	updateID := base + "/activities/" + kd.Announce

	l2, _ := listenAt(t, "jalisco", portOf(base))
	n2 := startNode(t, dir, l2, base, fastDelivery)
	newPEM := publicKeyPEM(t, actor)
	if newPEM == oldPEM {
		t.Fatal("the node serves the old key after rotate-key")
	}
	waitFor(t, "the reader verified the Update of the actor", 30*time.Second, func() bool { return r.received(updateID) })
	status, upd := apGet(t, updateID)
	obj, _ := upd["object"].(map[string]any)
	pk, _ := obj["publicKey"].(map[string]any)
	if status != http.StatusOK || upd["type"] != "Update" || obj["id"] != actor || pk["publicKeyPem"] != newPEM {
		t.Errorf("the announcement (%d): %v", status, upd)
	}

	// A new progress update is delivered and verified with the new key.
	if status, body := postUpdate(t, base, token, "JAL0001", "Avance tras la rotación."); status != http.StatusCreated {
		t.Fatalf("post update: %d %s", status, body)
	}
	waitFor(t, "the reader received the progress update", 30*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for id, typ := range r.got {
			if typ == "Create" && id != updateID {
				return true
			}
		}
		return false
	})
	n2.stop()
}

// TestRotateKeyRefusals: rotate-key on a folder without a store exits 2,
// says why, and creates nothing; --key takes only the two key names.
func TestRotateKeyRefusals(t *testing.T) {
	bin := buildBinary(t)
	parent := t.TempDir()
	missing := filepath.Join(parent, "nothing-here")
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing folder", []string{"--data", missing}, "rotate-key: no embedded store in " + missing},
		{"empty folder", []string{"--data", empty}, "rotate-key: no embedded store in " + empty},
		{"unknown key", []string{"--data", empty, "--key", "node"}, `rotate-key: --key "node": want "actor" or "application"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"rotate-key"}, tc.args...)...)
			cmd.Env = append(os.Environ(), "OGPNET_MONGO_URI=")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit: %v, want status 2; stderr: %s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr = %q, want %q", stderr.String(), tc.want)
			}
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rotate-key created %s: %v", missing, err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("rotate-key wrote into the empty folder: %v", entries)
	}
}
