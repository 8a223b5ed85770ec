package hub_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

func urlQuery(s string) string { return url.QueryEscape(s) }

// hostile is what a reply may carry that must never reach a page: script,
// event attributes, javascript: links, frames, styles.
const hostile = `<p onclick="steal()">Hello <script>alert(1)</script><a href="javascript:alert(2)">x</a><img src=x onerror=alert(3)><iframe src="https://evil.example"></iframe><style>body{}</style></p>`

func assertClean(t *testing.T, where, s string) {
	t.Helper()
	low := strings.ToLower(s)
	for _, bad := range []string{"<script", "onclick", "onerror", "javascript:", "<iframe", "<style", "alert(1)"} {
		if strings.Contains(low, bad) {
			t.Errorf("%s contains %q", where, bad)
		}
	}
}

// TestDiscussionFromTheOwner: a Mastodon-shaped account replies to a
// member's commitment; the member (its owner) approves it and sends the
// contract's Add. The hub fetches the reply from its origin — a forged copy
// embedded in the Add never shows — and within seconds it is on the hub's
// commitment page and in the API, sanitised. The author's edit and the
// owner's Remove take effect; the author's Delete removes it. An Add from
// someone else, or of a reply outside the thread, is not kept.
func TestDiscussionFromTheOwner(t *testing.T) {
	town := startOwner(t, "town")
	other := startOwner(t, "other")
	alice := startAccount(t, "masto", "alice")
	cIRI := town.publishCommitment(t, "TOW0001", "Open budget portal", "fiscal-openness")
	otherIRI := other.publishCommitment(t, "OTH0001", "Open contracts", "open-contracting")
	h := startHub(t, storetest.DB(t), "")
	joinOwner(t, h, town, cIRI)
	joinOwner(t, h, other, otherIRI)
	inbox := h.Federation().InboxID()
	ctxIRI := cIRI + "/context"

	// The API contract's refusals first.
	for _, q := range []struct {
		query string
		code  int
		says  string
	}{
		{"", http.StatusBadRequest, "commitment: required"},
		{"?commitment=not-an-iri", http.StatusBadRequest, "absolute http(s) IRI"},
		{"?commitment=" + urlQuery(town.base+"/commitments/NOPE"), http.StatusNotFound, "no commitment"},
	} {
		code, body, _ := getBody(t, h.base+"/api/v1/discussion"+q.query)
		if code != q.code || !strings.Contains(body, q.says) {
			t.Errorf("GET /api/v1/discussion%s: %d %s, want %d naming %q", q.query, code, body, q.code, q.says)
		}
	}
	if items := thread(t, h, cIRI); len(items) != 0 {
		t.Fatalf("a new commitment has a thread: %+v", items)
	}

	reply := alice.note(cIRI, `<p><span class="h-card"><a href="`+town.ActorID()+`" class="u-url mention">@<span>town</span></a></span> How do you publish the budget?</p>`+hostile,
		map[string]any{"summary": "budget question", "sensitive": true,
			"tag": []any{map[string]any{"type": "Mention", "href": town.ActorID(), "name": "@town@" + strings.TrimPrefix(town.base, "http://")},
				map[string]any{"type": "Hashtag", "href": alice.base + "/tags/budget", "name": "#budget"}}})
	replyID := reply["id"].(string)
	// The Add embeds a forged copy: only the origin's version may show.
	forged := map[string]any{"id": replyID, "type": "Note", "attributedTo": alice.actor, "inReplyTo": cIRI, "content": "<p>FORGED by the sender</p>"}
	town.send(t, inbox, "Add", forged, ctxIRI)
	var items []discussionItem
	eventually(t, 15*time.Second, "the approved reply in the hub's API", func() bool {
		items = thread(t, h, cIRI)
		return len(items) == 1
	})
	it := items[0]
	if it.ID != replyID || it.Actor != alice.actor || it.InReplyTo != cIRI || it.Published.IsZero() {
		t.Errorf("API item %+v", it)
	}
	if strings.Contains(it.Content, "FORGED") || !strings.Contains(it.Content, "How do you publish the budget?") {
		t.Errorf("content is not the origin's: %s", it.Content)
	}
	assertClean(t, "API content", it.Content)
	code, page, _ := getBody(t, h.base+"/commitment?id="+urlQuery(cIRI))
	if code != http.StatusOK {
		t.Fatalf("commitment page: %d", code)
	}
	for _, want := range []string{"How do you publish the budget?", alice.handle(), "budget question", alice.base + "/@alice/", `value="` + cIRI + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("commitment page lacks %q", want)
		}
	}
	if strings.Contains(page, "FORGED") {
		t.Error("the forged embedded copy reached the page")
	}
	assertClean(t, "commitment page", page[strings.Index(page, `id="discussion-h"`):])

	// The owner answers; the answer threads under the question.
	answer := town.note("a1", replyID, "<p>We publish it monthly as open data.</p>", h.Federation().ActorID())
	town.send(t, inbox, "Add", answer["id"], ctxIRI)
	eventually(t, 15*time.Second, "the answer in the thread", func() bool {
		items = thread(t, h, cIRI)
		return len(items) == 2
	})
	if items[1].ID != answer["id"] || items[1].InReplyTo != replyID {
		t.Errorf("thread order or nesting: %+v", items)
	}
	_, page, _ = getBody(t, h.base+"/commitment?id="+urlQuery(cIRI))
	if !strings.Contains(page, `class="replies"`) || !strings.Contains(page, "We publish it monthly") {
		t.Error("the answer is not nested under the question on the page")
	}

	// The author edits the reply: the hub shows the new text.
	edited := alice.note(cIRI, "<p>How often do you publish the budget?</p>", nil)
	edited["id"], edited["updated"] = replyID, time.Now().UTC().Format(time.RFC3339)
	alice.put(strings.TrimPrefix(replyID, alice.base), edited)
	if code, body := alice.send(t, inbox, "Update", edited); code != http.StatusAccepted {
		t.Fatalf("author's Update: %d %s", code, body)
	}
	if got := thread(t, h, cIRI); len(got) != 2 || !strings.Contains(got[0].Content, "How often") {
		t.Errorf("after the edit: %+v", got)
	}

	// Someone else's Add of a reply to town's context is not kept, nor an
	// Add by the owner of a Note outside the thread.
	stray := alice.note(otherIRI, "<p>About the other commitment</p>", nil)
	other.send(t, inbox, "Add", stray["id"], ctxIRI)
	town.send(t, inbox, "Add", stray["id"], ctxIRI)
	drained(t, other.Server)
	drained(t, town.Server) // both deliveries landed (and must change nothing)
	if got := thread(t, h, cIRI); len(got) != 2 {
		t.Errorf("a stray Add changed the thread: %v", ids(got))
	}
	if h.Discussion().Knows(stray["id"].(string)) {
		t.Error("a reply outside the thread was stored")
	}

	// The owner hides the answer: Remove.
	town.send(t, inbox, "Remove", answer["id"], ctxIRI)
	eventually(t, 15*time.Second, "the removed answer leaves the thread", func() bool {
		return slices.Equal(ids(thread(t, h, cIRI)), []string{replyID})
	})
	// The author deletes the reply: gone from API and page.
	if code, body := alice.send(t, inbox, "Delete", map[string]any{"id": replyID, "type": "Tombstone"}); code != http.StatusAccepted {
		t.Fatalf("author's Delete: %d %s", code, body)
	}
	if got := thread(t, h, cIRI); len(got) != 0 {
		t.Errorf("after the author's Delete: %v", ids(got))
	}
	if _, page, _ = getBody(t, h.base+"/commitment?id="+urlQuery(cIRI)); strings.Contains(page, "How often") {
		t.Error("the deleted reply is still on the page")
	}
	// Who did what is in the audit log.
	var actions []string
	for _, e := range h.Discussion().Audit(0) {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"owner-add", "owner-remove", "author-delete"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log %v lacks %s", actions, want)
		}
	}
}

