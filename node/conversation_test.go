package node

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/httpsig"
)

// fediAccount is an account on a server shaped like Mastodon or
// GoToSocial: its actor document (and, for GoToSocial, the key stub at the
// key's own URL) served on loopback at http://<host>.localhost:PORT, its
// statuses at their IRIs, and an inbox that records what it receives. It
// signs its POSTs with its own key, like the real servers.
type fediAccount struct {
	base, actor, keyID, name string
	key                      *rsa.PrivateKey
	mu                       sync.Mutex
	docs                     map[string]string
	inbox                    []map[string]any
	seq                      atomic.Int64
}

func startFediAccount(t *testing.T, host, name string, gotosocial bool) *fediAccount {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	l, base := listen(t, host)
	a := &fediAccount{base: base, name: name, key: key, docs: map[string]string{}}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	a.actor = base + "/users/" + name
	a.keyID = a.actor + "#main-key"
	if gotosocial {
		a.keyID = a.actor + "/main-key"
	}
	actorDoc := map[string]any{
		"@context": []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":       a.actor, "type": "Person", "preferredUsername": name, "name": strings.ToUpper(name[:1]) + name[1:],
		"inbox": a.actor + "/inbox", "outbox": a.actor + "/outbox", "followers": a.actor + "/followers",
		"url":       base + "/@" + name,
		"publicKey": map[string]string{"id": a.keyID, "owner": a.actor, "publicKeyPem": pemText},
	}
	if !gotosocial {
		actorDoc["endpoints"] = map[string]string{"sharedInbox": base + "/inbox"}
	}
	raw, _ := json.Marshal(actorDoc)
	a.docs["/users/"+name] = string(raw)
	if gotosocial {
		stub, _ := json.Marshal(map[string]any{"id": a.actor, "type": "Person", "preferredUsername": name,
			"publicKey": map[string]string{"id": a.keyID, "owner": a.actor, "publicKeyPem": pemText}})
		a.docs["/users/"+name+"/main-key"] = string(stub)
	}
	serve(t, l, http.HandlerFunc(a.serve))
	return a
}

func (a *fediAccount) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodPost {
		body, _ := io.ReadAll(req.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		a.mu.Lock()
		a.inbox = append(a.inbox, m)
		a.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		return
	}
	a.mu.Lock()
	doc, ok := a.docs[req.URL.Path]
	a.mu.Unlock()
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", "application/activity+json")
	_, _ = io.WriteString(w, doc)
}

// handle is @name@host:port, as the node shows it.
func (a *fediAccount) handle() string {
	return "@" + a.name + "@" + strings.TrimPrefix(a.base, "http://")
}

// statusIRI mints the IRI of a new status.
func (a *fediAccount) statusIRI() string {
	return fmt.Sprintf("%s/users/%s/statuses/%d", a.base, a.name, 100+a.seq.Add(1))
}

