package auth

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestAPITokens(t *testing.T) {
	ev := newEnv(t, nil)
	b := newBrowser()
	if code, body := ev.login(b, "alice", "/api/me"); code != http.StatusOK {
		t.Fatalf("login: %d %s", code, body)
	}
	csrf := ev.csrf(b)
	code, body := ev.do(b, http.MethodPost, "/auth/tokens", strings.NewReader(`{"label":"nightly import"}`),
		map[string]string{"Content-Type": "application/json", "X-CSRF-Token": csrf})
	if code != http.StatusCreated {
		t.Fatalf("create token: %d %s", code, body)
	}
	var created struct {
		ID, Label, Token string
		Operator         bool
	}
	decode(t, body, &created)
	if !strings.HasPrefix(created.Token, tokenPrefix+created.ID+"_") || created.Label != "nightly import" || !created.Operator {
		t.Fatalf("created = %+v", created)
	}

	// The store holds no plaintext: neither the whole token nor its secret
	// appears in any stored document.
	secret := strings.TrimPrefix(created.Token, tokenPrefix+created.ID+"_")
	cur, err := ev.db.Collection(collTokens).Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var raws []bson.Raw
	if err := cur.All(context.Background(), &raws); err != nil || len(raws) != 1 {
		t.Fatalf("tokens in store: %d, %v", len(raws), err)
	}
	if s := raws[0].String(); strings.Contains(s, secret) || !strings.Contains(s, hashString(secret)) {
		t.Fatalf("stored token document is not hash-only: %s", s)
	}

	// The token works as a Bearer credential, with no cookies, and acts as
	// alice the operator.
	script := newBrowser()
	bearer := map[string]string{"Authorization": "Bearer " + created.Token}
	if p := ev.bearerMe(script, created.Token); p.Subject != "alice" || !p.Operator || p.Via != ViaToken || p.TokenID != created.ID {
		t.Fatalf("bearer principal = %+v", p)
	}
	// Bearer POSTs need no CSRF token (no ambient credential to forge).
	if code, body := ev.do(script, http.MethodPost, "/ui/form", strings.NewReader("x=1"),
		map[string]string{"Authorization": bearer["Authorization"], "Content-Type": "application/x-www-form-urlencoded"}); code != http.StatusOK {
		t.Fatalf("bearer form POST: %d %s", code, body)
	}
	// A token may not mint more tokens.
	if code, _ := ev.do(script, http.MethodPost, "/auth/tokens", strings.NewReader(`{"label":"x"}`),
		map[string]string{"Authorization": bearer["Authorization"], "Content-Type": "application/json"}); code != http.StatusForbidden {
		t.Fatalf("token creating a token: %d, want 403", code)
	}

	// The list shows it, with a last-used time and no secret.
	code, body = ev.do(b, http.MethodGet, "/auth/tokens", nil, nil)
	if code != http.StatusOK || !strings.Contains(body, created.ID) || !strings.Contains(body, "lastUsedAt") || strings.Contains(body, secret) {
		t.Fatalf("list: %d %s", code, body)
	}
	toks, err := ev.a.Tokens(context.Background())
	if err != nil || len(toks) != 1 || toks[0].LastUsedAt == nil || toks[0].RevokedAt != nil {
		t.Fatalf("Tokens() = %+v, %v", toks, err)
	}

	// Wrong secret, unknown id, garbage: 401 with a Bearer challenge.
	for _, bad := range []string{tokenPrefix + created.ID + "_" + strings.Repeat("0", 64), tokenPrefix + "0123456789abcdef_x", "nonsense"} {
		req, _ := http.NewRequest(http.MethodGet, ev.base+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+bad)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("bad token %q: %d", bad, resp.StatusCode)
		}
	}

	// Revoke (JSON client, CSRF header): the token stops working at once.
	if code, body := ev.do(b, http.MethodPost, "/auth/tokens/"+created.ID+"/revoke", nil, map[string]string{"X-CSRF-Token": csrf}); code != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if code, _ := ev.do(script, http.MethodGet, "/api/me", nil, bearer); code != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d, want 401", code)
	}
	if code, _ := ev.do(b, http.MethodPost, "/auth/tokens/nope/revoke", nil, map[string]string{"X-CSRF-Token": csrf}); code != http.StatusNotFound {
		t.Fatalf("revoke unknown: %d, want 404", code)
	}
	// An empty label is refused.
	if code, _ := ev.do(b, http.MethodPost, "/auth/tokens", strings.NewReader(`{"label":" "}`),
		map[string]string{"Content-Type": "application/json", "X-CSRF-Token": csrf}); code != http.StatusBadRequest {
		t.Fatalf("empty label: %d, want 400", code)
	}
}

