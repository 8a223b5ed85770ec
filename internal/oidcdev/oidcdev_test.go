package oidcdev_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/ogpnet/ogpnet/internal/oidcdev"
	"golang.org/x/oauth2"
)

var users = []oidcdev.User{{
	Subject: "alice", Email: "alice@gov.example", Name: "Alice Operator", Password: "pw-alice",
	Groups: []string{"ogp-operators"}, EmailVerified: true,
}}

// rp is a minimal relying party, written only with go-oidc and x/oauth2, so
// the provider is checked against independent client code.
type rp struct {
	srv      *httptest.Server
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
	// codes records every code the provider sent back, for replay tests.
	codes chan string
}

const nonce = "test-nonce-123"
const verifierValue = "a-pkce-verifier-that-is-long-enough-to-be-valid-0123456789"

func newRP(t *testing.T, p *oidcdev.Provider, issuer string) *rp {
	t.Helper()
	r := &rp{codes: make(chan string, 10)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	p.AddClient(oidcdev.Client{ID: "node", Secret: "s3cret", RedirectURIs: []string{r.srv.URL + "/cb"}})
	ctx := context.Background()
	prov, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	r.verifier = prov.Verifier(&oidc.Config{ClientID: "node"})
	r.oauth = &oauth2.Config{ClientID: "node", ClientSecret: "s3cret", RedirectURL: r.srv.URL + "/cb",
		Endpoint: prov.Endpoint(), Scopes: []string{"openid", "email", "profile", "groups"}}
	return r
}

func (r *rp) serve(w http.ResponseWriter, req *http.Request) {
	switch req.URL.Path {
	case "/start":
		http.Redirect(w, req, r.oauth.AuthCodeURL("st", oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifierValue)), http.StatusFound)
	case "/cb":
		code := req.URL.Query().Get("code")
		r.codes <- code
		claims, err := r.exchange(req.Context(), code, verifierValue)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(claims)
	}
}

func (r *rp) exchange(ctx context.Context, code, verifier string) (map[string]any, error) {
	tok, err := r.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, err
	}
	claims["access_token"] = tok.AccessToken
	return claims, nil
}

