package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ogpnet/ogpnet/federation/fetch"
)

// RemoteActor is what we keep of another server's actor.
type RemoteActor struct {
	ID                string    `bson:"_id" json:"id"`
	Type              string    `bson:"type" json:"type"`
	PreferredUsername string    `bson:"preferredUsername" json:"preferredUsername"`
	Name              string    `bson:"name" json:"name"`
	Inbox             string    `bson:"inbox" json:"inbox"`
	Outbox            string    `bson:"outbox" json:"outbox"`
	SharedInbox       string    `bson:"sharedInbox,omitempty" json:"sharedInbox,omitempty"`
	URL               string    `bson:"url,omitempty" json:"url,omitempty"`
	Fetched           time.Time `bson:"fetched" json:"fetched"`
}

// remoteActorTTL is how long a fetched actor is trusted before a refetch.
const remoteActorTTL = 24 * time.Hour

// actorCache keeps fetched actors in memory, backed by the store so a
// restart does not refetch every follower.
type actorCache struct {
	coll    *mongo.Collection
	fetcher *fetch.Fetcher
	mu      sync.Mutex
	byID    map[string]RemoteActor
}

func newActorCache(coll *mongo.Collection, f *fetch.Fetcher) *actorCache {
	return &actorCache{coll: coll, fetcher: f, byID: map[string]RemoteActor{}}
}

func (c *actorCache) get(ctx context.Context, iri string, refresh bool) (RemoteActor, error) {
	c.mu.Lock()
	a, ok := c.byID[iri]
	c.mu.Unlock()
	if ok && !refresh && time.Since(a.Fetched) < remoteActorTTL {
		return a, nil
	}
	if !ok && !refresh {
		if err := c.coll.FindOne(ctx, bson.M{"_id": iri}).Decode(&a); err == nil && time.Since(a.Fetched) < remoteActorTTL {
			c.remember(a)
			return a, nil
		}
	}
	raw, err := c.fetcher.Get(ctx, iri)
	if err != nil {
		return RemoteActor{}, fmt.Errorf("fetch actor %s: %w", iri, err)
	}
	a, err = parseActor(raw)
	if err != nil {
		return RemoteActor{}, fmt.Errorf("actor %s: %w", iri, err)
	}
	a.Fetched = time.Now().UTC()
	if _, err := c.coll.ReplaceOne(ctx, bson.M{"_id": a.ID}, a, options.Replace().SetUpsert(true)); err != nil {
		return RemoteActor{}, fmt.Errorf("store actor: %w", err)
	}
	c.remember(a)
	return a, nil
}

func (c *actorCache) remember(a RemoteActor) {
	c.mu.Lock()
	if len(c.byID) > 50000 {
		clear(c.byID) // bounded: a full cache starts over rather than grow
	}
	c.byID[a.ID] = a
	c.mu.Unlock()
}

func parseActor(raw []byte) (RemoteActor, error) {
	var doc struct {
		ID                string `json:"id"`
		Type              any    `json:"type"`
		PreferredUsername string `json:"preferredUsername"`
		Name              string `json:"name"`
		Inbox             string `json:"inbox"`
		Outbox            string `json:"outbox"`
		URL               any    `json:"url"`
		Endpoints         struct {
			SharedInbox string `json:"sharedInbox"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return RemoteActor{}, err
	}
	if !absoluteHTTP(doc.Inbox) {
		return RemoteActor{}, errors.New("actor has no valid inbox")
	}
	a := RemoteActor{ID: doc.ID, PreferredUsername: doc.PreferredUsername, Name: doc.Name,
		Inbox: doc.Inbox, Outbox: doc.Outbox}
	if t, ok := doc.Type.(string); ok {
		a.Type = t
	}
	if u, ok := doc.URL.(string); ok {
		a.URL = u
	}
	if absoluteHTTP(doc.Endpoints.SharedInbox) {
		a.SharedInbox = doc.Endpoints.SharedInbox
	}
	return a, nil
}

// RemoteActor returns a remote actor, fetched (signed) or from the cache.
func (s *Server) RemoteActor(ctx context.Context, iri string) (RemoteActor, error) {
	return s.actors.get(ctx, iri, false)
}

// Resolve turns a handle ("@jalisco@host", "jalisco@host",
// "acct:jalisco@host") or an actor URL into an actor IRI, using WebFinger for
// handles, and checks that the actor document is reachable.
func (s *Server) Resolve(ctx context.Context, handleOrURL string) (RemoteActor, error) {
	h := strings.TrimSpace(handleOrURL)
	if absoluteHTTP(h) {
		return s.actors.get(ctx, h, true)
	}
	h = strings.TrimPrefix(strings.TrimPrefix(h, "acct:"), "@")
	at := strings.LastIndex(h, "@")
	if at <= 0 || at == len(h)-1 || strings.ContainsAny(h, "/?# ") {
		return RemoteActor{}, fmt.Errorf("%q is neither a handle like @name@host nor an actor URL", handleOrURL)
	}
	host := h[at+1:]
	scheme := "https"
	if IsDevHost(strings.Split(host, ":")[0]) {
		scheme = "http"
	}
	wf := scheme + "://" + host + "/.well-known/webfinger?resource=" + url.QueryEscape("acct:"+h)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wf, nil)
	if err != nil {
		return RemoteActor{}, err
	}
	req.Header.Set("Accept", "application/jrd+json, application/json")
	resp, err := s.fetcher.Client.Do(req)
	if err != nil {
		return RemoteActor{}, fmt.Errorf("webfinger %s: %w", h, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return RemoteActor{}, fmt.Errorf("webfinger %s: status %d", h, resp.StatusCode)
	}
	var jrd struct {
		Links []struct{ Rel, Type, Href string } `json:"links"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<10)).Decode(&jrd); err != nil {
		return RemoteActor{}, fmt.Errorf("webfinger %s: %w", h, err)
	}
	for _, l := range jrd.Links {
		if l.Rel == "self" && (strings.HasPrefix(l.Type, "application/activity+json") || strings.HasPrefix(l.Type, "application/ld+json")) {
			return s.actors.get(ctx, l.Href, true)
		}
	}
	return RemoteActor{}, fmt.Errorf("webfinger %s: no ActivityPub self link", h)
}
