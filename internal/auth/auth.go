// Package auth is operator and staff sign-in for node and hub: OpenID Connect
// login (authorization code + PKCE, state and nonce, via go-oidc), server-side
// sessions in cookies, CSRF protection for forms, hashed API tokens for
// scripts, and the role check that guards every write.
//
// State lives in four collections: auth_logins (logins in progress, keyed by
// sha256(state), single use), auth_nonces (nonces of accepted ID tokens, until
// the token expires), auth_sessions (keyed by sha256(session id)) and
// auth_tokens (keyed by the public token id, holding sha256 of the secret).
// No cookie value or token secret is ever stored. Sessions and tokens are
// cached in memory for cacheTTL, so with several replicas a logout or
// revocation made on one takes effect on the others within that window.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"github.com/ogpnet/ogpnet/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/oauth2"
)

// Collection names, shared by every replica that uses the database.
const (
	collSessions = "auth_sessions"
	collTokens   = "auth_tokens"
	collLogins   = "auth_logins"
	collNonces   = "auth_nonces"
)

// errNotImplemented is the server error code for an unsupported feature.
const errNotImplemented = 238

// Config configures New.
type Config struct {
	// Issuer is the OpenID provider's issuer URL; ClientID and ClientSecret
	// identify this server to it; RedirectURL is {base}/auth/callback.
	//
	// Issuer "" is tokens-only mode: no browser sign-in (no discovery, no
	// login routes, so nobody gets a session), while API tokens made with
	// CreateToken still authenticate. The role rules are not needed then,
	// and ClientID and ClientSecret must be empty (a client without an
	// issuer is a configuration mistake, reported by New).
	Issuer, ClientID, ClientSecret, RedirectURL string
	// Scopes requested at login; default openid, email, profile (and groups
	// when GroupsClaim is set).
	Scopes []string
	// AllowedEmailDomains: a verified e-mail address in one of these domains
	// makes the user an operator.
	AllowedEmailDomains []string
	// GroupsClaim names an ID token claim listing the user's groups; a group
	// in AllowedGroups makes the user an operator.
	GroupsClaim   string
	AllowedGroups []string
	// SecureCookies sets the Secure flag; false only for http development bases.
	SecureCookies bool
	// SessionTTL is how long a session lasts; default 12 hours.
	SessionTTL time.Duration
	// HTTPClient talks to the issuer (discovery, keys, token); default a
	// client with a 15 s timeout.
	HTTPClient *http.Client
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Auth holds the login configuration, the provider (once discovered) and the
// session and token caches.
type Auth struct {
	cfg    Config
	log    *slog.Logger
	db     *mongo.Database
	sess   *mongo.Collection
	toks   *mongo.Collection
	logins *mongo.Collection
	nonces *mongo.Collection

	provMu sync.Mutex
	rp     *relyingParty // nil until discovery succeeds

	// sessions and tokens cache store documents by _id (see cacheTTL).
	sessions   *ttlCache[sessionDoc]
	tokens     *ttlCache[tokenDoc]
	lastPrune  time.Time
	pruneMu    sync.Mutex
	loginLimit echo.MiddlewareFunc

	// newNonce makes login nonces; tests replace it to replay one.
	newNonce func() string
}

// New prepares sign-in: it checks cfg, creates the indexes, and tries OpenID
// discovery once. A provider that is not up yet is not an error: the demo
// starts its development provider in the same process, so discovery is
// retried on each login until it succeeds.
//
// With Issuer "" it runs in tokens-only mode (see Config): nothing is
// discovered and Routes mounts only the token routes.
func New(ctx context.Context, db *mongo.Database, cfg Config) (*Auth, error) {
	tokensOnly := cfg.Issuer == ""
	switch {
	case tokensOnly && (cfg.ClientID != "" || cfg.ClientSecret != ""):
		return nil, errors.New("auth: an OIDC client is configured but no issuer: set the issuer, or leave the client out for API tokens only")
	case tokensOnly:
	case cfg.ClientID == "" || cfg.RedirectURL == "":
		return nil, errors.New("auth: issuer, client id and redirect URL are required")
	case len(cfg.AllowedEmailDomains) == 0 && (cfg.GroupsClaim == "" || len(cfg.AllowedGroups) == 0):
		return nil, errors.New("auth: no operator rule: set allowed e-mail domains, or a groups claim and allowed groups")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Scopes = slices.Clone(cfg.Scopes)
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
		if cfg.GroupsClaim != "" {
			cfg.Scopes = append(cfg.Scopes, "groups")
		}
	} else if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	// Normalised copies, so the caller's slices are left alone.
	cfg.AllowedEmailDomains = slices.Clone(cfg.AllowedEmailDomains)
	cfg.AllowedGroups = slices.Clone(cfg.AllowedGroups)
	for i, d := range cfg.AllowedEmailDomains {
		cfg.AllowedEmailDomains[i] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
	}
	a := &Auth{
		cfg: cfg, log: cfg.Logger, db: db,
		sess: db.Collection(collSessions), toks: db.Collection(collTokens),
		logins: db.Collection(collLogins), nonces: db.Collection(collNonces),
		sessions: newTTLCache[sessionDoc](cacheTTL, cacheMax),
		tokens:   newTTLCache[tokenDoc](cacheTTL, cacheMax),
		newNonce: randomString,
	}
	a.loginLimit = newLoginLimiter()
	if err := a.ensureIndexes(ctx); err != nil {
		return nil, err
	}
	if tokensOnly {
		return a, nil
	}
	// A short first try: a provider that is down must not hold up start-up.
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := a.discover(dctx); err != nil {
		a.log.WarnContext(ctx, "auth: OpenID provider not reachable yet; will retry at login", "issuer", cfg.Issuer, "err", err)
	}
	return a, nil
}

// LoginEnabled reports whether browser sign-in is configured (an issuer is
// set); false is tokens-only mode.
func (a *Auth) LoginEnabled() bool { return a.cfg.Issuer != "" }

// ensureIndexes makes the expiry fields TTL indexes, so MongoDB drops stale
// records itself; the embedded store may not, so prune() also deletes them.
func (a *Auth) ensureIndexes(ctx context.Context) error {
	ttl := func(name string) mongo.IndexModel {
		return mongo.IndexModel{
			Keys:    bson.D{{Key: "expires", Value: 1}},
			Options: options.Index().SetName(name).SetExpireAfterSeconds(0),
		}
	}
	for _, c := range []*mongo.Collection{a.sess, a.logins, a.nonces} {
		err := store.EnsureIndexes(ctx, c, ttl("expires_ttl"))
		var se mongo.ServerError
		if errors.As(err, &se) && se.HasErrorCode(errNotImplemented) {
			// The embedded FerretDB has no TTL indexes; prune() covers it.
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// relyingParty is what discovery yields: the OAuth2 endpoints and the ID
// token verifier.
type relyingParty struct {
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// discover returns the relying-party setup, running discovery if it has not yet
// succeeded. Only success is cached, so a provider that comes up later is
// picked up on the next login.
func (a *Auth) discover(ctx context.Context) (*relyingParty, error) {
	if !a.LoginEnabled() {
		return nil, errors.New("auth: no OpenID issuer configured (API tokens only)")
	}
	a.provMu.Lock()
	defer a.provMu.Unlock()
	if a.rp != nil {
		return a.rp, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, a.cfg.HTTPClient), a.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: discovery at %s: %w", a.cfg.Issuer, err)
	}
	a.rp = &relyingParty{
		// go-oidc checks issuer, audience (our client id), expiry and
		// signature against the provider's published keys.
		verifier: p.Verifier(&oidc.Config{ClientID: a.cfg.ClientID}),
		oauth: &oauth2.Config{
			ClientID:     a.cfg.ClientID,
			ClientSecret: a.cfg.ClientSecret,
			RedirectURL:  a.cfg.RedirectURL,
			Endpoint:     p.Endpoint(),
			Scopes:       a.cfg.Scopes,
		},
	}
	return a.rp, nil
}

// prune deletes expired login records, nonces and sessions at most every ten
// minutes, for stores that do not enforce TTL indexes.
func (a *Auth) prune(ctx context.Context) {
	a.pruneMu.Lock()
	if time.Since(a.lastPrune) < 10*time.Minute {
		a.pruneMu.Unlock()
		return
	}
	a.lastPrune = time.Now()
	a.pruneMu.Unlock()
	f := bson.D{{Key: "expires", Value: bson.D{{Key: "$lt", Value: time.Now()}}}}
	for _, c := range []*mongo.Collection{a.logins, a.nonces, a.sess} {
		if _, err := c.DeleteMany(ctx, f); err != nil {
			a.log.WarnContext(ctx, "auth: prune", "collection", c.Name(), "err", err)
		}
	}
}

// isOperator maps the verified identity to the operator role.
func (a *Auth) isOperator(email string, emailVerified bool, groups []string) bool {
	if emailVerified && email != "" {
		at := strings.LastIndexByte(email, '@')
		if at > 0 && slices.Contains(a.cfg.AllowedEmailDomains, strings.ToLower(email[at+1:])) {
			return true
		}
	}
	for _, g := range groups {
		if slices.Contains(a.cfg.AllowedGroups, g) {
			return true
		}
	}
	return false
}