// TestDiscussionPeerQuestion: a member government asks another about one
// of its commitments (Create{Note} with the hub in cc, docs/discussion.md);
// the hub keeps it approved at once, the owner's answer threads under it,
// and the learning figures count one question answered on the pilot page
// and the discussion pages.
func TestDiscussionPeerQuestion(t *testing.T) {
	town := startOwner(t, "town")
	peer := startOwner(t, "peer")
	cIRI := town.publishCommitment(t, "TOW0001", "Open budget portal", "fiscal-openness")
	h := startHub(t, storetest.DB(t), "")
	joinOwner(t, h, town, cIRI)
	joinOwner(t, h, peer, "")
	inbox := h.Federation().InboxID()

	q := peer.note("q1", cIRI, "<p>Which tool do you use for the portal?</p>", h.Federation().ActorID())
	q["tag"] = []any{map[string]any{"type": "Mention", "href": town.ActorID()}}
	peer.send(t, inbox, "Create", q, "")
	eventually(t, 15*time.Second, "the peer's question in the thread", func() bool {
		return len(thread(t, h, cIRI)) == 1
	})
	a := town.note("a1", q["id"].(string), "<p>CKAN, with a custom theme.</p>", h.Federation().ActorID())
	town.send(t, inbox, "Create", a, "")
	eventually(t, 15*time.Second, "the answer in the thread", func() bool {
		return len(thread(t, h, cIRI)) == 2
	})
	f := h.Discussion().FiguresOf(nil)
	if f.Questions != 1 || f.Answered != 1 || f.Posts != 2 {
		t.Errorf("figures %+v, want 1 question answered in 2 posts", f)
	}
	if byPilot := h.Discussion().FiguresByPilot(); byPilot[town.ActorID()].Answered != 1 {
		t.Errorf("per pilot: %+v", byPilot)
	}
	p, _ := h.Members().Get(town.ActorID())
	_, page, _ := getBody(t, h.base+"/pilots/"+url.PathEscape(strings.TrimPrefix(p.Handle, "@")))
	if !strings.Contains(page, `id="learning-h"`) || !strings.Contains(page, "1 question received") || !strings.Contains(page, "1 answered (100 %)") {
		t.Errorf("pilot page lacks the learning figures:\n%s", page)
	}
	_, page = getPage(t, h.base+"/compare")
	if !strings.Contains(page, `id="learning-h"`) || !strings.Contains(page, "1 question received") || !strings.Contains(page, "Most discussed commitments") {
		t.Error("the comparison lacks the learning figures")
	}
	if _, page = getPage(t, h.base+"/compare?theme=open-data"); strings.Contains(page, "1 question received") {
		t.Error("the comparison's learning figures ignore its filter")
	}
	for _, path := range []string{"/discussion", "/discussion?area=fiscal-openness"} {
		_, page = getPage(t, h.base+path)
		if !strings.Contains(page, "Which tool do you use") || !strings.Contains(page, "Open budget portal") {
			t.Errorf("%s lacks the question or its commitment", path)
		}
	}
	if _, page = getPage(t, h.base+"/discussion?area=open-data"); strings.Contains(page, "Which tool do you use") {
		t.Error("another area's page lists the question")
	}
	// A restart rebuilds the discussion from the store.
	h.stop()
	h2 := startHub(t, h.db, h.addr)
	if got := thread(t, h2, cIRI); len(got) != 2 {
		t.Errorf("after a restart: %v", ids(got))
	}
}

func getPage(t *testing.T, u string) (int, string) {
	t.Helper()
	code, body, _ := getBody(t, u)
	return code, body
}
