package conversation

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strings"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/ogp"
)

// noteContext is the @context of the node's own Notes and its Add/Remove.
var noteContext = []any{
	"https://www.w3.org/ns/activitystreams",
	map[string]any{"sensitive": "as:sensitive", "Hashtag": "as:Hashtag"},
}

// announce sends Add or Remove {object: reply, target: its context} to the
// node's followers (FEP-171b). A reply outside any context (a post that
// only mentioned the node) is not announced.
func (s *Service) announce(ctx context.Context, typ string, r Reply) error {
	if r.Context == "" || !strings.HasPrefix(r.Context, s.fed.BaseURL()+"/") {
		return nil
	}
	act := map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       s.fed.NewActivityID(),
		"type":     typ,
		"actor":    s.fed.ActorID(),
		"object":   r.ID,
		"target":   r.Context,
		"to":       []string{Public},
		"cc":       []string{s.fed.FollowersID()},
	}
	body, err := json.Marshal(act)
	if err != nil {
		return err
	}
	if err := s.fed.Publish(ctx, body); err != nil {
		return fmt.Errorf("conversation: announce %s of %s: %w", typ, r.ID, err)
	}
	return nil
}

// NoteIRI is the IRI of the node's own Note id.
func (s *Service) NoteIRI(id string) string { return s.fed.BaseURL() + "/notes/" + url.PathEscape(id) }

// Answer publishes the government's answer to a reply: a Note from the
// node actor in reply to it, mentioning its author, addressed to the
// author with the node's followers (the hub among them) and the public in
// cc, so that it threads in Mastodon and GoToSocial.
func (s *Service) Answer(ctx context.Context, who, questionID, text string) (Reply, error) {
	q, ok := s.Get(questionID)
	if !ok {
		return Reply{}, fmt.Errorf("%w: %s", ErrNotFound, questionID)
	}
	if q.Status == Hidden {
		return Reply{}, fmt.Errorf("%w: %s is hidden; approve it before answering", ErrInvalid, questionID)
	}
	if err := checkText(text); err != nil {
		return Reply{}, err
	}
	var mention *Mention
	var inbox string
	if q.Actor != s.fed.ActorID() {
		ra, err := s.fed.RemoteActor(ctx, q.Actor)
		if err != nil {
			return Reply{}, fmt.Errorf("%w: %s: %v", ErrPeer, q.Actor, err)
		}
		mention = &Mention{Href: q.Actor, Name: "@" + ra.PreferredUsername + "@" + hostPort(q.Actor)}
		inbox = cmpOr(ra.SharedInbox, ra.Inbox)
	}
	r, err := s.post(ctx, who, q.ID, Thread{Root: q.Root, Context: q.Context}, mention, text, false, inbox)
	if err != nil {
		return Reply{}, err
	}
	if q.Status == Held {
		// Answering a held reply is approving it: the thread must show
		// what the answer answers.
		if _, err := s.Approve(ctx, who, q.ID); err != nil {
			return r, err
		}
	}
	return r, nil
}

// Ask publishes a question from the node actor about a peer's object
// (docs/discussion.md "Peer question"): the object is fetched from its
// origin for its author and context, and the Note goes to the author's
// inbox as well as to the node's followers.
func (s *Service) Ask(ctx context.Context, who, inReplyTo, text string) (Reply, error) {
	inReplyTo = strings.TrimSpace(inReplyTo)
	if !absoluteHTTP(inReplyTo) {
		return Reply{}, fmt.Errorf("%w: inReplyTo %q: must be an http(s) IRI", ErrInvalid, inReplyTo)
	}
	if err := checkText(text); err != nil {
		return Reply{}, err
	}
	// A question about one of the node's own objects is a post in its own
	// thread.
	if s.cfg.Lookup != nil {
		if th, ok, err := s.cfg.Lookup(ctx, inReplyTo); err != nil {
			return Reply{}, err
		} else if ok {
			return s.post(ctx, who, inReplyTo, th, nil, text, true, "")
		}
	}
	if parent, ok := s.Get(inReplyTo); ok && (parent.Local || strings.HasPrefix(parent.Root, s.fed.BaseURL()+"/")) {
		return s.Answer(ctx, who, inReplyTo, text)
	}
	raw, err := s.fed.Fetcher().Get(ctx, inReplyTo)
	if err != nil {
		return Reply{}, fmt.Errorf("%w: fetching %s: %v", ErrPeer, inReplyTo, err)
	}
	var obj struct {
		AttributedTo json.RawMessage `json:"attributedTo"`
		Context      json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Reply{}, fmt.Errorf("%w: %s is not an ActivityPub object", ErrPeer, inReplyTo)
	}
	author := ogp.LinkIRI(obj.AttributedTo)
	if !absoluteHTTP(author) {
		return Reply{}, fmt.Errorf("%w: %s has no author (attributedTo)", ErrPeer, inReplyTo)
	}
	ra, err := s.fed.RemoteActor(ctx, author)
	if err != nil {
		return Reply{}, fmt.Errorf("%w: %s: %v", ErrPeer, author, err)
	}
	mention := &Mention{Href: author, Name: "@" + ra.PreferredUsername + "@" + hostPort(author)}
	th := Thread{Root: inReplyTo, Context: ogp.LinkIRI(obj.Context)}
	return s.post(ctx, who, inReplyTo, th, mention, text, true, cmpOr(ra.SharedInbox, ra.Inbox))
}