// login signs user in at r's start page from a fresh browser and returns
// the final answer (its body read and closed).
func (r *rp) login(t *testing.T, user, password string) (*http.Response, []byte) {
	t.Helper()
	resp, err := oidcdev.Login(context.Background(), browser(t), r.srv.URL+"/start", user, password)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func TestDiscovery(t *testing.T) {
	_, issuer := oidcdev.StartTest(t, users, nil)
	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer     string   `json:"issuer"`
		Token      string   `json:"token_endpoint"`
		EndSession string   `json:"end_session_endpoint"`
		Methods    []string `json:"code_challenge_methods_supported"`
		Claims     []string `json:"claims_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Issuer != issuer || doc.Token != issuer+"/oauth/token" || doc.EndSession == "" {
		t.Fatalf("discovery: %+v", doc)
	}
	if !strings.Contains(strings.Join(doc.Methods, ","), "S256") || !strings.Contains(strings.Join(doc.Claims, ","), "groups") {
		t.Fatalf("discovery lacks S256 or groups: %+v", doc)
	}
}

func TestLoginFlowClaims(t *testing.T) {
	p, issuer := oidcdev.StartTest(t, users, nil)
	r := newRP(t, p, issuer)
	resp, body := r.login(t, "alice@gov.example", "pw-alice")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %s %s", resp.Status, body)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"sub": "alice", "email": "alice@gov.example", "email_verified": true,
		"name": "Alice Operator", "nonce": nonce, "aud": "node", "iss": issuer}
	for k, v := range want {
		got := claims[k]
		if l, ok := got.([]any); ok && len(l) == 1 { // aud may be a list
			got = l[0]
		}
		if got != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if g, _ := claims["groups"].([]any); len(g) != 1 || g[0] != "ogp-operators" {
		t.Errorf("groups = %v", claims["groups"])
	}
	if exp, _ := claims["exp"].(float64); time.Until(time.Unix(int64(exp), 0)) < 50*time.Minute {
		t.Errorf("exp = %v, want about an hour ahead", claims["exp"])
	}

	// The access token works at userinfo.
	req, _ := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+claims["access_token"].(string))
	ui, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer ui.Body.Close()
	var info map[string]any
	_ = json.NewDecoder(ui.Body).Decode(&info)
	if ui.StatusCode != http.StatusOK || info["email"] != "alice@gov.example" {
		t.Fatalf("userinfo: %s %v", ui.Status, info)
	}

	// The code was redeemed once; a second exchange fails.
	code := <-r.codes
	if _, err := r.exchange(context.Background(), code, verifierValue); err == nil {
		t.Fatal("authorization code accepted twice")
	}
}

func TestWrongPasswordAndLabel(t *testing.T) {
	p, issuer := oidcdev.StartTest(t, users, nil)
	r := newRP(t, p, issuer)
	resp, body := r.login(t, "alice", "nope")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %s", resp.Status)
	}
	if !strings.Contains(string(body), "Development sign-in — not for production") {
		t.Fatal("login page lacks the development warning")
	}
}

func TestPKCEAndClientChecks(t *testing.T) {
	p, issuer := oidcdev.StartTest(t, users, nil)
	r := newRP(t, p, issuer)
	// Drive the browser part by hand and keep the code instead of redeeming it.
	c := browser(t)
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/cb" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := oidcdev.Login(context.Background(), c, r.srv.URL+"/start", "alice", "pw-alice")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("state") != "st" {
		t.Fatalf("no code in %s", loc)
	}
	// Wrong PKCE verifier, then wrong client secret: both refused.
	if _, err := r.exchange(context.Background(), code, "wrong-verifier-wrong-verifier-wrong-verifier-00"); err == nil {
		t.Fatal("wrong PKCE verifier accepted")
	}
	bad := *r.oauth
	bad.ClientSecret = "nope"
	if _, err := bad.Exchange(context.Background(), code, oauth2.VerifierOption(verifierValue)); err == nil {
		t.Fatal("wrong client secret accepted")
	}
	// The refusals above were the checks at work: the right verifier and
	// secret still redeem the code.
	if _, err := r.exchange(context.Background(), code, verifierValue); err != nil {
		t.Fatalf("valid exchange after refusals: %v", err)
	}
}

func TestUnregisteredRedirectURI(t *testing.T) {
	p, issuer := oidcdev.StartTest(t, users, nil)
	r := newRP(t, p, issuer)
	evil := *r.oauth
	evil.RedirectURL = "http://127.0.0.1:1/steal"
	c := browser(t)
	resp, err := c.Get(evil.AuthCodeURL("st", oauth2.S256ChallengeOption(verifierValue)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || "http://"+resp.Request.URL.Host != issuer {
		t.Fatalf("provider accepted an unregistered redirect URI: %s %s", resp.Status, resp.Request.URL)
	}
}

func TestTamperForeignKey(t *testing.T) {
	p, issuer := oidcdev.StartTest(t, users, nil)
	r := newRP(t, p, issuer)
	p.TamperIDTokens(func(c map[string]any) { c["aud"] = "someone-else" }, false)
	resp, body := r.login(t, "alice", "pw-alice")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "audience") {
		t.Fatalf("tampered audience: %s %s", resp.Status, body)
	}
	p.TamperIDTokens(nil, true)
	resp, body = r.login(t, "alice", "pw-alice")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "signature") {
		t.Fatalf("foreign key: %s %s", resp.Status, body)
	}
}

func TestLoginNeedsJar(t *testing.T) {
	_, err := oidcdev.Login(context.Background(), &http.Client{}, "http://127.0.0.1:1/", "a", "b")
	if err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("want a cookie-jar error, got %v", err)
	}
}

func TestEndSession(t *testing.T) {
	p, issuer := oidcdev.StartTest(t, users, nil)
	r := newRP(t, p, issuer)
	c := browser(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	q := url.Values{"client_id": {"node"}, "post_logout_redirect_uri": {r.srv.URL + "/"}}
	resp, err := c.Get(issuer + "/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != r.srv.URL+"/" {
		t.Fatalf("end_session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
