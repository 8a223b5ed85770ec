package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// nodeAPI calls a real node's JSON API with an operator token.
func nodeAPI(t *testing.T, n *testNode, token, method, path string, body any) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, n.base+path, r)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := loopbackClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestDiscussionThroughRealNodes: the whole way with real nodes. A reply
// from a Mastodon-shaped account to Jalisco's commitment is held at the
// node, approved through its API, announced to the hub (Add) and, fetched
// from its origin, shows on the hub's commitment page and API; Jalisco's
// answer threads under it; Madrid asks Jalisco a question through its own
// API and Jalisco's answer follows it, all on the hub; the node hiding the
// reply takes it off the hub (Remove). The learning figures count two
// questions, both answered.
func TestDiscussionThroughRealNodes(t *testing.T) {
	jal := startNode(t, "jalisco")
	mad := startNode(t, "madrid")
	jal.seedPlan(t)
	mad.seedPlan(t)
	jal.create(t, 1, "Datos abiertos de obra pública", "open-data")
	mad.create(t, 1, "Presupuestos participativos", "fiscal-openness")
	h := startHub(t, storetest.DB(t), "")
	join(t, h, jal)
	join(t, h, mad)
	cIRI := jal.commitmentIRI(1)
	eventually(t, 15*time.Second, "the hub holds Jalisco's commitment", func() bool {
		_, ok := h.ReadModel().Commitment(cIRI)
		return ok
	})
	ctx := context.Background()
	jtok, err := jal.CreateAPIToken(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	mtok, err := mad.CreateAPIToken(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}

	alice := startAccount(t, "masto", "alice")
	reply := alice.note(cIRI, `<p><span class="h-card"><a href="`+jal.actor()+`" class="u-url mention">@<span>jalisco</span></a></span> Which data standard do you use? <a href="`+alice.base+`/tags/opendata" class="mention hashtag" rel="tag">#<span>opendata</span></a></p><script>alert(1)</script>`,
		map[string]any{"cc": []string{alice.actor + "/followers", jal.actor()},
			"tag": []any{map[string]any{"type": "Mention", "href": jal.actor(), "name": "@jalisco@" + strings.TrimPrefix(jal.base, "http://")},
				map[string]any{"type": "Hashtag", "href": alice.base + "/tags/opendata", "name": "#opendata"}}})
	replyID := reply["id"].(string)
	if code, body := alice.send(t, jal.Federation().InboxID(), "Create", reply); code != http.StatusAccepted {
		t.Fatalf("reply to the node: %d %s", code, body)
	}
	if got := thread(t, h, cIRI); len(got) != 0 {
		t.Fatalf("a held reply reached the hub: %v", ids(got))
	}
	resp, body := nodeAPI(t, jal, jtok, http.MethodPost, "/api/v1/replies/approve", map[string]string{"id": replyID})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approve at the node: %d %s", resp.StatusCode, body)
	}
	eventually(t, 15*time.Second, "the approved reply on the hub", func() bool {
		return len(thread(t, h, cIRI)) == 1
	})

	resp, body = nodeAPI(t, jal, jtok, http.MethodPost, "/api/v1/questions", map[string]string{"inReplyTo": replyID, "content": "We publish in the Open Contracting Data Standard."})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("Jalisco's answer: %d %s", resp.StatusCode, body)
	}
	answer := resp.Header.Get("Location")

	resp, body = nodeAPI(t, mad, mtok, http.MethodPost, "/api/v1/questions", map[string]string{"inReplyTo": cIRI, "content": "How long did the publication take to set up?"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("Madrid's question: %d %s", resp.StatusCode, body)
	}
	question := resp.Header.Get("Location")
	eventually(t, 20*time.Second, "Madrid's question at Jalisco", func() bool {
		_, b := nodeAPI(t, jal, jtok, http.MethodGet, "/api/v1/replies?status=approved", nil)
		return strings.Contains(b, question)
	})
	resp, body = nodeAPI(t, jal, jtok, http.MethodPost, "/api/v1/questions", map[string]string{"inReplyTo": question, "content": "About six months."})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("Jalisco's second answer: %d %s", resp.StatusCode, body)
	}
	answer2 := resp.Header.Get("Location")

	var items []discussionItem
	eventually(t, 20*time.Second, "four posts in the hub's thread", func() bool {
		items = thread(t, h, cIRI)
		return len(items) == 4
	})
	parent := map[string]string{}
	for _, it := range items {
		parent[it.ID] = it.InReplyTo
		assertClean(t, "hub API", it.Content)
	}
	if parent[replyID] != cIRI || parent[answer] != replyID || parent[question] != cIRI || parent[answer2] != question {
		t.Errorf("thread on the hub: %+v", items)
	}
	_, page, _ := getBody(t, h.base+"/commitment?id="+urlQuery(cIRI))
	for _, want := range []string{"Which data standard do you use?", "Open Contracting Data Standard", "How long did the publication take", "About six months", alice.handle()} {
		if !strings.Contains(page, want) {
			t.Errorf("the hub's commitment page lacks %q", want)
		}
	}
	assertClean(t, "hub commitment page", page[strings.Index(page, `id="discussion-h"`):])
	if f := h.Discussion().FiguresOf(nil); f.Questions != 2 || f.Answered != 2 {
		t.Errorf("learning figures %+v, want 2 questions, both answered", f)
	}

	// The node hides the reply: Remove, and the hub drops it.
	resp, body = nodeAPI(t, jal, jtok, http.MethodPost, "/api/v1/replies/hide", map[string]string{"id": replyID})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("hide at the node: %d %s", resp.StatusCode, body)
	}
	eventually(t, 20*time.Second, "the hidden reply leaves the hub", func() bool {
		for _, it := range thread(t, h, cIRI) {
			if it.ID == replyID {
				return false
			}
		}
		return true
	})
}
