package hub_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// announced is one Announce a follower received, opened up.
type announced struct {
	*federation.Activity
	IRI      string          // the boosted object's IRI, for a boost
	Embedded json.RawMessage // the relayed activity, for a relay
	Inner    struct {
		ID     string          `json:"id"`
		Type   string          `json:"type"`
		Actor  string          `json:"actor"`
		Object json.RawMessage `json:"object"`
	}
	To, CC []string
}

func openAnnounce(t *testing.T, a *federation.Activity) announced {
	t.Helper()
	var env struct {
		Object json.RawMessage `json:"object"`
		To     []string        `json:"to"`
		CC     []string        `json:"cc"`
	}
	if err := json.Unmarshal(a.Raw, &env); err != nil {
		t.Fatal(err)
	}
	got := announced{Activity: a, To: env.To, CC: env.CC}
	if json.Unmarshal(env.Object, &got.IRI) != nil {
		got.Embedded = env.Object
		if err := json.Unmarshal(env.Object, &got.Inner); err != nil {
			t.Fatalf("Announce object: %v: %s", err, env.Object)
		}
	}
	return got
}

// next returns the first Announce received that matches want, waiting
// for it if need be; the others are kept for later calls (deliveries may
// arrive in any order).
func (f *follower) next(t *testing.T, within time.Duration, what string, want func(announced) bool) announced {
	t.Helper()
	for i, a := range f.others {
		if got := openAnnounce(t, a); want(got) {
			f.others = slices.Delete(f.others, i, i+1)
			return got
		}
	}
	deadline := time.After(within)
	for {
		select {
		case a := <-f.got:
			if got := openAnnounce(t, a); want(got) {
				return got
			}
			f.others = append(f.others, a)
		case <-deadline:
			t.Fatalf("no Announce of %s within %v", what, within)
		}
	}
}

