// Package hub wires the OGP learning hub: a Group actor that follows member
// nodes (hub/members), ingests what they publish (hub/ingest, hub/objects),
// catches up from their outboxes (hub/backfill), keeps an in-memory read
// model (hub/readmodel), re-shares new objects to its own followers
// (hub/reshare), and serves pages (hub/pages), the JSON API, feeds and
// exports (hub/api).
//
// Several replicas may share one store (MongoDB): each tails the others'
// object writes by sequence number and re-reads the member list (Run), and
// backfill walks are leased per member (hub/backfill), so any replica can
// take any request.
package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/fetch"
	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/api"
	"github.com/ogpnet/ogpnet/hub/backfill"
	"github.com/ogpnet/ogpnet/hub/discussion"
	"github.com/ogpnet/ogpnet/hub/ingest"
	"github.com/ogpnet/ogpnet/hub/members"
	"github.com/ogpnet/ogpnet/hub/objects"
	"github.com/ogpnet/ogpnet/hub/pages"
	"github.com/ogpnet/ogpnet/hub/peers"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/reshare"
	"github.com/ogpnet/ogpnet/hub/search"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/internal/store/migrate"
	"github.com/ogpnet/ogpnet/internal/web"
)

// DefaultBackfillInterval is how often every member's outbox is paged.
const DefaultBackfillInterval = 10 * time.Minute

// acceptPoll is how often the hub looks for newly accepted follows even
// when no Accept arrived (one lost to a crash between store and dispatch);
// an arriving Accept wakes the check at once.
var acceptPoll = 30 * time.Second

// Config configures a hub.
type Config struct {
	BaseURL, Name, Summary string
	Lang                   string
	DB                     *mongo.Database
	Auth                   auth.Config // staff login (OIDC); Issuer "" → staff UI disabled
	Guard                  fetch.Guard
	BackfillInterval       time.Duration // default 10 min; 0 → default
	Version                string
	Logger                 *slog.Logger
	Metrics                *prometheus.Registry
	// GroupPosts is the policy for posts that non-members address to the
	// hub's Group: review (held for staff, the default), open or off.
	GroupPosts discussion.GroupPosts
	// Notice is a catalogue message id shown as a banner on every page
	// (the demo labels its sample data with "site_demo_notice").
	Notice string
	// Timeouts are the per-request deadlines; zero fields take
	// web.DefaultTimeouts. Serve Handler with web.NewHTTPServer and the
	// same value.
	Timeouts web.Timeouts
}

// Hub is one running hub.
type Hub struct {
	cfg      Config
	fed      *federation.Server
	model    *readmodel.Model
	objects  *objects.Store
	members  *members.Service
	ingest   *ingest.Service
	backfill *backfill.Backfiller
	tailer   *objects.Tailer
	reshare  *reshare.Resharer
	discuss  *discussion.Service
	auth     *auth.Auth
	echo     *echo.Echo
	log      *slog.Logger
	inbox    *inbox // what federation tells the hub
}

