package federation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// outboxView is what a follower's server reads of an outbox: the
// collection's count and links, and every page from first to the end.
type outboxView struct {
	total       int
	last        string
	items       []string // activity ids, in page order
	pages       int
	firstPageID string
}

// readOutbox pages through s's outbox as Mastodon does (first, then next),
// checking what every page must carry.
func readOutbox(t *testing.T, s *testServer) outboxView {
	t.Helper()
	_, body := get(t, s.OutboxID(), "application/activity+json")
	coll := decode(t, body)
	if coll["type"] != "OrderedCollection" || coll["id"] != s.OutboxID() {
		t.Fatalf("outbox collection: %s", body)
	}
	v := outboxView{total: int(coll["totalItems"].(float64))}
	v.last, _ = coll["last"].(string)
	next, _ := coll["first"].(string)
	v.firstPageID = next
	for ; next != "" && v.pages < 100; v.pages++ {
		resp, body := get(t, next, "application/activity+json")
		page := decode(t, body)
		if resp.StatusCode != 200 || page["type"] != "OrderedCollectionPage" || page["partOf"] != s.OutboxID() || page["id"] != next {
			t.Fatalf("page %s: %d %s", next, resp.StatusCode, body)
		}
		if int(page["totalItems"].(float64)) != v.total {
			t.Errorf("page %s says totalItems %v, the collection %d", next, page["totalItems"], v.total)
		}
		items := page["orderedItems"].([]any)
		if len(items) > PageSizeForTest {
			t.Fatalf("page %s has %d items", next, len(items))
		}
		for _, it := range items {
			v.items = append(v.items, it.(map[string]any)["id"].(string))
		}
		next, _ = page["next"].(string)
	}
	return v
}

// pageItems reads one page's activity ids.
func pageItems(t *testing.T, url string) ([]string, map[string]any) {
	t.Helper()
	resp, body := get(t, url, "application/activity+json")
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	page := decode(t, body)
	var ids []string
	for _, it := range page["orderedItems"].([]any) {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	return ids, page
}

// newestFirst is the order outbox pages promise: by the id's NewID part,
// which sorts by publication time (replicas of one node share their base
// URL; test replicas differ in port).
func newestFirst(ids []string) []string {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(idTail(b), idTail(a)) })
	return out
}

// checkOutbox asserts that s's outbox pages hold exactly published,
// newest first, PageSize to a page.
func checkOutbox(t *testing.T, s *testServer, published []string) {
	t.Helper()
	v := readOutbox(t, s)
	if v.total != len(published) {
		t.Errorf("totalItems = %d, published %d", v.total, len(published))
	}
	if want := newestFirst(published); !slices.Equal(v.items, want) {
		t.Errorf("outbox pages hold %d activities, want %d; first difference: %s", len(v.items), len(want), firstDifference(v.items, want))
	}
	if want := (len(published) + PageSizeForTest - 1) / PageSizeForTest; v.pages != max(1, want) {
		t.Errorf("%d pages for %d activities, want %d", v.pages, len(published), want)
	}
}

// TestOutboxPaging: the outbox's pages hold what was published, newest
// first, 20 a page, with the same count everywhere; prev goes back to the
// page above, last is the oldest page, and a page asked again (a
// follower's stored cursor) is the same after more was published.
func TestOutboxPaging(t *testing.T) {
	node := startServer(t, "jalisco", "", nil)
	checkOutbox(t, node, nil)
	var published []string
	for range 2*PageSizeForTest + 5 {
		published = append(published, publishNote(t, node, "note"))
	}
	checkOutbox(t, node, published)

	v := readOutbox(t, node)
	want := newestFirst(published)
	second, page := pageItems(t, node.OutboxID()+"?page=true&max_id="+idTail(want[PageSizeForTest-1]))
	if !slices.Equal(second, want[PageSizeForTest:2*PageSizeForTest]) {
		t.Errorf("second page %v, want %v", second, want[PageSizeForTest:2*PageSizeForTest])
	}
	above, _ := pageItems(t, page["prev"].(string))
	if !slices.Equal(above, want[:PageSizeForTest]) {
		t.Errorf("prev of the second page %v, want the first page %v", above, want[:PageSizeForTest])
	}
	oldest, _ := pageItems(t, v.last)
	if !slices.Equal(oldest, want[len(want)-PageSizeForTest:]) {
		t.Errorf("last page %v, want the %d oldest %v", oldest, PageSizeForTest, want[len(want)-PageSizeForTest:])
	}

	// Cursors stay valid: after more is published, the second page is the
	// same and the first page's prev holds the new activities.
	_, first := pageItems(t, v.firstPageID)
	newer := []string{publishNote(t, node, "later"), publishNote(t, node, "later")}
	published = append(published, newer...)
	again, _ := pageItems(t, page["id"].(string))
	if !slices.Equal(again, second) {
		t.Errorf("the second page changed after a publish: %v, was %v", again, second)
	}
	above, _ = pageItems(t, first["prev"].(string))
	if !slices.Equal(above, newestFirst(newer)) {
		t.Errorf("prev of the old first page %v, want the new activities %v", above, newestFirst(newer))
	}
	checkOutbox(t, node, published)
}

