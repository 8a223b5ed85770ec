// Package demo runs the whole network on one machine: the hub and the 15
// subnational pilot nodes, each with its own actor, keys and database, all
// federating over real HTTP through one listener with host-based routing
// (http://<slug>.localhost:8080). A development OpenID provider at
// http://login.localhost:8080 lets operators log in through the same OIDC
// flow as production. The sample action plans in data/ are loaded through
// each node's own import and publishing path.
//
// It lives beside the binary rather than in internal/ because it wires the
// servers together, and internal/ knows no server (docs/architecture.md).
package demo

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/sync/errgroup"

	"github.com/ogpnet/ogpnet/federation/fetch"
	"github.com/ogpnet/ogpnet/hub"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/oidcdev"
	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node"
	"github.com/ogpnet/ogpnet/node/conversation"
)

//go:embed data/*.json
var sampleData embed.FS

// Pilot describes one demo government (data/pilots.json).
type Pilot struct {
	Slug      string   `json:"slug"`
	Name      string   `json:"name"`
	Summary   string   `json:"summary"`
	Lang      string   `json:"lang"`
	Languages []string `json:"languages"`
}

// Pilots returns the 15 pilots of the sample, in the file's order.
func Pilots() ([]Pilot, error) {
	raw, err := sampleData.ReadFile("data/pilots.json")
	if err != nil {
		return nil, err
	}
	var ps []Pilot
	if err := json.Unmarshal(raw, &ps); err != nil {
		return nil, fmt.Errorf("demo: data/pilots.json: %w", err)
	}
	return ps, nil
}

// Options configure Start.
type Options struct {
	Addr    string // listen address, default 127.0.0.1:8080
	DataDir string // default ./data/demo
	Reset   bool   // delete DataDir first
	Version string
	Logger  *slog.Logger
	Out     io.Writer // where the start-up banner goes (default os.Stdout)
	// BackfillInterval of the hub (default 1 min in the demo).
	BackfillInterval time.Duration
	// Replies is the pilots' --replies setting (default review).
	Replies conversation.Mode
	// Timeouts of the listener and of every server behind it; zero fields
	// take web.DefaultTimeouts, as for the standalone servers.
	Timeouts web.Timeouts
}

// Demo is a running demo.
type Demo struct {
	Hub      *hub.Hub
	Nodes    map[string]*node.Node
	Pilots   []Pilot
	Provider *oidcdev.Provider
	Port     string
	store    *store.Store
	listener net.Listener
	server   *http.Server
	opts     Options
	tokens   map[string]string
	runDone  chan struct{} // closed when Run returns; nil before Run
}

// PilotsWithData counts the pilots the hub shows with at least one
// commitment: the demo is "up" when this reaches len(Pilots).
func (d *Demo) PilotsWithData() int {
	n := 0
	for _, p := range d.Hub.ReadModel().Pilots() {
		if p.Summary.Commitments > 0 {
			n++
		}
	}
	return n
}

// URL returns the base URL of host ("hub", "login" or a pilot slug).
func (d *Demo) URL(host string) string { return "http://" + host + ".localhost:" + d.Port }

// OperatorLogin returns the development login of a pilot's operator.
func OperatorLogin(slug string) (user, password string) { return slug + "-operator", "demo-" + slug }

// StaffLogin is the hub staff account of the demo.
const StaffLogin, StaffPassword = "hub-staff", "demo-hub"

