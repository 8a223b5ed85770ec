package discussion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/ogp"
)

// ErrRefused wraps why a post was refused (blocked, off-thread, over a
// limit); it is a federation.ErrRejected, answered 422.
var ErrRefused = fmt.Errorf("discussion: %w", federation.ErrRejected)

// ErrBlocked is the refusal of a blocked actor or domain (403).
var ErrBlocked = fmt.Errorf("discussion: %w: the actor or its domain is blocked on this hub", federation.ErrForbidden)

// ErrGroupClosed refuses posts to the Group when the hub takes none
// (--group-posts off): 403.
var ErrGroupClosed = fmt.Errorf("discussion: %w: this hub takes no posts addressed to its Group", federation.ErrForbidden)

// embeddedNote reads the activity's object as sent, only to decide whether
// the activity is conversation traffic: nothing from it is kept.
func embeddedNote(a *federation.Activity) (note, bool) {
	var shape struct {
		Object json.RawMessage `json:"object"`
	}
	if json.Unmarshal(a.Raw, &shape) != nil || len(shape.Object) == 0 || shape.Object[0] != '{' {
		return note{}, false
	}
	var n note
	if json.Unmarshal(shape.Object, &n) != nil {
		return note{}, false
	}
	return n, true
}

// Wants reports whether a Create or Update is conversation traffic for
// the hub, from what the activity says about its object (no fetch): a
// Note that is not an ogp progress update, or an Update of a post the hub
// keeps. A member's progress update (Note with ogp:date) and everything
// else go to ingest.
func (s *Service) Wants(a *federation.Activity) bool {
	if a.Type == "Update" && s.Knows(a.ObjectID) {
		return true
	}
	n, ok := embeddedNote(a)
	if !ok {
		// An object given by IRI only: a member's objects are embedded, so
		// this is not ogp data; a Note the hub keeps is discussion.
		return s.Knows(a.ObjectID) || !s.cfg.Members.Accepting(a.Actor)
	}
	return n.Type == "Note" && len(n.OGPDate) == 0
}

