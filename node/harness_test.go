package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/oidcdev"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// The harness runs real servers on loopback: a node at
// http://<slug>.localhost:PORT (the host the node's IRIs use), the
// in-process OpenID provider, and plain federation servers as followers.

const (
	operatorUser  = "ana"
	operatorEmail = "ana@jalisco.example"
	otherUser     = "bob"
	otherEmail    = "bob@elsewhere.example"
	password      = "correct horse"
)

// listen opens a loopback listener and returns it with the dev base URL
// for host name slug.
// testHubURL is the hub the test nodes say follows them (pages link to it).
const testHubURL = "https://hub.example"

func listen(t testing.TB, slug string) (net.Listener, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return l, "http://" + slug + ".localhost:" + port
}

func serve(t testing.TB, l net.Listener, h http.Handler) {
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	srv.Start()
	t.Cleanup(srv.Close)
}

// runBackground runs fn until the test ends, waiting for it to return.
func runBackground(t testing.TB, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = fn(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

type testNode struct {
	*Node
	base string
	idp  *oidcdev.Provider
}

// startNode runs a node named slug with the development OpenID provider;
// operators are users with a verified address at jalisco.example.
func startNode(t *testing.T, slug string) *testNode {
	t.Helper()
	idp, issuer := oidcdev.StartTest(t, []oidcdev.User{
		{Subject: operatorUser, Email: operatorEmail, Name: "Ana Operator", Password: password, EmailVerified: true},
		{Subject: otherUser, Email: otherEmail, Name: "Bob Reader", Password: password, EmailVerified: true},
	}, nil)
	l, base := listen(t, slug)
	idp.AddClient(oidcdev.Client{ID: "node", Secret: "node-secret", RedirectURIs: []string{base + "/auth/callback"}})
	ctx := context.Background()
	n, err := New(ctx, Config{
		BaseURL: base, Slug: slug, Name: "Jalisco (test)", Summary: "<p>Test node</p>",
		Lang: "es", Languages: []string{"es", "en"}, DB: storetest.DB(t),
		Auth: auth.Config{Issuer: issuer, ClientID: "node", ClientSecret: "node-secret",
			RedirectURL: base + "/auth/callback", AllowedEmailDomains: []string{"jalisco.example"}},
		Version: "test", Logger: slog.New(slog.DiscardHandler), HubURL: testHubURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Tagging: the store-read guard tells the commands serving requests
	// from the background loops' (storeguard_test.go).
	serve(t, l, storetest.Tagging(n.Handler()))
	runBackground(t, n.Run)
	return &testNode{Node: n, base: base, idp: idp}
}

// loopbackClient resolves every *.localhost name to 127.0.0.1, as browsers
// do, and keeps cookies.
func loopbackClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if federation.IsDevHost(host) {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return d.DialContext(ctx, network, addr)
	}}
	return &http.Client{Jar: jar, Transport: tr, Timeout: 20 * time.Second}
}

// login signs user in through the provider's form and returns the client
// holding the session.
func (tn *testNode) login(t *testing.T, user string) *http.Client {
	t.Helper()
	c := loopbackClient()
	resp, err := oidcdev.Login(context.Background(), c, tn.base+"/auth/login?next=/", user, password)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Host != strings.TrimPrefix(tn.base, "http://") {
		t.Fatalf("login as %s ended at %s with %s", user, resp.Request.URL, resp.Status)
	}
	return c
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf loads page and returns the CSRF token of its forms.
func csrf(t *testing.T, c *http.Client, page string) string {
	t.Helper()
	_, body := get(t, c, page, "text/html")
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on %s", page)
	}
	return m[1]
}

// get fetches u asking for accept.
func get(t testing.TB, c *http.Client, u, accept string) (*http.Response, string) {
	t.Helper()
	return do(t, c, http.MethodGet, u, nil, map[string]string{"Accept": accept})
}

// do sends a request with an optional JSON body and headers, returning the
// response and its body.
func do(t testing.TB, c *http.Client, method, u string, body any, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case url.Values:
		r = strings.NewReader(b.Encode())
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, u, r)
	switch body.(type) {
	case nil:
	case url.Values:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	default:
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// follower is a plain federation server that follows the node and records
// the activities it receives. Deliveries run concurrently, so arrival
// order is not publication order: nextOf finds an activity wherever it is.
type follower struct {
	*federation.Server
	mu    sync.Mutex
	got   []map[string]any
	taken []bool
}

// Object and Delete record what the follower receives (it is its own
// Inbox).
func (f *follower) Object(_ context.Context, a *federation.Activity) error {
	switch a.Type {
	case "Create", "Update", "Add", "Remove":
		return f.record(a)
	}
	return nil
}

func (f *follower) Delete(_ context.Context, a *federation.Activity) error { return f.record(a) }

// FollowAnswered ignores answers: the reader follows nobody.
func (f *follower) FollowAnswered(context.Context, *federation.Activity, bool) error { return nil }

func (f *follower) record(in *federation.Activity) error {
	var a map[string]any
	if err := json.Unmarshal(in.Raw, &a); err != nil {
		return err
	}
	f.mu.Lock()
	f.got = append(f.got, a)
	f.taken = append(f.taken, false)
	f.mu.Unlock()
	return nil
}

func startFollower(t testing.TB) *follower {
	t.Helper()
	l, base := listen(t, "follower")
	f := &follower{}
	fs, err := federation.New(context.Background(), federation.Config{
		BaseURL: base, Username: "reader", ActorType: "Person", Name: "Reader",
		DB: storetest.DB(t), Logger: slog.New(slog.DiscardHandler), Inbox: f,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Server = fs
	e := echo.New()
	fs.Register(e)
	serve(t, l, e)
	runBackground(t, fs.Run)
	return f
}

// nextOf waits for an activity of type typ about the object objectPrefix,
// or about any object under it when it ends in "/", that no earlier call
// returned, and returns it.
func (f *follower) nextOf(t *testing.T, typ, objectPrefix string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		for i, a := range f.got {
			obj, _ := a["object"].(map[string]any)
			id, _ := obj["id"].(string)
			if s, ok := a["object"].(string); ok {
				id = s // Add, Remove: the object by IRI
			}
			match := id == objectPrefix || (strings.HasSuffix(objectPrefix, "/") && strings.HasPrefix(id, objectPrefix))
			if !f.taken[i] && a["type"] == typ && match {
				f.taken[i] = true
				f.mu.Unlock()
				return a
			}
		}
		f.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s of %s delivered within 20 s", typ, objectPrefix)
	return nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func mustStatus(t testing.TB, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, want, body)
	}
}

var _ = fmt.Sprintf

func storetestDB(t *testing.T) *mongo.Database { return storetest.DB(t) }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
