// Package web is the node's HTTP surface: public pages at the objects' own
// IRIs (pages.go, objects.go), the operator's forms (operator.go), the JSON
// API (api.go) and import over HTTP (import.go), mounted by one routes
// table (routes.go). Handlers are thin: bind the request, call the service,
// render; validation lives in the domain (node/plan) and becomes a web
// error in one place (errors.go).
//
// Dependencies point one way: node (the wiring) imports this package and
// node/service; this package uses the concrete *service.Service for writes
// and its store for reads, and never imports node. The shared package name
// aside, internal/web is the site kit (layout, i18n, errors) it renders
// with.
package web

import (
	"context"
	"embed"
	"io/fs"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/conversation"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/planstore"
	"github.com/ogpnet/ogpnet/node/service"
)

// Site describes the node the pages speak for.
type Site struct {
	Name, Summary string
	Slug          string // the actor's preferredUsername
	Host          string // host[:port] of the node's IRIs, for its @handle
	Lang          string // default content language
	Languages     []string
	HubURL        string // the hub that follows this node, "" when not configured
}

// hubPilotURL is this node's pilot page on the hub, "" without a hub. The
// hub finds a pilot by its actor IRI (and redirects to its readable URL).
func (h *Handlers) hubPilotURL() string {
	if h.site.HubURL == "" {
		return ""
	}
	return h.site.HubURL + "/pilot?actor=" + url.QueryEscape(h.iris.Actor())
}

// hubCommitmentURL is commitment id's page on the hub, "" without a hub.
func (h *Handlers) hubCommitmentURL(id string) string {
	if h.site.HubURL == "" {
		return ""
	}
	return h.site.HubURL + "/commitment?id=" + url.QueryEscape(h.iris.Commitment(id))
}

// Deps is what the handlers need.
type Deps struct {
	Site    Site
	Service *service.Service
	// Conversations are the node's threads (node/conversation); Lookup
	// finds the node object an IRI names and its thread.
	Conversations *conversation.Service
	Lookup        func(ctx context.Context, iri string) (conversation.Thread, bool, error)
	Auth          *auth.Auth
	// Login is true when browser sign-in is configured (else tokens only).
	Login bool
	IRIs  ogp.IRIs
	Now   func() time.Time
}

// Handlers serves the node's pages, forms and API.
type Handlers struct {
	site   Site
	svc    *service.Service
	conv   *conversation.Service
	lookup func(ctx context.Context, iri string) (conversation.Thread, bool, error)
	store  *planstore.Store // reads
	wire   plan.Wire
	auth   *auth.Auth
	login  bool
	iris   ogp.IRIs
	now    func() time.Time
}

// New returns the handlers over d.
func New(d Deps) *Handlers {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	return &Handlers{site: d.Site, svc: d.Service, conv: d.Conversations, lookup: d.Lookup,
		store: d.Service.Store(), wire: d.Service.Wire(),
		auth: d.Auth, login: d.Login, iris: d.IRIs, now: now}
}

//go:embed templates/*.html
var templateFiles embed.FS

// Renderer returns the node's page renderer over its templates.
func (h *Handlers) Renderer() (*web.Renderer, error) {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	r, err := web.NewRenderer(sub)
	if err != nil {
		return nil, err
	}
	r.SiteName = h.site.Name
	r.LogoutURL = "/auth/logout"
	r.LoginURL = ""
	if h.login {
		r.LoginURL = "/auth/login"
	}
	return r, nil
}

// LargeBodies lists the routes allowed bigger request bodies than the
// default, with their limits: an import carries up to two files.
func LargeBodies() map[string]string {
	return map[string]string{"/api/v1/import": importBodyLimit, "/admin/import": importBodyLimit}
}

// LongRoutes are the routes that get web.Timeouts' long deadlines: the
// imports, whose upload may be slow and whose commit may take minutes.
func LongRoutes() []string { return []string{"/api/v1/import", "/admin/import"} }

// ActorPage is the node's home page, served at the actor IRI to browsers.
func (h *Handlers) ActorPage(c echo.Context) error { return h.withCSRF(h.home)(c) }

// withCSRF runs next behind the CSRF middleware, so its page carries the
// token the layout's logout form (and any form on it) needs.
func (h *Handlers) withCSRF(next echo.HandlerFunc) echo.HandlerFunc { return h.auth.CSRF()(next) }
