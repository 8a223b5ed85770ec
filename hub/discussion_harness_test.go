package hub_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/httpsig"
	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// account is a fediverse server shaped like Mastodon: one Person with an
// RSA key, its Notes served at their IRIs as ActivityPub JSON (so the hub
// can fetch them from their origin), and signed POSTs to other inboxes.
// It is the remote side of a conversation, written from its wire format.
type account struct {
	base, actor, keyID, name string
	key                      *rsa.PrivateKey

	mu   sync.Mutex
	docs map[string][]byte // path → document
	seq  int
}

func startAccount(t *testing.T, host, user string) *account {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ln, base := listen(t, host, "")
	a := &account{base: base, name: user, key: key, docs: map[string][]byte{}}
	a.actor = base + "/users/" + user
	a.keyID = a.actor + "#main-key"
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	a.put("/users/"+user, map[string]any{
		"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                a.actor,
		"type":              "Person",
		"preferredUsername": user,
		"name":              strings.ToUpper(user[:1]) + user[1:],
		"inbox":             a.actor + "/inbox",
		"outbox":            a.actor + "/outbox",
		"followers":         a.actor + "/followers",
		"url":               base + "/@" + user,
		"publicKey": map[string]any{"id": a.keyID, "owner": a.actor,
			"publicKeyPem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))},
	})
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusAccepted)
			return
		}
		a.mu.Lock()
		doc, ok := a.docs[r.URL.Path]
		a.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		_, _ = w.Write(doc)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return a
}

func (a *account) handle() string { return "@" + a.name + "@" + strings.TrimPrefix(a.base, "http://") }

func (a *account) put(path string, doc map[string]any) {
	b, _ := json.Marshal(doc)
	a.mu.Lock()
	a.docs[path] = b
	a.mu.Unlock()
}

