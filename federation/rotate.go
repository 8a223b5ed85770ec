package federation

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/internal/store"
)

// Key names in the keys collection.
const (
	KeyActor       = "actor"
	KeyApplication = "application"
)

// ErrNoKey is returned by RotateKey when the database holds no such key:
// no server has started on it yet, so there is nothing to rotate.
var ErrNoKey = errors.New("federation: no such key in the store")

// RotateKey replaces the stored RSA key name (KeyActor or KeyApplication)
// with a fresh 2048-bit key. It is meant for a stopped server: a running
// one keeps signing with the key it loaded until it restarts. For the
// actor's key it also records that followers must be told: the next New
// publishes an Update of the actor carrying the new public key (its
// activity id is fixed here, so replicas starting together queue it once).
func RotateKey(ctx context.Context, db *mongo.Database, name string, now time.Time) error {
	if name != KeyActor && name != KeyApplication {
		return fmt.Errorf("federation: rotate key: unknown key %q (want %q or %q)", name, KeyActor, KeyApplication)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	doc := keyDoc{ID: name, PEM: privateKeyPEM(key), RotatedAt: now.UTC()}
	if name == KeyActor {
		doc.Announce = NewID(now)
	}
	res, err := db.Collection("keys").ReplaceOne(ctx, bson.M{"_id": name}, doc)
	if err != nil {
		return fmt.Errorf("federation: rotate key %s: %w", name, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("%w: %q in database %s (has a server ever started on it?)", ErrNoKey, name, db.Name())
	}
	return nil
}

func privateKeyPEM(k *rsa.PrivateKey) string {
	der := x509.MarshalPKCS1PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}))
}

// announceRotation publishes, once, the Update of the actor that a
// RotateKey left pending: public and to the followers, through the durable
// queue, signed (like every delivery) with the new key. Mastodon and
// GoToSocial refresh the actor's key from it; a follower that missed it
// re-fetches the actor when a signature fails with its cached key.
func (s *Server) announceRotation(ctx context.Context) error {
	coll := s.cfg.DB.Collection("keys")
	var doc keyDoc
	if err := coll.FindOne(ctx, bson.M{"_id": KeyActor}).Decode(&doc); err != nil {
		return fmt.Errorf("federation: read actor key: %w", err)
	}
	if doc.Announce == "" {
		return nil
	}
	actor, err := s.ActorJSON()
	if err != nil {
		return err
	}
	id := s.BaseURL() + "/activities/" + doc.Announce
	act, err := json.Marshal(map[string]any{
		"@context":  "https://www.w3.org/ns/activitystreams",
		"id":        id,
		"type":      "Update",
		"actor":     s.ActorID(),
		"to":        []string{Public},
		"cc":        []string{s.FollowersID()},
		"published": doc.RotatedAt.UTC().Format(time.RFC3339),
		"object":    json.RawMessage(actor),
	})
	if err != nil {
		return err
	}
	// The outbox entry's _id is the id's tail: a replica, or an earlier
	// start that died before clearing the mark, makes the insert a
	// duplicate. Enqueue again then: it is idempotent per activity and
	// inbox, and the earlier start may have died before queueing.
	err = s.Publish(ctx, act)
	if store.IsDuplicate(err) {
		err = s.queue.Enqueue(ctx, id, act, s.FollowerInboxes())
	}
	if err != nil {
		return fmt.Errorf("federation: announce the rotated key: %w", err)
	}
	if _, err := coll.UpdateOne(ctx, bson.M{"_id": KeyActor, "announce": doc.Announce},
		bson.M{"$unset": bson.M{"announce": ""}}); err != nil {
		return fmt.Errorf("federation: clear the key announcement: %w", err)
	}
	s.log.Info("federation: announced the rotated actor key to followers", "activity", id, "followers", len(s.FollowerInboxes()))
	return nil
}
