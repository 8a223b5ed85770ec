package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/ogpnet/ogpnet/internal/store"
)

// How a principal authenticated.
const (
	ViaSession = "session"
	ViaToken   = "token"
)

// Principal is who is making the request.
type Principal struct {
	Subject string `json:"subject"`
	Email   string `json:"email,omitempty"`
	Name    string `json:"name,omitempty"`
	// Operator may write this server's data.
	Operator bool `json:"operator"`
	// Via is ViaSession or ViaToken.
	Via string `json:"via"`
	// TokenID is the API token's id when Via is ViaToken.
	TokenID string `json:"tokenId,omitempty"`
}

const (
	// principalKey is the key the page layout reads (web.PrincipalKey),
	// so every page shows who is signed in without extra wiring.
	principalKey = "principal"
	csrfKey      = "csrf"
	loginKey     = "ogpnet.login" // browser sign-in is configured
	// CSRFField and CSRFHeader carry the CSRF token in forms and scripts.
	CSRFField  = "_csrf"
	CSRFHeader = "X-CSRF-Token"
)

type ctxKey struct{}

// Middleware identifies the caller from `Authorization: Bearer <api token>`
// or the session cookie, and stores the *Principal in the Echo context and
// the request context. Anonymous requests pass through; a presented but
// invalid Bearer token is refused with 401 rather than treated as anonymous,
// so a script with a revoked token fails loudly.
func (a *Auth) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if a.LoginEnabled() {
				c.Set(loginKey, true) // RequireOperator may send browsers to sign in
			}
			ctx := c.Request().Context()
			var p *Principal
			// Only Bearer is ours: other schemes (e.g. an HTTP signature sent
			// in Authorization by some fediverse servers) pass through.
			if tok, ok := bearerToken(c); ok {
				doc, err := a.checkToken(ctx, tok)
				if errors.Is(err, ErrBadToken) {
					return unauthorizedBearer(c, "invalid or revoked API token")
				} else if err != nil {
					return err
				}
				p = &Principal{Subject: doc.Subject, Email: doc.Email, Name: doc.Name, Operator: doc.Operator, Via: ViaToken, TokenID: doc.ID}
			} else if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
				s, err := a.session(ctx, ck.Value)
				if err == nil {
					p = &Principal{Subject: s.Subject, Email: s.Email, Name: s.Name, Operator: s.Operator, Via: ViaSession}
				} else if store.Unavailable(err) && !safeMethod(c.Request().Method) {
					// The session may well be valid: a form sent now must
					// answer "store unavailable, nothing saved" (503), not
					// "sign in" (a read goes on anonymously).
					return err
				}
				// An unknown or expired session is simply anonymous; the
				// stale cookie is replaced at the next sign-in.
			}
			if p != nil {
				c.Set(principalKey, p)
				c.SetRequest(c.Request().WithContext(context.WithValue(ctx, ctxKey{}, p)))
			}
			return next(c)
		}
	}
}

// safeMethod reports whether m only reads.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// bearerToken returns the token of an `Authorization: Bearer …` header.
func bearerToken(c echo.Context) (string, bool) {
	scheme, tok, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

func unauthorizedBearer(c echo.Context, msg string) error {
	c.Response().Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	return echo.NewHTTPError(http.StatusUnauthorized, msg)
}

// CurrentPrincipal returns the caller, or nil if anonymous.
func CurrentPrincipal(c echo.Context) *Principal {
	p, _ := c.Get(principalKey).(*Principal)
	return p
}

// FromContext returns the caller stored by Middleware in a request context,
// or nil: for code below the HTTP layer.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// RequireOperator guards operator routes: anonymous callers get 401 (a
// browser navigating with GET is sent to /auth/login?next=… instead), and
// signed-in users without the operator role get 403.
func RequireOperator(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := CurrentPrincipal(c)
		if p == nil {
			r := c.Request()
			if login, _ := c.Get(loginKey).(bool); login && r.Method == http.MethodGet && wantsHTML(c) {
				return c.Redirect(http.StatusFound, "/auth/login?next="+url.QueryEscape(r.URL.RequestURI()))
			}
			return echo.NewHTTPError(http.StatusUnauthorized, "sign in required")
		}
		if !p.Operator {
			return echo.NewHTTPError(http.StatusForbidden, "your account is not an operator of this server")
		}
		return next(c)
	}
}

// CSRF returns Echo's CSRF middleware set up for our forms: the token travels
// in the form field "_csrf" or the X-CSRF-Token header and is checked against
// an HttpOnly, SameSite=Lax cookie. It is skipped only for Bearer-token
// requests (no ambient credential, so nothing to forge) and when an outer
// CSRF middleware already ran for this request. Routes that must take
// cross-site POSTs (ActivityPub inboxes, signed server to server) are simply
// not mounted behind it: the skip is by route, never by path text, so a plan
// whose id is "inbox" is protected like any other.
//
// As a second line, a state-changing request that a browser marks as coming
// from another site (Sec-Fetch-Site) or another origin (Origin) is refused
// before the token is even looked at. Any failure is 403.
func (a *Auth) CSRF() echo.MiddlewareFunc {
	tokenCheck := middleware.CSRFWithConfig(middleware.CSRFConfig{
		Skipper: func(c echo.Context) bool {
			if c.Get(csrfKey) != nil {
				return true
			}
			_, ok := bearerToken(c)
			return ok
		},
		TokenLookup:    "header:" + CSRFHeader + ",form:" + CSRFField,
		ContextKey:     csrfKey,
		CookieName:     "_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   a.cfg.SecureCookies,
		CookieSameSite: http.SameSiteLaxMode,
		ErrorHandler: func(err error, c echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "missing or invalid CSRF token; reload the page and try again")
		},
	})
	publicHost := ""
	if u, err := url.Parse(a.cfg.RedirectURL); err == nil {
		publicHost = u.Host
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		checked := tokenCheck(next)
		return func(c echo.Context) error {
			if _, ok := bearerToken(c); !ok && c.Get(csrfKey) == nil {
				if why := crossSite(c.Request(), publicHost); why != "" {
					return echo.NewHTTPError(http.StatusForbidden, why)
				}
			}
			return checked(c)
		}
	}
}

// crossSite says why a state-changing request looks forged by another site,
// or "" when nothing says so. Browsers send Sec-Fetch-Site and Origin on
// every cross-origin POST; scripts and servers that send neither are left
// to the token check. publicHost is this server's host in its public URL
// (behind a proxy that rewrites Host), "" if unknown.
func crossSite(r *http.Request, publicHost string) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return ""
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default: // cross-site, same-site (another subdomain: another server)
		return "cross-site request refused: this form can only be sent from this server's own pages"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (!strings.EqualFold(u.Host, r.Host) && !strings.EqualFold(u.Host, publicHost)) {
		return "cross-origin request refused: Origin " + origin + " is not this server"
	}
	return ""
}

// CSRFToken returns the token to embed in forms (field "_csrf"), or "" when
// CSRF() did not run for this request.
func CSRFToken(c echo.Context) string {
	s, _ := c.Get(csrfKey).(string)
	return s
}

// DisplayName is how pages name the signed-in user (the layout calls it).
func (p *Principal) DisplayName() string {
	switch {
	case p.Name != "":
		return p.Name
	case p.Email != "":
		return p.Email
	}
	return p.Subject
}
