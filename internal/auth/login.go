package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/oauth2"
)

const (
	// loginCookie binds a login in progress to the browser that started it,
	// so a callback URL (state and code) is useless in another browser.
	loginCookie = "ogpnet_login"
	// sessionCookie carries the random session id.
	sessionCookie = "ogpnet_session"
	// loginTTL bounds the time between /auth/login and the callback.
	loginTTL = 10 * time.Minute
)

// loginRecord is the server-side half of a login in progress, keyed by
// sha256(state) so a leaked database does not reveal live states.
type loginRecord struct {
	ID       string    `bson:"_id"`
	Binding  string    `bson:"binding"` // sha256 of the login cookie
	Nonce    string    `bson:"nonce"`
	Verifier string    `bson:"verifier"` // PKCE code verifier
	Next     string    `bson:"next"`
	Expires  time.Time `bson:"expires"`
}

// usedNonce records a nonce once an ID token carrying it was accepted.
type usedNonce struct {
	ID      string    `bson:"_id"` // sha256(nonce)
	Expires time.Time `bson:"expires"`
}

// newLoginLimiter allows a burst of 30 login or callback requests per client
// IP, refilled at 2 per second: plenty for people, a brake on scripted abuse.
func newLoginLimiter() echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: 2, Burst: 30, ExpiresIn: 5 * time.Minute,
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return echo.NewHTTPError(http.StatusTooManyRequests, "too many sign-in attempts; wait a minute and try again")
		},
	})
}

// Routes mounts sign-in, sign-out and the API-token endpoints on g (the root
// group): GET /auth/login, GET /auth/callback, POST /auth/logout, and GET/POST
// /auth/tokens, POST /auth/tokens/:id/revoke. Login and callback are rate
// limited per IP; the state-changing routes carry CSRF protection themselves
// (skipped for Bearer-token clients), so they are safe wherever mounted.
// Middleware() must run before these routes.
//
// In tokens-only mode (no issuer) only the three token routes are mounted:
// login, callback and logout answer 404 (no session can exist to end).
func (a *Auth) Routes(g *echo.Group) {
	csrf := a.CSRF()
	if a.LoginEnabled() {
		g.GET("/auth/login", a.login, a.loginLimit)
		g.GET("/auth/callback", a.callback, a.loginLimit)
		g.POST("/auth/logout", a.logout, csrf)
	}
	g.GET("/auth/tokens", a.listTokens, csrf, RequireOperator)
	g.POST("/auth/tokens", a.createToken, csrf, RequireOperator)
	g.POST("/auth/tokens/:id/revoke", a.revokeToken, csrf, RequireOperator)
}

