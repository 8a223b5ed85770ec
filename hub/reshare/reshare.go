// Package reshare makes the hub's Group actor boost each member's new
// objects to the hub's followers: a plain Announce{object: "<node object
// IRI>"} (federation.md §3: Mastodon renders that as a boost, unlike the
// FEP-1b12 Announce(Create)), at most once per object IRI, ever.
//
// Changes to an announced object are relayed the FEP-1b12 way (Relay):
// Announce{object: <the member's Update or Delete, embedded as received>},
// once per change, so that an account that follows only the hub sees
// edits and removals of what the hub boosted.
package reshare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/internal/store"
)

// Collection records announced object IRIs (_id) with the Announce's id.
const Collection = "hub_announced"

// RelayedCollection records relayed changes (_id: the change's key, see
// Relay) with the Announce's id. It is never loaded: only inserts read it,
// through their duplicate-key error.
const RelayedCollection = "hub_relayed"

type record struct {
	ObjectID   string `bson:"_id"`
	ActivityID string `bson:"activity"`
}

// Resharer announces objects once.
type Resharer struct {
	fed     *federation.Server
	coll    *mongo.Collection
	relayed *mongo.Collection

	mu   sync.Mutex
	done map[string]bool
}

// New loads the set of announced IRIs (one pass, kept in memory: the check
// runs on every ingest and the embedded store scans on reads).
func New(ctx context.Context, db *mongo.Database, fed *federation.Server) (*Resharer, error) {
	r := &Resharer{fed: fed, coll: db.Collection(Collection), relayed: db.Collection(RelayedCollection), done: map[string]bool{}}
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
	iri, _ := json.Marshal(objectID)
	if err := r.publish(ctx, id, iri); err != nil {
		_, _ = r.coll.DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": objectID})
		r.forget(objectID)
		return fmt.Errorf("reshare: announce %s: %w", objectID, err)
	}
	return nil
}

// publish sends the Group's Announce of object (an IRI, or an activity's
// JSON) to the hub's followers, public like every boost.
func (r *Resharer) publish(ctx context.Context, id string, object []byte) error {
	body, err := json.Marshal(map[string]any{
		"@context":  "https://www.w3.org/ns/activitystreams",
		"id":        id,
		"type":      "Announce",
		"actor":     r.fed.ActorID(),
		"to":        []string{federation.Public},
		"cc":        []string{r.fed.FollowersID()},
		"published": r.fed.Now().UTC(),
	})
	if err != nil {
		return err
	}
	// The object goes in as it is: json.Marshal would re-encode an
	// embedded activity (escaping <, > and &), and it is relayed as the
	// member sent it.
	body = append(body[:len(body)-1], `,"object":`...)
	body = append(body, object...)
	body = append(body, '}')
	return r.fed.Publish(ctx, body)
}

// UpdateKey is the relay key of the change that made objectID's version
// updated: one relay per version, whichever activity (or replica, or
// backfill) brought it.
func UpdateKey(objectID string, updated time.Time) string {
	return "update|" + objectID + "|" + updated.UTC().Format(time.RFC3339Nano)
}

// DeleteKey is the relay key of objectID's removal: an object's removal is
// relayed once.
func DeleteKey(objectID string) string { return "delete|" + objectID }

// Relay passes a member's change of objectID on to the hub's followers as
// Announce{object: activity}, the member's Update or Delete embedded byte
// for byte as the hub received it (FEP-1b12: a Group announces the
// activities it accepts; a receiver that does not trust the embedded copy
// fetches the activity by its id from the member's host). It does nothing
// when the hub never announced objectID (its followers never saw it) or
// when key was relayed before, by this replica or another: the record with
// _id = key is inserted before publishing and its duplicate-key error
// stops a second relay; a failed publish withdraws it. The caller relays
// only real changes (a write that replaced an older version, a deletion
// that removed a live object).
func (r *Resharer) Relay(ctx context.Context, key, objectID string, activity []byte) error {
	announced, err := r.announcedAnywhere(ctx, objectID)
	if err != nil || !announced {
		return err
	}
	if !json.Valid(activity) {
		return fmt.Errorf("reshare: relay %s: the activity is not JSON", key)
	}
	id := r.fed.NewActivityID()
	if _, err := r.relayed.InsertOne(ctx, bson.M{"_id": key, "activity": id, "object": objectID}); err != nil {
		if store.IsDuplicate(err) {
			return nil
		}
		return fmt.Errorf("reshare: record %s: %w", key, err)
	}
	if err := r.publish(ctx, id, bytes.TrimSpace(activity)); err != nil {
		_, _ = r.relayed.DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": key})
		return fmt.Errorf("reshare: relay %s: %w", key, err)
	}
	return nil
}

// Unboost withdraws the hub's boost of objectID, removed by its member:
// Undo{Announce} of the boost, once (the record "undo|<IRI>" in
// RelayedCollection). Mastodon and GoToSocial, which do not act on the
// relayed Delete (see Relay), do take a booster's Undo: the boost leaves
// their timelines. The announcement record stays, so the object is never
// boosted again. Nothing is sent when the hub never boosted objectID.
func (r *Resharer) Unboost(ctx context.Context, objectID string) error {
	var rec record
	err := r.coll.FindOne(ctx, bson.M{"_id": objectID}).Decode(&rec)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil
	case err != nil:
		return fmt.Errorf("reshare: unboost %s: %w", objectID, err)
	}
	key := "undo|" + objectID
	id := r.fed.NewActivityID()
	if _, err := r.relayed.InsertOne(ctx, bson.M{"_id": key, "activity": id, "object": objectID}); err != nil {
		if store.IsDuplicate(err) {
			return nil
		}
		return fmt.Errorf("reshare: record %s: %w", key, err)
	}
	audience := map[string]any{"to": []string{federation.Public}, "cc": []string{r.fed.FollowersID()}}
	boost := map[string]any{"id": rec.ActivityID, "type": "Announce", "actor": r.fed.ActorID(), "object": objectID}
	for k, v := range audience {
		boost[k] = v
	}
	undo := map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "Undo",
		"actor": r.fed.ActorID(), "object": boost, "published": r.fed.Now().UTC()}
	for k, v := range audience {
		undo[k] = v
	}
	body, err := json.Marshal(undo)
	if err == nil {
		err = r.fed.Publish(ctx, body)
	}
	if err != nil {
		_, _ = r.relayed.DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": key})
		return fmt.Errorf("reshare: unboost %s: %w", objectID, err)
	}
	return nil
}

// announcedAnywhere reports whether objectID was announced by any replica:
// the set in memory has only this replica's announcements since it
// started, so a miss asks the store (rare: only real changes get here).
func (r *Resharer) announcedAnywhere(ctx context.Context, objectID string) (bool, error) {
	if r.Announced(objectID) {
		return true, nil
	}
	err := r.coll.FindOne(ctx, bson.M{"_id": objectID}).Err()
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reshare: was %s announced: %w", objectID, err)
	}
	r.mu.Lock()
	r.done[objectID] = true
	r.mu.Unlock()
	return true, nil
}

func (r *Resharer) forget(objectID string) {
	r.mu.Lock()
	delete(r.done, objectID)
	r.mu.Unlock()
}
