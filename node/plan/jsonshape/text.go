// Package jsonshape is the one public JSON shape of the node's objects:
// the JSON API (docs/api-node.md) sends and takes it, and a JSON import
// (docs/import.md) lists commitments in it. Each type has one converter
// each way: Domain (JSON → node/plan, reporting what cannot be mapped,
// such as a malformed date, as field errors named by their JSON path) and
// From… (node/plan → JSON). Checking values against the vocabulary is
// left to the domain's validation; the importer first reads the English
// labels it also accepts ("Not started") into slugs.
package jsonshape

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/node/plan"
)

// Text is multilingual text: BCP 47 tag → wording. On input a plain
// string is accepted too, as text in the default language (the node's,
// or the import file's "lang"); output is always the object.
type Text map[string]string

// untagged is the key of a plain string's wording until Domain knows the
// default language.
const untagged = ""

// UnmarshalJSON accepts a string or an object of strings.
func (t *Text) UnmarshalJSON(b []byte) error {
	var plain string
	if err := json.Unmarshal(b, &plain); err == nil {
		*t = Text{untagged: plain}
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return errors.New(`text must be a string or an object like {"es": "…", "en": "…"}`)
	}
	*t = m
	return nil
}

// Domain maps t to plan.Text: blank wordings are dropped, a plain string
// is in lang, and the default language is lang when t has it, else the
// first tag in order.
func (t Text) Domain(lang string) plan.Text {
	langs := make([]string, 0, len(t))
	for l, s := range t {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if l == untagged {
			l = lang
		}
		if !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	if len(langs) == 0 {
		return plan.Text{}
	}
	slices.Sort(langs)
	out := plan.Text{Lang: langs[0], Map: map[string]string{}}
	if slices.Contains(langs, lang) {
		out.Lang = lang
	}
	if s := strings.TrimSpace(t[untagged]); s != "" {
		out.Map[lang] = s
	}
	for l, s := range t {
		// An explicit tag wins over a plain string in the same language.
		if s = strings.TrimSpace(s); s != "" && l != untagged {
			out.Map[l] = s
		}
	}
	return out
}

// FromText maps t to its JSON form (nil when empty, so omitempty drops it).
func FromText(t plan.Text) Text {
	if t.IsZero() {
		return nil
	}
	out := Text{}
	for _, l := range t.Langs() {
		out[l] = t.Map[l]
	}
	return out
}

// fields collects mapping problems as field errors.
type fields struct{ plan.ValidationError }

// date parses an optional date field.
func (f *fields) date(field, s string) plan.Date {
	d, msg := ParseDate(s)
	if msg != "" {
		f.Add(field, "%s", msg)
	}
	return d
}

// ParseDate parses an optional YYYY-MM-DD date ("" is no date); a bad one
// yields "" and the message saying why.
func ParseDate(s string) (plan.Date, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	d, err := ogp.ParseDate(s)
	if err != nil {
		return "", fmt.Sprintf("%q is not a date: write YYYY-MM-DD, e.g. 2017-06-30", Truncate(s, 40))
	}
	return d, ""
}

// trimAll trims each entry and drops the blank ones.
func trimAll(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// conv converts a list between string types (vocabulary values and their
// JSON strings), keeping nil as nil.
func conv[To, From ~string](in []From) []To {
	if in == nil {
		return nil
	}
	out := make([]To, len(in))
	for i, v := range in {
		out[i] = To(v)
	}
	return out
}

// Truncate shortens s to at most n bytes on a character boundary, marking
// the cut with "…", for quoting user input in messages.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
