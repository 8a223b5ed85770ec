package conversation

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// Trust (docs/discussion.md): a hub is a follower of the node whose actor
// is a Group with an "ogp:members" collection; the hub and every actor it
// lists skip review. What a hub lists is cached for TrustTTL, a hub that
// could not be read for a tenth of it.

type hubInfo struct {
	isHub   bool
	members map[string]bool
	fetched time.Time
	ttl     time.Duration
}

type trustCache struct {
	ttl time.Duration
	mu  sync.Mutex
	// by follower actor IRI
	byActor map[string]hubInfo
}

// trusted reports whether actor is a hub following the node or one of the
// members a hub lists.
func (s *Service) trusted(ctx context.Context, actor string) bool {
	if actor == s.fed.ActorID() {
		return true
	}
	for _, f := range s.fed.Followers() {
		h := s.hub(ctx, f.Actor)
		if h.isHub && (f.Actor == actor || h.members[actor]) {
			return true
		}
	}
	return false
}

// hubs lists the hubs that follow the node.
func (s *Service) hubs(ctx context.Context) []string {
	var out []string
	for _, f := range s.fed.Followers() {
		if s.hub(ctx, f.Actor).isHub {
			out = append(out, f.Actor)
		}
	}
	return out
}

// hub reads (or recalls) whether a follower is a hub, and its members.
func (s *Service) hub(ctx context.Context, actor string) hubInfo {
	now := s.now()
	s.trust.mu.Lock()
	if s.trust.byActor == nil {
		s.trust.byActor = map[string]hubInfo{}
	}
	h, ok := s.trust.byActor[actor]
	s.trust.mu.Unlock()
	if ok && now.Sub(h.fetched) < h.ttl {
		return h
	}
	// Only a Group can be a hub: the actor cache answers that without a
	// fetch for the fediverse accounts that follow the node.
	h = hubInfo{fetched: now, ttl: s.trust.ttl}
	if ra, err := s.fed.RemoteActor(ctx, actor); err != nil {
		h.ttl = s.trust.ttl / 10
	} else if ra.Type == "Group" {
		h = s.readHub(ctx, actor, h)
	}
	s.trust.mu.Lock()
	s.trust.byActor[actor] = h
	s.trust.mu.Unlock()
	return h
}

func (s *Service) readHub(ctx context.Context, actor string, h hubInfo) hubInfo {
	raw, err := s.fed.Fetcher().Get(ctx, actor)
	if err != nil {
		h.ttl = s.trust.ttl / 10
		s.log.InfoContext(ctx, "conversation: could not read the hub actor", "actor", actor, "err", err)
		return h
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(raw, &doc) != nil {
		return h
	}
	iri := ogp.LinkIRI(doc["ogp:members"])
	if iri == "" {
		iri = ogp.LinkIRI(doc["https://ogpnet.org/ns#members"])
	}
	if iri == "" || hostPort(iri) != hostPort(actor) {
		return h // a Group, but not a hub (or its list is elsewhere)
	}
	h.isHub = true
	raw, err = s.fed.Fetcher().Get(ctx, iri)
	if err != nil {
		h.ttl = s.trust.ttl / 10
		s.log.InfoContext(ctx, "conversation: could not read the hub's members", "collection", iri, "err", err)
		return h
	}
	var coll struct {
		OrderedItems []json.RawMessage `json:"orderedItems"`
		Items        []json.RawMessage `json:"items"`
	}
	if json.Unmarshal(raw, &coll) != nil {
		return h
	}
	h.members = map[string]bool{}
	for _, it := range append(coll.OrderedItems, coll.Items...) {
		if m := ogp.LinkIRI(it); m != "" {
			h.members[m] = true
		}
	}
	return h
}
