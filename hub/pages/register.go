// Package pages is the hub's HTML: the community home, pilot and
// commitment pages, the cross-jurisdiction comparison (matrix, completion
// and overdue charts, process quality against the IRM guidelines, filters),
// the side-by-side view of 2–4 commitments, the peers panel, search, and the
// staff members page. Pages are served from the in-memory read model and
// never touch the store.
//
// Handlers are thin: each parses the request, calls a build* function that
// turns the read model into a view model (plain Go, tested without HTTP),
// and renders a template from hub/templates.
package pages

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/hub/discussion"
	"github.com/ogpnet/ogpnet/hub/members"
	"github.com/ogpnet/ogpnet/hub/peers"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/search"
	"github.com/ogpnet/ogpnet/hub/templates"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/web"
)

// MemberAdmin is what the staff members page needs of membership;
// *members.Service implements it.
type MemberAdmin interface {
	List(ctx context.Context) ([]members.Member, error)
	Add(ctx context.Context, handleOrURL string) (members.Member, error)
	Suspend(ctx context.Context, actor string) (members.Member, error)
	Remove(ctx context.Context, actor string) (members.Member, error)
	Resume(ctx context.Context, actor string) (members.Member, error)
}

var _ MemberAdmin = (*members.Service)(nil)

// Deps are the pages' dependencies.
type Deps struct {
	// Model is the hub's read model (required).
	Model *readmodel.Model
	// Members manages membership (the staff page). With Auth, it enables
	// the staff routes; without either they are not registered at all, so
	// they can never be reached unguarded.
	Members MemberAdmin
	// Auth signs staff in; staff routes need an operator principal and a
	// CSRF token on every form.
	Auth *auth.Auth
	// Renderer renders the pages. Nil: Register builds one over
	// hub/templates (NewRenderer) and sets e.Renderer to it.
	Renderer *web.Renderer
	// BaseURL is the hub's public base URL, e.g. http://hub.localhost:8080
	// (for absolute links; optional).
	BaseURL string
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Now is the clock for "overdue" (default time.Now); the read model has
	// its own, and tests set both.
	Now func() time.Time
	// Search answers the search page and feeds Peers. Nil: Register makes
	// one over Model; pass the API's to keep one index per hub.
	Search *search.ModelIndex
	// Peers finds the peers panel's commitments. Nil: Register makes one
	// over Search.
	Peers *peers.ModelIndex
	// Questions gives each pilot's discussion figures for the comparison's
	// "questions answered" column (hub/discussion wires it). Nil: the
	// column is not shown.
	Questions QuestionsFunc
	// Discussion is the hub's discussion: the thread on commitment pages,
	// the discussion pages, learning figures and (with Auth) staff
	// moderation. Nil leaves them all out.
	Discussion *discussion.Service
}

// NewRenderer returns a renderer with the hub's pages and internal/web's
// layout, for callers that build the Echo instance themselves
// (web.Options.Renderer).
func NewRenderer() (*web.Renderer, error) {
	return web.NewRenderer(templates.FS)
}

// AssetsFS is the hub's own stylesheet, served under /hub-assets/.
func assetsFS() fs.FS { return templates.Assets }

// Register adds the hub's HTML routes to e. It panics if Deps.Model is nil
// or the embedded templates do not parse: both are programming errors
// caught by any test that starts a hub.
func Register(e *echo.Echo, d Deps) {
	if d.Model == nil {
		panic("pages: Deps.Model is required")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Renderer == nil {
		r, err := NewRenderer()
		if err != nil {
			panic("pages: " + err.Error())
		}
		// The layout's login and logout links point at internal/auth's
		// routes; without auth there is nothing to sign in to.
		r.LoginURL, r.LogoutURL = "", ""
		if d.Auth != nil {
			r.LoginURL, r.LogoutURL = "/auth/login", "/auth/logout"
		}
		d.Renderer = r
		e.Renderer = r
	}
	if d.Search == nil {
		d.Search = search.NewModelIndex(d.Model)
	}
	if d.Questions == nil && d.Discussion != nil {
		d.Questions = questionsOf(d.Discussion)
	}
	if d.Peers == nil {
		d.Peers = peers.NewModelIndex(d.Search)
	}
	h := &handlers{d: d}

	var mw []echo.MiddlewareFunc
	if d.Auth != nil {
		mw = append(mw, csrfIfSignedIn(d.Auth.CSRF()))
	}
	e.GET(PathHome, h.home, mw...)
	e.GET(PathPilots, h.home, mw...)
	e.GET(PathPilot, h.pilotByHandle, mw...)
	e.GET(PathPilotCommitment, h.commitmentByKey, mw...)
	e.GET(PathPilotByIRI, h.pilotByIRI, mw...)
	e.GET(PathCommitment, h.commitment, mw...)
	e.GET(PathCompare, h.compare, mw...)
	e.GET(PathSideBySide, h.sideBySide, mw...)
	e.GET(PathSearch, h.search, mw...)
	e.GET(PathAsk, h.ask, mw...)
	if d.Discussion != nil {
		e.GET(PathDiscussion, h.discussion, mw...)
	}
	e.GET(PathAssets, echo.WrapHandler(http.StripPrefix("/hub-assets/", http.FileServerFS(assetsFS()))))

	if d.Auth != nil && d.Members != nil {
		// The auth middleware may also run globally; running it again here
		// is cheap (sessions are cached) and keeps the staff routes safe
		// whatever the outer wiring does.
		g := e.Group("/staff", d.Auth.Middleware(), auth.RequireOperator, d.Auth.CSRF())
		g.GET("/members", h.staffMembers)
		g.POST("/members/add", h.staffAdd)
		g.POST("/members/action", h.staffAction)
	}
	if d.Auth != nil && d.Discussion != nil {
		g := e.Group(PathStaffDiscussion, d.Auth.Middleware(), auth.RequireOperator, d.Auth.CSRF())
		g.GET("", h.staffDiscussion)
		g.POST("/action", h.staffDiscussionAction)
	}
}

// csrfIfSignedIn runs the CSRF middleware for signed-in callers only: the
// layout shows them a logout form, which needs a token, while anonymous
// readers get no cookie and pages stay cacheable. It relies on
// auth.Middleware having run before routing (hub.New installs it).
func csrfIfSignedIn(csrf echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		withCSRF := csrf(next)
		return func(c echo.Context) error {
			if auth.CurrentPrincipal(c) != nil {
				return withCSRF(c)
			}
			return next(c)
		}
	}
}

// handlers holds the dependencies of the route handlers.
type handlers struct {
	d Deps
}
