package readmodel

import (
	"html"
	"html/template"
	"net/url"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

// policy is the HTML the hub is willing to render from a node: the tags a
// fediverse client keeps (federation.md §1: p, br, a, span, del, pre, code,
// em, strong, b, i, u, ul, ol, li, blockquote) plus headings and tables,
// which reports use. Links are http(s) only and marked nofollow/ugc; no
// attributes but href, no styles, scripts, forms, images or iframes.
var policy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "span", "del", "pre", "code", "em", "strong", "b", "i", "u",
		"ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
		"table", "thead", "tbody", "tr", "th", "td", "hr", "sub", "sup")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
})

// SanitizeHTML returns remote HTML reduced to the hub's safe subset.
func SanitizeHTML(s string) template.HTML {
	if s == "" {
		return ""
	}
	return template.HTML(policy().Sanitize(s)) //nolint:gosec // sanitised above
}

func sanitizeMap(def string, m map[string]string) HTML {
	h := HTML{Default: SanitizeHTML(def)}
	if len(m) > 0 {
		h.Map = make(map[string]template.HTML, len(m))
		for k, v := range m {
			h.Map[k] = SanitizeHTML(v)
		}
	}
	return h
}

// plainText drops control characters from a plain-text field, so that what
// is escaped at render is also safe in CSV cells and Atom titles.
func plainText(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

// HTMLText turns sanitised HTML into plain text: tags become spaces,
// entities are decoded and white space collapses to single spaces. CSV
// cells, the search text and the peers' text vectors all read HTML fields
// through it. The input must be sanitised (no comments or scripts), as
// every *HTML field of the model is.
func HTMLText(h string) string {
	if strings.Contains(h, "<") {
		var b strings.Builder
		in := false
		for _, r := range h {
			switch {
			case r == '<':
				in = true
				b.WriteByte(' ')
			case r == '>':
				in = false
			case !in:
				b.WriteRune(r)
			}
		}
		h = b.String()
	}
	return strings.Join(strings.Fields(html.UnescapeString(h)), " ")
}

func isControl(r rune) bool { return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f }

func textOf(def string, m map[string]string) Text {
	t := Text{Default: plainText(def)}
	if len(m) > 0 {
		t.Map = make(map[string]string, len(m))
		for k, v := range m {
			t.Map[k] = plainText(v)
		}
	}
	return t
}

// SafeLink returns s when it is an absolute http(s) URL, else "". Remote
// objects' url and evidence links go through it before anyone renders them.
func SafeLink(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	if out := u.String(); out != s {
		return out
	}
	return s // the caller's copy: the model keeps one string, not two
}
