package discussion

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// ErrNoPost is a moderation action on a post the hub does not keep.
var ErrNoPost = errors.New("discussion: no such post")

// ErrBadTarget is a block of something that is not an actor IRI or a host.
var ErrBadTarget = errors.New("discussion: not an actor IRI or a domain")

func sanitize(s string) template.HTML { return readmodel.SanitizeHTML(s) }

// Approve makes a held or hidden post public (staff: by names who); a
// post addressed to the Group is then announced to its followers.
func (s *Service) Approve(ctx context.Context, id, by string) error {
	p, ok := s.Get(id)
	if !ok {
		return ErrNoPost
	}
	if p.Status != Approved {
		p.Status = Approved
		if err := s.put(ctx, p); err != nil {
			return err
		}
	}
	if err := s.record(ctx, by, "approve", id); err != nil {
		return err
	}
	if p.ToGroup {
		return s.announce(ctx, p)
	}
	return nil
}

// Hide withdraws a post from the hub's pages and API (kept for staff).
func (s *Service) Hide(ctx context.Context, id, by string) error {
	p, ok := s.Get(id)
	if !ok {
		return ErrNoPost
	}
	if p.Status != Hidden {
		p.Status = Hidden
		if err := s.put(ctx, p); err != nil {
			return err
		}
	}
	return s.record(ctx, by, "hide", id)
}

// BlockActor refuses everything from actor from now on and removes what
// the hub kept from it.
func (s *Service) BlockActor(ctx context.Context, actor, by string) error {
	actor = strings.TrimSpace(actor)
	if hostOf(actor) == "" {
		return ErrBadTarget
	}
	return s.block(ctx, Block{Key: "actor " + actor, Kind: "actor", Value: actor}, by,
		func(p *Post) bool { return p.Actor == actor })
}

// BlockDomain refuses everything from every actor of host and removes what
// the hub kept from them. host may be given as a URL or a handle's domain.
func (s *Service) BlockDomain(ctx context.Context, host, by string) error {
	host = strings.ToLower(strings.TrimSpace(host))
	if h := hostOf(host); h != "" {
		host = h
	}
	if host == "" || strings.ContainsAny(host, "/@ ") {
		return ErrBadTarget
	}
	return s.block(ctx, Block{Key: "domain " + host, Kind: "domain", Value: host}, by,
		func(p *Post) bool { return hostOf(p.Actor) == host })
}

func (s *Service) block(ctx context.Context, b Block, by string, match func(*Post) bool) error {
	b.By, b.At = by, s.cfg.Now().UTC()
	if _, err := s.blocks.ReplaceOne(ctx, bson.M{"_id": b.Key}, b, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("discussion: block: %w", err)
	}
	s.mu.Lock()
	s.blocked[b.Key] = b
	s.mu.Unlock()
	s.changed(ctx)
	if err := s.drop(ctx, s.idsOf(match)...); err != nil {
		return err
	}
	return s.record(ctx, by, "block-"+b.Kind, b.Value)
}

// Unblock lifts a block (key as Block.Key).
func (s *Service) Unblock(ctx context.Context, key, by string) error {
	s.mu.RLock()
	b, ok := s.blocked[key]
	s.mu.RUnlock()
	if !ok {
		return ErrBadTarget
	}
	if _, err := s.blocks.DeleteOne(ctx, bson.M{"_id": key}); err != nil {
		return fmt.Errorf("discussion: unblock: %w", err)
	}
	s.mu.Lock()
	delete(s.blocked, key)
	s.mu.Unlock()
	s.changed(ctx)
	return s.record(ctx, by, "unblock-"+b.Kind, b.Value)
}

// Blocks returns every block, newest first.
func (s *Service) Blocks() []Block {
	s.mu.RLock()
	out := make([]Block, 0, len(s.blocked))
	for _, b := range s.blocked {
		out = append(out, b)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Block) int { return b.At.Compare(a.At) })
	return out
}

// Audit returns the latest moderation actions, newest first (limit <= 0:
// all kept in memory).
func (s *Service) Audit(limit int) []AuditEntry {
	s.mu.RLock()
	out := slices.Clone(s.log)
	s.mu.RUnlock()
	slices.Reverse(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
