// Package oidcdev is a development OpenID Connect provider for tests and the
// demo: the standards-complete zitadel/oidc "op" server running in-process,
// with in-memory users and clients and a plain username/password login page.
// It is never enabled by `ogpnet node` or `ogpnet hub`.
package oidcdev

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person who can sign in. Subject is the stable "sub" claim; the
// login form accepts either Subject or Email as the username.
type User struct {
	Subject, Email, Name, Password string
	Groups                         []string
	EmailVerified                  bool
}

// Client is a confidential web client (client secret over HTTP Basic or the
// form body) allowed the authorization-code grant, with or without PKCE.
type Client struct {
	ID, Secret   string
	RedirectURIs []string
}

// Config configures New.
type Config struct {
	// Issuer is the provider's public base URL, e.g. http://127.0.0.1:PORT
	// or http://login.localhost:8080. Plain http is allowed: this is a
	// development provider.
	Issuer  string
	Users   []User
	Clients []Client
	Logger  *slog.Logger
	// IDTokenLifetime of issued ID tokens; default one hour.
	IDTokenLifetime time.Duration
}

// Provider is a running development OpenID provider (state in memory).
type Provider struct {
	issuer  string
	op      *op.Provider
	store   *storage
	logger  *slog.Logger
	handler http.Handler

	mu     sync.Mutex
	tamper func(claims map[string]any)
	// foreign signs tampered tokens with a key that is not in the JWKS.
	foreign    bool
	foreignKey *rsa.PrivateKey
}

// New builds a provider with a fresh RSA signing key (so tokens of an earlier
// run never verify against a later one).
func New(cfg Config) (*Provider, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("oidcdev: no issuer")
	}
	issuer := strings.TrimSuffix(cfg.Issuer, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.IDTokenLifetime == 0 {
		cfg.IDTokenLifetime = time.Hour
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("oidcdev: signing key: %w", err)
	}
	st := newStorage(issuer, key, cfg.IDTokenLifetime)
	for _, u := range cfg.Users {
		st.addUser(u)
	}
	for _, c := range cfg.Clients {
		st.addClient(c)
	}
	opCfg := &op.Config{
		CodeMethodS256:  true,
		AuthMethodPost:  true,
		SupportedClaims: append(append([]string{}, op.DefaultSupportedClaims...), "groups"),
		SupportedScopes: []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, "groups"},
	}
	// The key that encrypts opaque access tokens; random per run for the same
	// reason as the signing key.
	if _, err := rand.Read(opCfg.CryptoKey[:]); err != nil {
		return nil, err
	}
	prov, err := op.NewProvider(opCfg, st, op.StaticIssuer(issuer),
		// Development issuers are http://127.0.0.1:PORT or *.localhost.
		op.WithAllowInsecure(),
		op.WithLogger(cfg.Logger))
	if err != nil {
		return nil, fmt.Errorf("oidcdev: %w", err)
	}
	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	p := &Provider{issuer: issuer, op: prov, store: st, logger: cfg.Logger, foreignKey: foreign}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.indexPage)
	mux.HandleFunc("GET /login", p.loginPage)
	mux.HandleFunc("POST /login", p.loginSubmit)
	mux.Handle("/oauth/token", http.HandlerFunc(p.token))
	mux.Handle("/", prov)
	p.handler = mux
	return p, nil
}

// Issuer returns the issuer URL (without a trailing slash).
func (p *Provider) Issuer() string { return p.issuer }

// Handler serves the provider at the issuer's root: discovery, authorize,
// token, keys, userinfo, end_session and the login form at /login.
func (p *Provider) Handler() http.Handler { return p.handler }

// AddClient registers (or replaces) a client; tests add theirs once the relying
// party's URL is known.
func (p *Provider) AddClient(c Client) { p.store.addClient(c) }

// AddUser registers (or replaces) a user.
func (p *Provider) AddUser(u User) { p.store.addUser(u) }

// TamperIDTokens makes the provider rewrite the claims of the ID tokens it
// issues from now on: fn may change iss, aud, exp, nonce or anything else,
// and with foreignKey the token is signed by a key that is not in the JWKS
// (under the published key id). It exists so relying-party tests can check,
// through the real login flow, that they reject such tokens. TamperIDTokens(nil,
// false) restores normal behaviour. Never use it outside tests.
func (p *Provider) TamperIDTokens(fn func(claims map[string]any), foreignKey bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper, p.foreign = fn, foreignKey
}

// token serves the token endpoint, rewriting the ID token when a test asked
// for it. The untampered path is the op handler unchanged.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	fn, foreign := p.tamper, p.foreign
	p.mu.Unlock()
	if fn == nil && !foreign {
		p.op.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	p.op.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		var resp map[string]any
		if err := json.Unmarshal(body, &resp); err == nil {
			if idt, ok := resp["id_token"].(string); ok {
				if out, err := p.retoken(idt, fn, foreign); err == nil {
					resp["id_token"] = out
					body, _ = json.Marshal(resp)
				} else {
					p.logger.Error("oidcdev: tamper", "err", err)
				}
			}
		}
	}
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// retoken re-signs an ID token issued by this provider after fn changed its
// claims.
func (p *Provider) retoken(idToken string, fn func(map[string]any), foreign bool) (string, error) {
	jws, err := jose.ParseSignedCompact(idToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return "", err
	}
	// The token was minted by this provider a moment ago; no need to verify it.
	var claims map[string]any
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return "", err
	}
	if fn != nil {
		fn(claims)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	key := p.store.signingKey
	if foreign {
		key = p.foreignKey
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", p.store.keyID))
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// callbackURL is where the login form sends the browser once the user is
// known: the op's authorize callback, which issues the code.
func (p *Provider) callbackURL(authReqID string) string {
	return p.issuer + "/authorize/callback?id=" + url.QueryEscape(authReqID)
}
