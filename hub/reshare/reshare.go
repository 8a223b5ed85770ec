// Package reshare makes the hub's Group actor boost each member's new
// objects to the hub's followers: a plain Announce{object: "<node object
// IRI>"} (federation.md §3: Mastodon renders that as a boost, unlike the
// FEP-1b12 Announce(Create)), at most once per object IRI, ever.
package reshare

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/internal/store"
)

// Collection records announced object IRIs (_id) with the Announce's id.
const Collection = "hub_announced"

type record struct {
	ObjectID   string `bson:"_id"`
	ActivityID string `bson:"activity"`
}

// Resharer announces objects once.
type Resharer struct {
	fed  *federation.Server
	coll *mongo.Collection

	mu   sync.Mutex
	done map[string]bool
}

// New loads the set of announced IRIs (one pass, kept in memory: the check
// runs on every ingest and the embedded store scans on reads).
func New(ctx context.Context, db *mongo.Database, fed *federation.Server) (*Resharer, error) {
	r := &Resharer{fed: fed, coll: db.Collection(Collection), done: map[string]bool{}}
	cur, err := r.coll.Find(ctx, bson.M{})
	if err != nil {
		return nil, fmt.Errorf("reshare: load: %w", err)
	}
	var all []record
	if err := cur.All(ctx, &all); err != nil {
		return nil, fmt.Errorf("reshare: load: %w", err)
	}
	for _, a := range all {
		r.done[a.ObjectID] = true
	}
	return r, nil
}

// Announced reports whether objectID was announced.
func (r *Resharer) Announced(objectID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done[objectID]
}

// Announce publishes Announce{object: objectID} to the hub's followers
// unless it was announced before. The record is written before publishing:
// its duplicate-key error is what stops a second Announce, even from another
// replica; if publishing then fails, the record is withdrawn so a retry
// (the sender's redelivery, or the next backfill) announces it.
func (r *Resharer) Announce(ctx context.Context, objectID string) error {
	r.mu.Lock()
	if r.done[objectID] {
		r.mu.Unlock()
		return nil
	}
	r.done[objectID] = true
	r.mu.Unlock()

	id := r.fed.NewActivityID()
	if _, err := r.coll.InsertOne(ctx, record{ObjectID: objectID, ActivityID: id}); err != nil {
		if store.IsDuplicate(err) {
			return nil
		}
		r.forget(objectID)
		return fmt.Errorf("reshare: record %s: %w", objectID, err)
	}
	body, err := json.Marshal(map[string]any{
		"@context":  "https://www.w3.org/ns/activitystreams",
		"id":        id,
		"type":      "Announce",
		"actor":     r.fed.ActorID(),
		"object":    objectID,
		"to":        []string{federation.Public},
		"cc":        []string{r.fed.FollowersID()},
		"published": r.fed.Now().UTC(),
	})
	if err == nil {
		err = r.fed.Publish(ctx, body)
	}
	if err != nil {
		_, _ = r.coll.DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": objectID})
		r.forget(objectID)
		return fmt.Errorf("reshare: announce %s: %w", objectID, err)
	}
	return nil
}

func (r *Resharer) forget(objectID string) {
	r.mu.Lock()
	delete(r.done, objectID)
	r.mu.Unlock()
}
