// Package federation is the ActivityPub engine that hub and node share: the
// server's actor and keys, WebFinger and NodeInfo, the inbox pipeline
// (verify → dedupe → dispatch), outbox and followers collections, following
// remote actors, and publishing through the durable delivery queue. It holds
// no OGP policy: its user hears of incoming activities through the one Inbox
// it gives in Config.
package federation

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation/delivery"
	"github.com/ogpnet/ogpnet/federation/fetch"
	"github.com/ogpnet/ogpnet/federation/httpsig"
	"github.com/ogpnet/ogpnet/internal/store"
)

// Public is the ActivityStreams public collection.
const Public = "https://www.w3.org/ns/activitystreams#Public"

// Limits that apply to every server; they are part of the documented contract.
const (
	// DefaultInboxMaxBytes caps an incoming activity (larger → 413).
	DefaultInboxMaxBytes = 1 << 20
	// PageSize is the number of items on one collection page.
	PageSize = 20
)

// Config describes one federating server and its main actor.
type Config struct {
	// BaseURL is the scheme and authority every IRI starts with, e.g.
	// "https://jalisco.example" or "http://jalisco.localhost:8080".
	BaseURL string
	// Username is the actor's preferredUsername (the node's slug, "hub").
	Username string
	// ActorType is "Organization" for a node and "Group" for the hub.
	ActorType string
	// Name and Summary are shown on fediverse profiles (Summary is HTML).
	Name, Summary string
	// Lang is the BCP 47 tag of the server's default language.
	Lang string
	// DB holds keys, followers, the outbox, the dedupe log and the queue.
	DB *mongo.Database
	// Guard says which addresses outgoing requests may reach. A BaseURL on
	// *.localhost turns on development mode (DevLocalhost) automatically.
	Guard fetch.Guard
	// Software and Version are published in NodeInfo.
	Software, Version string
	// InboxMaxBytes caps incoming activities (default DefaultInboxMaxBytes).
	InboxMaxBytes int64
	// InboxRate and InboxBurst limit inbox POSTs per client address
	// (defaults DefaultInboxRate, DefaultInboxBurst; a negative rate turns
	// the limit off, for benchmarks).
	InboxRate  float64
	InboxBurst int
	// Delivery tunes the outgoing queue (workers, backoff, lease).
	Delivery delivery.Options
	// Inbox is told of incoming activities (nil: IgnoreInbox{}).
	Inbox Inbox
	// ActorExtras are more properties of the main actor document, e.g. the
	// hub's "ogp:members"; ActorTerms are the JSON-LD terms they need,
	// added to the actor's @context ({"ogp": "https://ogpnet.org/ns#"}).
	ActorExtras map[string]any
	ActorTerms  map[string]any
	// ActorHTML renders the actor's profile page for browsers; when nil,
	// browsers asking for the actor IRI are redirected to "/".
	ActorHTML echo.HandlerFunc
	// Now is the clock (tests move it); default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Server is one federating server with one main actor and one application
// actor (FEP-2677) that signs outgoing GETs.
type Server struct {
	cfg      Config
	base     *url.URL
	actorKey *rsa.PrivateKey
	appKey   *rsa.PrivateKey

	queue   *delivery.Queue
	fetcher *fetch.Fetcher
	keys    httpsig.KeyResolver
	log     *slog.Logger

	followers *markedSet[Follower]
	following *markedSet[Following]
	// outbox is the outbox's ids in memory (outboxindex.go); outboxLoaded
	// what its start-up rebuild read.
	outbox       *outboxMemory
	outboxLoaded OutboxLoaded
	actors       *actorCache
	inbox        Inbox

	// unseen holds activity ids whose dedupe record could not be removed
	// after their processing failed (the store went away in between): the
	// sender's retry must be processed, not taken for a duplicate.
	unseen sync.Map
	// outage quiets the followers reload while the store is away;
	// outboxOutage the outbox refresh.
	outage       store.Outage
	outboxOutage store.Outage
	// seen groups the inbox's dedupe inserts (markSeen).
	seen *store.Inserter
}

// New loads (or creates once) the server's keys and opens its queue.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DB == nil {
		return nil, errors.New("federation: Config.DB is required")
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("federation: base URL %q must be an absolute http(s) URL", cfg.BaseURL)
	}
	if cfg.Username == "" {
		return nil, errors.New("federation: Config.Username is required")
	}
	if cfg.ActorType == "" {
		cfg.ActorType = "Organization"
	}
	if cfg.Lang == "" {
		cfg.Lang = "en"
	}
	if cfg.InboxMaxBytes <= 0 {
		cfg.InboxMaxBytes = DefaultInboxMaxBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Software == "" {
		cfg.Software = "ogpnet"
	}
	if IsDevHost(base.Hostname()) {
		cfg.Guard.DevLocalhost = true
	}
	s := &Server{
		cfg:   cfg,
		base:  base,
		log:   cfg.Logger.With("server", base.Host),
		inbox: cfg.Inbox,
	}
	s.outage = store.Outage{What: "followers reload", Log: s.log}
	s.outboxOutage = store.Outage{What: "outbox refresh", Log: s.log}
	s.seen = store.NewInserter(cfg.DB.Collection("inbox_seen"))
	if s.inbox == nil {
		s.inbox = IgnoreInbox{}
	}
	if s.actorKey, err = s.loadKey(ctx, "actor"); err != nil {
		return nil, err
	}
	if s.appKey, err = s.loadKey(ctx, "application"); err != nil {
		return nil, err
	}
	client := fetch.NewClient(cfg.Guard, 15*time.Second)
	s.fetcher = &fetch.Fetcher{
		Client:    client,
		KeyID:     s.AppKeyID(),
		Key:       s.appKey,
		UserAgent: cfg.Software + "/" + cfg.Version + " (+" + s.BaseURL() + ")",
	}
	s.keys = httpsig.NewKeyCache(fetch.KeyFetcher(s.fetcher), 10000, time.Hour)
	dopts := cfg.Delivery
	if dopts.Client == nil {
		// The same SSRF guard, but no redirects: a followed 302 turns the
		// POST into a bodiless GET whose 200 would count as delivered, and a
		// 307 would carry our signature to another target.
		noRedirects := *client
		noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		dopts.Client = &noRedirects
	}
	if dopts.Logger == nil {
		dopts.Logger = s.log
	}
	if dopts.Now == nil {
		dopts.Now = cfg.Now
	}
	actorKeyID, actorKey := s.KeyID(), s.actorKey
	s.queue, err = delivery.New(ctx, cfg.DB, func(req *http.Request, body []byte) error {
		return httpsig.Sign(req, body, actorKeyID, actorKey)
	}, dopts)
	if err != nil {
		return nil, err
	}
	if s.followers, err = loadFollowers(ctx, cfg.DB.Collection("followers"), cfg.DB.Collection(followersMarkCollection)); err != nil {
		return nil, err
	}
	if s.following, err = loadFollowing(ctx, cfg.DB.Collection("following"), cfg.DB.Collection(followingMarkCollection)); err != nil {
		return nil, err
	}
	s.actors = newActorCache(cfg.DB.Collection("remote_actors"), s.fetcher)
	if err := s.ensureIndexes(ctx); err != nil {
		return nil, err
	}
	// Outbox pages read the outbox's ids from memory: read them before
	// anything is served or published.
	s.outbox = newOutboxMemory(cfg.DB, cfg.Now)
	if s.outboxLoaded, err = s.outbox.rebuild(ctx); err != nil {
		return nil, err
	}
	s.log.Info("outbox loaded into memory", "entries", s.outboxLoaded.Entries, "took", s.outboxLoaded.Took)
	if s.outboxLoaded.Skipped > 0 {
		s.log.Warn("outbox: entries whose id NewActivityID did not make are not in the outbox pages",
			"entries", s.outboxLoaded.Skipped)
	}
	if err := s.announceRotation(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) ensureIndexes(ctx context.Context) error {
	return store.EnsureIndexes(ctx, s.cfg.DB.Collection("outbox"),
		mongo.IndexModel{Keys: bson.D{{Key: "objectId", Value: 1}}})
}

// followersRefresh is how often the followers and following sets are
// re-read from the store (when their marks moved), so a follow received by
// another replica reaches this one's fan-out, and a follow another replica
// made or saw answered reaches this one's FollowingAll.
const followersRefresh = 5 * time.Second

// Run delivers queued activities until ctx ends, then drains in-flight work.
func (s *Server) Run(ctx context.Context) error {
	go func() {
		t := time.NewTicker(followersRefresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				err := s.followers.reload(ctx)
				if err == nil {
					err = s.following.reload(ctx)
				}
				switch {
				case err == nil:
					s.outage.OK()
				case ctx.Err() != nil || s.outage.Failed(err):
					// The ticker is the back-off; the outage was logged once.
				default:
					s.log.Warn("followers: reload", "err", err)
				}
			}
		}
	}()
	go s.refreshOutbox(ctx)
	return s.queue.Run(ctx)
}

