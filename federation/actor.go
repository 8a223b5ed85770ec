package federation

import (
	"encoding/json"
	"net/http"

	vocab "github.com/go-ap/activitypub"
	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/internal/accept"
)

// ContentType is the media type of every ActivityPub document we serve.
const ContentType = "application/activity+json"

// Contexts every actor document declares: ActivityStreams, security/v1 (for
// publicKey) and the Mastodon extension terms we use.
var actorContext = []any{
	"https://www.w3.org/ns/activitystreams",
	"https://w3id.org/security/v1",
	map[string]any{
		"toot":                      "http://joinmastodon.org/ns#",
		"discoverable":              "toot:discoverable",
		"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
		"schema":                    "http://schema.org#",
		"PropertyValue":             "schema:PropertyValue",
		"value":                     "schema:value",
		"featured":                  map[string]any{"@id": "toot:featured", "@type": "@id"},
		"featuredTags":              map[string]any{"@id": "toot:featuredTags", "@type": "@id"},
	},
}

// Register mounts the federation routes on e. Hub and node add their own
// routes beside them; object IRIs (commitments, …) are theirs to serve.
func (s *Server) Register(e *echo.Echo) {
	e.GET("/.well-known/webfinger", s.webfinger)
	e.GET("/.well-known/nodeinfo", s.nodeinfoLinks)
	e.GET("/.well-known/host-meta", s.hostMeta)
	e.GET("/nodeinfo/2.1", s.nodeinfo)
	e.GET("/application", s.applicationActor)
	e.GET("/application/outbox", s.emptyCollection(s.AppOutboxID()))
	e.GET("/application/collections/featured", s.emptyCollection(s.AppID()+featuredPath))
	e.GET("/users/:name", s.actorHandler)
	e.GET("/users/:name/outbox", s.outboxHandler)
	e.GET("/users/:name/followers", s.followersHandler)
	e.GET("/users/:name/following", s.followingHandler)
	e.GET("/users/:name"+featuredPath, s.actorCollection(s.FeaturedID()))
	e.GET("/users/:name"+featuredTagsPath, s.actorCollection(s.FeaturedTagsID()))
	limit := s.inboxLimiter()
	e.POST("/users/:name/inbox", s.inboxHandler, limit)
	e.POST("/inbox", s.inboxHandler, limit)
	e.GET("/activities/:id", s.activityHandler)
}

// ActorJSON returns the main actor document.
func (s *Server) ActorJSON() ([]byte, error) {
	a := vocab.ActorNew(vocab.IRI(s.ActorID()), vocab.ActivityVocabularyType(s.cfg.ActorType))
	a.PreferredUsername = vocab.NaturalLanguageValuesNew(vocab.DefaultLangRef(s.cfg.Username))
	if s.cfg.Name != "" {
		a.Name = vocab.NaturalLanguageValuesNew(vocab.DefaultLangRef(s.cfg.Name))
	}
	if s.cfg.Summary != "" {
		a.Summary = vocab.NaturalLanguageValuesNew(vocab.DefaultLangRef(s.cfg.Summary))
	}
	a.Inbox = vocab.IRI(s.InboxID())
	a.Outbox = vocab.IRI(s.OutboxID())
	a.Followers = vocab.IRI(s.FollowersID())
	a.Following = vocab.IRI(s.ActorID() + "/following")
	a.URL = vocab.IRI(s.ActorID())
	a.Endpoints = &vocab.Endpoints{SharedInbox: vocab.IRI(s.SharedInboxID())}
	a.PublicKey = vocab.PublicKey{
		ID:           vocab.ID(s.KeyID()),
		Owner:        vocab.IRI(s.ActorID()),
		PublicKeyPem: publicKeyPEM(s.actorKey),
	}
	extra := map[string]any{
		"discoverable":              true,
		"manuallyApprovesFollowers": false,
		// Mastodon's pinned posts and featured hashtags: empty, but present,
		// since GoToSocial and Mastodon look for them on every actor.
		"featured":     s.FeaturedID(),
		"featuredTags": s.FeaturedTagsID(),
	}
	for k, v := range s.cfg.ActorExtras {
		extra[k] = v
	}
	raw, err := s.withExtras(a, extra)
	if err != nil || len(s.cfg.ActorTerms) == 0 {
		return raw, err
	}
	// The actor's own terms join the shared context's term map.
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	terms := map[string]any{}
	for k, v := range actorContext[2].(map[string]any) {
		terms[k] = v
	}
	for k, v := range s.cfg.ActorTerms {
		terms[k] = v
	}
	m["@context"] = []any{actorContext[0], actorContext[1], terms}
	return json.Marshal(m)
}