// Start opens the store, starts the listener, the identity provider, the 15
// nodes (seeding sample data on the first run) and the hub, and asks the hub
// to follow every node. It returns once everything is serving; Run keeps the
// background work going.
func Start(ctx context.Context, opts Options) (*Demo, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if opts.DataDir == "" {
		opts.DataDir = filepath.Join("data", "demo")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.BackfillInterval == 0 {
		opts.BackfillInterval = time.Minute
	}
	if opts.Reset {
		if err := os.RemoveAll(opts.DataDir); err != nil {
			return nil, fmt.Errorf("demo: reset: %w", err)
		}
	}
	pilots, err := Pilots()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("demo: listen on %s: %w (is another demo running? try --addr 127.0.0.1:8081 --data ./data/demo-8081)", opts.Addr, err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	d := &Demo{Nodes: map[string]*node.Node{}, Pilots: pilots, Port: port, listener: ln, opts: opts, tokens: map[string]string{}}
	ok := false
	defer func() {
		if !ok {
			d.Close()
		}
	}()
	d.store, err = store.Open(ctx, store.Options{DataDir: opts.DataDir, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	if err := d.checkPort(ctx); err != nil {
		return nil, err
	}
	if err := d.startProvider(); err != nil {
		return nil, err
	}
	router := &hostRouter{port: port, hosts: map[string]http.Handler{"login": d.Provider.Handler()}}
	d.server = web.NewHTTPServer("", router, opts.Timeouts)
	go func() { _ = d.server.Serve(ln) }()

	devClient := fetch.NewClient(fetch.Guard{DevLocalhost: true}, 15*time.Second)
	for _, p := range pilots {
		n, err := node.New(ctx, node.Config{
			BaseURL: d.URL(p.Slug), Slug: p.Slug, Name: p.Name, Summary: p.Summary,
			Lang: p.Lang, Languages: p.Languages,
			DB:   d.store.DB("ogpnet_" + strings.ReplaceAll(p.Slug, "-", "_")),
			Auth: d.authConfig(p.Slug, devClient), Version: opts.Version, Timeouts: opts.Timeouts,
			Logger: opts.Logger.With("node", p.Slug), Metrics: prometheus.NewRegistry(),
			Notice: "site_demo_notice", Replies: opts.Replies, HubURL: d.URL("hub"),
		})
		if err != nil {
			return nil, fmt.Errorf("demo: node %s: %w", p.Slug, err)
		}
		d.Nodes[p.Slug] = n
		router.set(p.Slug, n.Handler())
	}
	d.Hub, err = hub.New(ctx, hub.Config{
		BaseURL: d.URL("hub"), Name: "OGP Subnational Learning Hub (demo)",
		Summary: "Compare the 15 subnational pilots' action plans, commitments and progress.",
		Lang:    "en", DB: d.store.DB("ogpnet_hub"), Auth: d.authConfig("hub", devClient),
		BackfillInterval: opts.BackfillInterval, Version: opts.Version, Timeouts: opts.Timeouts,
		Logger: opts.Logger.With("server", "hub"), Metrics: prometheus.NewRegistry(),
		Notice: "site_demo_notice",
	})
	if err != nil {
		return nil, fmt.Errorf("demo: hub: %w", err)
	}
	router.set("hub", d.Hub.Handler())
	router.fallback = d.URL("hub")
	ok = true
	return d, nil
}

// Run seeds the sample (first run only), makes the hub follow every node,
// writes the tokens file, prints the banner, and runs every server's
// background work until ctx ends.
func (d *Demo) Run(ctx context.Context) error {
	d.runDone = make(chan struct{})
	defer close(d.runDone)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.Hub.Run(gctx) })
	for _, n := range d.Nodes {
		g.Go(func() error { return n.Run(gctx) })
	}
	g.Go(func() error {
		if err := d.Seed(gctx); err != nil {
			return err
		}
		if err := d.followAll(gctx); err != nil {
			return err
		}
		if err := d.writeTokens(gctx); err != nil {
			return err
		}
		d.printBanner()
		// The sample's question-and-answer threads, through the running
		// nodes and hub; a failure is logged, the demo keeps running.
		if err := d.Converse(gctx); err != nil && gctx.Err() == nil {
			d.opts.Logger.Warn("demo: sample conversations", "err", err)
		}
		return nil
	})
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Seed imports each pilot's sample action plan through the node's own
// import (which publishes Create activities). A marker per node makes a
// second run skip it; the import itself is idempotent by commitment id, so
// even an interrupted first run never duplicates the sample.
func (d *Demo) Seed(ctx context.Context) error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, p := range d.Pilots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.seedOne(ctx, p); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("seed %s: %w", p.Slug, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (d *Demo) seedOne(ctx context.Context, p Pilot) error {
	marker := d.store.DB("ogpnet_demo").Collection("seeded")
	if n, err := marker.CountDocuments(ctx, map[string]any{"_id": p.Slug}); err == nil && n > 0 {
		return nil
	}
	raw, err := sampleData.ReadFile("data/" + p.Slug + ".json")
	if err != nil {
		return err
	}
	report, err := d.Nodes[p.Slug].Import(ctx, "json", strings.NewReader(string(raw)), false)
	if err != nil {
		return err
	}
	if report.HasErrors() {
		return fmt.Errorf("sample data has errors: %s", report.Summary())
	}
	_, err = marker.InsertOne(ctx, map[string]any{"_id": p.Slug, "at": time.Now().UTC()})
	if store.IsDuplicate(err) {
		err = nil
	}
	return err
}

// checkPort refuses a data folder made by a demo on another port. Every
// IRI (actors, objects, the hub's members) contains the port, so serving
// old data on a new port would leave the hub following 15 unreachable
// actors beside 15 new ones, and show every pilot twice.
func (d *Demo) checkPort(ctx context.Context) error {
	origin := d.store.DB("ogpnet_demo").Collection("origin")
	var rec struct {
		Port string `bson:"port"`
	}
	err := origin.FindOne(ctx, map[string]any{"_id": "base"}).Decode(&rec)
	switch {
	case err == nil && rec.Port != d.Port:
		return fmt.Errorf("demo: the data in %s was made by a demo on port %s, and its addresses contain that port: "+
			"run with --addr 127.0.0.1:%s, or start over on port %s with --reset or another --data",
			d.opts.DataDir, rec.Port, rec.Port, d.Port)
	case err == nil:
		return nil
	case !errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("demo: reading the data's port: %w", err)
	}
	_, err = origin.InsertOne(ctx, map[string]any{"_id": "base", "port": d.Port})
	if store.IsDuplicate(err) {
		err = nil
	}
	return err
}

func (d *Demo) followAll(ctx context.Context) error {
	for _, p := range d.Pilots {
		if _, err := d.Hub.AddMember(ctx, d.Nodes[p.Slug].Federation().ActorID()); err != nil {
			return fmt.Errorf("hub follow %s: %w", p.Slug, err)
		}
	}
	return nil
}

// TokensFile is where the demo writes one API token per node for scripts.
func (d *Demo) TokensFile() string { return filepath.Join(d.opts.DataDir, "demo-tokens.json") }

func (d *Demo) writeTokens(ctx context.Context) error {
	if raw, err := os.ReadFile(d.TokensFile()); err == nil && json.Unmarshal(raw, &d.tokens) == nil && len(d.tokens) == len(d.Pilots) {
		return nil // kept from an earlier run: tokens are stored hashed, so new ones would be needed otherwise
	}
	for _, p := range d.Pilots {
		tok, err := d.Nodes[p.Slug].CreateAPIToken(ctx, "demo scripts")
		if err != nil {
			return err
		}
		d.tokens[p.Slug] = tok
	}
	raw, _ := json.MarshalIndent(d.tokens, "", "  ")
	return os.WriteFile(d.TokensFile(), raw, 0o600)
}

func (d *Demo) printBanner() {
	w := d.opts.Out
	fmt.Fprintf(w, "\nogpnet demo is running (data in %s)\n\n", d.opts.DataDir)
	fmt.Fprintf(w, "  Hub (comparison, pilots, feeds):  %s/\n", d.URL("hub"))
	fmt.Fprintf(w, "  Comparison page:                  %s/compare\n\n", d.URL("hub"))
	fmt.Fprintf(w, "  %-18s %-40s %s\n", "pilot", "node", "operator login (user / password)")
	for _, p := range d.Pilots {
		u, pw := OperatorLogin(p.Slug)
		fmt.Fprintf(w, "  %-18s %-40s %s / %s\n", p.Slug, d.URL(p.Slug)+"/", u, pw)
	}
	fmt.Fprintf(w, "\n  Operators sign in at <node>/admin; hub staff at %s/staff/members (%s / %s)\n", d.URL("hub"), StaffLogin, StaffPassword)
	fmt.Fprintf(w, "  Development OpenID provider (not for production): %s/\n", d.URL("login"))
	fmt.Fprintf(w, "  API tokens per node: %s\n\nPress Ctrl-C to stop.\n", d.TokensFile())
}

// Close stops the listener and the store. Cancel Run's context first: Close
// waits (up to 30 s) for Run to drain before it closes the store.
func (d *Demo) Close() {
	if d.runDone != nil {
		select {
		case <-d.runDone:
		case <-time.After(30 * time.Second):
		}
	}
	if d.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = d.server.Shutdown(ctx)
		cancel()
	} else if d.listener != nil {
		_ = d.listener.Close()
	}
	if d.store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = d.store.Close(ctx)
		cancel()
	}
}

func (d *Demo) startProvider() error {
	users := []oidcdev.User{{Subject: "staff", Email: "staff@hub.demo.localhost", Name: "Hub staff", Password: StaffPassword, EmailVerified: true}}
	users[0].Subject = StaffLogin
	var clients []oidcdev.Client
	for _, p := range d.Pilots {
		u, pw := OperatorLogin(p.Slug)
		users = append(users, oidcdev.User{Subject: u, Email: "operator@" + p.Slug + ".demo.localhost",
			Name: p.Name + " operator", Password: pw, EmailVerified: true})
		clients = append(clients, oidcdev.Client{ID: p.Slug, Secret: "demo-secret-" + p.Slug,
			RedirectURIs: []string{d.URL(p.Slug) + "/auth/callback"}})
	}
	clients = append(clients, oidcdev.Client{ID: "hub", Secret: "demo-secret-hub", RedirectURIs: []string{d.URL("hub") + "/auth/callback"}})
	var err error
	d.Provider, err = oidcdev.New(oidcdev.Config{Issuer: d.URL("login"), Users: users, Clients: clients, Logger: d.opts.Logger})
	return err
}

func (d *Demo) authConfig(slug string, client *http.Client) auth.Config {
	domain := slug + ".demo.localhost"
	if slug == "hub" {
		domain = "hub.demo.localhost"
	}
	return auth.Config{
		Issuer: d.URL("login"), ClientID: slug, ClientSecret: "demo-secret-" + slug,
		RedirectURL:         d.URL(slug) + "/auth/callback",
		AllowedEmailDomains: []string{domain}, HTTPClient: client,
	}
}

// hostRouter sends each request to the server named by its Host header's
// first label (jalisco.localhost:8080 → jalisco).
type hostRouter struct {
	port     string
	mu       sync.RWMutex
	hosts    map[string]http.Handler
	fallback string
}

func (r *hostRouter) set(name string, h http.Handler) {
	r.mu.Lock()
	r.hosts[name] = h
	r.mu.Unlock()
}

func (r *hostRouter) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	host := req.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".localhost")
	r.mu.RLock()
	h, ok := r.hosts[name]
	fallback := r.fallback
	r.mu.RUnlock()
	if ok && name != host {
		h.ServeHTTP(w, req)
		return
	}
	if fallback != "" && (host == "127.0.0.1" || host == "localhost") {
		http.Redirect(w, req, fallback+req.URL.RequestURI(), http.StatusFound)
		return
	}
	http.Error(w, "unknown host "+req.Host+": the demo serves hub.localhost, login.localhost and <pilot>.localhost", http.StatusNotFound)
}