// note publishes a Mastodon-shaped reply at a new IRI and returns it;
// extra fields (to, cc, tag, summary, sensitive…) override the defaults.
func (a *account) note(inReplyTo, content string, extra map[string]any) map[string]any {
	a.mu.Lock()
	a.seq++
	n := a.seq
	a.mu.Unlock()
	id := a.actor + "/statuses/" + time.Now().Format("150405") + string(rune('a'+n%26)) + "-" + itoa(n)
	doc := map[string]any{
		"@context":     []any{"https://www.w3.org/ns/activitystreams", map[string]any{"sensitive": "as:sensitive"}},
		"id":           id,
		"type":         "Note",
		"attributedTo": a.actor,
		"inReplyTo":    inReplyTo,
		"content":      content,
		"published":    time.Now().UTC().Add(-time.Second).Format(time.RFC3339),
		"url":          a.base + "/@" + a.name + "/" + itoa(n),
		"to":           []string{federation.Public},
		"cc":           []string{a.actor + "/followers"},
		"sensitive":    false,
		"tag":          []any{},
	}
	for k, v := range extra {
		doc[k] = v
	}
	a.put(strings.TrimPrefix(id, a.base), doc)
	return doc
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// send POSTs activity (type, object; id and actor filled in) to inbox,
// signed with the account's key, and returns the status and body.
func (a *account) send(t *testing.T, inbox, typ string, object any) (int, string) {
	t.Helper()
	a.mu.Lock()
	a.seq++
	id := a.actor + "/activities/" + itoa(a.seq) + "-" + time.Now().Format("150405.000000")
	a.mu.Unlock()
	body, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id, "type": typ, "actor": a.actor, "object": object,
		"to": []string{federation.Public},
	})
	req, _ := http.NewRequest(http.MethodPost, inbox, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/activity+json")
	if err := httpsig.Sign(req, body, a.keyID, a.key); err != nil {
		t.Fatal(err)
	}
	resp, err := loopbackClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// ownerNode is a member node as any implementation could be: a plain
// federation.Server (an Organization) that publishes one commitment, serves
// its own Notes at their IRIs and sends the contract's Add and Remove
// (docs/discussion.md) signed with its key.
type ownerNode struct {
	running
	*federation.Server
	iris ogp.IRIs
	mu   sync.Mutex
	docs map[string][]byte
}

func startOwner(t *testing.T, name string) *ownerNode {
	t.Helper()
	ln, base := listen(t, name, "")
	s, err := federation.New(context.Background(), federation.Config{
		BaseURL: base, Username: name, ActorType: "Organization", Name: strings.ToUpper(name[:1]) + name[1:],
		DB: storetest.DB(t), Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	o := &ownerNode{Server: s, iris: ogp.NewIRIs(base, name), docs: map[string][]byte{}}
	o.base, o.addr = base, ln.Addr().String()
	e := newEcho()
	s.Register(e)
	e.GET("/notes/:id", func(c echo.Context) error {
		o.mu.Lock()
		doc, ok := o.docs[c.Request().URL.Path]
		o.mu.Unlock()
		if !ok {
			return c.NoContent(http.StatusNotFound)
		}
		return c.Blob(http.StatusOK, "application/activity+json", doc)
	})
	o.stop = serve(t, ln, e, s.Run)
	return o
}

// publishCommitment publishes commitment id (e.g. "TOW0001") to followers.
func (o *ownerNode) publishCommitment(t *testing.T, id, name string, areas ...string) string {
	t.Helper()
	c := ogp.Commitment{
		Post: ogp.Post{
			ID: o.iris.Commitment(id), Type: ogp.TypeCommitment, AttributedTo: o.ActorID(), URL: o.iris.Commitment(id),
			Name: name, Content: "<p>" + name + "</p>", Published: time.Now().UTC().Add(-time.Hour),
			To: []string{ogp.Public}, CC: []string{o.FollowersID()},
		},
		Identifier: id, ActionPlan: o.iris.Plan("2024-2026"),
		Completion: ogp.CompletionLimited, PolicyAreas: areas, Taxonomy: "ogpnet-2026.1",
	}
	body, err := ogp.NewActivity(ogp.ActivityCreate, o.NewActivityID(), o.ActorID(), c,
		[]string{ogp.Public}, []string{o.FollowersID()}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Publish(context.Background(), body); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// note serves one of the owner's own Notes (an answer, a question) at
// <base>/notes/<id> and returns it.
func (o *ownerNode) note(id, inReplyTo, content string, cc ...string) map[string]any {
	iri := o.base + "/notes/" + id
	doc := map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": iri, "type": "Note",
		"attributedTo": o.ActorID(), "inReplyTo": inReplyTo, "content": content,
		"published": time.Now().UTC().Add(-time.Second).Format(time.RFC3339),
		"to":        []string{ogp.Public}, "cc": append([]string{o.FollowersID()}, cc...),
	}
	b, _ := json.Marshal(doc)
	o.mu.Lock()
	o.docs["/notes/"+id] = b
	o.mu.Unlock()
	return doc
}

// send queues activity {type, object, target} from the owner to inbox.
func (o *ownerNode) send(t *testing.T, inbox, typ string, object any, target string) {
	t.Helper()
	a := map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": o.NewActivityID(),
		"type": typ, "actor": o.ActorID(), "object": object, "to": []string{ogp.Public}, "cc": []string{o.FollowersID()}}
	if target != "" {
		a["target"] = target
	}
	if err := o.Send(context.Background(), a, []string{inbox}); err != nil {
		t.Fatal(err)
	}
}

// joinOwner makes o a member of h and waits until its commitment is in.
func joinOwner(t *testing.T, h *testHub, o *ownerNode, commitment string) {
	t.Helper()
	ctx := context.Background()
	if _, err := h.AddMember(ctx, o.ActorID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, o.Username()+" accepts the hub's follow", func() bool {
		f, err := h.Federation().FollowingOf(ctx, o.ActorID())
		return err == nil && f.State == federation.FollowAccepted
	})
	if commitment == "" {
		return
	}
	eventually(t, 20*time.Second, "the commitment reaches the hub", func() bool {
		_, ok := h.ReadModel().Commitment(commitment)
		return ok
	})
}

type discussionItem struct {
	ID        string    `json:"id"`
	Actor     string    `json:"actor"`
	InReplyTo string    `json:"inReplyTo"`
	Published time.Time `json:"published"`
	Content   string    `json:"content"`
}

// thread reads GET /api/v1/discussion?commitment=iri.
func thread(t *testing.T, h *testHub, iri string) []discussionItem {
	t.Helper()
	var out struct {
		Items []discussionItem `json:"items"`
	}
	getJSON(t, h.base+"/api/v1/discussion?commitment="+urlQuery(iri), &out)
	return out.Items
}

func ids(items []discussionItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// drained waits until s has delivered (or given up on) everything queued.
func drained(t *testing.T, s *federation.Server) {
	t.Helper()
	eventually(t, 30*time.Second, s.ActorID()+"'s deliveries", func() bool {
		st, err := s.Queue().Stats(context.Background())
		return err == nil && st.Pending == 0 && st.Leased == 0
	})
}
