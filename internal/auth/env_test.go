package auth

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ogpnet/ogpnet/internal/oidcdev"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Test users on the development provider.
var testUsers = []oidcdev.User{
	{Subject: "alice", Email: "alice@gov.example", Name: "Alice", Password: "pw", EmailVerified: true},
	{Subject: "bob", Email: "bob@elsewhere.example", Name: "Bob", Password: "pw", EmailVerified: true},
	{Subject: "carol", Email: "carol@gov.example", Name: "Carol", Password: "pw", EmailVerified: false},
	{Subject: "dave", Email: "dave@elsewhere.example", Name: "Dave", Password: "pw", EmailVerified: true,
		Groups: []string{"staff", "ogp-operators"}},
}

// env is one relying party (an Echo server using Auth) and its provider,
// both on loopback.
type env struct {
	t      *testing.T
	prov   *oidcdev.Provider
	issuer string
	db     *mongo.Database
	a      *Auth
	base   string
}

func newEnv(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	prov, issuer := oidcdev.StartTest(t, testUsers, nil)
	ev := &env{t: t, prov: prov, issuer: issuer, db: storetest.DB(t)}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	ev.base = srv.URL
	prov.AddClient(oidcdev.Client{ID: "node", Secret: "node-secret", RedirectURIs: []string{ev.base + "/auth/callback"}})
	cfg := Config{
		Issuer: issuer, ClientID: "node", ClientSecret: "node-secret", RedirectURL: ev.base + "/auth/callback",
		AllowedEmailDomains: []string{"gov.example"},
		HTTPClient:          &http.Client{Timeout: 10 * time.Second},
		Logger:              slog.New(slog.DiscardHandler),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	a, err := New(context.Background(), ev.db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev.a = a
	h = newServer(a)
	return ev
}

// newServer is the Echo app a node or hub would build around Auth.
func newServer(a *Auth) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.Use(a.Middleware())
	a.Routes(e.Group(""))
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "home") })
	e.GET("/api/me", func(c echo.Context) error {
		p := CurrentPrincipal(c)
		if FromContext(c.Request().Context()) != p {
			return echo.NewHTTPError(http.StatusInternalServerError, "context principal differs")
		}
		return c.JSON(http.StatusOK, p)
	}, RequireOperator)
	e.GET("/admin", func(c echo.Context) error { return c.HTML(http.StatusOK, "<p>admin</p>") }, RequireOperator)
	ui := e.Group("/ui", a.CSRF(), RequireOperator)
	ui.GET("/form", func(c echo.Context) error { return c.String(http.StatusOK, CSRFToken(c)) })
	ui.POST("/form", func(c echo.Context) error { return c.String(http.StatusOK, "saved") })
	// A record whose id happens to be "inbox" is a form target like any other.
	ui.POST("/plans/:id", func(c echo.Context) error { return c.String(http.StatusOK, "saved "+c.Param("id")) })
	// An ActivityPub inbox is mounted outside every CSRF group (as federation
	// does): signed server-to-server POSTs carry no token.
	e.POST("/users/x/inbox", func(c echo.Context) error { return c.NoContent(http.StatusAccepted) })
	return e
}

// recorder keeps every response header the browser saw, for cookie checks,
// and every URL it visited.
type recorder struct {
	mu      sync.Mutex
	cookies []*http.Cookie
	visited []*url.URL
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.cookies = append(r.cookies, resp.Cookies()...)
		r.visited = append(r.visited, req.URL)
		r.mu.Unlock()
	}
	return resp, err
}

type browser struct {
	*http.Client
	rec *recorder
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	rec := &recorder{}
	return &browser{Client: &http.Client{Jar: jar, Transport: rec, Timeout: 15 * time.Second}, rec: rec}
}

// login signs in through the real provider and returns the final response
// status and body.
func (ev *env) login(b *browser, user, next string) (int, string) {
	ev.t.Helper()
	start := ev.base + "/auth/login"
	if next != "" {
		start += "?next=" + url.QueryEscape(next)
	}
	resp, err := oidcdev.Login(context.Background(), b.Client, start, user, "pw")
	if err != nil {
		ev.t.Fatalf("login %s: %v", user, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// do sends a request and returns status and body.
func (ev *env) do(b *browser, method, path string, body io.Reader, hdr map[string]string) (int, string) {
	ev.t.Helper()
	req, err := http.NewRequest(method, ev.base+path, body)
	if err != nil {
		ev.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.Do(req)
	if err != nil {
		ev.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// csrf fetches a CSRF token for the browser (the echo middleware uses the
// cookie value as the token).
func (ev *env) csrf(b *browser) string {
	ev.t.Helper()
	code, tok := ev.do(b, http.MethodGet, "/ui/form", nil, nil)
	if code != http.StatusOK || tok == "" {
		ev.t.Fatalf("csrf token: %d %q", code, tok)
	}
	return tok
}

// bearerMe calls /api/me with a Bearer token, as a script would, and
// returns the principal the server saw.
func (ev *env) bearerMe(b *browser, token string) Principal {
	ev.t.Helper()
	code, body := ev.do(b, http.MethodGet, "/api/me", nil, map[string]string{"Authorization": "Bearer " + token})
	if code != http.StatusOK {
		ev.t.Fatalf("bearer: %d %s", code, body)
	}
	var p Principal
	decode(ev.t, body, &p)
	return p
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.NewDecoder(strings.NewReader(s)).Decode(v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
}
