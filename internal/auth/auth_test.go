package auth

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/oidcdev"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestLoginSessionLogout(t *testing.T) {
	ev := newEnv(t, nil)
	b := newBrowser()
	code, body := ev.login(b, "alice", "/api/me")
	if code != http.StatusOK {
		t.Fatalf("login: %d %s", code, body)
	}
	var p Principal
	decode(t, body, &p)
	if p.Subject != "alice" || p.Email != "alice@gov.example" || p.Name != "Alice" || !p.Operator || p.Via != ViaSession {
		t.Fatalf("principal = %+v", p)
	}
	// The session cookie is HttpOnly and SameSite=Lax; its value is not what
	// the store keeps.
	var sid string
	for _, c := range b.rec.cookies {
		if c.Name == sessionCookie && c.Value != "" {
			sid = c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure {
				t.Errorf("session cookie attributes: %+v", c)
			}
		}
	}
	if sid == "" {
		t.Fatal("no session cookie")
	}
	n, err := ev.db.Collection(collSessions).CountDocuments(context.Background(), bson.D{{Key: "_id", Value: sid}})
	if err != nil || n != 0 {
		t.Fatalf("session id stored in the clear (%d, %v)", n, err)
	}
	if n, _ := ev.db.Collection(collSessions).CountDocuments(context.Background(), bson.D{{Key: "_id", Value: hashString(sid)}}); n != 1 {
		t.Fatalf("session not stored by hash: %d", n)
	}

	// Logout (with the CSRF token) ends the session server side.
	tok := ev.csrf(b)
	if code, body := ev.do(b, http.MethodPost, "/auth/logout", nil, map[string]string{"X-CSRF-Token": tok}); code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", code, body)
	}
	if code, _ := ev.do(b, http.MethodGet, "/api/me", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("after logout: %d, want 401", code)
	}
	// A copy of the old cookie no longer works either.
	thief := newBrowser()
	u, _ := url.Parse(ev.base)
	thief.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sid}})
	if code, _ := ev.do(thief, http.MethodGet, "/api/me", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("old session cookie after logout: %d, want 401", code)
	}
}

func TestRoles(t *testing.T) {
	ev := newEnv(t, nil)
	// Verified e-mail in another domain: signed in, not an operator.
	if code, body := ev.login(newBrowser(), "bob", "/api/me"); code != http.StatusForbidden {
		t.Fatalf("bob: %d %s, want 403", code, body)
	}
	// Right domain but unverified e-mail: not an operator.
	if code, body := ev.login(newBrowser(), "carol", "/api/me"); code != http.StatusForbidden {
		t.Fatalf("carol: %d %s, want 403", code, body)
	}
}

func TestGroupsClaim(t *testing.T) {
	ev := newEnv(t, func(c *Config) {
		c.AllowedEmailDomains = nil
		c.GroupsClaim, c.AllowedGroups = "groups", []string{"ogp-operators"}
	})
	if code, body := ev.login(newBrowser(), "dave", "/api/me"); code != http.StatusOK {
		t.Fatalf("dave (group member): %d %s", code, body)
	}
	if code, _ := ev.login(newBrowser(), "alice", "/api/me"); code != http.StatusForbidden {
		t.Fatalf("alice (no group, domains not configured): %d, want 403", code)
	}
}

