package federation_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gofed "github.com/go-fed/httpsig"
	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/delivery"
	"github.com/ogpnet/ogpnet/federation/fetch"
	"github.com/ogpnet/ogpnet/federation/httpsig"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// testServer is one federation.Server listening on loopback under a
// *.localhost name (development mode: the fetch client maps it to 127.0.0.1).
type testServer struct {
	*federation.Server
	URL      string
	listener net.Listener
	http     *http.Server
	db       *mongo.Database
	cancel   context.CancelFunc
	done     chan struct{}
	received *recorder
	// logs holds the server's log lines (the reasons a sender is not told).
	logs *logBuffer
}

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// recorder is every test server's Inbox: it keeps what it was given, for
// assertions, and passes objects to onObject when a test sets one.
type recorder struct {
	server   *federation.Server // for FollowingOf during FollowAnswered
	mu       sync.Mutex
	items    []*federation.Activity
	answers  []answer
	onObject func(context.Context, *federation.Activity) error
}

// answer is one FollowAnswered call, with the follow's state as
// FollowingOf showed it during the call.
type answer struct {
	actor    string
	accepted bool
	state    string
}

var _ federation.Inbox = (*recorder)(nil)

func (r *recorder) add(a *federation.Activity) {
	r.mu.Lock()
	r.items = append(r.items, a)
	r.mu.Unlock()
}

func (r *recorder) Object(ctx context.Context, a *federation.Activity) error {
	r.add(a)
	r.mu.Lock()
	fn := r.onObject
	r.mu.Unlock()
	if fn != nil {
		return fn(ctx, a)
	}
	return nil
}

func (r *recorder) Delete(_ context.Context, a *federation.Activity) error {
	r.add(a)
	return nil
}

func (r *recorder) FollowAnswered(ctx context.Context, a *federation.Activity, accepted bool) error {
	r.add(a)
	f, err := r.server.FollowingOf(ctx, a.Actor)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.answers = append(r.answers, answer{actor: a.Actor, accepted: accepted, state: f.State})
	r.mu.Unlock()
	return nil
}

func (r *recorder) answered() []answer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]answer(nil), r.answers...)
}

// handle makes fn the handler of objects from now on.
func (r *recorder) handle(fn func(context.Context, *federation.Activity) error) {
	r.mu.Lock()
	r.onObject = fn
	r.mu.Unlock()
}

func (r *recorder) ofType(typ string) []*federation.Activity {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*federation.Activity
	for _, in := range r.items {
		if in.Type == typ {
			out = append(out, in)
		}
	}
	return out
}

func fastDelivery() delivery.Options {
	return delivery.Options{
		Workers: 2, Lease: 5 * time.Second, PollInterval: 50 * time.Millisecond,
		Backoff: func(int) time.Duration { return 200 * time.Millisecond },
	}
}

