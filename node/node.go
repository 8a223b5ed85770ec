// Package node is one government's server: its action plans, commitments,
// milestones and progress updates, published over ActivityPub, shown as
// public pages at the objects' own IRIs, and written by operators who sign in
// with OpenID Connect (web forms) or use API tokens (JSON API, import).
//
// This package is the wiring only (Config, New, Run, Handler). The layers
// below it, each importing only those after it:
//   - node/web: the HTTP handlers (pages, operator forms, JSON API, import
//     over HTTP) and their one routes table;
//   - node/service: the domain operations, each write stored and then
//     published, reconcile at start, import orchestration;
//   - node/importer: CSV/JSON import (parse, dry run, all-or-nothing commit);
//   - node/planstore: all storage;
//   - node/plan: the domain (validation, mapping onto the ogp vocabulary),
//     with node/plan/jsonshape, the public JSON shape of its objects.
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/delivery"
	"github.com/ogpnet/ogpnet/federation/fetch"
	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/internal/store/migrate"
	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/conversation"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/planstore"
	"github.com/ogpnet/ogpnet/node/service"
	nodeweb "github.com/ogpnet/ogpnet/node/web"
)

// Service is the node's domain operations (node/service).
type Service = service.Service

// ImportReport is the outcome of an import or a dry run.
type ImportReport = service.ImportReport

// Config configures a node.
type Config struct {
	BaseURL, Slug, Name, Summary string   // Slug is the actor's preferredUsername, e.g. "jalisco"
	Lang                         string   // default content language
	Languages                    []string // the languages the node publishes
	DB                           *mongo.Database
	// Auth is OIDC for operators. Issuer "" → no browser login; API tokens
	// (created with CreateAPIToken) still work.
	Auth  auth.Config
	Guard fetch.Guard // SSRF allow-list; a *.localhost base turns on dev mode
	// Delivery tunes the outgoing queue (zero: its defaults; tests shorten
	// the lease that a job whose outcome could not be recorded waits out).
	Delivery delivery.Options
	Version  string
	Logger   *slog.Logger
	Metrics  *prometheus.Registry // per-server registry
	// Notice is a catalogue message id shown as a banner on every page
	// (the demo labels its sample data with "site_demo_notice").
	Notice string
	// Replies is how replies from the fediverse are taken: open, review
	// (the default: held for an operator) or off (docs/discussion.md).
	Replies conversation.Mode
	// ReplyRatePerHour limits replies per actor and hour (0: the default,
	// conversation.DefaultRatePerHour).
	ReplyRatePerHour int
	// HubURL is the public base URL of the OGP hub that follows this node
	// (optional): the home and commitment pages link to its pages for this
	// pilot and its commitments, where readers compare with other pilots.
	HubURL string
	// Timeouts are the per-request deadlines (the import routes get the
	// long ones); zero fields take web.DefaultTimeouts. Serve Handler with
	// web.NewHTTPServer and the same value.
	Timeouts web.Timeouts
}

// Node is a running node.
type Node struct {
	cfg   Config
	fed   *federation.Server
	auth  *auth.Auth
	login bool // browser sign-in is configured
	svc   *service.Service
	conv  *conversation.Service
	web   *nodeweb.Handlers
	e     *echo.Echo
	iris  ogp.IRIs
	log   *slog.Logger
	// loaded is what the start-up rebuild of the plans' memory read.
	loaded planstore.LoadStats
}