// refreshOutbox takes other replicas' outbox entries into memory every
// outboxRefresh (outboxindex.go): alone, one read of a small collection.
func (s *Server) refreshOutbox(ctx context.Context) {
	t := time.NewTicker(outboxRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := s.outbox.refresh(ctx)
			switch {
			case err == nil:
				s.outboxOutage.OK()
			case ctx.Err() != nil || s.outboxOutage.Failed(err):
			default:
				s.log.Warn("outbox: refresh", "err", err)
			}
		}
	}
}

// OutboxLoaded says what the start-up rebuild of the outbox's memory read.
func (s *Server) OutboxLoaded() OutboxLoaded { return s.outboxLoaded }

// Queue exposes the delivery queue (stats, host health).
func (s *Server) Queue() *delivery.Queue { return s.queue }

// Fetcher is the signed, SSRF-guarded fetcher of this server.
func (s *Server) Fetcher() *fetch.Fetcher { return s.fetcher }

// BaseURL returns the scheme and authority without a trailing slash.
func (s *Server) BaseURL() string { return s.base.Scheme + "://" + s.base.Host }

// Host returns the authority (host[:port]) of the server.
func (s *Server) Host() string { return s.base.Host }

// Username returns the main actor's preferredUsername.
func (s *Server) Username() string { return s.cfg.Username }