func TestTokenRevocationVisibleToOtherReplica(t *testing.T) {
	ev := newEnv(t, nil)
	// A second Auth on the same database stands for another replica.
	other, err := New(context.Background(), ev.db, ev.a.cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain, tok, err := ev.a.CreateToken(context.Background(), &Principal{Subject: "alice", Operator: true}, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.checkToken(context.Background(), plain); err != nil {
		t.Fatalf("other replica: %v", err)
	}
	if err := ev.a.RevokeToken(context.Background(), tok.ID); err != nil {
		t.Fatal(err)
	}
	// Past its cache window the other replica sees the revocation.
	other.tokens.drop(tok.ID)
	if _, err := other.checkToken(context.Background(), plain); err != ErrBadToken {
		t.Fatalf("revoked token on other replica: %v", err)
	}
}

// TestCSRFRefusesOtherSites: the browser's own word that a POST comes from
// another site or origin refuses it even when the token is right (a token
// leaked into another page must not be enough), while the same request from
// this server's pages, or from a script that sends neither header, passes.
func TestCSRFRefusesOtherSites(t *testing.T) {
	ev := newEnv(t, nil)
	b := newBrowser()
	if code, _ := ev.login(b, "alice", "/api/me"); code != http.StatusOK {
		t.Fatal("login")
	}
	csrf := ev.csrf(b)
	self := strings.TrimSuffix(ev.base, "/")
	for _, tc := range []struct {
		name     string
		hdr      map[string]string
		wantCode int
		wantText string
	}{
		{"foreign Origin", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden, "Origin http://evil.example is not this server"},
		{"opaque Origin", map[string]string{"Origin": "null"}, http.StatusForbidden, "Origin null is not this server"},
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, "cross-site request refused"},
		{"another subdomain", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://madrid.localhost"}, http.StatusForbidden, "cross-site request refused"},
		{"own page", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": self}, http.StatusOK, "saved"},
		{"script without browser headers", nil, http.StatusOK, "saved"},
	} {
		hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, v := range tc.hdr {
			hdr[k] = v
		}
		code, body := ev.do(b, http.MethodPost, "/ui/form", strings.NewReader("title=x&_csrf="+csrf), hdr)
		if code != tc.wantCode || !strings.Contains(body, tc.wantText) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, code, body, tc.wantCode, tc.wantText)
		}
	}
}

func TestCSRF(t *testing.T) {
	ev := newEnv(t, nil)
	b := newBrowser()
	if code, _ := ev.login(b, "alice", "/api/me"); code != http.StatusOK {
		t.Fatal("login")
	}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	// No token: 403, even with a valid session.
	if code, body := ev.do(b, http.MethodPost, "/ui/form", strings.NewReader("title=x"), form); code != http.StatusForbidden {
		t.Fatalf("form POST without CSRF token: %d %s", code, body)
	}
	csrf := ev.csrf(b)
	// Wrong token: 403.
	if code, _ := ev.do(b, http.MethodPost, "/ui/form", strings.NewReader("title=x&_csrf=forged"), form); code != http.StatusForbidden {
		t.Fatalf("form POST with a forged token: %d", code)
	}
	// Right token in the form field, or in the header.
	if code, body := ev.do(b, http.MethodPost, "/ui/form", strings.NewReader("title=x&_csrf="+csrf), form); code != http.StatusOK {
		t.Fatalf("form POST with token: %d %s", code, body)
	}
	if code, _ := ev.do(b, http.MethodPost, "/ui/form", nil, map[string]string{"X-CSRF-Token": csrf}); code != http.StatusOK {
		t.Fatalf("POST with header token: %d", code)
	}
	// Logout without a token is refused too (no forced sign-out).
	if code, _ := ev.do(b, http.MethodPost, "/auth/logout", nil, form); code != http.StatusForbidden {
		t.Fatalf("logout without CSRF: %d", code)
	}
	// A path that merely ends in /inbox is no exemption: a session cookie
	// alone does not change a record whose id is "inbox".
	if code, body := ev.do(b, http.MethodPost, "/ui/plans/inbox", strings.NewReader("title=x"), form); code != http.StatusForbidden ||
		!strings.Contains(body, "CSRF token") {
		t.Fatalf("POST /ui/plans/inbox without a token: %d %s", code, body)
	}
	if code, body := ev.do(b, http.MethodPost, "/ui/plans/inbox", strings.NewReader("title=x&_csrf="+csrf), form); code != http.StatusOK ||
		body != "saved inbox" {
		t.Fatalf("POST /ui/plans/inbox with its token: %d %s", code, body)
	}
	// The ActivityPub inbox is not behind CSRF at all: no token needed.
	if code, _ := ev.do(newBrowser(), http.MethodPost, "/users/x/inbox", strings.NewReader("{}"),
		map[string]string{"Content-Type": "application/activity+json"}); code != http.StatusAccepted {
		t.Fatalf("inbox POST: %d", code)
	}
	// A form logout goes home.
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest(http.MethodPost, ev.base+"/auth/logout", strings.NewReader("_csrf="+csrf))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("form logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