// send posts activity to inbox signed with the account's key and returns
// the status and body of the answer.
func (a *fediAccount) send(t *testing.T, inbox string, activity map[string]any) (int, string) {
	t.Helper()
	body, _ := json.Marshal(activity)
	req, _ := http.NewRequest(http.MethodPost, inbox, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/activity+json")
	if err := httpsig.Sign(req, body, a.keyID, a.key); err != nil {
		t.Fatal(err)
	}
	resp, err := loopbackClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

// wrap makes an activity of typ by the account around object.
func (a *fediAccount) wrap(typ string, object any) map[string]any {
	return map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       fmt.Sprintf("%s/activities/%d", a.base, time.Now().UnixNano()),
		"type":     typ, "actor": a.actor, "object": object,
		"to": []string{"https://www.w3.org/ns/activitystreams#Public"},
	}
}

// received waits for an activity of typ in the account's inbox matching
// pred.
func (a *fediAccount) received(t *testing.T, typ string, pred func(map[string]any) bool) map[string]any {
	t.Helper()
	var got map[string]any
	waitFor(t, typ+" in "+a.actor+"'s inbox", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, m := range a.inbox {
			if m["type"] == typ && pred(m) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// mastodonReply is a reply as Mastodon 4 sends it: HTML with an h-card
// mention, a content warning in summary, sensitive, a hashtag, and the
// node mentioned in tag and cc. The content tries every trick a page must
// not let through.
func mastodonReply(a *fediAccount, id, inReplyTo, nodeActor, nodeHandle string) map[string]any {
	return map[string]any{
		"id": id, "type": "Note", "attributedTo": a.actor, "inReplyTo": inReplyTo,
		"published": time.Now().UTC().Format(time.RFC3339), "url": a.base + "/@" + a.name + "/1",
		"to":      []string{"https://www.w3.org/ns/activitystreams#Public"},
		"cc":      []string{a.actor + "/followers", nodeActor},
		"summary": "Budget figures", "sensitive": true,
		"content": `<p><span class="h-card"><a href="` + nodeActor + `" class="u-url mention">@<span>jalisco</span></a></span> How was the register funded? ` +
			`<a href="https://mastodon.example/tags/OpenData" class="mention hashtag" rel="tag">#<span>OpenData</span></a>` +
			`<script>alert("script")</script><a href="javascript:alert('js')" onclick="alert('click')">link</a>` +
			`<img src="x" onerror="alert('img')"><span onmouseover="alert('hover')" style="color:red">styled</span></p>`,
		"tag": []map[string]any{
			{"type": "Mention", "href": nodeActor, "name": nodeHandle},
			{"type": "Hashtag", "href": "https://mastodon.example/tags/opendata", "name": "#OpenData"},
		},
		"attachment": []any{},
		"replies":    map[string]any{"id": id + "/replies", "type": "Collection"},
	}
}

// gotosocialReply is a reply as GoToSocial sends it: a single mention
// addressed in to, contentMap beside content, no h-card spans.
func gotosocialReply(a *fediAccount, id, inReplyTo, nodeActor, nodeHandle string) map[string]any {
	content := `<p><a href="` + nodeActor + `" class="mention">` + nodeHandle + `</a> Which office keeps the register? #transparency</p>`
	return map[string]any{
		"id": id, "type": "Note", "attributedTo": a.actor, "inReplyTo": inReplyTo,
		"published": time.Now().UTC().Format(time.RFC3339), "url": a.base + "/@" + a.name + "/statuses/2",
		"to":      []string{nodeActor},
		"cc":      []string{"https://www.w3.org/ns/activitystreams#Public", a.actor + "/followers"},
		"content": content, "contentMap": map[string]string{"en": content}, "sensitive": false,
		"tag": []map[string]any{
			{"type": "Mention", "href": nodeActor, "name": nodeHandle},
			{"type": "Hashtag", "href": a.base + "/tags/transparency", "name": "#transparency"},
		},
		"interactionPolicy": map[string]any{"canLike": map[string]any{"always": []string{"https://www.w3.org/ns/activitystreams#Public"}}},
	}
}

type apiReplyItem struct {
	ID, Actor, InReplyTo, Status, Published, Content string
}

func listReplies(t *testing.T, base, tok, status string) []apiReplyItem {
	t.Helper()
	resp, body := do(t, loopbackClient(), http.MethodGet, base+"/api/v1/replies?status="+status, nil, bearer(tok))
	mustStatus(t, resp, body, http.StatusOK)
	var out struct{ Items []apiReplyItem }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Items
}

func findReply(items []apiReplyItem, id string) (apiReplyItem, bool) {
	for _, it := range items {
		if it.ID == id {
			return it, true
		}
	}
	return apiReplyItem{}, false
}

func objectJSON(t *testing.T, iri string) map[string]any {
	t.Helper()
	r, body := get(t, loopbackClient(), iri, "application/activity+json")
	mustStatus(t, r, body, http.StatusOK)
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func repliesItems(t *testing.T, obj map[string]any) []string {
	t.Helper()
	r, _ := obj["replies"].(map[string]any)
	first, _ := r["first"].(map[string]any)
	raw, _ := first["items"].([]any)
	out := []string{}
	for _, it := range raw {
		out = append(out, it.(string))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRepliesFromTheFediverse: signed replies shaped like Mastodon's and
// GoToSocial's (mentions, a content warning, sensitive, hashtags) reach a
// commitment → held → approved through the API → in the commitment's
// replies collection, its context and its page, announced to followers
// with a FEP-171b Add; the government's answer threads under one (Mention,
// addressed to the asker); the author's edit and delete propagate (Remove);
// script and event attributes never reach a page.
func TestRepliesFromTheFediverse(t *testing.T) {
	tn, f := startFollowed(t, "jalisco")
	tok := tn.token(t, "conversations")
	c := loopbackClient()
	api := tn.base + "/api/v1"
	resp, body := do(t, c, http.MethodPut, api+"/plans/2016-2018", samplePlan(), bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	resp, body = do(t, c, http.MethodPost, api+"/commitments", sampleCommitment("JAL0004"), bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	cIRI := tn.base + "/commitments/JAL0004"
	nodeActor := tn.Federation().ActorID()
	nodeHandle := "@jalisco@" + strings.TrimPrefix(tn.base, "http://")
	inbox := nodeActor + "/inbox"

	masto := startFediAccount(t, "mastodon", "maria", false)
	gts := startFediAccount(t, "gts", "kim", true)

	// Both replies arrive, signed, and are held (--replies review).
	mID := masto.statusIRI()
	code, msg := masto.send(t, inbox, masto.wrap("Create", mastodonReply(masto, mID, cIRI, nodeActor, nodeHandle)))
	if code != http.StatusAccepted {
		t.Fatalf("Mastodon reply: %d %s", code, msg)
	}
	gID := gts.statusIRI()
	code, msg = gts.send(t, tn.base+"/inbox", gts.wrap("Create", gotosocialReply(gts, gID, cIRI, nodeActor, nodeHandle)))
	if code != http.StatusAccepted {
		t.Fatalf("GoToSocial reply: %d %s", code, msg)
	}
	held := listReplies(t, tn.base, tok, "held")
	m, ok := findReply(held, mID)
	if !ok {
		t.Fatalf("the Mastodon reply is not held: %+v", held)
	}
	if m.Actor != masto.actor || m.InReplyTo != cIRI || m.Status != "held" || m.Published == "" {
		t.Fatalf("held item: %+v", m)
	}
	for _, bad := range []string{"<script", "onclick", "onerror", "onmouseover", "javascript:", "style=", "<img"} {
		if strings.Contains(m.Content, bad) {
			t.Fatalf("sanitised content still has %q: %s", bad, m.Content)
		}
	}
	if !strings.Contains(m.Content, "How was the register funded?") || !strings.Contains(m.Content, `class="u-url mention"`) {
		t.Fatalf("sanitised content lost the text or the mention: %s", m.Content)
	}
	if _, ok := findReply(held, gID); !ok {
		t.Fatalf("the GoToSocial reply is not held: %+v", held)
	}
	// Held replies are not public.
	_, page := get(t, c, cIRI, "text/html")
	if strings.Contains(page, "How was the register funded?") {
		t.Fatal("a held reply is on the public page")
	}
	if items := repliesItems(t, objectJSON(t, cIRI)); len(items) != 0 {
		t.Fatalf("replies collection lists held replies: %v", items)
	}

	// Approved through the API: announced, listed, shown.
	for _, id := range []string{mID, gID} {
		resp, body = do(t, c, http.MethodPost, api+"/replies/approve", map[string]string{"id": id}, bearer(tok))
		mustStatus(t, resp, body, http.StatusOK)
	}
	add := f.nextOf(t, "Add", mID)
	if add["target"] != cIRI+"/context" || add["actor"] != nodeActor {
		t.Fatalf("Add: %v", add)
	}
	obj := objectJSON(t, cIRI)
	if obj["context"] != cIRI+"/context" {
		t.Fatalf("commitment context: %v", obj["context"])
	}
	if items := repliesItems(t, obj); !contains(items, mID) || !contains(items, gID) {
		t.Fatalf("replies collection: %v", items)
	}
	coll := objectJSON(t, cIRI+"/replies")
	if coll["id"] != cIRI+"/replies" || !contains(repliesItems(t, map[string]any{"replies": coll}), mID) {
		t.Fatalf("replies collection at its IRI: %v", coll)
	}
	ctxColl := objectJSON(t, cIRI+"/context")
	ordered, _ := ctxColl["orderedItems"].([]any)
	if ctxColl["attributedTo"] != nodeActor || len(ordered) < 3 || ordered[0] != cIRI {
		t.Fatalf("context collection: %v", ctxColl)
	}
	_, page = get(t, c, cIRI, "text/html")
	for _, want := range []string{"How was the register funded?", masto.handle(), "Which office keeps the register?", gts.handle(), "Budget figures", "#OpenData", masto.base + "/@maria/1"} {
		if !strings.Contains(page, want) {
			t.Fatalf("commitment page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>alert", "onclick=", "onerror=", "onmouseover=", "javascript:alert"} {
		if strings.Contains(page, bad) {
			t.Fatalf("commitment page carries %q", bad)
		}
	}

	// The government answers the Mastodon reply; it threads under it.
	resp, body = do(t, c, http.MethodPost, api+"/questions", map[string]string{"inReplyTo": mID, "content": "From the state budget, line 4.2."}, bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	answerIRI := resp.Header.Get("Location")
	if !strings.HasPrefix(answerIRI, tn.base+"/notes/") {
		t.Fatalf("Location: %q", answerIRI)
	}
	create := masto.received(t, "Create", func(m map[string]any) bool {
		o, _ := m["object"].(map[string]any)
		return o["id"] == answerIRI
	})
	note := create["object"].(map[string]any)
	if note["inReplyTo"] != mID || note["attributedTo"] != nodeActor || note["context"] != cIRI+"/context" {
		t.Fatalf("answer note: %v", note)
	}
	tags, _ := json.Marshal(note["tag"])
	if !strings.Contains(string(tags), `"type":"Mention"`) || !strings.Contains(string(tags), masto.actor) || !strings.Contains(string(tags), masto.handle()) {
		t.Fatalf("answer tag: %s", tags)
	}
	to, _ := json.Marshal(note["to"])
	cc, _ := json.Marshal(note["cc"])
	if !strings.Contains(string(to), masto.actor) || !strings.Contains(string(cc), nodeActor+"/followers") {
		t.Fatalf("answer addressing: to %s cc %s", to, cc)
	}
	f.nextOf(t, "Create", answerIRI) // the node's followers have it too
	if items := repliesItems(t, objectJSON(t, answerIRI)); len(items) != 0 {
		t.Fatalf("a fresh answer has replies: %v", items)
	}
	_, page = get(t, c, cIRI, "text/html")
	if !strings.Contains(page, "From the state budget, line 4.2.") {
		t.Fatal("the answer is not in the thread on the commitment page")
	}
	// Nested: the answer sits inside the Mastodon reply's list item.
	mAt := strings.Index(page, "How was the register funded?")
	aAt := strings.Index(page, "From the state budget")
	gAt := strings.Index(page, "Which office keeps the register?")
	if mAt < 0 || aAt < mAt || (gAt > mAt && gAt < aAt) {
		t.Fatalf("the answer is not nested under the reply it answers (positions %d, %d, %d)", mAt, aAt, gAt)
	}

	// The author edits: the page shows the new text.
	edited := mastodonReply(masto, mID, cIRI, nodeActor, nodeHandle)
	edited["content"] = "<p>Edited: how was the register funded in 2017?</p>"
	edited["updated"] = time.Now().UTC().Add(time.Second).Format(time.RFC3339)
	code, msg = masto.send(t, inbox, masto.wrap("Update", edited))
	if code != http.StatusAccepted {
		t.Fatalf("edit: %d %s", code, msg)
	}
	_, page = get(t, c, cIRI, "text/html")
	if !strings.Contains(page, "Edited: how was the register funded in 2017?") || strings.Contains(page, "How was the register funded?") {
		t.Fatal("the edit did not reach the page")
	}

	// The author deletes: gone from page and collection, Remove announced.
	code, msg = masto.send(t, inbox, masto.wrap("Delete", map[string]any{"id": mID, "type": "Tombstone"}))
	if code != http.StatusAccepted {
		t.Fatalf("delete: %d %s", code, msg)
	}
	f.nextOf(t, "Remove", mID)
	if items := repliesItems(t, objectJSON(t, cIRI)); contains(items, mID) {
		t.Fatalf("a deleted reply is still listed: %v", items)
	}
	_, page = get(t, c, cIRI, "text/html")
	if strings.Contains(page, "Edited: how was the register funded") {
		t.Fatal("a deleted reply is still on the page")
	}

	// Hide through the API: out of the thread, Remove announced.
	resp, body = do(t, c, http.MethodPost, api+"/replies/hide", map[string]string{"id": gID}, bearer(tok))
	mustStatus(t, resp, body, http.StatusOK)
	f.nextOf(t, "Remove", gID)
	if hidden := listReplies(t, tn.base, tok, "hidden"); len(hidden) != 1 || hidden[0].ID != gID {
		t.Fatalf("hidden: %+v", hidden)
	}

	// A report (Flag) goes to the report queue; the operator's dashboard
	// counts what is unread, the moderation log says who did what.
	flag := gts.wrap("Flag", []string{nodeActor, gID})
	flag["content"] = "Off-topic <b>advertising</b>"
	if code, msg := gts.send(t, tn.base+"/inbox", flag); code != http.StatusAccepted {
		t.Fatalf("flag: %d %s", code, msg)
	}
	reps := tn.Conversations().Reports()
	if len(reps) != 1 || reps[0].Actor != gts.actor || !contains(reps[0].Objects, gID) || strings.Contains(reps[0].Content, "<b>") {
		t.Fatalf("reports: %+v", reps)
	}
	if code, msg := gts.send(t, tn.base+"/inbox", gts.wrap("Create", gotosocialReply(gts, gts.statusIRI(), cIRI, nodeActor, nodeHandle))); code != http.StatusAccepted {
		t.Fatalf("second GoToSocial reply: %d %s", code, msg)
	}
	op := tn.login(t, operatorUser)
	_, dash := get(t, op, tn.base+"/admin?lang=en", "text/html")
	if !strings.Contains(dash, "1 new reply") || !strings.Contains(dash, `href="/admin/conversations"`) {
		t.Fatalf("the dashboard does not count the unread replies: %s", dash)
	}
	_, mod := get(t, op, tn.base+"/admin/conversations?status=moderation&lang=en", "text/html")
	for _, want := range []string{"Off-topic advertising", "approve", "hide", "token ", "review (held for an operator)", "at most 30 replies"} {
		if !strings.Contains(mod, want) {
			t.Fatalf("moderation page lacks %q", want)
		}
	}
}

// TestRepliesAPIRefusals: the API names what was wrong, and only operators
// may read or moderate.
func TestRepliesAPIRefusals(t *testing.T) {
	tn := startNode(t, "jalisco")
	tok := tn.token(t, "conversations")
	c := loopbackClient()
	api := tn.base + "/api/v1"
	cases := []struct {
		method, path string
		body         any
		hdr          map[string]string
		status       int
		want         string
	}{
		{http.MethodGet, "/replies?status=held", nil, nil, http.StatusUnauthorized, ""},
		{http.MethodGet, "/replies?status=pending", nil, bearer(tok), http.StatusBadRequest, "status: must be held, approved or hidden"},
		{http.MethodPost, "/replies/approve", map[string]string{"id": "https://nowhere.example/1"}, bearer(tok), http.StatusNotFound, "no such reply"},
		{http.MethodPost, "/replies/hide", map[string]string{}, bearer(tok), http.StatusUnprocessableEntity, "id"},
		{http.MethodPost, "/questions", map[string]string{"inReplyTo": "", "content": ""}, bearer(tok), http.StatusUnprocessableEntity, "inReplyTo"},
		{http.MethodPost, "/questions", map[string]string{"inReplyTo": "ftp://x", "content": "hi"}, bearer(tok), http.StatusUnprocessableEntity, "must be an http(s) IRI"},
	}
	for _, tc := range cases {
		resp, body := do(t, c, tc.method, api+tc.path, tc.body, tc.hdr)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %d %s; want %d containing %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.want)
		}
	}
}

// TestBlockedDomainAndRateLimit: a blocked domain's reply is refused with
// 403 naming the block and nothing is stored (what it had sent and was held
// is removed); past the per-actor limit replies are refused with 429.
func TestBlockedDomainAndRateLimit(t *testing.T) {
	tn := startNode(t, "jalisco")
	tok := tn.token(t, "conversations")
	c := loopbackClient()
	api := tn.base + "/api/v1"
	resp, body := do(t, c, http.MethodPut, api+"/plans/2016-2018", samplePlan(), bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	resp, body = do(t, c, http.MethodPost, api+"/commitments", sampleCommitment("JAL0004"), bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	cIRI := tn.base + "/commitments/JAL0004"
	nodeActor := tn.Federation().ActorID()
	inbox := nodeActor + "/inbox"
	spam := startFediAccount(t, "spam", "bot", false)

	first := spam.statusIRI()
	if code, msg := spam.send(t, inbox, spam.wrap("Create", mastodonReply(spam, first, cIRI, nodeActor, "@jalisco"))); code != http.StatusAccepted {
		t.Fatalf("first reply: %d %s", code, msg)
	}
	if len(listReplies(t, tn.base, tok, "held")) != 1 {
		t.Fatal("the first reply is not held")
	}

	// The operator blocks the domain from the Conversations page.
	op := tn.login(t, operatorUser)
	token := csrf(t, op, tn.base+"/admin/conversations?status=moderation")
	resp, body = do(t, op, http.MethodPost, tn.base+"/admin/conversations/block-domain",
		url.Values{"_csrf": {token}, "domain": {"spam.localhost"}, "tab": {"moderation"}}, nil)
	mustStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, "spam.localhost") || !strings.Contains(body, operatorEmail) {
		t.Fatal("the block and who made it are not on the moderation page")
	}
	if n := len(listReplies(t, tn.base, tok, "")); n != 0 {
		t.Fatalf("the blocked domain's held reply was kept (%d replies)", n)
	}
	second := spam.statusIRI()
	code, msg := spam.send(t, inbox, spam.wrap("Create", mastodonReply(spam, second, cIRI, nodeActor, "@jalisco")))
	if code != http.StatusForbidden || !strings.Contains(msg, "blocked by this node") || !strings.Contains(msg, "domain spam.localhost") {
		t.Fatalf("reply from a blocked domain: %d %s", code, msg)
	}
	if n := len(listReplies(t, tn.base, tok, "")); n != 0 {
		t.Fatalf("a blocked domain's reply was stored (%d replies)", n)
	}

	// Rate limit: the node allows DefaultRatePerHour replies per actor.
	flood := startFediAccount(t, "flood", "eve", false)
	limit := tn.Conversations().RatePerHour()
	for i := range limit {
		if code, msg := flood.send(t, inbox, flood.wrap("Create", mastodonReply(flood, flood.statusIRI(), cIRI, nodeActor, "@jalisco"))); code != http.StatusAccepted {
			t.Fatalf("reply %d of %d: %d %s", i+1, limit, code, msg)
		}
	}
	code, msg = flood.send(t, inbox, flood.wrap("Create", mastodonReply(flood, flood.statusIRI(), cIRI, nodeActor, "@jalisco")))
	if code != http.StatusTooManyRequests || !strings.Contains(msg, fmt.Sprintf("the limit is %d", limit)) {
		t.Fatalf("reply over the limit: %d %s", code, msg)
	}
}

// TestUpdateThreadAndAskForm: a reply to a progress update shows, once
// approved, on the update's page (not the commitment's: each object has its
// own thread); the "Ask a question" form takes the IRI from the hub's link
// and names what is wrong with what was typed.
func TestUpdateThreadAndAskForm(t *testing.T) {
	tn, c, tok := startSeeded(t, "jalisco", "JAL0004")
	resp, body := do(t, c, http.MethodPost, tn.base+"/api/v1/commitments/JAL0004/updates",
		map[string]any{"date": "2017-07-01", "text": map[string]string{"es": "Se concluyó el diseño."}}, bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	uIRI := resp.Header.Get("Location")
	nodeActor := tn.Federation().ActorID()
	masto := startFediAccount(t, "mastodon", "maria", false)
	id := masto.statusIRI()
	note := mastodonReply(masto, id, uIRI, nodeActor, "@jalisco")
	note["summary"], note["sensitive"] = "", false
	note["content"] = "<p>Where can we read the design?</p>"
	if code, msg := masto.send(t, nodeActor+"/inbox", masto.wrap("Create", note)); code != http.StatusAccepted {
		t.Fatalf("reply: %d %s", code, msg)
	}
	resp, body = do(t, c, http.MethodPost, tn.base+"/api/v1/replies/approve", map[string]string{"id": id}, bearer(tok))
	mustStatus(t, resp, body, http.StatusOK)
	_, page := get(t, c, uIRI+"?lang=en", "text/html")
	if !strings.Contains(page, "Where can we read the design?") || !strings.Contains(page, `id="conversation"`) {
		t.Fatal("the update page does not show its thread")
	}
	if items := repliesItems(t, objectJSON(t, uIRI)); !contains(items, id) {
		t.Fatalf("update replies: %v", items)
	}
	cIRI := tn.base + "/commitments/JAL0004"
	_, page = get(t, c, cIRI, "text/html")
	if strings.Contains(page, "Where can we read the design?") {
		t.Fatal("a reply to an update is shown in the commitment's own thread")
	}
	if ordered, _ := objectJSON(t, cIRI+"/context")["orderedItems"].([]any); !slices.Contains(ordered, any(id)) || !slices.Contains(ordered, any(uIRI)) {
		t.Fatalf("the commitment's context lacks the update or its reply: %v", ordered)
	}

	op := tn.login(t, operatorUser)
	peer := "http://oaxaca.localhost:1/commitments/OAX0001"
	_, form := get(t, op, tn.base+"/admin/questions/new?lang=en&inReplyTo="+url.QueryEscape(peer), "text/html")
	if !strings.Contains(form, `value="`+peer+`"`) || !strings.Contains(form, `<label for="content">`) {
		t.Fatal("the question form does not carry the commitment IRI from the link")
	}
	token := csrf(t, op, tn.base+"/admin/questions/new")
	resp, body = do(t, op, http.MethodPost, tn.base+"/admin/questions?lang=en",
		url.Values{"_csrf": {token}, "inReplyTo": {"not an IRI"}, "content": {"How?"}}, nil)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "must be an http(s) IRI") || !strings.Contains(body, "How?") {
		t.Fatalf("bad IRI: %d", resp.StatusCode)
	}
}
