package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/delivery"
	"github.com/ogpnet/ogpnet/hub"
	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/node"
)

// The servers of these tests run in this process on loopback, each on its
// own data folder or database, exactly as ogpnet node and hub wire them.

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// listenAt listens on addr ("127.0.0.1:0" for any port) and returns the
// listener with the dev base URL http://<slug>.localhost:<port>.
func listenAt(t *testing.T, slug, addr string) (net.Listener, string) {
	t.Helper()
	var l net.Listener
	var err error
	// A port just closed by the previous server may take a moment.
	for range 50 {
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return l, "http://" + slug + ".localhost:" + port
}

// portOf returns the host:port to listen on for base.
func portOf(base string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	return "127.0.0.1:" + port
}

// running is one started server; stop ends it (idempotent).
type running struct {
	stop func()
}

func start(t *testing.T, l net.Listener, h http.Handler, run func(context.Context) error, st *store.Store) *running {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = run(ctx) }()
	var once sync.Once
	r := &running{stop: func() {
		once.Do(func() {
			cancel()
			<-done
			_ = srv.Close()
			if st != nil {
				closeStore(st)
			}
		})
	}}
	t.Cleanup(r.stop)
	return r
}

type testNode struct {
	*node.Node
	*running
	st   *store.Store
	base string
}

// fastDelivery retries quickly and holds leases briefly, so that a test
// sees a restored queue resume within seconds.
var fastDelivery = delivery.Options{Lease: 3 * time.Second, Backoff: func(int) time.Duration { return 500 * time.Millisecond }, MaxAttempts: 1000}

// startNode runs node jalisco on the embedded store in dir, on l.
func startNode(t *testing.T, dir string, l net.Listener, base string, d delivery.Options) *testNode {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: dir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	n, err := newNodeOn(ctx, st, base, d)
	if err != nil {
		closeStore(st)
		t.Fatal(err)
	}
	return &testNode{Node: n, running: start(t, l, n.Handler(), n.Run, st), st: st, base: base}
}

// newNodeOn builds node jalisco on st, as ogpnet node does.
func newNodeOn(ctx context.Context, st *store.Store, base string, d delivery.Options) (*node.Node, error) {
	return node.New(ctx, node.Config{
		BaseURL: base, Slug: "jalisco", Name: "Jalisco", Lang: "es", Languages: []string{"es", "en"},
		DB: st.DB("ogpnet_jalisco"), Delivery: d, Version: "test", Logger: quiet(),
	})
}

// newHubOn builds the hub on st, as ogpnet hub does.
func newHubOn(ctx context.Context, st *store.Store, base string) (*hub.Hub, error) {
	return hub.New(ctx, hub.Config{BaseURL: base, Name: "Hub", DB: st.DB("ogpnet_hub"), Version: "test", Logger: quiet()})
}

func startHub(t *testing.T, st *store.Store, l net.Listener, base string) (*hub.Hub, *running) {
	t.Helper()
	h, err := newHubOn(context.Background(), st, base)
	if err != nil {
		t.Fatal(err)
	}
	return h, start(t, l, h.Handler(), h.Run, nil)
}

// reader is a plain ActivityPub server that follows a node and records
// the activities it receives; while down, its inbox answers 503.
type reader struct {
	*federation.Server
	*running
	down atomic.Bool
	mu   sync.Mutex
	got  map[string]string // activity id → type
}

func (r *reader) Object(_ context.Context, a *federation.Activity) error {
	r.mu.Lock()
	r.got[a.ID] = a.Type
	r.mu.Unlock()
	return nil
}
func (r *reader) Delete(ctx context.Context, a *federation.Activity) error { return r.Object(ctx, a) }
func (r *reader) FollowAnswered(ctx context.Context, a *federation.Activity, _ bool) error {
	return r.Object(ctx, a)
}

func (r *reader) received(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.got[id]
	return ok
}

func startReader(t *testing.T, st *store.Store) *reader {
	t.Helper()
	l, base := listenAt(t, "reader", "127.0.0.1:0")
	r := &reader{got: map[string]string{}}
	fs, err := federation.New(context.Background(), federation.Config{
		BaseURL: base, Username: "reader", ActorType: "Person", Name: "Reader",
		DB: st.DB("reader"), Logger: quiet(), Inbox: r,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Server = fs
	e := echo.New()
	fs.Register(e)
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.down.Load() && req.Method == http.MethodPost {
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		e.ServeHTTP(w, req)
	})
	r.running = start(t, l, h, fs.Run, nil)
	return r
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", limit, what)
}

// testClient reaches http://<name>.localhost:<port> on loopback, as
// browsers do, whatever the system resolver says.
var testClient = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
	DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, _ := net.SplitHostPort(addr)
		if strings.HasSuffix(host, ".localhost") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	},
}}

// apGet fetches url as ActivityPub JSON.
func apGet(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func publicKeyPEM(t *testing.T, actorIRI string) string {
	t.Helper()
	status, a := apGet(t, actorIRI)
	pk, _ := a["publicKey"].(map[string]any)
	pem, _ := pk["publicKeyPem"].(string)
	if status != http.StatusOK || !strings.Contains(pem, "PUBLIC KEY") {
		t.Fatalf("actor %s: status %d, key %q", actorIRI, status, pem)
	}
	return pem
}

// postUpdate posts a progress update through the operator API with token.
func postUpdate(t *testing.T, base, token, commitment, text string) (int, string) {
	t.Helper()
	status, body, err := tryPostUpdate(base, token, commitment, text)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

// tryPostUpdate is postUpdate for goroutines other than the test's.
func tryPostUpdate(base, token, commitment, text string) (int, string, error) {
	body, _ := json.Marshal(map[string]any{"date": "2017-07-01", "text": map[string]string{"es": text}})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/commitments/"+commitment+"/updates", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := testClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), nil
}

func importPlan(t *testing.T, n *node.Node) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := n.Import(context.Background(), "json", bytes.NewReader(raw), false)
	if err != nil || rep.HasErrors() {
		t.Fatalf("import: %v %s", err, rep.Summary())
	}
}

// followedNode starts node jalisco with its sample plan on the embedded
// store in dir, makes an operator API token, and has a reader (on a store of
// its own) follow it until both sides see the follow accepted: the reader
// has verified the Accept, so the node's key is in its cache.
func followedNode(t *testing.T, dir string) (n *testNode, r *reader, token string) {
	t.Helper()
	ctx := context.Background()
	rst, err := store.Open(ctx, store.Options{DataDir: t.TempDir(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeStore(rst) })
	r = startReader(t, rst)
	l, base := listenAt(t, "jalisco", "127.0.0.1:0")
	n = startNode(t, dir, l, base, fastDelivery)
	importPlan(t, n.Node)
	if token, err = n.CreateAPIToken(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	actor := n.Federation().ActorID()
	if _, err := r.Follow(ctx, actor); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reader's follow accepted on both sides", 20*time.Second, func() bool {
		f, err := r.FollowingOf(ctx, actor)
		return err == nil && f.State == "accepted" && len(n.Federation().Followers()) == 1
	})
	return n, r, token
}