// Loaded says what the node's start-up rebuild of its in-memory plans,
// commitments and progress updates read, and how long it took.
func (n *Node) Loaded() planstore.LoadStats { return n.loaded }

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

	// The data's layout first, before anything reads or writes it.
	if _, err := migrate.Up(ctx, cfg.DB, migrate.Options{BinaryVersion: cfg.Version, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	var err error
	in := &inbox{}
	n.fed, err = federation.New(ctx, federation.Config{
		BaseURL: cfg.BaseURL, Username: cfg.Slug, ActorType: "Organization",
		Name: cfg.Name, Summary: cfg.Summary, Lang: cfg.Lang, DB: cfg.DB, Guard: cfg.Guard,
		Version: cfg.Version, Logger: cfg.Logger, Delivery: cfg.Delivery, Inbox: in,
		// The actor IRI is the government's profile for browsers.
		// (n.web is built below, before anything is served.)
		ActorHTML: func(c echo.Context) error { return n.web.ActorPage(c) },
	})
	if err != nil {
		return nil, err
	}
	st := planstore.New(cfg.DB, planstore.WithClock(n.fed.Now))
	if err := st.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	// Pages, API and imports read the plans from memory: build it now,
	// before anything is served.
	loaded, err := st.Load(ctx)
	if err != nil {
		return nil, err
	}
	n.loaded = loaded
	cfg.Logger.Info("plans loaded into memory", "plans", loaded.Plans, "commitments", loaded.Commitments,
		"progressUpdates", loaded.Updates, "took", loaded.Took)
	wire := plan.Wire{IRIs: n.iris, Lang: cfg.Lang, Jurisdiction: cfg.Name}
	n.svc = service.New(st, n.fed, wire, cfg.Logger)
	n.conv, err = conversation.New(ctx, conversation.Config{
		DB: cfg.DB, Fed: n.fed, Mode: cfg.Replies, Lookup: n.lookupObject, Lang: cfg.Lang,
		RatePerHour: cfg.ReplyRatePerHour, Log: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	in.conv = n.conv

	if err := n.setupAuth(ctx); err != nil {
		return nil, err
	}
	n.web = nodeweb.New(nodeweb.Deps{
		Site: nodeweb.Site{Name: cfg.Name, Summary: cfg.Summary, Slug: cfg.Slug, Host: n.fed.Host(),
			Lang: cfg.Lang, Languages: cfg.Languages, HubURL: strings.TrimRight(cfg.HubURL, "/")},
		Service: n.svc, Conversations: n.conv, Lookup: n.lookupObject, Auth: n.auth, Login: n.login, IRIs: n.iris, Now: n.fed.Now,
	})
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
	r, err := n.web.Renderer()
	if err != nil {
		return err
	}
	e := web.NewEcho(web.Options{
		Logger: n.log, Registry: n.cfg.Metrics, Renderer: r, StatusOf: nodeweb.StatusOf,
		LargeBodies: nodeweb.LargeBodies(), Timeouts: n.cfg.Timeouts, LongRoutes: nodeweb.LongRoutes(),
		DefaultLang: n.cfg.Lang, // the UI speaks the node's language unless the reader asks otherwise
		Ready:       func(ctx context.Context) error { return n.cfg.DB.Client().Ping(ctx, nil) },
	})
	if n.cfg.Notice != "" {
		e.Use(web.SiteNotice(n.cfg.Notice))
	}
	e.Use(n.auth.Middleware())
	n.fed.Register(e)
	n.web.Routes(e)
	n.e = e
	return nil
}

// Handler is the node's whole site.
func (n *Node) Handler() http.Handler { return n.e }

// Run reconciles, then delivers queued activities until ctx ends, then
// drains; meanwhile it runs import jobs, first those a previous run left
// unfinished. A reconcile that failed (the store away at start), or a write
// stored whose activity could not be published (the store went away in
// between), is reconciled again every few seconds until it succeeds: a
// store that comes back heals the node without a restart.
func (n *Node) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.reconcileLoop(ctx)
	}()
	imports := make(chan struct{})
	go func() {
		defer close(imports)
		_ = n.svc.RunImports(ctx)
	}()
	refresh := make(chan struct{})
	go func() {
		defer close(refresh)
		n.refreshLoop(ctx)
	}()
	err := n.fed.Run(ctx)
	<-done
	<-imports
	<-refresh
	return err
}

// refreshEvery is how often the node announces its writes to, and looks
// for writes by, other node processes on the same database (replicas).
var refreshEvery = time.Second

// refreshLoop keeps the in-memory plans current across node replicas
// (planstore.Store.Refresh): alone, it reads one small document a second.
func (n *Node) refreshLoop(ctx context.Context) {
	outage := store.Outage{What: "plans refresh", Log: n.log}
	st := n.svc.Store()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(refreshEvery):
		}
		reloaded, err := st.Refresh(ctx)
		switch {
		case err == nil:
			outage.OK()
			if reloaded {
				n.log.Debug("plans reloaded: another node process wrote")
			}
		case ctx.Err() != nil || outage.Failed(err):
		default:
			n.log.Warn("plans refresh", "err", err)
		}
	}
}

// reconcileEvery is how often reconcileLoop looks whether a reconcile is due.
var reconcileEvery = 5 * time.Second

func (n *Node) reconcileLoop(ctx context.Context) {
	outage := store.Outage{What: "reconcile", Log: n.log}
	for first := true; ; first = false {
		if first || n.svc.Unpublished() {
			published, err := n.svc.Reconcile(ctx)
			switch {
			case err == nil:
				outage.OK()
				if published > 0 {
					n.log.Info("reconcile: published stored changes that had not gone out", "activities", published)
				}
			case ctx.Err() != nil || outage.Failed(err):
			default:
				n.log.Warn("reconcile: some stored changes could not be published", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(reconcileEvery):
		}
	}
}

// Federation is the node's ActivityPub server.
func (n *Node) Federation() *federation.Server { return n.fed }

// Service is the node's domain operations (for the demo and tests).
func (n *Node) Service() *Service { return n.svc }

// Import reads a CSV or JSON file in the OGP template's columns (see
// docs/import.md) and either reports what it would do (dryRun) or writes
// it all-or-nothing and publishes Create/Update for every change. The error
// is for failures of the node itself; problems with the file are in the
// report.
func (n *Node) Import(ctx context.Context, format string, r io.Reader, dryRun bool) (ImportReport, error) {
	return n.svc.Import(ctx, format, r, nil, dryRun)
}

// CreateAPIToken issues an operator API token for scripts (the demo's
// tokens file, an admin CLI). The plaintext is returned once.
func (n *Node) CreateAPIToken(ctx context.Context, label string) (string, error) {
	p := &auth.Principal{Subject: "admin-cli", Name: "Administrator (CLI)", Operator: true, Via: auth.ViaToken}
	plain, _, err := n.auth.CreateToken(ctx, p, label)
	return plain, err
}
