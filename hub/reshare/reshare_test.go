package reshare_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"

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