func TestAnonymous(t *testing.T) {
	ev := newEnv(t, nil)
	b := newBrowser()
	if code, _ := ev.do(b, http.MethodGet, "/api/me", nil, map[string]string{"Accept": "application/json"}); code != http.StatusUnauthorized {
		t.Fatalf("anonymous API: %d, want 401", code)
	}
	// Other Authorization schemes (HTTP signatures) are not ours: anonymous.
	if code, _ := ev.do(b, http.MethodGet, "/", nil, map[string]string{"Authorization": `Signature keyId="k"`}); code != http.StatusOK {
		t.Fatalf("Authorization: Signature: %d, want 200", code)
	}
	// A browser page sends the visitor to sign in and back.
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest(http.MethodGet, ev.base+"/admin?tab=1", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/auth/login?next="+url.QueryEscape("/admin?tab=1") {
		t.Fatalf("anonymous page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// An anonymous form POST is refused (CSRF first, then the role check).
	if code, _ := ev.do(newBrowser(), http.MethodPost, "/ui/form", strings.NewReader("x=1"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); code != http.StatusForbidden && code != http.StatusUnauthorized {
		t.Fatalf("anonymous POST: %d", code)
	}
}

// startLogin runs /auth/login without following the redirect to the provider
// and returns the authorize URL.
func startLogin(t *testing.T, ev *env, b *browser) *url.URL {
	t.Helper()
	old := b.CheckRedirect
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer func() { b.CheckRedirect = old }()
	resp, err := b.Get(ev.base + "/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("login start: %d %v", resp.StatusCode, err)
	}
	return u
}

func TestAuthorizeRequest(t *testing.T) {
	ev := newEnv(t, nil)
	q := startLogin(t, ev, newBrowser()).Query()
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 40 {
			t.Errorf("%s = %q: want a long random value", k, q.Get(k))
		}
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" || q.Get("client_id") != "node" {
		t.Errorf("authorize query: %v", q)
	}
	if !strings.Contains(q.Get("scope"), "openid") || !strings.Contains(q.Get("scope"), "email") {
		t.Errorf("scope = %q", q.Get("scope"))
	}
}

func TestBadState(t *testing.T) {
	ev := newEnv(t, nil)
	b := newBrowser()
	startLogin(t, ev, b)
	if code, body := ev.do(b, http.MethodGet, "/auth/callback?state=forged&code=x", nil, nil); code != http.StatusBadRequest {
		t.Fatalf("bad state: %d %s", code, body)
	}
	if code, _ := ev.do(b, http.MethodGet, "/auth/callback", nil, nil); code != http.StatusBadRequest {
		t.Fatalf("no state: %d", code)
	}
	// The provider's error answer is shown, not swallowed.
	if code, body := ev.do(b, http.MethodGet, "/auth/callback?error=access_denied", nil, nil); code != http.StatusUnauthorized || !strings.Contains(body, "access_denied") {
		t.Fatalf("provider error: %d %s", code, body)
	}
}

// callbackURL signs in and returns the callback URL the provider sent the
// browser to (with code and state), having let the callback run once.
func loginCapture(t *testing.T, ev *env, b *browser, user string) (int, *url.URL) {
	t.Helper()
	code, _ := ev.login(b, user, "/api/me")
	for _, u := range b.rec.visited {
		if u.Path == "/auth/callback" {
			return code, u
		}
	}
	t.Fatal("callback not visited")
	return 0, nil
}

func TestReplayedCallback(t *testing.T) {
	ev := newEnv(t, nil)
	b := newBrowser()
	code, cb := loginCapture(t, ev, b, "alice")
	if code != http.StatusOK {
		t.Fatalf("first login: %d", code)
	}
	// Same browser, same code, state and nonce: the state was used up.
	if code, body := ev.do(b, http.MethodGet, cb.RequestURI(), nil, nil); code != http.StatusBadRequest {
		t.Fatalf("replayed callback: %d %s", code, body)
	}
	// Another browser with the stolen URL: no login cookie.
	if code, _ := ev.do(newBrowser(), http.MethodGet, cb.RequestURI(), nil, nil); code != http.StatusBadRequest {
		t.Fatalf("replayed callback in another browser: %d", code)
	}
}

func TestCallbackInOtherBrowser(t *testing.T) {
	ev := newEnv(t, nil)
	victim := newBrowser()
	// The attacker starts a login, and lures the victim to its callback URL
	// (login CSRF): the victim's browser has no matching binding.
	attacker := newBrowser()
	attacker.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/auth/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := oidcdev.Login(context.Background(), attacker.Client, ev.base+"/auth/login", "bob", "pw")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb := resp.Header.Get("Location")
	startLogin(t, ev, victim) // the victim has a login cookie of its own
	u, _ := url.Parse(cb)
	if code, body := ev.do(victim, http.MethodGet, u.RequestURI(), nil, nil); code != http.StatusBadRequest {
		t.Fatalf("callback in another browser: %d %s", code, body)
	}
}

func TestRejectedIDTokens(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(map[string]any)
		foreign bool
		want    string
	}{
		{"wrong issuer", func(c map[string]any) { c["iss"] = "http://127.0.0.1:1" }, false, "different provider"},
		{"wrong audience", func(c map[string]any) { c["aud"] = []string{"another-client"} }, false, "audience"},
		{"expired", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, false, "expired"},
		{"other key", nil, true, "signature"},
		{"nonce mismatch", func(c map[string]any) { c["nonce"] = "not-ours" }, false, "nonce does not match"},
	}
	ev := newEnv(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev.prov.TamperIDTokens(tc.tamper, tc.foreign)
			defer ev.prov.TamperIDTokens(nil, false)
			b := newBrowser()
			code, body := ev.login(b, "alice", "/api/me")
			if code != http.StatusUnauthorized || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s, want 401 mentioning %q", code, body, tc.want)
			}
			if c, _ := ev.do(b, http.MethodGet, "/api/me", nil, nil); c != http.StatusUnauthorized {
				t.Fatalf("a session was created anyway: %d", c)
			}
		})
	}
	// And the same provider, untampered, still lets alice in.
	if code, body := ev.login(newBrowser(), "alice", "/api/me"); code != http.StatusOK {
		t.Fatalf("clean login after tampering: %d %s", code, body)
	}
}