// ActorID is the main actor's IRI.
func (s *Server) ActorID() string { return s.BaseURL() + "/users/" + s.cfg.Username }

// KeyID is the main actor's key IRI.
func (s *Server) KeyID() string { return s.ActorID() + "#main-key" }

// AppID is the application actor's IRI (FEP-2677).
func (s *Server) AppID() string { return s.BaseURL() + "/application" }

// AppKeyID is the application actor's key IRI.
func (s *Server) AppKeyID() string { return s.AppID() + "#main-key" }

// AppOutboxID is the application actor's outbox (always empty).
func (s *Server) AppOutboxID() string { return s.AppID() + "/outbox" }

// FeaturedID is the main actor's featured (pinned) objects collection.
func (s *Server) FeaturedID() string { return s.ActorID() + featuredPath }

// FeaturedTagsID is the main actor's featured hashtags collection.
func (s *Server) FeaturedTagsID() string { return s.ActorID() + featuredTagsPath }

// FollowersID is the followers collection IRI (used in cc of public posts).
func (s *Server) FollowersID() string { return s.ActorID() + "/followers" }

// OutboxID is the outbox collection IRI.
func (s *Server) OutboxID() string { return s.ActorID() + "/outbox" }

// InboxID is the main actor's inbox IRI.
func (s *Server) InboxID() string { return s.ActorID() + "/inbox" }

// SharedInboxID is the server's shared inbox IRI.
func (s *Server) SharedInboxID() string { return s.BaseURL() + "/inbox" }

// NewActivityID mints a fresh, sortable activity IRI on this server.
func (s *Server) NewActivityID() string { return s.BaseURL() + "/activities/" + NewID(s.cfg.Now()) }

// Now is the server's clock.
func (s *Server) Now() time.Time { return s.cfg.Now() }

// IsDevHost reports whether host is "localhost" or under ".localhost": the
// development names that resolve to loopback (RFC 6761).
func IsDevHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

type keyDoc struct {
	ID  string `bson:"_id"`
	PEM string `bson:"pem"`
	// RotatedAt is when RotateKey last replaced the key.
	RotatedAt time.Time `bson:"rotatedAt,omitempty"`
	// Announce, on the actor's key, is the id (tail) of the Update that
	// tells followers of a rotation; set by RotateKey, cleared by New once
	// the Update is queued.
	Announce string `bson:"announce,omitempty"`
}

// loadKey returns the stored RSA key named name, generating and storing it
// on first start. Two replicas racing on first start both insert; the loser
// gets a duplicate-key error and reads the winner's key, so all agree.
func (s *Server) loadKey(ctx context.Context, name string) (*rsa.PrivateKey, error) {
	coll := s.cfg.DB.Collection("keys")
	var doc keyDoc
	err := coll.FindOne(ctx, bson.M{"_id": name}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		key, gerr := rsa.GenerateKey(rand.Reader, 2048)
		if gerr != nil {
			return nil, gerr
		}
		doc = keyDoc{ID: name, PEM: privateKeyPEM(key)}
		if _, err = coll.InsertOne(ctx, doc); err == nil {
			return key, nil
		}
		if !store.IsDuplicate(err) {
			return nil, fmt.Errorf("federation: store key: %w", err)
		}
		err = coll.FindOne(ctx, bson.M{"_id": name}).Decode(&doc)
	}
	if err != nil {
		return nil, fmt.Errorf("federation: load key %s: %w", name, err)
	}
	block, _ := pem.Decode([]byte(doc.PEM))
	if block == nil {
		return nil, fmt.Errorf("federation: key %s: bad PEM in store", name)
	}
	return x509.ParsePKCS1PrivateKey(block.Bytes)
}

func publicKeyPEM(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}