// New opens the hub's state and rebuilds the read model from the store in
// one pass. It does not start background work; Run does.
func New(ctx context.Context, cfg Config) (*Hub, error) {
	if cfg.DB == nil {
		return nil, errors.New("hub: Config.DB is required")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Name == "" {
		cfg.Name = "OGP learning hub"
	}
	if cfg.Lang == "" {
		cfg.Lang = "en"
	}
	if cfg.BackfillInterval <= 0 {
		cfg.BackfillInterval = DefaultBackfillInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		// One registry for the HTTP metrics and the hub's own, so both
		// appear at /metrics.
		cfg.Metrics = prometheus.NewRegistry()
		cfg.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	h := &Hub{cfg: cfg, log: cfg.Logger.With("component", "hub"), inbox: newInbox()}
	// The data's layout first, before anything reads or writes it.
	if _, err := migrate.Up(ctx, cfg.DB, migrate.Options{BinaryVersion: cfg.Version, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	var err error
	h.fed, err = federation.New(ctx, federation.Config{
		BaseURL: cfg.BaseURL, Username: "hub", ActorType: "Group",
		Name: cfg.Name, Summary: cfg.Summary, Lang: cfg.Lang, DB: cfg.DB, Guard: cfg.Guard,
		Software: "ogpnet", Version: cfg.Version, Logger: cfg.Logger, Inbox: h.inbox,
		// Nodes trust the hub's members (docs/discussion.md): the list is
		// public, one link away from the actor.
		ActorExtras: map[string]any{"ogp:members": membersCollectionIRI(cfg.BaseURL)},
		ActorTerms:  map[string]any{"ogp": ogp.NS},
	})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h.model = readmodel.New(nil)
	// Queries may trail ingest by up to a second on large hubs (see
	// readmodel.SetMaxStale), so a backfill does not rebuild per request.
	h.model.SetMaxStale(time.Second)
	if h.members, err = members.New(ctx, cfg.DB, h.fed, h.model, h.log); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h.objects = objects.Open(cfg.DB)
	// From here on the read model follows the store: every write of this
	// replica, and every write of another that the tailer reads.
	h.objects.HandTo(ingest.Applier(h.model))
	start := time.Now()
	n := 0
	if err := h.objects.Load(ctx, func(o objects.Object) error {
		n++
		return ingest.Rebuild(h.model, o)
	}); err != nil {
		return nil, fmt.Errorf("hub: rebuild read model: %w", err)
	}
	h.log.Info("read model rebuilt", "objects", n, "took", time.Since(start).Round(time.Millisecond))
	h.tailer = h.objects.Tailer()
	h.tailer.Log = h.log
	if h.reshare, err = reshare.New(ctx, cfg.DB, h.fed); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h.ingest = &ingest.Service{Objects: h.objects, Model: h.model, Members: h.members, Reshare: h.reshare, Log: h.log}
	h.ingest.Instrument(cfg.Metrics)
	h.inbox.ingest = h.ingest
	if h.discuss, err = discussion.Open(ctx, discussion.Config{
		DB: cfg.DB, Model: h.model, Members: h.members, Fetch: h.fed.Fetcher().Get,
		Actor: h.fed.RemoteActor, Announce: h.reshare, Group: h.fed.ActorID(), GroupPosts: cfg.GroupPosts, Log: h.log,
	}); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h.inbox.discussion = h.discuss
	h.backfill = &backfill.Backfiller{Fed: h.fed, Members: h.members, Ingest: h.ingest, Log: h.log, DB: cfg.DB}
	if err := h.backfill.EnsureIndexes(ctx); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}

	if cfg.Auth.Issuer != "" {
		if cfg.Auth.Logger == nil {
			cfg.Auth.Logger = cfg.Logger
		}
		if h.auth, err = auth.New(ctx, cfg.DB, cfg.Auth); err != nil {
			return nil, fmt.Errorf("hub: %w", err)
		}
	}
	h.echo = h.routes()
	return h, nil
}

func (h *Hub) routes() *echo.Echo {
	e := web.NewEcho(web.Options{
		Logger: h.cfg.Logger, Registry: h.cfg.Metrics, Timeouts: h.cfg.Timeouts, DefaultLang: h.cfg.Lang,
		Ready: func(ctx context.Context) error { return h.cfg.DB.Client().Ping(ctx, nil) },
	})
	if h.cfg.Notice != "" {
		e.Use(web.SiteNotice(h.cfg.Notice))
	}
	if h.auth != nil {
		e.Use(h.auth.Middleware())
		h.auth.Routes(e.Group(""))
	}
	h.fed.Register(e)
	e.GET(membersCollectionPath, h.membersCollection)
	// One search index serves search and peers, on the pages and the API.
	index := search.NewModelIndex(h.model)
	similar := peers.NewModelIndex(index)
	api.Register(e, api.Deps{Model: h.model, Members: h.members, Auth: h.auth, BaseURL: h.cfg.BaseURL, Title: h.cfg.Name, Search: index, Peers: similar, Discussion: h.discuss})
	pd := pages.Deps{Model: h.model, Auth: h.auth, BaseURL: h.cfg.BaseURL, Logger: h.cfg.Logger, Search: index, Peers: similar, Discussion: h.discuss}
	if h.auth != nil {
		pd.Members = h.members
	}
	pages.Register(e, pd)
	return e
}

// Handler serves the hub (pages, API, feeds, exports, federation).
func (h *Hub) Handler() http.Handler { return h.echo }

// Run delivers the outgoing queue, backfills members when they accept and
// every BackfillInterval, writes member health, and follows what other
// replicas write to the shared store, until ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		// Other replicas' object writes reach the read model, their
		// membership changes the member list, and their discussion writes
		// (posts, moderation) the discussion.
		h.tailer.Run(ctx, func(ctx context.Context) error {
			if err := h.members.Refresh(ctx); err != nil {
				return fmt.Errorf("refresh members: %w", err)
			}
			return nil
		}, h.discuss.Refresh)
	}()
	go func() {
		defer wg.Done()
		h.backfill.Loop(ctx, h.cfg.BackfillInterval, acceptPoll, h.inbox.accepted)
	}()
	go func() {
		defer wg.Done()
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		// Health not flushed during a store outage stays in memory and goes
		// out at the first flush after it.
		outage := store.Outage{What: "member health flush", Log: h.log}
		for {
			select {
			case <-ctx.Done():
				fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				_ = h.members.Flush(fctx)
				cancel()
				return
			case <-t.C:
				err := h.members.Flush(ctx)
				switch {
				case err == nil:
					outage.OK()
				case ctx.Err() != nil || outage.Failed(err):
				default:
					h.log.Warn("member health flush", "err", err)
				}
			}
		}
	}()
	err := h.fed.Run(ctx)
	wg.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// AddMember follows a node by handle or actor URL; the hub backfills it once
// the node accepts. Adding a node that is already an active member changes
// nothing (so a --members list can be given at every start), and a node
// staff suspended or removed stays so: only the staff UI brings it back.
func (h *Hub) AddMember(ctx context.Context, handleOrURL string) (members.Member, error) {
	if strings.HasPrefix(handleOrURL, "http://") || strings.HasPrefix(handleOrURL, "https://") {
		if m, ok := h.members.Get(handleOrURL); ok {
			return h.existing(ctx, m)
		}
	} else {
		want := "@" + strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(handleOrURL), "acct:"), "@")
		for _, m := range h.members.Active() {
			if strings.EqualFold(m.Handle, want) {
				return h.existing(ctx, m)
			}
		}
	}
	return h.members.Add(ctx, handleOrURL)
}

