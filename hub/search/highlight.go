package search

import (
	"cmp"
	"html"
	"html/template"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// Snippet is a piece of a field with the matched words marked.
type Snippet struct {
	Kind Kind
	Lang string
	// HTML is the text escaped, then the matched words wrapped in <mark>:
	// nothing of the text itself is ever markup.
	HTML template.HTML
	// Matches is how many distinct query terms the field contains.
	Matches int
}

// SnippetRunes is about how long a snippet is; longer fields are cut
// around their first match.
const SnippetRunes = 220

// Highlight returns f's text (cut to about maxRunes around the first match
// when maxRunes > 0 and the text is longer) escaped for HTML, with the
// words whose index terms are in terms marked, and how many distinct terms
// matched.
func Highlight(f Field, terms []string, maxRunes int) (template.HTML, int) {
	type span struct{ start, end int }
	var spans []span
	var seen []string
	for _, t := range Analyze(f.Text, f.Lang) {
		if !slices.Contains(terms, t.Term) {
			continue
		}
		if !slices.Contains(seen, t.Term) {
			seen = append(seen, t.Term)
		}
		// Bigrams overlap: merge a span into the previous one it touches.
		if k := len(spans); k > 0 && t.Start <= spans[k-1].end {
			spans[k-1].end = max(spans[k-1].end, t.End)
			continue
		}
		spans = append(spans, span{t.Start, t.End})
	}
	text := f.Text
	from, to := 0, len(text)
	if maxRunes > 0 && utf8.RuneCountInString(text) > maxRunes {
		first := 0
		if len(spans) > 0 {
			first = spans[0].start
		}
		from = backRunes(text, first, maxRunes/4)
		to = forwardRunes(text, from, maxRunes)
		from, to = wordStart(text, from), wordEnd(text, to)
	}
	var b strings.Builder
	if from > 0 {
		b.WriteString("…")
	}
	at := from
	for _, s := range spans {
		if s.end <= from || s.start >= to {
			continue
		}
		s.start, s.end = max(s.start, from), min(s.end, to)
		b.WriteString(html.EscapeString(text[at:s.start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[s.start:s.end]))
		b.WriteString("</mark>")
		at = s.end
	}
	b.WriteString(html.EscapeString(text[at:to]))
	if to < len(text) {
		b.WriteString("…")
	}
	return template.HTML(b.String()), len(seen) // #nosec: built from escaped text and <mark> only
}

// backRunes steps n runes back from byte offset i.
func backRunes(s string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return i
}

// forwardRunes steps n runes on from byte offset i.
func forwardRunes(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

// wordStart moves i forward past a word cut in two, to the next space
// (unless that is far: a text without spaces is cut where it is).
func wordStart(s string, i int) int {
	if i == 0 {
		return 0
	}
	if j := strings.IndexByte(s[i:], ' '); j >= 0 && j < 20 {
		return i + j + 1
	}
	return i
}

// wordEnd moves i back to the last space before it, unless that is far.
func wordEnd(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	if j := strings.LastIndexByte(s[:i], ' '); j >= 0 && i-j < 20 {
		return j
	}
	return i
}

// Snippets returns up to n of fields' texts that contain terms, each
// highlighted and cut (Highlight), best first: more distinct terms first,
// the reader's language (lang) before others, then the fields' order.
// skip, when not "", is a text already shown (the title in the reader's
// language) that is left out.
func Snippets(fields []Field, terms []string, lang, skip string, n int) []Snippet {
	type cand struct {
		Snippet
		order int
	}
	var cs []cand
	lang = baseLang(lang)
	for i, f := range fields {
		if f.Text == skip || f.Kind == KindIdentifier || f.Kind == KindPolicyArea {
			continue
		}
		h, m := Highlight(f, terms, SnippetRunes)
		if m == 0 {
			continue
		}
		cs = append(cs, cand{Snippet{Kind: f.Kind, Lang: f.Lang, HTML: h, Matches: m}, i})
	}
	inLang := func(c cand) int {
		if baseLang(c.Lang) == lang {
			return 0
		}
		return 1
	}
	slices.SortFunc(cs, func(a, b cand) int {
		return cmp.Or(cmp.Compare(b.Matches, a.Matches), cmp.Compare(inLang(a), inLang(b)), cmp.Compare(a.order, b.order))
	})
	var out []Snippet
	var shown []string
	for _, c := range cs {
		if len(out) == n {
			break
		}
		// Nodes write the lead as the completion and the description's
		// start: one of the two is enough.
		text := fields[c.order].Text
		if slices.ContainsFunc(shown, func(s string) bool { return overlaps(s, text) }) {
			continue
		}
		shown = append(shown, text)
		out = append(out, c.Snippet)
	}
	return out
}

// overlaps reports whether one text repeats the other's opening words.
func overlaps(a, b string) bool {
	head := func(s string) string { return s[:wordEnd(s, forwardRunes(s, 0, 60))] }
	return strings.Contains(a, head(b)) || strings.Contains(b, head(a))
}

// Explain shows why c matched: its title in the reader's language (lang)
// with the matched words marked, and up to n snippets of its other texts
// (progress updates tl included) that contain terms (a Hit's Terms).
func Explain(c readmodel.Commitment, tl []readmodel.Update, terms []string, lang string, n int) (template.HTML, []Snippet) {
	title := c.Name.In(lang)
	titleLang := ""
	for l, s := range c.Name.Map {
		if s == title && (titleLang == "" || baseLang(l) == baseLang(lang)) {
			titleLang = l
		}
	}
	h, _ := Highlight(Field{Kind: KindTitle, Lang: titleLang, Text: title}, terms, 0)
	return h, Snippets(Fields(c, tl), terms, lang, title, n)
}