// firstDifference describes where got and want first differ.
func firstDifference(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("item %d is %s, want %s", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("one list ends at %d", min(len(got), len(want)))
}

// outboxTotal reads the outbox collection's totalItems.
func outboxTotal(t *testing.T, s *testServer) int {
	t.Helper()
	_, body := get(t, s.OutboxID(), "application/activity+json")
	return int(decode(t, body)["totalItems"].(float64))
}

func idTail(activityID string) string { return activityID[strings.LastIndex(activityID, "/")+1:] }

// TestOutboxRestartAndReplicas: a restarted server rebuilds its outbox
// from the store, and two replicas sharing a store show each other's
// publishes (a single one, and a batch larger than a mark keeps).
func TestOutboxRestartAndReplicas(t *testing.T) {
	ctx := context.Background()
	a := startServer(t, "jalisco", "", nil)
	var published []string
	for range PageSizeForTest + 3 {
		published = append(published, publishNote(t, a, "note"))
	}
	addr := a.addr()
	a.stop()
	a = startServer(t, "jalisco", addr, a.db)
	if got := a.OutboxLoaded().Entries; got != len(published) {
		t.Errorf("rebuild after restart read %d entries, want %d", got, len(published))
	}
	checkOutbox(t, a, published)

	b := startServer(t, "jalisco", "", a.db)
	checkOutbox(t, b, published)
	published = append(published, publishNote(t, a, "from a"))
	eventually(t, "b shows a's publish", func() bool { return outboxTotal(t, b) == len(published) })
	checkOutbox(t, b, published)
	published = append(published, publishNote(t, b, "from b"))
	eventually(t, "a shows b's publish", func() bool { return outboxTotal(t, a) == len(published) })
	checkOutbox(t, a, published)

	// An import's batch larger than a's mark keeps: b reads the outbox
	// again instead of missing entries.
	var batch [][]byte
	for i := range 600 {
		id := a.NewActivityID()
		published = append(published, id)
		batch = append(batch, fmt.Appendf(nil, `{"id":%q,"type":"Create","actor":%q,"object":{"id":"%s/note","type":"Note","content":"batch %d"}}`,
			id, a.ActorID(), id, i))
	}
	if err := a.PublishAll(ctx, batch); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b shows a's batch", func() bool { return outboxTotal(t, b) == len(published) })
	checkOutbox(t, b, published)
	checkOutbox(t, a, published)
}

// TestPublishRefusesForeignIDs: an activity whose id NewActivityID did not
// make is refused with a clear error and stored nowhere (its id would not
// sort by time, which outbox pages rely on).
func TestPublishRefusesForeignIDs(t *testing.T) {
	node := startServer(t, "jalisco", "", nil)
	for _, id := range []string{node.URL + "/activities/1", node.URL + "/activities/" + strings.ToUpper(idTail(node.NewActivityID())), "https://other.example/activities/x"} {
		act, _ := json.Marshal(map[string]any{"id": id, "type": "Create", "actor": node.ActorID(), "object": id + "/note"})
		err := node.Publish(context.Background(), act)
		if err == nil || !strings.Contains(err.Error(), "not minted by NewActivityID") {
			t.Errorf("publish %s: %v", id, err)
		}
	}
	checkOutbox(t, node, nil)
}
