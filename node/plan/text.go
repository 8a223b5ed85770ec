// Package plan is the domain of one government's open-government work:
// action plans, commitments with their milestones, and progress updates,
// with their validation rules, the policy-area taxonomy, and the progress
// arithmetic (overdue milestones, completion shares). It knows nothing of
// HTTP or storage; wire.go maps it onto the federation/ogp vocabulary.
package plan

import (
	"maps"
	"slices"
	"strings"
)

// Text is a piece of multilingual plain text: the wording in each language
// and the language it was written in (the default shown when a reader's
// language is missing). The zero Text is empty.
type Text struct {
	// Lang is the BCP 47 tag of the original language, e.g. "es".
	Lang string `bson:"lang,omitempty" json:"lang,omitempty"`
	// Map holds the text per BCP 47 tag; it includes Lang.
	Map map[string]string `bson:"map,omitempty" json:"map,omitempty"`
}

// NewText returns a Text written in lang.
func NewText(lang, s string) Text {
	if s == "" {
		return Text{Lang: lang}
	}
	return Text{Lang: lang, Map: map[string]string{lang: s}}
}

// With returns a copy of t with the wording in lang set to s (removed when s
// is empty). The first language added becomes the default.
func (t Text) With(lang, s string) Text {
	out := Text{Lang: t.Lang, Map: maps.Clone(t.Map)}
	if out.Lang == "" {
		out.Lang = lang
	}
	if s == "" {
		delete(out.Map, lang)
		return out
	}
	if out.Map == nil {
		out.Map = map[string]string{}
	}
	out.Map[lang] = s
	return out
}

// Get returns the wording for lang, falling back to the same primary
// language ("es" for "es-MX" and the reverse), then the default language,
// then English, then any language (in tag order, so the choice is stable).
func (t Text) Get(lang string) string {
	if s := t.Map[lang]; s != "" {
		return s
	}
	primary, _, _ := strings.Cut(lang, "-")
	if s := t.Map[primary]; primary != "" && s != "" {
		return s
	}
	for _, k := range t.Langs() {
		if p, _, _ := strings.Cut(k, "-"); p == primary && primary != "" {
			return t.Map[k]
		}
	}
	if s := t.Map[t.Lang]; s != "" {
		return s
	}
	if s := t.Map["en"]; s != "" {
		return s
	}
	for _, k := range t.Langs() {
		if s := t.Map[k]; s != "" {
			return s
		}
	}
	return ""
}

// String returns the wording in the default language (with Get's fallbacks).
func (t Text) String() string { return t.Get(t.Lang) }

// IsZero reports whether t has no wording in any language.
func (t Text) IsZero() bool {
	for _, s := range t.Map {
		if s != "" {
			return false
		}
	}
	return true
}

// Langs returns the languages that have wording, sorted.
func (t Text) Langs() []string {
	out := make([]string, 0, len(t.Map))
	for k, s := range t.Map {
		if s != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Equal reports whether t and u hold the same wording and default.
func (t Text) Equal(u Text) bool {
	if t.IsZero() && u.IsZero() {
		return true
	}
	if t.Lang != u.Lang || len(t.Langs()) != len(u.Langs()) {
		return false
	}
	for _, k := range t.Langs() {
		if t.Map[k] != u.Map[k] {
			return false
		}
	}
	return true
}
