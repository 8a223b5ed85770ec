package reshare_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/hub/reshare"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// Two hub replicas on one store announce each object once between them,
// even when both ingest it at the same moment: the record's insert with
// _id = object IRI is the claim, and the loser publishes nothing.
func TestAnnounceOnceAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	var rs []*reshare.Resharer
	for range 2 {
		fed, err := federation.New(ctx, federation.Config{BaseURL: "http://hub.localhost:1", Username: "hub",
			ActorType: "Group", DB: db, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		r, err := reshare.New(ctx, db, fed)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	const objects = 15
	var wg sync.WaitGroup
	for i := range objects {
		id := fmt.Sprintf("http://a.localhost/commitments/A%04d", i)
		for _, r := range rs {
			wg.Go(func() {
				if err := r.Announce(ctx, id); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	cur, err := db.Collection("outbox").Find(ctx, bson.M{"type": "Announce"})
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		ObjectID string `bson:"objectId"`
	}
	if err := cur.All(ctx, &entries); err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, e := range entries {
		per[e.ObjectID]++
	}
	if len(entries) != objects || len(per) != objects {
		t.Errorf("%d Announces for %d objects: %v", len(entries), objects, per)
	}
	// A replica started later knows them all without asking the store.
	fed, _ := federation.New(ctx, federation.Config{BaseURL: "http://hub.localhost:1", Username: "hub",
		ActorType: "Group", DB: db, Logger: slog.New(slog.DiscardHandler)})
	r3, err := reshare.New(ctx, db, fed)
	if err != nil {
		t.Fatal(err)
	}
	if !r3.Announced("http://a.localhost/commitments/A0003") {
		t.Error("a restarted replica forgot an announcement")
	}
}

// A member's change of an announced object is relayed once between two
// replicas, even when both see it at the same moment and only one of them
// announced the object; a change of an object never announced is not
// relayed, and the change is embedded byte for byte.
func TestRelayOnceAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	newReplica := func() *reshare.Resharer {
		fed, err := federation.New(ctx, federation.Config{BaseURL: "http://hub.localhost:1", Username: "hub",
			ActorType: "Group", DB: db, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		r, err := reshare.New(ctx, db, fed)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := newReplica(), newReplica()
	const announced = "http://a.localhost/commitments/A0001"
	if err := a.Announce(ctx, announced); err != nil {
		t.Fatal(err)
	}
	update := []byte(`{"id":"http://a.localhost/activities/u1","type":"Update","actor":"http://a.localhost/users/a","object":{"id":"` + announced + `","name":"a <b> & c"}}`)
	key := reshare.UpdateKey(announced, time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	var wg sync.WaitGroup
	for range 3 {
		for _, r := range []*reshare.Resharer{a, b} {
			wg.Go(func() {
				if err := r.Relay(ctx, key, announced, update); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	// Announced by a; its removal reaches only b, which must relay it.
	const other = "http://a.localhost/commitments/A0003"
	if err := a.Announce(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := b.Relay(ctx, reshare.DeleteKey(other), other, []byte(`{"id":"http://a.localhost/activities/d3","type":"Delete"}`)); err != nil {
		t.Fatal(err)
	}
	// Both replicas withdraw the boost of a removed object: one Undo. The
	// boost of an object never announced is not withdrawn.
	for _, r := range []*reshare.Resharer{a, b, a, b} {
		wg.Go(func() {
			if err := r.Unboost(ctx, other); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := b.Unboost(ctx, "http://a.localhost/commitments/A0002"); err != nil {
		t.Fatal(err)
	}
	if k, err := db.Collection("outbox").CountDocuments(ctx, bson.M{"type": "Undo"}); err != nil || k != 1 {
		t.Errorf("%d Undos of one boost (%v), want 1", k, err)
	}
	// Never announced: history, or another member's object.
	if err := b.Relay(ctx, reshare.DeleteKey("http://a.localhost/commitments/A0002"), "http://a.localhost/commitments/A0002",
		[]byte(`{"id":"http://a.localhost/activities/d2","type":"Delete"}`)); err != nil {
		t.Fatal(err)
	}

	cur, err := db.Collection("outbox").Find(ctx, bson.M{"type": "Announce"})
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		ObjectID string `bson:"objectId"`
		Raw      string `bson:"raw"`
	}
	if err := cur.All(ctx, &entries); err != nil {
		t.Fatal(err)
	}
	var relays []string
	removals := 0
	for _, e := range entries {
		switch e.ObjectID {
		case announced, other: // the boosts
		case "http://a.localhost/activities/d3":
			removals++
		default:
			relays = append(relays, e.Raw)
		}
	}
	if removals != 1 {
		t.Errorf("the removal of an object another replica announced was relayed %d times, want 1", removals)
	}
	if len(relays) != 1 {
		t.Fatalf("%d relays of one change, want 1: %v", len(relays), relays)
	}
	if !strings.Contains(relays[0], `"object":`+string(update)) {
		t.Errorf("the Update is not embedded as received: %s", relays[0])
	}
}