// TestWrongIssuer points Auth at provider A while the login completes at
// provider B (same client registration): B's token must not be accepted.
func TestWrongIssuer(t *testing.T) {
	ev := newEnv(t, nil)
	_, issuerB := oidcdev.StartTest(t, testUsers, []oidcdev.Client{{ID: "node", Secret: "node-secret",
		RedirectURIs: []string{ev.base + "/auth/callback"}}})
	// Send the token request to B instead of A, as a mix-up attack would.
	ev.a.cfg.HTTPClient = &http.Client{Transport: rewriteHost{from: strings.TrimPrefix(ev.issuer, "http://"), to: strings.TrimPrefix(issuerB, "http://"), path: "/oauth/token"}}
	b := newBrowser()
	// The browser is also redirected to B for the authorize step.
	b.Transport = rewriteHost{from: strings.TrimPrefix(ev.issuer, "http://"), to: strings.TrimPrefix(issuerB, "http://"), next: b.rec}
	code, body := ev.login(b, "alice", "/api/me")
	// go-oidc checks the signature (B's key is not in A's JWKS) before the
	// issuer; either way the token is refused and no session exists.
	if code != http.StatusUnauthorized || !strings.Contains(body, "ID token rejected") {
		t.Fatalf("token from provider B: %d %s", code, body)
	}
	if c, _ := ev.do(b, http.MethodGet, "/api/me", nil, nil); c != http.StatusUnauthorized {
		t.Fatalf("a session was created anyway: %d", c)
	}
}

// rewriteHost sends requests for one host (optionally one path) to another.
type rewriteHost struct {
	from, to, path string
	next           http.RoundTripper
}

func (r rewriteHost) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == r.from && (r.path == "" || req.URL.Path == r.path) {
		req = req.Clone(req.Context())
		req.URL.Host, req.Host = r.to, r.to
	}
	if r.next == nil {
		return http.DefaultTransport.RoundTrip(req)
	}
	return r.next.RoundTrip(req)
}

