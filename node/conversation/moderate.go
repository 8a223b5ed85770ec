package conversation

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Approve makes a held or hidden reply public and announces it (FEP-171b
// Add to its context); who is the operator, for the audit log.
func (s *Service) Approve(ctx context.Context, who, id string) (Reply, error) {
	return s.setStatus(ctx, who, id, Approved)
}

// Hide takes a reply out of the public thread; a reply that was public is
// announced removed.
func (s *Service) Hide(ctx context.Context, who, id string) (Reply, error) {
	return s.setStatus(ctx, who, id, Hidden)
}

func (s *Service) setStatus(ctx context.Context, who, id string, st Status) (Reply, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	r, ok := s.Get(id)
	if !ok {
		return Reply{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if r.Local {
		return Reply{}, fmt.Errorf("%w: %s is the node's own post, not a reply to moderate", ErrInvalid, id)
	}
	if r.Status == st {
		return r, nil
	}
	was := r.Status
	r.Status, r.Read = st, true
	if err := s.st.saveReply(ctx, &r); err != nil {
		return Reply{}, err
	}
	s.mu.Lock()
	s.index(&r)
	s.mu.Unlock()
	action := map[Status]string{Approved: "approve", Hidden: "hide"}[st]
	if err := s.logAction(ctx, who, action, id); err != nil {
		return Reply{}, err
	}
	switch {
	case st == Approved:
		return r, s.announce(ctx, "Add", r)
	case was == Approved:
		return r, s.announce(ctx, "Remove", r)
	}
	return r, nil
}

// BlockActor refuses everything from actor from now on; what it sent and
// was held is removed, what was public is hidden.
func (s *Service) BlockActor(ctx context.Context, who, actor string) error {
	actor = strings.TrimSpace(actor)
	if !absoluteHTTP(actor) {
		return fmt.Errorf("%w: actor %q: must be an actor IRI (https://…)", ErrInvalid, actor)
	}
	if actor == s.fed.ActorID() {
		return fmt.Errorf("%w: the node cannot block itself", ErrInvalid)
	}
	return s.block(ctx, who, Block{ID: "actor " + actor, Kind: "actor", Target: actor},
		func(r *Reply) bool { return r.Actor == actor })
}

// BlockDomain refuses everything from a domain (and its subdomains); what
// its actors sent and was held is removed, what was public is hidden.
func (s *Service) BlockDomain(ctx context.Context, who, domain string) error {
	d := strings.ToLower(strings.TrimSpace(domain))
	if u, err := url.Parse(d); err == nil && u.Host != "" {
		d = strings.ToLower(u.Hostname()) // a URL was pasted: keep its host
	}
	if d == "" || strings.ContainsAny(d, "/:@ ") || !strings.Contains(d, ".") && d != "localhost" {
		return fmt.Errorf("%w: domain %q: must be a domain name like mastodon.example", ErrInvalid, domain)
	}
	if d == hostOf(s.fed.ActorID()) {
		return fmt.Errorf("%w: the node cannot block its own domain", ErrInvalid)
	}
	return s.block(ctx, who, Block{ID: "domain " + d, Kind: "domain", Target: d},
		func(r *Reply) bool { h := hostOf(r.Actor); return h == d || strings.HasSuffix(h, "."+d) })
}

func (s *Service) block(ctx context.Context, who string, b Block, match func(*Reply) bool) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	b.By, b.At = who, s.now().UTC()
	if err := s.st.saveBlock(ctx, b); err != nil {
		return err
	}
	s.mu.Lock()
	s.blocks[b.ID] = b
	var hit []Reply
	for _, r := range s.replies {
		if !r.Local && match(r) {
			hit = append(hit, *r)
		}
	}
	s.mu.Unlock()
	if err := s.logAction(ctx, who, "block "+b.Kind, b.Target); err != nil {
		return err
	}
	for _, r := range hit {
		if r.Status == Approved {
			r.Status = Hidden
			if err := s.st.saveReply(ctx, &r); err != nil {
				return err
			}
			s.mu.Lock()
			s.index(&r)
			s.mu.Unlock()
			if err := s.announce(ctx, "Remove", r); err != nil {
				return err
			}
			continue
		}
		if err := s.remove(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// Unblock lifts a block ("actor <IRI>" or "domain <host>").
func (s *Service) Unblock(ctx context.Context, who, id string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.RLock()
	b, ok := s.blocks[id]
	s.mu.RUnlock()
	if !ok {
		return fmt.Errorf("%w: no block %q", ErrNotFound, id)
	}
	if err := s.st.deleteBlock(ctx, id); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.blocks, id)
	s.mu.Unlock()
	return s.logAction(ctx, who, "unblock "+b.Kind, b.Target)
}
