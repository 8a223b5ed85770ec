// Package discussion is the hub's side of the learning community
// (docs/discussion.md): the replies, questions and answers attached to the
// commitments the hub holds, and the posts anyone addresses to the hub's
// Group. No HTTP: the hub's Inbox hands it verified activities, pages and
// the API read it, staff moderate through it.
//
// State: every post, block and the latest audit entries live in memory,
// loaded in one pass at start and kept current on write; the store is
// written by _id (the post's IRI, the block's key) and read in full only at
// start and when another replica changed something (Refresh: one _id
// lookup of a change token otherwise), as the embedded store scans on any
// other filter.
//
// Trust (docs/discussion.md "The hub"):
//   - Add{object: reply, target: <commitment>/context} from the
//     commitment's owner (an active member): the reply is fetched from its
//     origin with a signed GET — never the copy in the activity — and its
//     inReplyTo chain must reach that commitment. Approved.
//   - Remove{…} from the owner: the post leaves the hub.
//   - Create{Note} from an active member whose inReplyTo chain reaches a
//     commitment the hub holds (a peer's question, a government's answer):
//     approved.
//   - Create{Note} addressed to the hub's Group (to, cc or a Mention) from
//     anyone: held for staff review; approved ones are announced to the
//     Group's followers (FEP-1b12).
//   - Update and Delete by a post's author change or remove it.
//
// Staff block actors and domains: everything from them is refused and what
// was kept from them is removed.
package discussion

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// Status is where a post stands in moderation.
type Status string

// Statuses.
const (
	Held     Status = "held"     // waiting for staff
	Approved Status = "approved" // public
	Hidden   Status = "hidden"   // hidden by staff
)

// Via says how a post reached the hub, which decides its first status.
type Via string

// Ways in.
const (
	ViaOwner  Via = "owner"  // announced by the commitment's owner (Add)
	ViaMember Via = "member" // created by a member node (question, answer)
	ViaGroup  Via = "group"  // addressed to the hub's Group by anyone
)

// Limits on what one post may carry and how much waits for review.
const (
	// MaxContentBytes is the largest content (HTML) kept; longer posts
	// are refused (Mastodon's default is 500 characters, GoToSocial's
	// 5,000; 20 KB leaves room for markup and any language).
	MaxContentBytes = 20_000
	// MaxSummaryBytes is the largest content warning kept.
	MaxSummaryBytes = 1_000
	// MaxHeldPerActor is how many posts of one actor may wait for review
	// at once; more are refused until staff catch up.
	MaxHeldPerActor = 20
	// MaxChain is how many unknown ancestors are fetched to find which
	// commitment a reply belongs to.
	MaxChain = 8
)

// Post is one reply, question or answer the hub keeps.
type Post struct {
	ID        string `bson:"_id"`
	Actor     string `bson:"actor"`
	Handle    string `bson:"handle"` // "@user@host", "" when the actor could not be read
	InReplyTo string `bson:"inReplyTo,omitempty"`
	// Commitment is the commitment whose thread the post is in; "" for a
	// post to the Group about no commitment.
	Commitment string    `bson:"commitment,omitempty"`
	URL        string    `bson:"url,omitempty"` // the original (http(s) only)
	Summary    string    `bson:"summary,omitempty"`
	Content    string    `bson:"content"` // sanitised HTML
	Published  time.Time `bson:"published"`
	Updated    time.Time `bson:"updated,omitzero"`
	Received   time.Time `bson:"received"`
	Status     Status    `bson:"status"`
	Via        Via       `bson:"via"`
	ToGroup    bool      `bson:"toGroup,omitempty"`
	// Raw is the Note as fetched or received (design §3: keep the
	// original bytes).
	Raw []byte `bson:"raw"`
}

// ContentHTML is the post's sanitised content, safe to render.
func (p Post) ContentHTML() template.HTML { return readmodel.SanitizeHTML(p.Content) }

// Host is the post author's server.
func (p Post) Host() string { return hostOf(p.Actor) }

// note is the part of an ActivityStreams Note the hub reads.
type note struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	AttributedTo json.RawMessage `json:"attributedTo"`
	InReplyTo    json.RawMessage `json:"inReplyTo"`
	Content      string          `json:"content"`
	Summary      string          `json:"summary"`
	URL          json.RawMessage `json:"url"`
	Published    time.Time       `json:"published"`
	Updated      time.Time       `json:"updated"`
	To           json.RawMessage `json:"to"`
	CC           json.RawMessage `json:"cc"`
	Tag          json.RawMessage `json:"tag"`
	// OGPDate marks a progress update (ogp), which ingest handles.
	OGPDate json.RawMessage `json:"ogp:date"`
}

// ErrNotNote says a document is not a conversation Note.
var ErrNotNote = errors.New("discussion: not a conversation Note")

// parseNote reads a Note that is a conversation post (not an ogp progress
// update) and checks its identity: the id is the expected IRI and it is
// attributed to an actor on the id's host.
func parseNote(raw []byte, wantID string) (note, string, error) {
	var n note
	if err := json.Unmarshal(raw, &n); err != nil {
		return note{}, "", fmt.Errorf("%w: %v", ErrNotNote, err)
	}
	if n.Type != "Note" || len(n.OGPDate) > 0 {
		return note{}, "", fmt.Errorf("%w: type %q", ErrNotNote, truncate(n.Type, 40))
	}
	if wantID != "" && n.ID != wantID {
		return note{}, "", fmt.Errorf("discussion: document id %q is not %q", truncate(n.ID, 200), truncate(wantID, 200))
	}
	author := ogp.LinkIRI(n.AttributedTo)
	if author == "" || hostOf(author) == "" || hostOf(author) != hostOf(n.ID) {
		return note{}, "", fmt.Errorf("discussion: %s is not attributed to an actor on its own host", truncate(n.ID, 200))
	}
	if len(n.Content) > MaxContentBytes {
		return note{}, "", fmt.Errorf("discussion: content longer than %d bytes", MaxContentBytes)
	}
	if len(n.Summary) > MaxSummaryBytes {
		return note{}, "", fmt.Errorf("discussion: summary longer than %d bytes", MaxSummaryBytes)
	}
	return n, author, nil
}

// inReplyTo is the Note's parent IRI ("" when none or not http(s)).
func (n note) inReplyTo() string {
	iri := ogp.LinkIRI(n.InReplyTo)
	if hostOf(iri) == "" {
		return ""
	}
	return iri
}

// link is the Note's url (the page of the original), else its id.
func (n note) link() string {
	if u := readmodel.SafeLink(ogp.LinkIRI(n.URL)); u != "" {
		return u
	}
	return readmodel.SafeLink(n.ID)
}

// addresses reports whether the Note is addressed to actor: in to or cc,
// or mentioned in a Mention tag.
func (n note) addresses(actor string) bool {
	for _, list := range []json.RawMessage{n.To, n.CC} {
		for _, iri := range ogp.LinkIRIs(list) {
			if iri == actor {
				return true
			}
		}
	}
	var tags []struct {
		Type string `json:"type"`
		Href string `json:"href"`
	}
	if json.Unmarshal(n.Tag, &tags) != nil {
		var one struct {
			Type string `json:"type"`
			Href string `json:"href"`
		}
		if json.Unmarshal(n.Tag, &one) == nil {
			tags = append(tags, one)
		}
	}
	for _, t := range tags {
		if t.Type == "Mention" && t.Href == actor {
			return true
		}
	}
	return false
}

func hostOf(iri string) string {
	u, err := url.Parse(iri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// plain drops control characters from a plain-text field (a content
// warning), as the read model does for names.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
}