// login starts the authorization-code flow with PKCE, state and nonce.
func (a *Auth) login(c echo.Context) error {
	ctx := c.Request().Context()
	rp, err := a.discover(ctx)
	if err != nil {
		a.log.ErrorContext(ctx, "auth: login", "err", err)
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the sign-in service is not reachable; try again shortly")
	}
	a.prune(ctx)
	binding := ""
	if ck, err := c.Cookie(loginCookie); err == nil && len(ck.Value) >= 32 {
		// Reuse the browser's binding so logins in two tabs do not clobber
		// each other.
		binding = ck.Value
	} else {
		binding = randomString()
	}
	state, nonce, verifier := randomString(), a.newNonce(), oauth2.GenerateVerifier()
	rec := loginRecord{
		ID: hashString(state), Binding: hashString(binding), Nonce: nonce, Verifier: verifier,
		Next: safeNext(c.QueryParam("next")), Expires: time.Now().Add(loginTTL),
	}
	if _, err := a.logins.InsertOne(ctx, rec); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{
		Name: loginCookie, Value: binding, Path: "/auth/", MaxAge: int(loginTTL.Seconds()),
		// Lax: the provider sends the browser back with a top-level GET.
		HttpOnly: true, Secure: a.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Redirect(http.StatusFound, rp.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}

// callback finishes the flow: state (single use, bound to this browser), code
// exchange with the PKCE verifier, ID token verification, nonce (equal and
// never seen before), role mapping, and a fresh session.
func (a *Auth) callback(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.Request().URL.Query()
	if e := q.Get("error"); e != "" {
		msg := "sign-in was refused by the identity provider (" + e + ")"
		if d := q.Get("error_description"); d != "" {
			msg += ": " + d
		}
		return echo.NewHTTPError(http.StatusUnauthorized, msg)
	}
	state, code := q.Get("state"), q.Get("code")
	if state == "" || code == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "sign-in callback without state or code")
	}
	ck, err := c.Cookie(loginCookie)
	if err != nil || ck.Value == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "sign-in was not started in this browser (or cookies are blocked); start again")
	}
	// FindOneAndDelete consumes the state atomically: a replayed callback
	// finds nothing.
	var rec loginRecord
	err = a.logins.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: hashString(state)}}).Decode(&rec)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return echo.NewHTTPError(http.StatusBadRequest, "unknown, expired or already used sign-in state; start again")
	} else if err != nil {
		return err
	}
	if time.Now().After(rec.Expires) {
		return echo.NewHTTPError(http.StatusBadRequest, "the sign-in took too long; start again")
	}
	if subtle.ConstantTimeCompare([]byte(rec.Binding), []byte(hashString(ck.Value))) != 1 {
		return echo.NewHTTPError(http.StatusBadRequest, "sign-in was started in another browser; start again")
	}
	rp, err := a.discover(ctx)
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the sign-in service is not reachable; try again shortly")
	}
	hctx := oidc.ClientContext(ctx, a.cfg.HTTPClient)
	tok, err := rp.oauth.Exchange(hctx, code, oauth2.VerifierOption(rec.Verifier))
	if err != nil {
		a.log.WarnContext(ctx, "auth: code exchange", "err", err)
		return echo.NewHTTPError(http.StatusUnauthorized, "sign-in failed: the identity provider did not accept the authorization code")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return echo.NewHTTPError(http.StatusUnauthorized, "sign-in failed: no ID token from the identity provider")
	}
	idt, err := rp.verifier.Verify(hctx, raw)
	if err != nil {
		a.log.WarnContext(ctx, "auth: ID token rejected", "err", err)
		return echo.NewHTTPError(http.StatusUnauthorized, "sign-in failed: ID token rejected: "+err.Error())
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(rec.Nonce)) != 1 {
		return echo.NewHTTPError(http.StatusUnauthorized, "sign-in failed: ID token nonce does not match")
	}
	// Remember the nonce until the token expires: an ID token (or nonce)
	// replayed into another login is refused.
	if _, err := a.nonces.InsertOne(ctx, usedNonce{ID: hashString(idt.Nonce), Expires: idt.Expiry}); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return echo.NewHTTPError(http.StatusUnauthorized, "sign-in failed: ID token nonce was already used")
		}
		return err
	}
	p, err := a.principalFromIDToken(idt)
	if err != nil {
		return echo.NewHTTPError(http.StatusUnauthorized, "sign-in failed: "+err.Error())
	}
	// A fresh session id on every login (no session fixation); the old
	// session, if any, ends.
	if old, err := c.Cookie(sessionCookie); err == nil {
		a.deleteSession(ctx, old.Value)
	}
	sid, err := a.createSession(ctx, p)
	if err != nil {
		return err
	}
	c.SetCookie(a.sessionCookie(sid, int(a.cfg.SessionTTL.Seconds())))
	a.log.InfoContext(ctx, "auth: signed in", "sub", p.Subject, "operator", p.Operator)
	return c.Redirect(http.StatusSeeOther, rec.Next)
}

// principalFromIDToken reads the identity claims and maps the role.
func (a *Auth) principalFromIDToken(idt *oidc.IDToken) (*Principal, error) {
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, errors.New("unreadable ID token claims")
	}
	var all map[string]any
	_ = idt.Claims(&all)
	var groups []string
	if a.cfg.GroupsClaim != "" {
		groups = stringList(all[a.cfg.GroupsClaim])
	}
	return &Principal{
		Subject:  idt.Subject,
		Email:    claims.Email,
		Name:     claims.Name,
		Operator: a.isOperator(claims.Email, truthy(claims.EmailVerified), groups),
		Via:      ViaSession,
	}, nil
}

// logout ends the session (server side, so a copied cookie stops working).
func (a *Auth) logout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		a.deleteSession(c.Request().Context(), ck.Value)
	}
	c.SetCookie(a.sessionCookie("", -1))
	if wantsHTML(c) || isForm(c) {
		return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *Auth) sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: a.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	}
}

// safeNext keeps only local paths, so ?next= cannot become an open redirect.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashString(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// truthy reads email_verified, which some providers send as a string.
func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return t == "true"
	}
	return false
}

// stringList reads a groups claim given as a list or a single string.
func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// wantsHTML reports a browser navigation (Accept prefers text/html).
func wantsHTML(c echo.Context) bool {
	acc := c.Request().Header.Get(echo.HeaderAccept)
	return strings.Contains(acc, echo.MIMETextHTML)
}

func isForm(c echo.Context) bool {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	return strings.HasPrefix(ct, echo.MIMEApplicationForm) || strings.HasPrefix(ct, echo.MIMEMultipartForm)
}
