package federation_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/httpsig"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// actorPEM is the public key the actor document serves now.
func actorPEM(t *testing.T, s *testServer) string {
	t.Helper()
	_, body := get(t, s.ActorID(), "application/activity+json")
	return decode(t, body)["publicKey"].(map[string]any)["publicKeyPem"].(string)
}

// TestKeyRotationAnnounced is docs/operations.md "Key rotation" end to end:
// a node with two followers (an ogpnet server, which cached the old key
// when it verified the node's Accept, and a Mastodon-shaped server) is
// stopped, its actor key rotated in its store, and started again on the
// same store. It serves the new key, both followers receive the Update of
// the actor carrying it, signed with it, and later deliveries verify.
func TestKeyRotationAnnounced(t *testing.T) {
	ctx := context.Background()
	node := startServer(t, "rotor", "", nil)
	hub := startServer(t, "hub", "", nil)
	mastodon := newRemote(t, "mastodon", "mastodon-actor")
	if _, err := hub.Follow(ctx, node.ActorID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "hub's follow accepted", func() bool {
		f, err := hub.FollowingOf(ctx, node.ActorID())
		return err == nil && f.State == "accepted"
	})
	if code, msg := mastodon.post(t, node.SharedInboxID(), mastodon.activity("Follow", node.ActorID()), nil); code != 202 {
		t.Fatalf("mastodon follow: %d %s", code, msg)
	}
	select {
	case <-mastodon.inbox: // the Accept
		<-mastodon.requests
	case <-time.After(10 * time.Second):
		t.Fatal("no Accept at the Mastodon follower")
	}
	oldPEM := actorPEM(t, node)
	// A follower re-fetches a key at most every httpsig.DefaultMinRefresh
	// (so that bad signatures cannot make it hammer key URLs); a real
	// rotation comes long after the followers' last fetch, and the
	// harness's delivery retries give up within seconds: wait it out.
	time.Sleep(httpsig.DefaultMinRefresh)

	addr, db := node.addr(), node.db
	node.stop()
	if err := federation.RotateKey(ctx, db, federation.KeyActor, time.Now()); err != nil {
		t.Fatal(err)
	}
	node = startServer(t, "rotor", addr, db)
	newPEM := actorPEM(t, node)
	if newPEM == oldPEM {
		t.Fatal("the actor document still serves the old key after rotation")
	}

	// The Mastodon-shaped follower: an Update whose object is the actor with
	// the new key, signed so that the key the actor serves now verifies it.
	var update map[string]any
	select {
	case b := <-mastodon.inbox:
		update = decode(t, b)
		checkOurSignature(t, node, <-mastodon.requests, b)
	case <-time.After(10 * time.Second):
		t.Fatal("no Update at the Mastodon follower")
	}
	obj, _ := update["object"].(map[string]any)
	if update["type"] != "Update" || update["actor"] != node.ActorID() || obj["id"] != node.ActorID() {
		t.Fatalf("announcement = %v", update)
	}
	if got := obj["publicKey"].(map[string]any)["publicKeyPem"]; got != newPEM {
		t.Errorf("the Update carries key %v, want the new one", got)
	}
	if to, _ := update["to"].([]any); len(to) != 1 || to[0] != federation.Public {
		t.Errorf("Update to = %v, want Public", update["to"])
	}

	// The ogpnet follower holds the old key in its cache: verification
	// fails with it, the verifier re-fetches the actor once and verifies
	// with the new key.
	giveUp := time.Now().Add(29 * time.Second)
	eventually2(t, 30*time.Second, "the hub verified the Update signed with the new key", func() bool {
		for _, a := range hub.received.ofType("Update") {
			if a.ObjectID == node.ActorID() {
				return true
			}
		}
		if time.Now().After(giveUp) {
			t.Logf("hub log:\n%s\nnode log:\n%s", hub.logs.String(), node.logs.String())
		}
		return false
	})
	var raw struct {
		Object struct {
			PublicKey struct {
				PublicKeyPem string `json:"publicKeyPem"`
			} `json:"publicKey"`
		} `json:"object"`
	}
	_ = json.Unmarshal(hub.received.ofType("Update")[0].Raw, &raw)
	if raw.Object.PublicKey.PublicKeyPem != newPEM {
		t.Error("the hub received an Update without the new key")
	}

	// Later deliveries verify at both followers.
	id := publishNote(t, node, "signed with the new key")
	eventually(t, "the hub verified a Create signed with the new key", func() bool {
		for _, a := range hub.received.ofType("Create") {
			if a.ID == id {
				return true
			}
		}
		return false
	})
	select {
	case b := <-mastodon.inbox:
		checkOurSignature(t, node, <-mastodon.requests, b)
	case <-time.After(10 * time.Second):
		t.Fatal("no Create at the Mastodon follower")
	}

	// Announced once: the mark is gone, a restart sends nothing again.
	n, err := db.Collection("keys").CountDocuments(ctx, bson.M{"_id": "actor", "announce": bson.M{"$exists": true}})
	if err != nil || n != 0 {
		t.Fatalf("pending announcements after start = %d, %v", n, err)
	}
	node.stop()
	node = startServer(t, "rotor", addr, db)
	if actorPEM(t, node) != newPEM {
		t.Error("the key changed on a plain restart")
	}
	select {
	case b := <-mastodon.inbox:
		t.Errorf("a plain restart sent %s", b)
	case <-time.After(time.Second):
	}
}

// TestRotateKeyRefusesWithoutKey: rotating in a database no server has
// started on creates nothing.
func TestRotateKeyRefusesWithoutKey(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	err := federation.RotateKey(ctx, db, federation.KeyActor, time.Now())
	if !errors.Is(err, federation.ErrNoKey) {
		t.Fatalf("err = %v, want ErrNoKey", err)
	}
	if n, _ := db.Collection("keys").CountDocuments(ctx, bson.M{}); n != 0 {
		t.Errorf("%d key documents created", n)
	}
	if err := federation.RotateKey(ctx, db, "nobody", time.Now()); err == nil || !strings.Contains(err.Error(), `unknown key "nobody"`) {
		t.Errorf("unknown key name: %v", err)
	}
}

// eventually2 is eventually with its own deadline.
func eventually2(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
