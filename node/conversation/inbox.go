package conversation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/ogp"
)

// Object receives Create, Update and Flag (the rest is ignored). It is
// the node Inbox's Object; errors wrap federation's sentinels.
func (s *Service) Object(ctx context.Context, a *federation.Activity) error {
	switch a.Type {
	case "Create", "Update", "Flag":
	default:
		return nil
	}
	if b, ok := s.blockedBy(a.Actor); ok {
		return fmt.Errorf("%w: %s is blocked by this node (%s %s)", federation.ErrForbidden, a.Actor, b.Kind, b.Target)
	}
	switch a.Type {
	case "Create":
		return s.create(ctx, a)
	case "Update":
		return s.update(ctx, a)
	default:
		return s.flag(ctx, a)
	}
}

// Delete removes a reply its author deleted, or every reply of an account
// that was deleted.
func (s *Service) Delete(ctx context.Context, a *federation.Activity) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var gone []Reply
	s.mu.RLock()
	if a.ObjectID == a.Actor {
		for _, r := range s.replies {
			if r.Actor == a.Actor && !r.Local {
				gone = append(gone, *r)
			}
		}
	} else if r, ok := s.replies[a.ObjectID]; ok && r.Actor == a.Actor && !r.Local {
		gone = append(gone, *r)
	}
	s.mu.RUnlock()
	for _, r := range gone {
		if err := s.remove(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes r and announces the removal when it was public (wmu held).
func (s *Service) remove(ctx context.Context, r Reply) error {
	if err := s.st.deleteReply(ctx, r.ID); err != nil {
		return err
	}
	s.mu.Lock()
	s.unindex(r.ID)
	s.mu.Unlock()
	if r.Status == Approved {
		return s.announce(ctx, "Remove", r)
	}
	return nil
}

// create takes a reply in.
func (s *Service) create(ctx context.Context, a *federation.Activity) error {
	raw, err := a.Object(ctx)
	if err != nil {
		return err
	}
	p, err := parseNote(raw)
	if err != nil {
		// Not a Note (a Create of something else): not a reply, not ours.
		if !strings.Contains(string(raw), `"Note"`) {
			return nil
		}
		return fmt.Errorf("%w: %v", federation.ErrRejected, err)
	}
	if p.Actor != a.Actor {
		return fmt.Errorf("%w: the Note is attributed to %s, not to the activity's actor %s", federation.ErrForbidden, p.Actor, a.Actor)
	}
	th, ok, err := s.threadOf(ctx, p)
	if err != nil {
		return err
	}
	if !ok {
		return nil // neither a reply in our threads nor addressed to us
	}
	// Trust and the handle may need a fetch: before the write lock.
	trusted := s.trusted(ctx, a.Actor)
	handle := s.handleOf(ctx, a.Actor)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if old, dup := s.Get(p.ID); dup {
		if old.Actor != a.Actor {
			return fmt.Errorf("%w: %s already exists", federation.ErrForbidden, p.ID)
		}
		return nil // the same Create again
	}
	status := Held
	switch {
	case trusted, s.cfg.Mode == Open:
		status = Approved
	case s.cfg.Mode == Off:
		return fmt.Errorf("%w: this node does not take replies from the public (--replies off)", federation.ErrForbidden)
	}
	if !trusted {
		if err := s.allow(a.Actor); err != nil {
			return err
		}
	}
	now := s.now().UTC()
	r := &Reply{
		ID: p.ID, Actor: a.Actor, Handle: handle, InReplyTo: p.InReplyTo,
		Root: th.Root, Context: th.Context, Status: status,
		Published: orNow(p.Published, now), Updated: p.Updated, Received: now,
		Content: Sanitize(p.Content), Summary: plainText(p.Summary), Sensitive: p.Sensitive,
		Hashtags: p.Hashtags, Mentions: p.Mentions, URL: safeURL(p.URL), Raw: string(a.Raw),
	}
	if err := s.st.saveReply(ctx, r); err != nil {
		return err
	}
	s.mu.Lock()
	s.index(r)
	s.recent[a.Actor] = append(s.recent[a.Actor], now)
	s.mu.Unlock()
	s.log.InfoContext(ctx, "conversation: reply received", "reply", r.ID, "actor", r.Actor, "status", r.Status)
	if status == Approved {
		return s.announce(ctx, "Add", *r)
	}
	return nil
}

// threadOf finds the thread a Note belongs to: a reply to a node object or
// to a post already in one of the node's threads, or a post that addresses
// or mentions the node actor (a thread of its own).
func (s *Service) threadOf(ctx context.Context, p parsed) (Thread, bool, error) {
	if p.InReplyTo != "" {
		if parent, ok := s.Get(p.InReplyTo); ok {
			return Thread{Root: parent.Root, Context: parent.Context}, true, nil
		}
		if s.cfg.Lookup != nil {
			th, ok, err := s.cfg.Lookup(ctx, p.InReplyTo)
			if err != nil {
				return Thread{}, false, fmt.Errorf("%w: looking up %s: %w", federation.ErrUnavailable, p.InReplyTo, err)
			}
			if ok {
				return th, true, nil
			}
		}
	}
	me := s.fed.ActorID()
	if slices.Contains(p.Addressed, me) || slices.ContainsFunc(p.Mentions, func(m Mention) bool { return m.Href == me }) {
		return Thread{}, true, nil
	}
	return Thread{}, false, nil
}

// allow applies the per-actor rate limit (wmu held).
func (s *Service) allow(actor string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	hourAgo := s.now().Add(-time.Hour)
	times := slices.DeleteFunc(s.recent[actor], func(t time.Time) bool { return !t.After(hourAgo) })
	s.recent[actor] = times
	if len(times) >= s.cfg.RatePerHour {
		return fmt.Errorf("%w: %s sent %d replies in the last hour, the limit is %d; try later",
			federation.ErrTooMany, actor, len(times), s.cfg.RatePerHour)
	}
	return nil
}

// update honours an edit by the reply's author.
func (s *Service) update(ctx context.Context, a *federation.Activity) error {
	old, ok := s.Get(a.ObjectID)
	if !ok || old.Local {
		return nil
	}
	if old.Actor != a.Actor {
		return fmt.Errorf("%w: only the author may edit %s", federation.ErrForbidden, old.ID)
	}
	raw, err := a.Object(ctx)
	if err != nil {
		return err
	}
	p, err := parseNote(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", federation.ErrRejected, err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	r := old
	r.Content, r.Summary, r.Sensitive = Sanitize(p.Content), plainText(p.Summary), p.Sensitive
	r.Hashtags, r.Mentions, r.Raw = p.Hashtags, p.Mentions, string(a.Raw)
	r.Updated = orNow(p.Updated, s.now().UTC())
	r.Read = false
	if err := s.st.saveReply(ctx, &r); err != nil {
		return err
	}
	s.mu.Lock()
	s.index(&r)
	s.mu.Unlock()
	return nil
}

// flag files a report.
func (s *Service) flag(ctx context.Context, a *federation.Activity) error {
	var f struct {
		Object  json.RawMessage `json:"object"`
		Content string          `json:"content"`
	}
	if err := json.Unmarshal(a.Raw, &f); err != nil {
		return fmt.Errorf("%w: %v", federation.ErrMalformed, err)
	}
	objects := ogp.LinkIRIs(f.Object)
	if len(objects) > MaxTags {
		objects = objects[:MaxTags]
	}
	content := plainText(f.Content)
	if len(content) > MaxContentBytes {
		content = content[:MaxContentBytes]
	}
	rep := Report{ID: a.ID, Actor: a.Actor, Objects: objects, Content: content, At: s.now().UTC(), Raw: string(a.Raw)}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.st.insert(ctx, collReports, rep); err != nil {
		return err
	}
	s.mu.Lock()
	s.reports = append([]Report{rep}, s.reports...)
	s.mu.Unlock()
	return nil
}

// handleOf returns @user@host for an actor, as well as it is known.
func (s *Service) handleOf(ctx context.Context, actor string) string {
	if s.fed != nil {
		if ra, err := s.fed.RemoteActor(ctx, actor); err == nil && ra.PreferredUsername != "" {
			return "@" + plain(ra.PreferredUsername) + "@" + hostPort(actor)
		}
	}
	return actor
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() || t.After(now.Add(time.Hour)) {
		return now
	}
	return t.UTC()
}

func safeURL(s string) string {
	if absoluteHTTP(s) {
		return s
	}
	return ""
}
