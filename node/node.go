// Package node is one government's server: its action plans, commitments,
// milestones and progress updates, published over ActivityPub, shown as
// public pages at the objects' own IRIs, and written by operators who sign in
// with OpenID Connect (web forms) or use API tokens (JSON API, import).
//
// Layering: handlers (pages.go, operator.go, api.go, objects.go) are thin;
// Service (service.go) does every write and its publishing; node/plan is the
// domain, node/planstore the storage, node/importer the CSV/JSON import.
package node

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/fetch"
	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/planstore"
)

// Config configures a node.
type Config struct {
	BaseURL, Slug, Name, Summary string   // Slug is the actor's preferredUsername, e.g. "jalisco"
	Lang                         string   // default content language
	Languages                    []string // the languages the node publishes
	DB                           *mongo.Database
	// Auth is OIDC for operators. Issuer "" → no browser login; API tokens
	// (created with CreateAPIToken) still work.
	Auth    auth.Config
	Guard   fetch.Guard // SSRF allow-list; a *.localhost base turns on dev mode
	Version string
	Logger  *slog.Logger
	Metrics *prometheus.Registry // per-server registry
	// Notice is a catalogue message id shown as a banner on every page
	// (the demo labels its sample data with "site_demo_notice").
	Notice string
}

// Node is a running node.
type Node struct {
	cfg   Config
	fed   *federation.Server
	auth  *auth.Auth
	login bool // browser sign-in is configured
	svc   *Service
	e     *echo.Echo
	iris  ogp.IRIs
	log   *slog.Logger
}

//go:embed templates/*.html
var templateFiles embed.FS

// New opens (or initialises) the node's keys, storage and sign-in, and
// builds its site.
func New(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.DB == nil {
		return nil, errors.New("node: Config.DB is required")
	}
	if !ogp.ValidSlug(cfg.Slug) {
		return nil, fmt.Errorf("node: slug %q must be lower-case letters, digits and dashes", cfg.Slug)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Lang == "" {
		cfg.Lang = "en"
	}
	if len(cfg.Languages) == 0 {
		cfg.Languages = []string{cfg.Lang}
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Slug
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	n := &Node{cfg: cfg, log: cfg.Logger, iris: ogp.NewIRIs(cfg.BaseURL, cfg.Slug)}

	var err error
	n.fed, err = federation.New(ctx, federation.Config{
		BaseURL: cfg.BaseURL, Username: cfg.Slug, ActorType: "Organization",
		Name: cfg.Name, Summary: cfg.Summary, Lang: cfg.Lang, DB: cfg.DB, Guard: cfg.Guard,
		Version: cfg.Version, Logger: cfg.Logger,
		// The actor IRI is the government's profile for browsers.
		ActorHTML: func(c echo.Context) error { return n.withCSRF(n.home)(c) },
	})
	if err != nil {
		return nil, err
	}
	st := planstore.New(cfg.DB, planstore.WithClock(n.fed.Now))
	if err := st.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	wire := plan.Wire{IRIs: n.iris, Lang: cfg.Lang, Jurisdiction: cfg.Name}
	n.svc = NewService(st, n.fed, wire, cfg.DB, cfg.Logger)

	if err := n.setupAuth(ctx); err != nil {
		return nil, err
	}
	if err := n.setupEcho(); err != nil {
		return nil, err
	}
	return n, nil
}

// setupAuth opens sign-in. Without an issuer auth runs tokens-only: no
// browser login, while API tokens (scripts, the demo's tokens file) still
// work.
func (n *Node) setupAuth(ctx context.Context) error {
	ac := n.cfg.Auth
	if ac.Logger == nil {
		ac.Logger = n.log
	}
	if ac.RedirectURL == "" {
		ac.RedirectURL = n.cfg.BaseURL + "/auth/callback"
	}
	a, err := auth.New(ctx, n.cfg.DB, ac)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.auth = a
	n.login = a.LoginEnabled()
	return nil
}

func (n *Node) setupEcho() error {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return err
	}
	r, err := web.NewRenderer(sub)
	if err != nil {
		return err
	}
	r.SiteName = n.cfg.Name
	r.LogoutURL = "/auth/logout"
	r.LoginURL = ""
	if n.login {
		r.LoginURL = "/auth/login"
	}
	e := web.NewEcho(web.Options{
		Logger: n.log, Registry: n.cfg.Metrics, Renderer: r, StatusOf: statusOf,
		// An import carries up to two files of maxImportBytes each.
		LargeBodies: map[string]string{"/api/v1/import": importBodyLimit, "/admin/import": importBodyLimit},
		Ready:       func(ctx context.Context) error { return n.cfg.DB.Client().Ping(ctx, nil) },
	})
	if n.cfg.Notice != "" {
		e.Use(web.SiteNotice(n.cfg.Notice))
	}
	e.Use(n.auth.Middleware())
	n.fed.Register(e)
	n.routes(e)
	n.e = e
	return nil
}

// withCSRF runs h behind the CSRF middleware, so its page carries the
// token the layout's logout form (and any form on it) needs.
func (n *Node) withCSRF(h echo.HandlerFunc) echo.HandlerFunc { return n.auth.CSRF()(h) }

// statusOf maps the service's sentinels to HTTP statuses.
func statusOf(err error) (int, bool) {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, true
	case errors.Is(err, ErrExists):
		return http.StatusConflict, true
	case errors.Is(err, ErrGone):
		return http.StatusGone, true
	}
	var ve *plan.ValidationError
	if errors.As(err, &ve) {
		return http.StatusUnprocessableEntity, true
	}
	return 0, false
}

// Handler is the node's whole site.
func (n *Node) Handler() http.Handler { return n.e }

// Run delivers queued activities until ctx ends, then drains.
func (n *Node) Run(ctx context.Context) error {
	if published, err := n.svc.Reconcile(ctx); err != nil {
		n.log.Warn("reconcile: some stored changes could not be published", "err", err)
	} else if published > 0 {
		n.log.Info("reconcile: published stored changes that had not gone out", "activities", published)
	}
	return n.fed.Run(ctx)
}

// Federation is the node's ActivityPub server.
func (n *Node) Federation() *federation.Server { return n.fed }

// Service is the node's domain operations (for the demo and tests).
func (n *Node) Service() *Service { return n.svc }

// CreateAPIToken issues an operator API token for scripts (the demo's
// tokens file, an admin CLI). The plaintext is returned once.
func (n *Node) CreateAPIToken(ctx context.Context, label string) (string, error) {
	p := &auth.Principal{Subject: "admin-cli", Name: "Administrator (CLI)", Operator: true, Via: auth.ViaToken}
	plain, _, err := n.auth.CreateToken(ctx, p, label)
	return plain, err
}