// Create handles Create{Note}: a member's question or answer in a
// commitment's thread (approved), or a post addressed to the Group by
// anyone (held for staff; a member's is approved). Anything else is not the
// hub's business and is ignored.
func (s *Service) Create(ctx context.Context, a *federation.Activity) error {
	if s.IsBlocked(a.Actor) {
		return ErrBlocked
	}
	if s.Knows(a.ObjectID) {
		return nil // already kept (the owner's Add may have come first)
	}
	member := s.cfg.Members.Accepting(a.Actor)
	if hint, ok := embeddedNote(a); ok && !member && !hint.addresses(s.cfg.Group) {
		// Not addressed to the Group, from a non-member: not for the hub,
		// and not worth a fetch.
		return nil
	}
	raw, err := a.Object(ctx) // the author's own embedded copy, or a signed fetch
	if err != nil {
		return err
	}
	n, author, err := parseNote(raw, a.ObjectID)
	if errors.Is(err, ErrNotNote) {
		return nil
	} else if err != nil {
		return fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if author != a.Actor {
		return fmt.Errorf("%w: %s is attributed to %s, not to the activity's actor", ErrRefused, a.ObjectID, author)
	}
	toGroup := n.addresses(s.cfg.Group)
	commitment, inThread := s.threadOf(ctx, n.inReplyTo(), true)
	p := s.newPost(ctx, n, author, raw, commitment)
	p.ToGroup = toGroup
	switch {
	case member && (inThread || toGroup):
		p.Status, p.Via = Approved, ViaMember
	case toGroup && s.cfg.GroupPosts == GroupOff:
		return ErrGroupClosed
	case toGroup && s.cfg.GroupPosts == GroupOpen:
		p.Status, p.Via = Approved, ViaGroup
	case toGroup:
		if s.heldBy(author) >= MaxHeldPerActor {
			return fmt.Errorf("%w: %d posts of %s already wait for review", ErrRefused, MaxHeldPerActor, author)
		}
		p.Status, p.Via = Held, ViaGroup
	default:
		return nil // a member's Note about nothing the hub holds
	}
	if err := s.put(ctx, p); err != nil {
		return err
	}
	if p.Status == Approved && p.ToGroup {
		return s.announce(ctx, p)
	}
	return nil
}

// Update refreshes a post its author edited (federation has checked the
// object is on the author's host; here it must be the post's author).
// The status stays as it was.
func (s *Service) Update(ctx context.Context, a *federation.Activity) error {
	old, ok := s.Get(a.ObjectID)
	if !ok {
		return nil
	}
	if old.Actor != a.Actor {
		return fmt.Errorf("%w: only %s may edit %s", federation.ErrForbidden, old.Actor, old.ID)
	}
	raw, err := a.Object(ctx)
	if err != nil {
		return err
	}
	n, _, err := parseNote(raw, old.ID)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if !n.Updated.IsZero() && !old.Updated.IsZero() && !n.Updated.After(old.Updated) {
		return nil // stale or repeated
	}
	p := old
	p.Content, p.Summary, p.Raw = string(sanitize(n.Content)), plain(n.Summary), raw
	p.Updated = n.Updated
	if p.Updated.IsZero() {
		p.Updated = s.cfg.Now().UTC()
	}
	return s.put(ctx, p)
}

// Delete removes a post its author deleted, or every post of an actor that
// deleted its account. It reports whether the object was discussion's.
func (s *Service) Delete(ctx context.Context, a *federation.Activity) (bool, error) {
	if a.ObjectID == a.Actor {
		ids := s.idsOf(func(p *Post) bool { return p.Actor == a.Actor })
		if len(ids) == 0 {
			return false, nil
		}
		return true, s.drop(ctx, ids...)
	}
	p, ok := s.Get(a.ObjectID)
	if !ok {
		return false, nil
	}
	if p.Actor != a.Actor {
		return true, fmt.Errorf("%w: only %s may delete %s", federation.ErrForbidden, p.Actor, p.ID)
	}
	if err := s.drop(ctx, p.ID); err != nil {
		return true, err
	}
	return true, s.record(ctx, a.Actor, "author-delete", p.ID)
}

// contextTarget reads the target of an Add or Remove and the commitment it
// is the context of ("<commitment IRI>/context").
func contextTarget(a *federation.Activity) (target, commitment string) {
	var shape struct {
		Target json.RawMessage `json:"target"`
	}
	if json.Unmarshal(a.Raw, &shape) != nil {
		return "", ""
	}
	target = ogp.LinkIRI(shape.Target)
	c, ok := strings.CutSuffix(target, "/context")
	if !ok {
		return target, ""
	}
	return target, c
}

// Add handles the owner's FEP-171b Add of an approved reply to a
// commitment's context: the reply is fetched from its origin (the copy in
// the activity is never read), its inReplyTo chain must reach the
// commitment, and it is kept approved. An Add about a context the hub does
// not hold, or from anyone but its owner, is ignored.
func (s *Service) Add(ctx context.Context, a *federation.Activity) error {
	_, commitment := contextTarget(a)
	if commitment == "" || s.owner(commitment) != a.Actor || !s.cfg.Members.Accepting(a.Actor) {
		return nil
	}
	if a.ObjectID == "" {
		return fmt.Errorf("%w: Add has no object", federation.ErrMalformed)
	}
	if old, ok := s.Get(a.ObjectID); ok && old.Status != Held {
		return nil // approved already, or hidden by staff: staff have the last word
	}
	if s.cfg.Fetch == nil {
		return fmt.Errorf("%w: no fetcher", federation.ErrUnavailable)
	}
	raw, err := s.cfg.Fetch(ctx, a.ObjectID)
	if err != nil {
		s.cfg.Log.InfoContext(ctx, "discussion: reply fetch failed", "reply", a.ObjectID, "err", err)
		return fmt.Errorf("%w: could not fetch %s from its origin", federation.ErrMalformed, a.ObjectID)
	}
	n, author, err := parseNote(raw, a.ObjectID)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if s.IsBlocked(author) {
		return nil // staff blocked the author on the hub: the owner's approval does not override it
	}
	got, ok := s.threadOf(ctx, n.inReplyTo(), true)
	if !ok || got != commitment {
		return fmt.Errorf("%w: %s does not reply within the thread of %s", ErrRefused, a.ObjectID, commitment)
	}
	p := s.newPost(ctx, n, author, raw, commitment)
	p.Status, p.Via = Approved, ViaOwner
	if old, ok := s.Get(p.ID); ok {
		p.Received, p.ToGroup = old.Received, old.ToGroup
	}
	if err := s.put(ctx, p); err != nil {
		return err
	}
	if err := s.record(ctx, a.Actor, "owner-add", p.ID); err != nil {
		return err
	}
	if p.ToGroup {
		return s.announce(ctx, p)
	}
	return nil
}

// Remove handles the owner's Remove of a reply from a commitment's
// context (hidden or deleted on the node): the post leaves the hub.
func (s *Service) Remove(ctx context.Context, a *federation.Activity) error {
	_, commitment := contextTarget(a)
	if commitment == "" || s.owner(commitment) != a.Actor {
		return nil
	}
	p, ok := s.Get(a.ObjectID)
	if !ok || p.Commitment != commitment {
		return nil
	}
	if err := s.drop(ctx, p.ID); err != nil {
		return err
	}
	return s.record(ctx, a.Actor, "owner-remove", p.ID)
}

// newPost builds the record of a parsed Note.
func (s *Service) newPost(ctx context.Context, n note, author string, raw []byte, commitment string) Post {
	p := Post{
		ID: n.ID, Actor: author, Handle: s.handle(ctx, author), InReplyTo: n.inReplyTo(), Commitment: commitment,
		URL: n.link(), Summary: plain(n.Summary), Content: string(sanitize(n.Content)),
		Published: n.Published.UTC(), Updated: n.Updated.UTC(), Received: s.cfg.Now().UTC(), Raw: raw,
	}
	if p.Published.IsZero() || p.Published.After(p.Received) {
		// A missing or future date would sort the post out of place.
		p.Published = p.Received
	}
	return p
}

// threadOf finds the commitment whose thread parent belongs to: the
// commitment itself, one of its progress updates, or a post the hub
// keeps; otherwise, when fetch allows, the parent is fetched from its
// origin and its own parent looked at, up to MaxChain fetches.
func (s *Service) threadOf(ctx context.Context, parent string, fetch bool) (string, bool) {
	for range MaxChain + 1 {
		if parent == "" {
			return "", false
		}
		if _, ok := s.cfg.Model.Commitment(parent); ok {
			return parent, true
		}
		if c, _, ok := strings.Cut(parent, "/updates/"); ok && s.isUpdateOf(c, parent) {
			return c, true
		}
		if p, ok := s.Get(parent); ok {
			return p.Commitment, p.Commitment != ""
		}
		if !fetch || s.cfg.Fetch == nil {
			return "", false
		}
		raw, err := s.cfg.Fetch(ctx, parent)
		if err != nil {
			return "", false
		}
		n, _, err := parseNote(raw, parent)
		if err != nil {
			return "", false
		}
		parent = n.inReplyTo()
	}
	return "", false
}

// isUpdateOf reports whether iri is a progress update of commitment.
func (s *Service) isUpdateOf(commitment, iri string) bool {
	for _, u := range s.cfg.Model.Timeline(commitment) {
		if u.ID == iri {
			return true
		}
	}
	return false
}

func (s *Service) heldBy(actor string) int {
	return len(s.idsOf(func(p *Post) bool { return p.Actor == actor && p.Status == Held }))
}

func (s *Service) idsOf(match func(*Post) bool) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []string
	for id, p := range s.byID {
		if match(p) {
			ids = append(ids, id)
		}
	}
	return ids
}

// announce boosts an approved post addressed to the Group (FEP-1b12).
func (s *Service) announce(ctx context.Context, p Post) error {
	if s.cfg.Announce == nil {
		return nil
	}
	return s.cfg.Announce.Announce(ctx, p.ID)
}
