package federation_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	gofed "github.com/go-fed/httpsig"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

func TestWebFinger(t *testing.T) {
	a := startServer(t, "jalisco", "", nil)
	host := strings.TrimPrefix(a.URL, "http://")
	resp, body := get(t, a.URL+"/.well-known/webfinger?resource=acct:jalisco@"+host, "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/jrd+json") {
		t.Fatalf("webfinger: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	jrd := decode(t, body)
	if jrd["subject"] != "acct:jalisco@"+host {
		t.Errorf("subject = %v", jrd["subject"])
	}
	var self []string
	for _, l := range jrd["links"].([]any) {
		l := l.(map[string]any)
		if l["rel"] == "self" && l["type"] == "application/activity+json" {
			self = append(self, l["href"].(string))
		}
	}
	if len(self) != 1 || self[0] != a.ActorID() {
		t.Errorf("self links = %v, want [%s]", self, a.ActorID())
	}
	// Round trip: preferredUsername@host of the actor leads back to it.
	_, actorBody := get(t, a.ActorID(), "application/activity+json")
	actor := decode(t, actorBody)
	resp, body = get(t, a.URL+"/.well-known/webfinger?resource=acct:"+actor["preferredUsername"].(string)+"@"+host, "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"href":"`+a.ActorID()+`"`) {
		t.Errorf("round trip failed: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		query string
		code  int
	}{
		{"resource=acct:nobody@" + host, 404},
		{"resource=acct:jalisco@elsewhere.example", 404},
		{"", 400},
		{"resource=acct:nohost", 400},
		{"resource=mailto:x@y", 400},
	} {
		resp, _ := get(t, a.URL+"/.well-known/webfinger?"+tc.query, "")
		if resp.StatusCode != tc.code {
			t.Errorf("webfinger?%s: %d, want %d", tc.query, resp.StatusCode, tc.code)
		}
	}
}

func TestActorDocument(t *testing.T) {
	a := startServer(t, "madrid", "", nil)
	for _, accept := range []string{"application/activity+json", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`} {
		// Unsigned: actor documents must stay fetchable without a signature.
		resp, body := get(t, a.ActorID(), accept)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/activity+json") {
			t.Fatalf("%s: %d %s", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(resp.Header.Get("Vary"), "Accept") {
			t.Errorf("missing Vary: Accept")
		}
		m := decode(t, body)
		if m["id"] != a.ActorID() {
			t.Errorf("id %v != request URL %s", m["id"], a.ActorID())
		}
		for _, k := range []string{"inbox", "outbox", "followers", "preferredUsername"} {
			if s, _ := m[k].(string); s == "" {
				t.Errorf("missing %s", k)
			}
		}
		if ep, _ := m["endpoints"].(map[string]any); ep["sharedInbox"] != a.SharedInboxID() {
			t.Errorf("endpoints.sharedInbox = %v", ep)
		}
		ctx, _ := m["@context"].([]any)
		if len(ctx) < 2 || ctx[0] != "https://www.w3.org/ns/activitystreams" || ctx[1] != "https://w3id.org/security/v1" {
			t.Errorf("@context = %v", m["@context"])
		}
		pk := m["publicKey"].(map[string]any)
		if pk["owner"] != a.ActorID() || pk["id"] != a.KeyID() {
			t.Errorf("publicKey = %v", pk)
		}
		block, _ := pem.Decode([]byte(pk["publicKeyPem"].(string)))
		if block == nil {
			t.Fatal("publicKeyPem does not parse")
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if rsaKey, ok := pub.(interface{ Size() int }); !ok || rsaKey.Size()*8 < 2048 {
			t.Errorf("key is not RSA >= 2048")
		}
	}
	resp, _ := get(t, a.ActorID(), "text/html,application/xhtml+xml")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Vary"), "Accept") {
		t.Errorf("browser: %d, Vary %q", resp.StatusCode, resp.Header.Get("Vary"))
	}
	resp, body := get(t, a.AppID(), "application/activity+json")
	if app := decode(t, body); resp.StatusCode != 200 || app["type"] != "Application" || app["publicKey"] == nil {
		t.Errorf("application actor: %d %v", resp.StatusCode, app)
	}
	resp, _ = get(t, a.URL+"/users/nobody", "application/activity+json")
	if resp.StatusCode != 404 {
		t.Errorf("unknown actor: %d", resp.StatusCode)
	}
}

func TestNodeInfo(t *testing.T) {
	a := startServer(t, "paris", "", nil)
	_, body := get(t, a.URL+"/.well-known/nodeinfo", "")
	links := decode(t, body)["links"].([]any)
	var ni, app string
	for _, l := range links {
		l := l.(map[string]any)
		switch l["rel"] {
		case "http://nodeinfo.diaspora.software/ns/schema/2.1":
			ni = l["href"].(string)
		case "https://www.w3.org/ns/activitystreams#Application":
			app = l["href"].(string)
		}
	}
	if app != a.AppID() {
		t.Errorf("FEP-2677 link = %q", app)
	}
	resp, body := get(t, ni, "")
	doc := decode(t, body)
	if resp.StatusCode != 200 || doc["version"] != "2.1" || doc["protocols"].([]any)[0] != "activitypub" || doc["openRegistrations"] != false {
		t.Errorf("nodeinfo: %d %s", resp.StatusCode, body)
	}
	if sw := doc["software"].(map[string]any); sw["name"] != "ogpnet" {
		t.Errorf("software = %v", sw)
	}
}

// TestFollowPublishUndo: two of our servers over real HTTP: discovery by
// handle, follow → Accept, publish → delivery, outbox paging, unfollow.
func TestFollowPublishUndo(t *testing.T) {
	ctx := context.Background()
	node := startServer(t, "scotland", "", nil)
	hub := startServer(t, "hub", "", nil)

	remote, err := hub.Resolve(ctx, "@scotland@"+strings.TrimPrefix(node.URL, "http://"))
	if err != nil || remote.ID != node.ActorID() {
		t.Fatalf("resolve handle: %v %+v", err, remote)
	}
	if _, err := hub.Follow(ctx, node.ActorID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "follow accepted", func() bool {
		f, err := hub.FollowingOf(ctx, node.ActorID())
		return err == nil && f.State == "accepted"
	})
	if fs := node.Followers(); len(fs) != 1 || fs[0].Actor != hub.ActorID() {
		t.Fatalf("node followers = %+v", fs)
	}
	_, body := get(t, node.FollowersID(), "application/activity+json")
	if decode(t, body)["totalItems"].(float64) != 1 {
		t.Errorf("followers collection: %s", body)
	}

	// Publish 25 notes: all delivered, outbox pages through them by cursor.
	for i := 0; i < PageSizeForTest+5; i++ {
		publishNote(t, node, "note")
	}
	eventually(t, "all creates delivered", func() bool { return len(hub.received.ofType("Create")) == PageSizeForTest+5 })
	_, body = get(t, node.OutboxID(), "application/activity+json")
	outbox := decode(t, body)
	if outbox["type"] != "OrderedCollection" || outbox["totalItems"].(float64) != PageSizeForTest+5 {
		t.Fatalf("outbox: %s", body)
	}
	seen := map[string]bool{}
	next := outbox["first"].(string)
	for pages := 0; next != "" && pages < 5; pages++ {
		resp, body := get(t, next, "application/activity+json")
		page := decode(t, body)
		if resp.StatusCode != 200 || page["type"] != "OrderedCollectionPage" || page["partOf"] != node.OutboxID() || page["id"] != next {
			t.Fatalf("page %s: %s", next, body)
		}
		for _, it := range page["orderedItems"].([]any) {
			seen[it.(map[string]any)["id"].(string)] = true
		}
		next, _ = page["next"].(string)
	}
	if len(seen) != PageSizeForTest+5 {
		t.Errorf("paged through %d distinct activities, want %d", len(seen), PageSizeForTest+5)
	}
	// WalkOutbox is the hub's backfill reader: same result.
	n := 0
	if err := hub.WalkOutbox(ctx, node.OutboxID(), 10, func(json.RawMessage) error { n++; return nil }); err != nil || n != PageSizeForTest+5 {
		t.Errorf("WalkOutbox: %d items, %v", n, err)
	}

	if err := hub.Unfollow(ctx, node.ActorID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "unfollowed", func() bool { return len(node.Followers()) == 0 })
}

const PageSizeForTest = 20

func publishNote(t *testing.T, s *testServer, text string) string {
	t.Helper()
	id := s.NewActivityID()
	obj := id + "/note"
	act, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id, "type": "Create", "actor": s.ActorID(),
		"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{s.FollowersID()},
		"object": map[string]any{
			"id": obj, "type": "Note", "attributedTo": s.ActorID(),
			"content": "<p>" + text + "</p>", "contentMap": map[string]string{"en": "<p>" + text + "</p>"},
			"published": time.Now().UTC().Format(time.RFC3339),
			"to":        []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{s.FollowersID()},
		},
	})
	if err := s.Publish(context.Background(), act); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestReceiverDownThenBack: deliveries to a server that is down are retried
// until it is back on the same address and database.
func TestReceiverDownThenBack(t *testing.T) {
	ctx := context.Background()
	node := startServer(t, "ontario", "", nil)
	hub := startServer(t, "hub", "", nil)
	if _, err := hub.Follow(ctx, node.ActorID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "follow accepted", func() bool { return len(node.Followers()) == 1 })
	addr, db := hub.addr(), hub.db
	hub.stop()
	id := publishNote(t, node, "while you were away")
	time.Sleep(600 * time.Millisecond) // at least two failed attempts
	back := startServer(t, "hub", addr, db)
	eventually(t, "delivered after the receiver came back", func() bool {
		for _, in := range back.received.ofType("Create") {
			if in.ID == id {
				return true
			}
		}
		return false
	})
}

// TestInboxRejects: every malformed or hostile POST gets a 4xx with a
// message, and nothing is stored.
func TestInboxRejects(t *testing.T) {
	node := startServer(t, "kigoma", "", nil)
	mastodon := newRemote(t, "mastodon", "mastodon-actor")
	other := newRemote(t, "other", "mastodon-actor")
	follow := mastodon.activity("Follow", node.ActorID())
	old := time.Now().Add(-13 * time.Hour).UTC().Format(http.TimeFormat)
	future := time.Now().Add(2 * time.Hour).UTC().Format(http.TimeFormat)
	resign := func(r *remoteActor, date string, headers string) func(*http.Request) {
		return func(req *http.Request) {
			req.Header.Del("Signature")
			req.Header.Del("Digest")
			req.Header.Set("Date", date)
			signWithHeaders(t, req, follow, r, headers)
		}
	}
	// bob shares alice's server and key material but is another actor: a
	// request signed with bob's key for an activity of alice's, with an id
	// on their common host, is refused by the key owner check alone.
	bob := mastodon.account("bob")
	cases := []struct {
		name   string
		body   []byte
		mutate func(*http.Request)
		code   int
		reason string // in the answer or, for what a sender is not told, in our log
	}{
		{"unsigned", follow, func(r *http.Request) { r.Header.Del("Signature") }, 401, "request is not signed"},
		{"wrong key", follow, func(r *http.Request) {
			r.Header.Del("Signature")
			signAs(t, r, follow, other.key, mastodon.keyID)
		}, 401, "signature verification failed"},
		{"date 13h old", follow, resign(mastodon, old, "(request-target) host date digest"), 401, "is older than"},
		{"date 2h ahead", follow, resign(mastodon, future, "(request-target) host date digest"), 401, "in the future"},
		// A well-formed digest of another body: only the comparison with
		// this body can refuse it.
		{"digest mismatch", follow, func(r *http.Request) {
			r.Header.Del("Signature")
			r.Header.Del("Digest")
			signWithHeaders(t, r, []byte(`{"another":"body"}`), mastodon, "(request-target) host date digest")
		}, 401, "digest does not match body"},
		{"digest not signed", follow, resign(mastodon, time.Now().UTC().Format(http.TimeFormat), "(request-target) host date"), 401, "required headers not signed"},
		{"text/plain", follow, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, 415, "content type must be"},
		{"too large", append(follow[:len(follow)-1], []byte(`,"pad":"`+strings.Repeat("x", 1<<20)+`"}`)...), nil, 413, "larger than"},
		// Without a Content-Length the cap must hold while reading.
		{"too large, chunked", append(follow[:len(follow)-1], []byte(`,"pad":"`+strings.Repeat("x", 1<<20)+`"}`)...), func(r *http.Request) {
			r.ContentLength = -1
			r.Body = io.NopCloser(struct{ io.Reader }{r.Body})
		}, 413, "larger than"},
		{"not JSON", []byte(`{"id": nope`), nil, 400, "body is not JSON"},
		{"not an object", []byte(`["https://mastodon.localhost/activities/1"]`), nil, 400, "not an object"},
		{"signed by another actor", other.activityAs(mastodon.actorID, "Follow", node.ActorID()), nil, 401, "signed by " + other.actorID},
		{"key owner is not the actor", mastodon.activityAs(mastodon.actorID, "Follow", node.ActorID()), nil, 401,
			"signed by " + bob.actorID + ", but the activity's actor is " + mastodon.actorID},
		{"id on another host", mastodon.activityWithID(other.base+"/activities/1", "Follow", node.ActorID()), nil, 401, "is not on the actor's host"},
		{"update of another host's object", mastodon.activity("Update", other.base+"/notes/1"), nil, 403, "only the object's owner"},
		{"delete of another host's object", mastodon.activity("Delete", node.ActorID()), nil, 403, "only the object's owner"},
		{"follow of someone else", mastodon.activity("Follow", node.URL+"/users/nobody"), nil, 400, "/users/nobody"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sender := mastodon
			switch tc.name {
			case "signed by another actor":
				sender = other
			case "key owner is not the actor":
				sender = bob
			}
			logged := len(node.logs.String())
			code, msg := sender.post(t, node.InboxID(), tc.body, tc.mutate)
			if code != tc.code {
				t.Errorf("status %d, want %d (%s)", code, tc.code, msg)
			}
			if !strings.Contains(msg, "message") {
				t.Errorf("no message in the answer: %q", msg)
			}
			if !strings.Contains(msg, tc.reason) && !strings.Contains(node.logs.String()[logged:], tc.reason) {
				t.Errorf("the reason %q is neither in the answer %q nor in the log:\n%s", tc.reason, msg, node.logs.String()[logged:])
			}
		})
	}
	n, err := node.db.Collection("inbox_seen").CountDocuments(context.Background(), bson.M{})
	if err != nil || n != 0 {
		t.Errorf("rejected activities were recorded: %d (%v)", n, err)
	}
	if len(node.Followers()) != 0 || len(node.received.items) != 0 {
		t.Errorf("a rejected activity had an effect: followers %v, handled %d", node.Followers(), len(node.received.items))
	}
	select {
	case b := <-mastodon.inbox:
		t.Errorf("a rejected follow was answered: %s", b)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestMastodonAndGoToSocialFollow: follows shaped like Mastodon's (fragment
// keyId, rsa-sha256, shared inbox) and GoToSocial's (keyId without fragment,
// a key stub) are accepted, answered with an Accept that embeds the Follow,
// and a repeated delivery is a no-op.
func TestMastodonAndGoToSocialFollow(t *testing.T) {
	node := startServer(t, "seoul", "", nil)
	for _, fixture := range []string{"mastodon-actor", "gotosocial-actor"} {
		t.Run(fixture, func(t *testing.T) {
			r := newRemote(t, strings.Split(fixture, "-")[0], fixture)
			follow := r.activity("Follow", node.ActorID())
			for i := 0; i < 2; i++ {
				if code, msg := r.post(t, node.SharedInboxID(), follow, nil); code != 202 {
					t.Fatalf("follow #%d: %d %s", i+1, code, msg)
				}
			}
			var accept map[string]any
			select {
			case b := <-r.inbox:
				accept = decode(t, b)
				checkOurSignature(t, node, <-r.requests, b)
			case <-time.After(10 * time.Second):
				t.Fatal("no Accept received")
			}
			inner := accept["object"].(map[string]any)
			if accept["type"] != "Accept" || accept["actor"] != node.ActorID() || inner["id"] != decode(t, follow)["id"] || inner["actor"] != r.actorID {
				t.Errorf("accept = %v", accept)
			}
			select {
			case b := <-r.inbox:
				t.Errorf("the duplicate follow was answered again: %s", b)
			case <-time.After(500 * time.Millisecond):
			}
		})
	}
	if got := len(node.Followers()); got != 2 {
		t.Errorf("followers = %d, want 2", got)
	}
	// Both Mastodon followers on one server would share one inbox; here they
	// are two servers: two distinct inboxes, the Mastodon one shared.
	inboxes := node.FollowerInboxes()
	if len(inboxes) != 2 || !strings.HasSuffix(inboxes[0]+inboxes[1], "/inbox") {
		t.Errorf("inboxes = %v", inboxes)
	}
}

// TestInboxRateLimit: a flood from one address is cut off with 429 before
// any signature work, and nothing is stored.
func TestInboxRateLimit(t *testing.T) {
	db := storetest.DB(t)
	srv, err := federation.New(context.Background(), federation.Config{
		BaseURL: "http://limited.localhost:1", Username: "limited", DB: db, InboxRate: 1, InboxBurst: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEcho()
	srv.Register(e)
	codes := map[int]int{}
	for range 5 {
		req := httptest.NewRequest(http.MethodPost, "/inbox", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/activity+json")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		codes[rec.Code]++
	}
	if codes[http.StatusTooManyRequests] != 3 || codes[http.StatusUnauthorized] != 2 {
		t.Errorf("status counts = %v, want 2×401 (unsigned) then 3×429", codes)
	}
}

// checkOurSignature verifies an outgoing POST of ours the way a receiver
// would (federation.md checklist 12): draft-cavage headers and algorithm,
// Digest of the exact body, an RFC 7231 Date, the AP content type, and the
// signature itself with go-fed/httpsig and the key from our actor document.
func checkOurSignature(t *testing.T, s *testServer, req *http.Request, body []byte) {
	t.Helper()
	sig := req.Header.Get("Signature")
	for _, want := range []string{`keyId="` + s.KeyID() + `"`, `algorithm="rsa-sha256"`, `headers="(request-target) host date digest"`} {
		if !strings.Contains(sig, want) {
			t.Errorf("Signature %q lacks %s", sig, want)
		}
	}
	sum := sha256.Sum256(body)
	if got, want := req.Header.Get("Digest"), "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("Digest = %q, want %q", got, want)
	}
	if _, err := time.Parse(http.TimeFormat, req.Header.Get("Date")); err != nil {
		t.Errorf("Date %q is not RFC 7231: %v", req.Header.Get("Date"), err)
	}
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/activity+json") {
		t.Errorf("Content-Type = %q", ct)
	}
	_, actorBody := get(t, s.ActorID(), "application/activity+json")
	pemText := decode(t, actorBody)["publicKey"].(map[string]any)["publicKeyPem"].(string)
	block, _ := pem.Decode([]byte(pemText))
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if req.Host == "" {
		req.Host = req.URL.Host
	}
	v, err := gofed.NewVerifier(req)
	if err != nil {
		t.Fatalf("go-fed cannot parse our signature: %v", err)
	}
	if err := v.Verify(pub, gofed.RSA_SHA256); err != nil {
		t.Errorf("go-fed rejects our signature: %v", err)
	}
}

// TestSharedInboxFanOut: three followers on one server share its inbox, so
// one publish is one POST there (one signature), not three.
func TestSharedInboxFanOut(t *testing.T) {
	node := startServer(t, "tbilisi", "", nil)
	alice := newRemote(t, "mastodon", "mastodon-actor")
	for _, r := range []*remoteActor{alice, alice.account("bob"), alice.account("carol")} {
		if code, msg := r.post(t, node.InboxID(), r.activity("Follow", node.ActorID()), nil); code != 202 {
			t.Fatalf("follow by %s: %d %s", r.actorID, code, msg)
		}
	}
	for range 3 {
		select {
		case <-alice.requests: // the three Accepts, one per follower inbox
			<-alice.inbox
		case <-time.After(10 * time.Second):
			t.Fatal("missing Accept")
		}
	}
	if inboxes := node.FollowerInboxes(); len(inboxes) != 1 || inboxes[0] != alice.base+"/inbox" {
		t.Fatalf("inboxes = %v, want the one shared inbox", inboxes)
	}
	publishNote(t, node, "to everyone at once")
	select {
	case req := <-alice.requests:
		<-alice.inbox
		if req.URL.Path != "/inbox" {
			t.Errorf("delivered to %s, want the shared inbox", req.URL.Path)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing delivered")
	}
	select {
	case req := <-alice.requests:
		t.Errorf("a second POST for one activity: %s", req.URL.Path)
	case <-time.After(700 * time.Millisecond):
	}
}

// TestForeignEmbeddedObjectIsRefetched: an activity may embed someone
// else's object; the copy is not trusted, the object is fetched from its
// origin (federation.md §4), and so is the object of an Announce.
func TestForeignEmbeddedObjectIsRefetched(t *testing.T) {
	node := startServer(t, "paris", "", nil)
	got := make(chan string, 4)
	node.received.handle(func(ctx context.Context, a *federation.Activity) error {
		raw, err := a.Object(ctx)
		if err != nil {
			return err
		}
		got <- decode(t, raw)["content"].(string)
		return nil
	})
	sender := newRemote(t, "mastodon", "mastodon-actor")
	origin := newRemote(t, "origin", "mastodon-actor")
	noteID := origin.base + "/notes/1"
	origin.docs["/notes/1"] = `{"@context":"https://www.w3.org/ns/activitystreams","id":"` + noteID +
		`","type":"Note","attributedTo":"` + origin.actorID + `","content":"the original"}`

	// create is sender's Create of a Note embedded whole, as Mastodon sends it.
	create := func(activity, noteID, attributedTo, content string) []byte {
		b, _ := json.Marshal(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams",
			"id":       sender.base + "/activities/" + activity, "type": "Create", "actor": sender.actorID,
			"object": map[string]any{"id": noteID, "type": "Note", "attributedTo": attributedTo, "content": content},
		})
		return b
	}
	for _, c := range []struct {
		name     string
		activity []byte
		want     string
	}{
		{"a Create embedding a forged copy uses the original", create("forged", noteID, origin.actorID, "forged words"), "the original"},
		{"an Announce fetches the original", sender.activityWithID(sender.base+"/activities/boost", "Announce", noteID), "the original"},
		// An own object embedded by its author is used as sent (no fetch).
		{"an own object is used as sent", create("own", sender.base+"/notes/own", sender.actorID, "mine"), "mine"},
	} {
		if code, msg := sender.post(t, node.InboxID(), c.activity, nil); code != 202 {
			t.Fatalf("%s: %d %s", c.name, code, msg)
		}
		if content := <-got; content != c.want {
			t.Errorf("%s: content %q, want %q", c.name, content, c.want)
		}
	}
}

// TestTwoReplicasShareFollowers: two servers (replicas) on one database; a
// follow accepted by one reaches the other's fan-out after a reload.
func TestTwoReplicasShareFollowers(t *testing.T) {
	a := startServer(t, "replica", "", nil)
	b, err := federation.New(context.Background(), federation.Config{BaseURL: a.URL, Username: "replica", DB: a.db})
	if err != nil {
		t.Fatal(err)
	}
	if b.KeyID() != a.KeyID() || len(b.FollowerInboxes()) != 0 {
		t.Fatal("replicas disagree before the follow")
	}
	r := newRemote(t, "mastodon", "mastodon-actor")
	if code, msg := r.post(t, a.InboxID(), r.activity("Follow", a.ActorID()), nil); code != 202 {
		t.Fatalf("follow: %d %s", code, msg)
	}
	if err := federation.ReloadFollowersForTest(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if got := b.FollowerInboxes(); len(got) != 1 || got[0] != r.base+"/inbox" {
		t.Errorf("replica b sees inboxes %v", got)
	}
}

// TestTwoReplicasShareFollowing: the follows a server made are listed from
// memory (FollowingAll, the hub's backfill poll), so a follow made and
// accepted through replica a reaches replica b's list at b's next reload;
// a's list has it at once.
func TestTwoReplicasShareFollowing(t *testing.T) {
	ctx := context.Background()
	a := startServer(t, "leader", "", nil)
	b, err := federation.New(ctx, federation.Config{BaseURL: a.URL, Username: "leader", DB: a.db})
	if err != nil {
		t.Fatal(err)
	}
	r := newRemote(t, "followed", "mastodon-actor")
	f, err := a.Follow(ctx, r.actorID)
	if err != nil {
		t.Fatal(err)
	}
	if code, msg := r.post(t, a.InboxID(), r.activity("Accept", f.FollowID), nil); code != http.StatusAccepted {
		t.Fatalf("accept: %d %s", code, msg)
	}
	state := func(s *federation.Server) string {
		all, err := s.FollowingAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 || all[0].Actor != r.actorID {
			return fmt.Sprintf("%v", all)
		}
		return all[0].State
	}
	if got := state(a.Server); got != federation.FollowAccepted {
		t.Errorf("replica a lists %s, want its accepted follow", got)
	}
	if got := state(b); got == federation.FollowAccepted {
		t.Errorf("replica b listed the follow before its reload: %s", got)
	}
	if err := federation.ReloadFollowingForTest(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := state(b); got != federation.FollowAccepted {
		t.Errorf("replica b lists %s after its reload, want the accepted follow", got)
	}
	if err := a.Unfollow(ctx, r.actorID); err != nil {
		t.Fatal(err)
	}
	if err := federation.ReloadFollowingForTest(ctx, b); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*federation.Server{"a": a.Server, "b": b} {
		if all, _ := s.FollowingAll(ctx); len(all) != 0 {
			t.Errorf("replica %s still lists %v after the unfollow", name, all)
		}
	}
}

// TestDeliveryDoesNotFollowRedirects: an inbox answering 302 has not
// received the activity; the queue must not follow it (as a bodiless GET
// that answers 200) and count it delivered.
func TestDeliveryDoesNotFollowRedirects(t *testing.T) {
	node := startServer(t, "ontario", "", nil)
	var elsewhere, inbox int32
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/inbox" {
			inbox++
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		elsewhere++
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	id := node.NewActivityID()
	act := map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "Like", "actor": node.ActorID(), "object": "http://x.localhost/n"}
	if err := node.Send(context.Background(), act, []string{"http://redirecting.localhost:" + port + "/inbox"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "two attempts", func() bool { mu.Lock(); defer mu.Unlock(); return inbox >= 2 })
	mu.Lock()
	defer mu.Unlock()
	if elsewhere != 0 {
		t.Errorf("the redirect was followed %d times", elsewhere)
	}
	st, err := node.Queue().Stats(context.Background())
	if err != nil || st.Delivered != 0 {
		t.Errorf("stats %+v (%v): a redirected delivery counted as delivered", st, err)
	}
}

// TestFollowersReloadReadsOnlyAfterAWrite: the periodic reload reads the
// followers collection only when the mark says a follower was written, so
// an idle server's reload costs one _id lookup however many followers it
// has. A document written behind the mark's back stays unseen until the
// next real follow, which brings both.
func TestFollowersReloadReadsOnlyAfterAWrite(t *testing.T) {
	a := startServer(t, "marked", "", nil)
	b, err := federation.New(context.Background(), federation.Config{BaseURL: a.URL, Username: "marked", DB: a.db})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sneaked := federation.Follower{Actor: "https://elsewhere.example/users/x", Inbox: "https://elsewhere.example/users/x/inbox", FollowID: "https://elsewhere.example/f/1"}
	if _, err := a.db.Collection("followers").InsertOne(ctx, sneaked); err != nil {
		t.Fatal(err)
	}
	if err := federation.ReloadFollowersForTest(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := b.FollowerInboxes(); len(got) != 0 {
		t.Fatalf("an idle reload read the followers: %v", got)
	}
	r := newRemote(t, "mastodon", "mastodon-actor")
	if code, msg := r.post(t, a.InboxID(), r.activity("Follow", a.ActorID()), nil); code != 202 {
		t.Fatalf("follow: %d %s", code, msg)
	}
	if err := federation.ReloadFollowersForTest(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := b.FollowerInboxes(); len(got) != 2 {
		t.Errorf("after a follow, replica b sees inboxes %v, want both", got)
	}
}