// startServer starts a server named name on a fresh loopback port and a
// fresh database. addr may name a port to reuse (restart tests).
func startServer(t *testing.T, name, addr string, db *mongo.Database) *testServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if db == nil {
		db = storetest.DB(t)
	}
	ts := &testServer{URL: "http://" + name + ".localhost:" + port, listener: ln, db: db, received: &recorder{}, logs: &logBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := federation.New(ctx, federation.Config{
		BaseURL: ts.URL, Username: name, ActorType: "Organization", Name: "Server " + name,
		DB: db, Delivery: fastDelivery(), Version: "test", Inbox: ts.received,
		Logger: slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ts.Server = srv
	ts.received.server = srv
	e := echo.New()
	srv.Register(e)
	ts.http = &http.Server{Handler: e}
	ts.cancel = cancel
	ts.done = make(chan struct{})
	go func() { _ = ts.http.Serve(ln) }()
	go func() { defer close(ts.done); _ = srv.Run(ctx) }()
	t.Cleanup(ts.stop)
	return ts
}

// stop shuts the server down (its database stays for a restart).
func (ts *testServer) stop() {
	if ts.cancel == nil {
		return
	}
	ts.cancel()
	_ = ts.http.Close()
	<-ts.done
	ts.cancel = nil
}

func (ts *testServer) addr() string { return ts.listener.Addr().String() }

// eventually polls cond until it holds or 15 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// devClient reaches *.localhost names on loopback, like the servers do.
var devClient = fetch.NewClient(fetch.Guard{DevLocalhost: true}, 10*time.Second)

func get(t *testing.T, url, accept string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	client := *devClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	return m
}

// remoteActor is a foreign server shaped like Mastodon or GoToSocial: it
// serves actor documents built from testdata fixtures with its own key, and
// signs requests with it. It is not one of our components, so a fixture is
// the honest stand-in (federation.md: fixtures shaped like their output).
type remoteActor struct {
	srv     *httptest.Server
	base    string
	key     *rsa.PrivateKey
	actorID string
	keyID   string
	inbox   chan []byte
	// requests holds each POST as received (headers, target, body), for
	// checking our signatures with an independent verifier.
	requests chan *http.Request
	docs     map[string]string // path → JSON
	gets     *sync.Map         // path → *atomic.Int64: GETs served, to count fetches
	// template is the first actor's document, for more accounts (same key).
	template string
}

func newRemote(t testing.TB, name, fixture string) *remoteActor {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	r := &remoteActor{key: key, inbox: make(chan []byte, 16), requests: make(chan *http.Request, 16), docs: map[string]string{}, gets: new(sync.Map)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	_, port, _ := net.SplitHostPort(r.srv.Listener.Addr().String())
	r.base = "http://" + name + ".localhost:" + port
	raw, err := readFixture(fixture)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	pemJSON, _ := json.Marshal(pemText)
	doc := strings.ReplaceAll(raw, "BASE", r.base)
	doc = strings.ReplaceAll(doc, `"PEM"`, string(pemJSON))
	var actor struct {
		ID        string `json:"id"`
		PublicKey struct {
			ID string `json:"id"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(doc), &actor); err != nil {
		t.Fatalf("fixture %s: %v", fixture, err)
	}
	r.actorID, r.keyID = actor.ID, actor.PublicKey.ID
	r.docs[strings.TrimPrefix(actor.ID, r.base)] = doc
	r.template = doc
	if !strings.Contains(r.keyID, "#") {
		// GoToSocial serves a stub of the actor at the key's own URL.
		stub, _ := json.Marshal(map[string]any{
			"@context": []string{"https://w3id.org/security/v1", "https://www.w3.org/ns/activitystreams"},
			"id":       actor.ID, "type": "Person", "preferredUsername": name,
			"publicKey": map[string]string{"id": r.keyID, "owner": actor.ID, "publicKeyPem": pemText},
		})
		r.docs[strings.TrimPrefix(r.keyID, r.base)] = string(stub)
	}
	return r
}

func (r *remoteActor) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodPost {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		r.requests <- req
		r.inbox <- body
		w.WriteHeader(http.StatusAccepted)
		return
	}
	n, _ := r.gets.LoadOrStore(req.URL.Path, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	doc, ok := r.docs[req.URL.Path]
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", "application/activity+json")
	_, _ = io.WriteString(w, doc)
}

// post sends body to url signed with the remote's key; mutate may change
// the request after signing (to forge or break it).
func (r *remoteActor) post(t *testing.T, url string, body []byte, mutate func(*http.Request)) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/activity+json")
	if err := httpsig.Sign(req, body, r.keyID, r.key); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(req)
	}
	resp, err := devClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

// fetched returns how many GETs of path r has served.
func (r *remoteActor) fetched(path string) int64 {
	n, ok := r.gets.Load(path)
	if !ok {
		return 0
	}
	return n.(*atomic.Int64).Load()
}

func (r *remoteActor) activity(typ, object string) []byte {
	b, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       fmt.Sprintf("%s/activities/%d", r.base, time.Now().UnixNano()),
		"type":     typ, "actor": r.actorID, "object": object,
	})
	return b
}

// signWithHeaders signs req with r's key over exactly the given headers,
// using go-fed/httpsig directly (to build requests our Sign would not).
func signWithHeaders(t *testing.T, req *http.Request, body []byte, r *remoteActor, headers string) {
	t.Helper()
	signer, _, err := gofed.NewSigner([]gofed.Algorithm{gofed.RSA_SHA256}, gofed.DigestSha256, strings.Fields(headers), gofed.Signature, 0)
	if err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("Host") == "" {
		req.Header.Set("Host", req.URL.Host)
	}
	if err := signer.SignRequest(r.key, r.keyID, req, body); err != nil {
		t.Fatal(err)
	}
}

// signAs signs req with key but names keyID (a forged signature).
func signAs(t *testing.T, req *http.Request, body []byte, key *rsa.PrivateKey, keyID string) {
	t.Helper()
	if err := httpsig.Sign(req, body, keyID, key); err != nil {
		t.Fatal(err)
	}
}

// activityAs builds an activity claiming actor, to be signed by r.
func (r *remoteActor) activityAs(actor, typ, object string) []byte {
	b, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       fmt.Sprintf("%s/activities/%d", r.base, time.Now().UnixNano()),
		"type":     typ, "actor": actor, "object": object,
	})
	return b
}

func (r *remoteActor) activityWithID(id, typ, object string) []byte {
	b, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id, "type": typ, "actor": r.actorID, "object": object,
	})
	return b
}

func newEcho() *echo.Echo { return echo.New() }

// account adds another account (same server, same key) named user, as a
// Mastodon server has many accounts sharing one shared inbox, and returns
// a copy of r speaking as that account.
func (r *remoteActor) account(user string) *remoteActor {
	other := *r
	doc := strings.ReplaceAll(r.template, "/users/alice", "/users/"+user)
	doc = strings.ReplaceAll(doc, `"preferredUsername": "alice"`, `"preferredUsername": "`+user+`"`)
	other.actorID = strings.ReplaceAll(r.actorID, "/users/alice", "/users/"+user)
	other.keyID = other.actorID + "#main-key"
	r.docs[strings.TrimPrefix(other.actorID, r.base)] = doc
	return &other
}