func checkText(text string) error {
	t := strings.TrimSpace(text)
	if t == "" {
		return fmt.Errorf("%w: content: write the text of the post", ErrInvalid)
	}
	if len(t) > MaxAnswerBytes {
		return fmt.Errorf("%w: content: longer than %d bytes", ErrInvalid, MaxAnswerBytes)
	}
	return nil
}

// post writes, stores and publishes a Note of the node.
func (s *Service) post(ctx context.Context, who, inReplyTo string, th Thread, mention *Mention, text string, question bool, inbox string) (Reply, error) {
	hubs := s.hubs(ctx) // may fetch: before the write lock
	s.wmu.Lock()
	defer s.wmu.Unlock()
	now := s.now().UTC()
	id := s.NoteIRI(federation.NewID(now))
	var b strings.Builder
	for i, para := range splitParagraphs(text) {
		b.WriteString("<p>")
		if i == 0 && mention != nil {
			user, _, _ := strings.Cut(strings.TrimPrefix(mention.Name, "@"), "@")
			fmt.Fprintf(&b, `<span class="h-card"><a href="%s" class="u-url mention">@<span>%s</span></a></span> `,
				html.EscapeString(mention.Href), html.EscapeString(user))
		}
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>")
	}
	content := b.String()
	to := []string{}
	cc := []string{Public, s.fed.FollowersID()}
	var tags []any
	if mention != nil {
		to = append(to, mention.Href)
		tags = append(tags, map[string]any{"type": "Mention", "href": mention.Href, "name": mention.Name})
	} else {
		to, cc = []string{Public}, []string{s.fed.FollowersID()}
	}
	// The hubs that follow the node are named, so that a question reaches
	// the hub's discussion even from a server that reads cc only.
	cc = append(cc, hubs...)
	note := map[string]any{
		"@context": noteContext, "id": id, "type": "Note", "attributedTo": s.fed.ActorID(),
		"inReplyTo": inReplyTo, "content": content, "contentMap": map[string]string{s.cfg.Lang: content},
		"published": now.Format("2006-01-02T15:04:05Z"), "url": id, "to": to, "cc": cc, "sensitive": false,
	}
	if th.Context != "" {
		note["context"] = th.Context
	}
	if tags != nil {
		note["tag"] = tags
	}
	noteRaw, err := json.Marshal(note)
	if err != nil {
		return Reply{}, err
	}
	create := map[string]any{
		"@context": noteContext, "id": s.fed.NewActivityID(), "type": "Create", "actor": s.fed.ActorID(),
		"published": note["published"], "to": to, "cc": cc, "object": json.RawMessage(noteRaw),
	}
	createRaw, err := json.Marshal(create)
	if err != nil {
		return Reply{}, err
	}
	r := &Reply{
		ID: id, Actor: s.fed.ActorID(), Handle: "@" + s.fed.Username() + "@" + hostPort(s.fed.ActorID()),
		InReplyTo: inReplyTo, Root: th.Root, Context: th.Context, Status: Approved,
		Published: now, Received: now, Content: content, URL: id, Raw: string(noteRaw),
		Local: true, Question: question, Read: true,
	}
	if mention != nil {
		r.Mentions = []Mention{*mention}
	}
	if err := s.st.saveReply(ctx, r); err != nil {
		return Reply{}, err
	}
	s.mu.Lock()
	s.index(r)
	s.mu.Unlock()
	action := "answer"
	if question {
		action = "ask"
	}
	if err := s.logAction(ctx, who, action, id); err != nil {
		return *r, err
	}
	var extra []string
	if inbox != "" {
		extra = append(extra, inbox)
	}
	if err := s.fed.Publish(ctx, createRaw, extra...); err != nil {
		return *r, fmt.Errorf("conversation: publish %s: %w", id, err)
	}
	return *r, s.announce(ctx, "Add", *r)
}

// LocalNote returns the node's own Note id as published, and the reply
// record (for its thread).
func (s *Service) LocalNote(iri string) (Reply, bool) {
	r, ok := s.Get(iri)
	if !ok || !r.Local {
		return Reply{}, false
	}
	return r, true
}

func splitParagraphs(text string) []string {
	text = strings.ReplaceAll(strings.TrimSpace(text), "\r\n", "\n")
	var out []string
	for _, p := range strings.Split(text, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// hostPort is the authority of an IRI (host and port), as handles use it.
func hostPort(iri string) string {
	u, err := url.Parse(iri)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