func TestReplayedNonce(t *testing.T) {
	ev := newEnv(t, nil)
	ev.a.newNonce = func() string { return "the-same-nonce-every-time-0123456789abcdef" }
	if code, body := ev.login(newBrowser(), "alice", "/api/me"); code != http.StatusOK {
		t.Fatalf("first login: %d %s", code, body)
	}
	// Fresh state and code, but an ID token whose nonce was already used.
	if code, body := ev.login(newBrowser(), "alice", "/api/me"); code != http.StatusUnauthorized || !strings.Contains(body, "already used") {
		t.Fatalf("replayed nonce: %d %s", code, body)
	}
}

func TestNoOpenRedirect(t *testing.T) {
	ev := newEnv(t, nil)
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
		b := newBrowser()
		code, body := ev.login(b, "alice", next)
		last := b.rec.visited[len(b.rec.visited)-1]
		if code != http.StatusOK || body != "home" || last.Host != strings.TrimPrefix(ev.base, "http://") || last.Path != "/" {
			t.Errorf("next=%q ended at %s (%d %q)", next, last, code, body)
		}
	}
	for in, want := range map[string]string{
		"/plans/1?x=y": "/plans/1?x=y", "": "/", "plans": "/", "//x": "/", "/\\x": "/",
		"javascript:alert(1)": "/", "/ok\r\nSet-Cookie: a=b": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSessionExpires(t *testing.T) {
	ev := newEnv(t, func(c *Config) { c.SessionTTL = time.Second })
	b := newBrowser()
	if code, _ := ev.login(b, "alice", "/api/me"); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}
	time.Sleep(1100 * time.Millisecond)
	if code, _ := ev.do(b, http.MethodGet, "/api/me", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("expired session: %d, want 401", code)
	}
}

// TestLazyDiscovery starts Auth before its provider, as the demo does.
func TestLazyDiscovery(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens: discovery fails with "connection refused"
	issuer := "http://" + addr

	ev := &env{t: t, issuer: issuer, db: newEnv(t, nil).db}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	ev.base = srv.URL
	a, err := New(context.Background(), ev.db, Config{Issuer: issuer, ClientID: "node", ClientSecret: "node-secret",
		RedirectURL: ev.base + "/auth/callback", AllowedEmailDomains: []string{"gov.example"},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New with the provider down: %v", err)
	}
	ev.a = a
	h = newServer(a)
	if code, _ := ev.do(newBrowser(), http.MethodGet, "/auth/login", nil, nil); code != http.StatusServiceUnavailable {
		t.Fatalf("login with the provider down: %d, want 503", code)
	}

	// Now the provider comes up on the announced address.
	prov, err := oidcdev.New(oidcdev.Config{Issuer: issuer, Users: testUsers, Clients: []oidcdev.Client{
		{ID: "node", Secret: "node-secret", RedirectURIs: []string{ev.base + "/auth/callback"}}}})
	if err != nil {
		t.Fatal(err)
	}
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	ps := &httptest.Server{Listener: l, Config: &http.Server{Handler: prov.Handler()}}
	ps.Start()
	t.Cleanup(ps.Close)
	if code, body := ev.login(newBrowser(), "alice", "/api/me"); code != http.StatusOK {
		t.Fatalf("login once the provider is up: %d %s", code, body)
	}
}

func TestLoginRateLimit(t *testing.T) {
	ev := newEnv(t, nil)
	b := newBrowser()
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	limited := false
	for range 40 {
		if code, _ := ev.do(b, http.MethodGet, "/auth/login", nil, nil); code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("40 rapid logins from one IP were not rate limited")
	}
}

// TestTwoTabs: two logins started in one browser both complete (the browser
// binding is shared, the state is per login).
func TestTwoTabs(t *testing.T) {
	ev := newEnv(t, nil)
	b := newBrowser()
	first := startLogin(t, ev, b)
	second := startLogin(t, ev, b)
	for i, u := range []*url.URL{first, second} {
		resp, err := oidcdev.Login(context.Background(), b.Client, u.String(), "alice", "pw")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
			t.Fatalf("tab %d: %d at %s", i+1, resp.StatusCode, resp.Request.URL)
		}
	}
}