// TestFollowerOfTheHubSeesEditsAndRemovals: an account that follows only
// the hub's Group (not the node) gets the boost of a new commitment, then
// Announce{Update} when the node edits it (the new text embedded, and the
// Update fetchable by its id for receivers that do not trust embedded
// copies), then Announce{Delete} and Undo{Announce} of the boost when the
// node removes it. Stale Updates and Deletes and a second Delete of the
// same object are not relayed.
func TestFollowerOfTheHubSeesEditsAndRemovals(t *testing.T) {
	n := startNode(t, "lima")
	n.seedPlan(t)
	h := startHub(t, storetest.DB(t), "")
	join(t, h, n)
	f := startFollower(t, "onlyhub")
	followHub(t, f, h, n)
	ctx := context.Background()
	iri := n.commitmentIRI(1)
	hubActor, hubFollowers := h.Federation().ActorID(), h.Federation().FollowersID()

	n.create(t, 1, "Open budgets", "fiscal-openness")
	boost := f.next(t, 10*time.Second, "the new commitment", func(a announced) bool { return a.IRI == iri })

	if _, err := n.Service().UpdateCommitment(ctx, n.commitment(1, "Open budgets, revised", "fiscal-openness")); err != nil {
		t.Fatal(err)
	}
	edit := f.next(t, 10*time.Second, "the edit", func(a announced) bool { return a.Inner.Type == "Update" })
	switch {
	case edit.Actor != hubActor:
		t.Errorf("the edit was announced by %s, not the hub's Group", edit.Actor)
	case edit.Inner.Actor != n.actor() || !strings.HasPrefix(edit.Inner.ID, n.base+"/activities/"):
		t.Errorf("the embedded Update is not the node's: %s", edit.Embedded)
	case !strings.Contains(string(edit.Inner.Object), iri) || !strings.Contains(string(edit.Inner.Object), "Open budgets, revised"):
		t.Errorf("the embedded Update does not carry the new text of %s: %s", iri, edit.Inner.Object)
	case !slices.Contains(edit.To, federation.Public) || !slices.Contains(edit.CC, hubFollowers):
		t.Errorf("the edit is addressed to %v / %v, want Public and the hub's followers", edit.To, edit.CC)
	}
	// A receiver that does not trust the embedded copy fetches the
	// activity from the node: the same Update, with the new text.
	fetched, err := edit.Object(ctx)
	if err != nil {
		t.Fatalf("fetching the relayed Update by its id: %v", err)
	}
	var inner struct {
		ID, Type string
	}
	_ = json.Unmarshal(fetched, &inner)
	if inner.ID != edit.Inner.ID || inner.Type != "Update" || !strings.Contains(string(fetched), "Open budgets, revised") {
		t.Errorf("the Update fetched by its id is not the one relayed: %s", fetched)
	}

	// Stale Updates under new ids: the same version again, and an older
	// one (updated = published); neither is relayed.
	for _, older := range []bool{false, true} {
		var again, obj map[string]json.RawMessage
		if err := json.Unmarshal(edit.Embedded, &again); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(again["object"], &obj); err != nil {
			t.Fatal(err)
		}
		if older {
			obj["updated"] = obj["published"]
		}
		again["object"], _ = json.Marshal(obj)
		again["id"], _ = json.Marshal(n.Federation().NewActivityID())
		body, _ := json.Marshal(again)
		if err := n.Federation().Publish(ctx, body); err != nil {
			t.Fatal(err)
		}
	}

	// A stale Delete: made before the edit (its Tombstone's deleted time
	// is the commitment's first version), so the edited commitment stays
	// and nothing is relayed.
	var article struct {
		Published string `json:"published"`
	}
	if err := json.Unmarshal(edit.Inner.Object, &article); err != nil || article.Published == "" {
		t.Fatalf("the edited commitment has no published time: %v %s", err, edit.Inner.Object)
	}
	staleDelete := n.Federation().NewActivityID()
	body, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": staleDelete, "type": "Delete",
		"actor": n.actor(), "object": map[string]any{"id": iri, "type": "Tombstone", "deleted": article.Published},
		"to": []string{federation.Public}, "cc": []string{n.Federation().FollowersID()},
	})
	if err := n.Federation().Publish(ctx, body); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the hub to process the stale Delete", func() bool {
		n, err := h.db.Collection("inbox_seen").CountDocuments(ctx, bson.M{"_id": staleDelete})
		return err == nil && n == 1
	})
	// Processed, since the seen record is taken first: give it a moment.
	time.Sleep(200 * time.Millisecond)

	if err := n.Service().DeleteCommitment(ctx, n.cid(1)); err != nil {
		t.Fatal(err)
	}
	removal := f.next(t, 10*time.Second, "the removal", func(a announced) bool {
		return a.Inner.Type == "Delete" && strings.Contains(string(a.Inner.Object), `"`+iri+`"`)
	})
	if removal.Inner.ID == staleDelete {
		t.Errorf("the stale Delete %s was relayed", staleDelete)
	}
	if removal.Actor != hubActor || removal.Inner.Actor != n.actor() {
		t.Errorf("the removal: Announce by %s of a Delete by %s", removal.Actor, removal.Inner.Actor)
	}
	// Mastodon and GoToSocial ignore the relayed Delete but do take the
	// booster's Undo{Announce}: the boost is withdrawn.
	undo := f.next(t, 10*time.Second, "the withdrawal of the boost", func(a announced) bool { return a.Type == "Undo" })
	if undo.Actor != hubActor || undo.Inner.Type != "Announce" || undo.Inner.ID != boost.ID || undo.Inner.Actor != hubActor ||
		!slices.Contains(undo.To, federation.Public) || !slices.Contains(undo.CC, hubFollowers) {
		t.Errorf("Undo of the boost %s: %s", boost.ID, undo.Raw)
	}
	// A second Delete of the same object: not relayed again.
	second, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": n.Federation().NewActivityID(), "type": "Delete",
		"actor": n.actor(), "object": map[string]any{"id": iri, "type": "Tombstone"},
		"to": []string{federation.Public}, "cc": []string{n.Federation().FollowersID()},
	})
	if err := n.Federation().Publish(ctx, second); err != nil {
		t.Fatal(err)
	}

	// Whatever else arrives within two seconds: no second relay of the
	// edit and no second removal of the commitment.
	for quiet := time.After(2 * time.Second); quiet != nil; {
		select {
		case a := <-f.got:
			f.others = append(f.others, a)
		case <-quiet:
			quiet = nil
		}
	}
	for _, a := range f.others {
		got := openAnnounce(t, a)
		switch {
		case got.Inner.Type == "Update" && strings.Contains(string(got.Inner.Object), `"id":"`+iri+`"`):
			t.Errorf("the edit of %s was relayed twice: %s", iri, got.Embedded)
		case got.Inner.Type == "Delete" && strings.Contains(string(got.Inner.Object), `"`+iri+`"`):
			t.Errorf("the removal of %s was relayed twice: %s", iri, got.Embedded)
		case got.IRI == iri:
			t.Errorf("%s was boosted twice", iri)
		case got.Type == "Undo":
			t.Errorf("the boost was withdrawn twice: %s", got.Raw)
		}
	}
}