func (h *Hub) existing(ctx context.Context, m members.Member) (members.Member, error) {
	if m.State != members.StateActive {
		h.log.Info("member left as staff set it", "member", m.Actor, "state", m.State)
		return m, nil
	}
	f, err := h.fed.FollowingOf(ctx, m.Actor)
	if err != nil || f.State == federation.FollowRejected {
		return h.members.Add(ctx, m.Actor) // follow lost or refused earlier: ask again
	}
	m.FollowState = f.State
	return m, nil
}

// Federation returns the hub's federation server (its Group actor).
func (h *Hub) Federation() *federation.Server { return h.fed }

// ReadModel returns the hub's in-memory read model.
func (h *Hub) ReadModel() *readmodel.Model { return h.model }

// Discussion returns the hub's discussion (threads, moderation, figures).
func (h *Hub) Discussion() *discussion.Service { return h.discuss }

// Members returns the membership service.
func (h *Hub) Members() *members.Service { return h.members }

// Backfill pages every active member's outbox now (tests, admin tools),
// except members another replica is walking at the moment.
func (h *Hub) Backfill(ctx context.Context) error { return h.backfill.All(ctx) }

// membersCollectionPath is the hub actor's "ogp:members": the actor IRIs of
// its active member nodes, which nodes trust to skip reply review.
const membersCollectionPath = "/users/hub/members"

func membersCollectionIRI(base string) string {
	return strings.TrimRight(base, "/") + membersCollectionPath
}

// membersCollection answers the public OrderedCollection of active members'
// actor IRIs (unsigned GETs work, like the actor itself).
func (h *Hub) membersCollection(c echo.Context) error {
	var items []string
	for _, m := range h.members.Active() {
		items = append(items, m.Actor)
	}
	slices.Sort(items)
	if items == nil {
		items = []string{}
	}
	c.Response().Header().Add("Vary", "Accept")
	body, err := json.Marshal(map[string]any{
		"@context":     "https://www.w3.org/ns/activitystreams",
		"id":           membersCollectionIRI(h.cfg.BaseURL),
		"type":         "OrderedCollection",
		"attributedTo": h.fed.ActorID(),
		"totalItems":   len(items),
		"orderedItems": items,
	})
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, federation.ContentType+"; charset=utf-8", body)
}
