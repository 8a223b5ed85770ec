package conversation

import (
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/ogpnet/ogpnet/federation/ogp"
)

// Public is the ActivityStreams public collection.
const Public = "https://www.w3.org/ns/activitystreams#Public"

// Limits on what a reply may carry; anything longer is refused (422).
const (
	MaxContentBytes = 20000 // a Mastodon post is 500 characters; servers differ
	MaxSummaryBytes = 1000
	MaxTags         = 50
)

// Mention is a Mention tag of a reply.
type Mention struct {
	Name string `bson:"name" json:"name"` // @user@host
	Href string `bson:"href" json:"href"` // the actor IRI
}

// note is the part of an incoming Note the node reads. Everything else is
// kept in the original bytes.
type note struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	AttributedTo json.RawMessage `json:"attributedTo"`
	InReplyTo    json.RawMessage `json:"inReplyTo"`
	Context      json.RawMessage `json:"context"`
	Content      string          `json:"content"`
	Summary      string          `json:"summary"`
	Sensitive    bool            `json:"sensitive"`
	URL          json.RawMessage `json:"url"`
	Published    time.Time       `json:"published"`
	Updated      time.Time       `json:"updated"`
	To           json.RawMessage `json:"to"`
	CC           json.RawMessage `json:"cc"`
	Tag          json.RawMessage `json:"tag"`
}

// parsed is an incoming Note read and checked, content not yet sanitised.
type parsed struct {
	ID, Actor, InReplyTo, Context, URL string
	Content, Summary                   string
	Sensitive                          bool
	Published, Updated                 time.Time
	Addressed                          []string // to + cc
	Mentions                           []Mention
	Hashtags                           []string
}

// parseNote reads a Note document. It is refused (an error naming the
// field) when it is not a Note, has no id, or goes over a limit.
func parseNote(raw []byte) (parsed, error) {
	var n note
	if err := json.Unmarshal(raw, &n); err != nil {
		return parsed{}, fmt.Errorf("the object is not a JSON object: %v", err)
	}
	if n.Type != "Note" && n.Type != "Article" && n.Type != "Question" {
		return parsed{}, fmt.Errorf("type %q: only a Note (or Article, Question) can be a reply", n.Type)
	}
	if !absoluteHTTP(n.ID) {
		return parsed{}, fmt.Errorf("id %q: must be an absolute http(s) IRI", n.ID)
	}
	var m struct {
		ContentMap map[string]string `json:"contentMap"`
	}
	_ = json.Unmarshal(raw, &m)
	p := parsed{
		ID: n.ID, Actor: ogp.LinkIRI(n.AttributedTo), InReplyTo: ogp.LinkIRI(n.InReplyTo),
		Context: ogp.LinkIRI(n.Context), URL: ogp.LinkIRI(n.URL),
		Content: n.Content, Summary: n.Summary, Sensitive: n.Sensitive,
		Published: n.Published, Updated: n.Updated,
	}
	if p.Content == "" {
		// Mastodon reads the first contentMap value when content is absent.
		keys := make([]string, 0, len(m.ContentMap))
		for k := range m.ContentMap {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) > 0 {
			p.Content = m.ContentMap[keys[0]]
		}
	}
	if len(p.Content) > MaxContentBytes {
		return parsed{}, fmt.Errorf("content: longer than %d bytes", MaxContentBytes)
	}
	if len(p.Summary) > MaxSummaryBytes {
		return parsed{}, fmt.Errorf("summary: longer than %d bytes", MaxSummaryBytes)
	}
	p.Addressed = append(ogp.LinkIRIs(n.To), ogp.LinkIRIs(n.CC)...)
	var tags []struct {
		Type string          `json:"type"`
		Name string          `json:"name"`
		Href json.RawMessage `json:"href"`
	}
	if len(n.Tag) > 0 && n.Tag[0] == '{' {
		n.Tag = append(append([]byte("["), n.Tag...), ']')
	}
	_ = json.Unmarshal(n.Tag, &tags)
	if len(tags) > MaxTags {
		return parsed{}, fmt.Errorf("tag: more than %d tags", MaxTags)
	}
	for _, t := range tags {
		switch t.Type {
		case "Mention":
			if href := ogp.LinkIRI(t.Href); absoluteHTTP(href) {
				p.Mentions = append(p.Mentions, Mention{Name: plain(t.Name), Href: href})
			}
		case "Hashtag":
			if name := strings.TrimPrefix(plain(t.Name), "#"); name != "" {
				p.Hashtags = append(p.Hashtags, name)
			}
		}
	}
	return p, nil
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// hostOf returns the lower-cased host (without port) of an IRI.
func hostOf(iri string) string {
	u, err := url.Parse(iri)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// plain drops control characters and angle brackets from a short text
// (a tag's name); pages escape it anyway.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '<' || r == '>' {
			return -1
		}
		return r
	}, s)
}

var strict = sync.OnceValue(bluemonday.StrictPolicy)

// plainText turns remote HTML (a report's comment) into plain text.
func plainText(s string) string {
	return plain(html.UnescapeString(strict().Sanitize(s)))
}

// policy is the HTML a reply may keep on a page: what Mastodon keeps
// (p, br, a, span and simple formatting), links http(s) only, the classes
// Mastodon and GoToSocial put on mentions and hashtags, and nothing else:
// no script, style, event attribute, image or form ever reaches a page.
var policy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "span", "del", "pre", "code", "em", "strong", "b", "i", "u",
		"ul", "ol", "li", "blockquote")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("class").Matching(bluemonday.SpaceSeparatedTokens).OnElements("a", "span")
	p.AllowURLSchemes("http", "https")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	return p
})

// Sanitize reduces remote HTML to the safe subset pages show.
func Sanitize(s string) string { return policy().Sanitize(s) }

// HTML returns sanitised content for a template.
func HTML(sanitised string) template.HTML {
	return template.HTML(sanitised) //nolint:gosec // stored content is sanitised on receipt
}