// ApplicationJSON returns the FEP-2677 application actor, which signs our
// GETs and must itself be fetchable without a signature.
func (s *Server) ApplicationJSON() ([]byte, error) {
	a := vocab.ActorNew(vocab.IRI(s.AppID()), vocab.ApplicationType)
	a.PreferredUsername = vocab.NaturalLanguageValuesNew(vocab.DefaultLangRef(s.base.Hostname()))
	a.Name = vocab.NaturalLanguageValuesNew(vocab.DefaultLangRef(s.cfg.Software + " at " + s.base.Host))
	a.Inbox = vocab.IRI(s.SharedInboxID())
	a.Outbox = vocab.IRI(s.AppOutboxID())
	a.URL = vocab.IRI(s.BaseURL() + "/")
	a.PublicKey = vocab.PublicKey{
		ID:           vocab.ID(s.AppKeyID()),
		Owner:        vocab.IRI(s.AppID()),
		PublicKeyPem: publicKeyPEM(s.appKey),
	}
	return s.withExtras(a, map[string]any{"manuallyApprovesFollowers": true, "discoverable": false,
		"featured": s.AppID() + featuredPath})
}

// withExtras marshals a go-ap item and merges the terms go-ap does not model
// (design §3: parse and build with go-ap, post-process where Mastodon needs
// more).
func (s *Server) withExtras(item vocab.Item, extra map[string]any) ([]byte, error) {
	raw, err := json.Marshal(item)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	for k, v := range extra {
		m[k] = v
	}
	m["@context"] = actorContext
	return json.Marshal(m)
}

func (s *Server) actorHandler(c echo.Context) error {
	if c.Param("name") != s.cfg.Username {
		return echo.NewHTTPError(http.StatusNotFound, "no such actor")
	}
	c.Response().Header().Add("Vary", "Accept")
	if !WantsActivityJSON(c.Request()) {
		if s.cfg.ActorHTML != nil {
			return s.cfg.ActorHTML(c)
		}
		return c.Redirect(http.StatusSeeOther, "/")
	}
	body, err := s.ActorJSON()
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, ContentType+"; charset=utf-8", body)
}

func (s *Server) applicationActor(c echo.Context) error {
	body, err := s.ApplicationJSON()
	if err != nil {
		return err
	}
	c.Response().Header().Add("Vary", "Accept")
	return c.Blob(http.StatusOK, ContentType+"; charset=utf-8", body)
}

// WantsActivityJSON reports whether the request prefers an ActivityPub
// document over HTML (the one negotiation rule of the project, shared with
// the web layer: internal/accept).
func WantsActivityJSON(r *http.Request) bool { return accept.WantsActivityJSON(r.Header.Get("Accept")) }

// Paths of the featured collections under an actor's IRI (Mastodon's).
const (
	featuredPath     = "/collections/featured"
	featuredTagsPath = "/collections/tags"
)

// actorCollection serves the main actor's empty collection id.
func (s *Server) actorCollection(id string) echo.HandlerFunc {
	empty := s.emptyCollection(id)
	return func(c echo.Context) error {
		if c.Param("name") != s.cfg.Username {
			return echo.NewHTTPError(http.StatusNotFound, "no such actor")
		}
		return empty(c)
	}
}

// emptyCollection serves an OrderedCollection with no items at id: the
// collections an actor document names (the application actor's outbox,
// the featured posts and tags) must answer, and ours have nothing in them.
func (s *Server) emptyCollection(id string) echo.HandlerFunc {
	return func(c echo.Context) error {
		return apJSON(c, map[string]any{
			"@context": collectionContext(), "id": id, "type": "OrderedCollection",
			"totalItems": 0, "orderedItems": []any{},
		})
	}
}
