package search

import (
	"maps"
	"slices"

	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// Kind names a commitment's text field. Its value is the i18n key suffix
// the pages use for the field's label ("hub_search_field_" + Kind) and the
// "field" of the JSON API's highlights.
type Kind string

// The fields a commitment is searched by.
const (
	KindTitle       Kind = "title"
	KindLead        Kind = "lead"
	KindDescription Kind = "description"
	KindProblem     Kind = "problem"
	KindObjective   Kind = "objective"
	KindMilestone   Kind = "milestone"
	KindProgress    Kind = "progress"
	KindIdentifier  Kind = "identifier"
	KindInstitution Kind = "institution"
	KindPolicyArea  Kind = "policy-area"
)

// weight is how much one occurrence in a field counts in a term's
// frequency, in halves: a word of the title counts three times one of the
// description, a progress report's word half. Fields that are not the
// commitment's own words (progress, identifier, institution, policy-area
// slugs) stay out of the peers' text vectors (core).
var weight = map[Kind]struct {
	halves int
	core   bool
}{
	KindTitle:       {6, true},
	KindLead:        {2, false}, // nodes write it as the completion and the description's start
	KindObjective:   {3, true},
	KindProblem:     {2, true},
	KindDescription: {2, true},
	KindMilestone:   {2, true},
	KindProgress:    {1, false},
	KindIdentifier:  {6, false},
	KindInstitution: {2, false},
	KindPolicyArea:  {2, false},
}

// Field is one text of a commitment in one language.
type Field struct {
	Kind Kind
	// Lang is the BCP 47 tag the node gave it; "" when the node published
	// the text without saying its language.
	Lang string
	Text string // plain text
}

// langText is a text with its translations, plain.
type langText struct {
	def string
	m   map[string]string
}

// Fields lists every text of c and of its progress updates tl in every
// language the node published: title, lead, description, problem,
// objective, milestones (name and deliverable), progress texts, and the
// identifier, lead institution and policy areas. The default text is
// listed only when no translation repeats it; its language is then the
// one whose translation another field's default equals (the node's own
// language), else unknown.
func Fields(c readmodel.Commitment, tl []readmodel.Update) []Field {
	var texts []struct {
		kind Kind
		t    langText
	}
	add := func(k Kind, def string, m map[string]string) {
		texts = append(texts, struct {
			kind Kind
			t    langText
		}{k, langText{def, m}})
	}
	add(KindTitle, c.Name.Default, c.Name.Map)
	// Nodes write the lead as the completion and the description's start;
	// without a description, the lead is the commitment's own words. The
	// description comes first, so snippets show it rather than the lead.
	leadKind := KindLead
	if c.ContentHTML.Default == "" && len(c.ContentHTML.Map) == 0 {
		leadKind = KindDescription
	}
	add(KindDescription, readmodel.HTMLText(string(c.ContentHTML.Default)), htmlMap(c.ContentHTML.Map))
	add(leadKind, readmodel.HTMLText(string(c.SummaryHTML.Default)), htmlMap(c.SummaryHTML.Map))
	add(KindProblem, c.Problem.Default, c.Problem.Map)
	add(KindObjective, c.Objective.Default, c.Objective.Map)
	for _, ms := range c.Milestones {
		add(KindMilestone, ms.Name, ms.NameMap)
		add(KindMilestone, ms.Deliverable, ms.DeliverableMap)
	}
	for _, u := range tl {
		add(KindProgress, readmodel.HTMLText(string(u.ContentHTML.Default)), htmlMap(u.ContentHTML.Map))
	}
	home := homeLang(texts)
	var out []Field
	for _, x := range texts {
		repeated := false
		for _, lang := range slices.Sorted(maps.Keys(x.t.m)) {
			s := x.t.m[lang]
			if s == "" {
				continue
			}
			out = append(out, Field{Kind: x.kind, Lang: lang, Text: s})
			repeated = repeated || s == x.t.def
		}
		if x.t.def != "" && !repeated {
			out = append(out, Field{Kind: x.kind, Lang: home, Text: x.t.def})
		}
	}
	for _, s := range []struct {
		k Kind
		v string
	}{{KindIdentifier, c.Identifier}, {KindInstitution, c.LeadInstitution}} {
		if s.v != "" {
			out = append(out, Field{Kind: s.k, Text: s.v})
		}
	}
	for _, a := range c.Themes {
		out = append(out, Field{Kind: KindPolicyArea, Text: a})
	}
	return out
}

// homeLang is the language of a commitment's untranslated defaults: the
// tag of a translation equal to its field's default, else the stemmed
// language whose function words the defaults use most (at least two of
// them), else unknown.
func homeLang(texts []struct {
	kind Kind
	t    langText
}) string {
	for _, x := range texts {
		for lang, s := range x.t.m {
			if s != "" && s == x.t.def {
				return lang
			}
		}
	}
	count := map[string]int{}
	for _, x := range texts {
		for _, seg := range segments(x.t.def) {
			w := foldWord(seg.text)
			for lang, stops := range stopWords {
				if stops[w] {
					count[lang]++
				}
			}
		}
	}
	best := ""
	for _, lang := range stemLangs {
		if count[lang] >= 2 && count[lang] > count[best] {
			best = lang
		}
	}
	return best
}

func htmlMap[H ~string](m map[string]H) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = readmodel.HTMLText(string(v))
	}
	return out
}
