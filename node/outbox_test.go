package node

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// outboxItem is what a follower's server reads of one outbox activity.
type outboxItem struct {
	ID, Type, Object string
}

// readOutboxPage GETs an outbox page at u and returns its totalItems and
// activities, in page order.
func readOutboxPage(t *testing.T, u string) (int, []outboxItem) {
	t.Helper()
	resp, body := get(t, loopbackClient(), u, "application/activity+json")
	mustStatus(t, resp, body, http.StatusOK)
	var page struct {
		TotalItems   int `json:"totalItems"`
		OrderedItems []struct {
			ID     string          `json:"id"`
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		} `json:"orderedItems"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatalf("outbox page %s: %v %s", u, err, body)
	}
	items := make([]outboxItem, len(page.OrderedItems))
	for i, it := range page.OrderedItems {
		var obj struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(it.Object, &obj.ID) != nil {
			_ = json.Unmarshal(it.Object, &obj)
		}
		items[i] = outboxItem{ID: it.ID, Type: it.Type, Object: obj.ID}
	}
	return page.TotalItems, items
}

// startReplica starts another node process on tn's database and base URL
// (replicas behind one address), served on its own loopback port; it
// returns the node and the address its outbox's first page answers at.
func startReplica(t *testing.T, tn *testNode) (*Node, string) {
	t.Helper()
	l, _ := listen(t, "replica")
	n, err := New(context.Background(), Config{BaseURL: tn.base, Slug: tn.cfg.Slug, Name: tn.cfg.Name,
		Lang: "es", Languages: []string{"es", "en"}, DB: tn.svc.Store().Database(), Version: "test", Logger: discard(),
		HubURL: testHubURL})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, l, n.Handler())
	runBackground(t, n.Run)
	return n, "http://" + l.Addr().String() + "/users/" + tn.cfg.Slug + "/outbox?page=true"
}

// TestOutboxFollowsWritesOnEveryReplica: a progress update's Create, its
// edit's Update and its Delete head the outbox's first page, newest first,
// with the count, on the node that wrote, on a replica sharing its store
// (within its refresh) and on a node started afterwards (the rebuild).
func TestOutboxFollowsWritesOnEveryReplica(t *testing.T) {
	tn, c, tok := startSeeded(t, "jalisco", "JAL0001")
	_, replicaPage := startReplica(t, tn)
	firstPage := tn.Federation().OutboxID() + "?page=true"

	// expect checks both nodes' first pages: the newest activity is typ
	// of object, the count is total, and the replica's page is the
	// writer's.
	expect := func(what, typ, object string) {
		t.Helper()
		total, items := readOutboxPage(t, firstPage)
		if len(items) == 0 || items[0].Type != typ || items[0].Object != object {
			t.Fatalf("after %s the outbox's newest activity is %+v, want %s of %s", what, items, typ, object)
		}
		if total != outboxTotal(t, tn) {
			t.Errorf("after %s the page says %d activities, the collection %d", what, total, outboxTotal(t, tn))
		}
		var replicaItems []outboxItem
		waitFor(t, "the replica's outbox after "+what, func() bool {
			var n int
			n, replicaItems = readOutboxPage(t, replicaPage)
			return n == total
		})
		if !slices.Equal(replicaItems, items) {
			t.Errorf("after %s the replica's first page is %+v, the writer's %+v", what, replicaItems, items)
		}
	}
	expect("the seed", "Update", tn.iris.Plan("2016-2018")) // the plan lists its new commitment

	uid := postUpdate(t, c, tn, tok, "JAL0001", map[string]any{"date": "2017-07-01", "text": map[string]string{"es": "Primer avance."}})
	updateIRI := tn.iris.Update("JAL0001", uid)
	expect("a progress update", "Create", updateIRI)

	path := tn.base + "/api/v1/commitments/JAL0001/updates/" + uid
	resp, body := do(t, c, http.MethodPut, path, map[string]any{"text": map[string]string{"es": "Primer avance, corregido."}}, bearer(tok))
	mustStatus(t, resp, body, http.StatusOK)
	expect("its edit", "Update", updateIRI)

	resp, body = do(t, c, http.MethodDelete, path, nil, bearer(tok))
	mustStatus(t, resp, body, http.StatusNoContent)
	expect("its deletion", "Delete", updateIRI)
	_, items := readOutboxPage(t, firstPage)
	var types []string
	for _, it := range items[:3] {
		types = append(types, it.Type)
	}
	if strings.Join(types, " ") != "Delete Update Create" {
		t.Errorf("the update's activities, newest first: %v", types)
	}

	// A node started now (a restart) rebuilds the same outbox.
	restarted, restartedPage := startReplica(t, tn)
	if got, want := restarted.Federation().OutboxLoaded().Entries, outboxTotal(t, tn); got != want {
		t.Errorf("the rebuild read %d entries, the outbox has %d", got, want)
	}
	total, again := readOutboxPage(t, restartedPage)
	if total != outboxTotal(t, tn) || !slices.Equal(again, items) {
		t.Errorf("after a restart the first page is %d %+v, want %d %+v", total, again, outboxTotal(t, tn), items)
	}
}
