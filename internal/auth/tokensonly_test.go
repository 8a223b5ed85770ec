package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// refusingTransport counts requests and refuses them all: tokens-only mode
// must never talk to an identity provider.
type refusingTransport struct{ calls atomic.Int32 }

func (r *refusingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	r.calls.Add(1)
	return nil, errors.New("no identity provider in tokens-only mode")
}

// TestTokensOnly: without an issuer, New needs no client or role rules and
// does no discovery; Routes mounts only the token routes, so login,
// callback and logout answer 404; API tokens authenticate, list, and are
// revoked as usual.
func TestTokensOnly(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	rt := &refusingTransport{}
	cfg := Config{HTTPClient: &http.Client{Transport: rt}, Logger: slog.New(slog.DiscardHandler)}

	// A client without an issuer is a configuration mistake, not tokens-only.
	if _, err := New(ctx, db, Config{ClientID: "node", Logger: cfg.Logger}); err == nil {
		t.Fatal("New accepted a client id without an issuer")
	}
	a, err := New(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.LoginEnabled() {
		t.Fatal("LoginEnabled without an issuer")
	}
	srv := httptest.NewServer(newServer(a))
	t.Cleanup(srv.Close)
	ev := &env{t: t, db: db, a: a, base: srv.URL}

	b := newBrowser()
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/auth/login"},
		{http.MethodGet, "/auth/login?next=/admin"},
		{http.MethodGet, "/auth/callback?state=s&code=c"},
		{http.MethodPost, "/auth/logout"},
	} {
		if code, body := ev.do(b, r.method, r.path, nil, nil); code != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404 (%s)", r.method, r.path, code, body)
		}
	}
	if code, _ := ev.do(b, http.MethodGet, "/api/me", nil, map[string]string{"Accept": "application/json"}); code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", code)
	}
	// With no sign-in page to send a browser to, a browser gets 401 too.
	if code, _ := ev.do(b, http.MethodGet, "/api/me", nil, map[string]string{"Accept": "text/html"}); code != http.StatusUnauthorized {
		t.Errorf("anonymous browser: %d, want 401 (no redirect to a login that does not exist)", code)
	}

	// A token made for the command line works as a Bearer credential.
	plain, tok, err := a.CreateToken(ctx, &Principal{Subject: "admin-cli", Name: "CLI", Operator: true}, "cli")
	if err != nil {
		t.Fatal(err)
	}
	bearer := map[string]string{"Authorization": "Bearer " + plain}
	if p := ev.bearerMe(b, plain); p.Subject != "admin-cli" || !p.Operator || p.Via != ViaToken || p.TokenID != tok.ID {
		t.Errorf("principal = %+v", p)
	}
	// The token routes are mounted: list, refuse minting by a token, revoke.
	if code, body := ev.do(b, http.MethodGet, "/auth/tokens", nil, bearer); code != http.StatusOK || !strings.Contains(body, tok.ID) {
		t.Errorf("GET /auth/tokens: %d %s", code, body)
	}
	if code, _ := ev.do(b, http.MethodPost, "/auth/tokens", strings.NewReader(`{"label":"x"}`),
		map[string]string{"Authorization": "Bearer " + plain, "Content-Type": "application/json"}); code != http.StatusForbidden {
		t.Errorf("a token minting a token: %d, want 403", code)
	}
	if code, body := ev.do(b, http.MethodPost, "/auth/tokens/"+tok.ID+"/revoke", nil, bearer); code != http.StatusNoContent {
		t.Errorf("revoke: %d %s", code, body)
	}
	if code, _ := ev.do(b, http.MethodGet, "/api/me", nil, bearer); code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", code)
	}
	if n := rt.calls.Load(); n != 0 {
		t.Errorf("tokens-only mode made %d requests to an identity provider", n)
	}
}
