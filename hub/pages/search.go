package pages

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"

	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/search"
)

// searchView is the search page: pilots and policy areas whose names
// match, and the commitments that contain every word in any of their texts
// and languages (hub/search), best first, with the matched words marked,
// filtered by pilot and policy area, paged.
type searchView struct {
	Query       string
	Pilot       string // selected pilot actor, "" for all
	Theme       string // selected policy area, "" for all
	PilotOpts   []option
	ThemeOpts   []option
	Pilots      []pilotRef
	Themes      []themeLink
	Hits        []searchHit
	Total       int
	Page, Pages int
	PrevURL     string
	NextURL     string
	// Words are the words searched for (folded, function words dropped).
	Words string
}

// option is one entry of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// searchHit is one commitment found.
type searchHit struct {
	commitmentItem
	TitleHTML template.HTML // escaped, matched words in <mark>
	Snippets  []searchSnippet
}

// searchSnippet is a highlighted text of a hit and where it comes from.
type searchSnippet struct {
	FieldKey string // i18n key of the field's name
	Lang     string // set when not the reader's language
	HTML     template.HTML
}

const (
	searchPerPage     = 20
	snippetsPerResult = 2
	maxSearchPage     = 500
)

// errSearchPage is a page number out of range (a 400 on the page).
type errSearchPage struct{}

func (errSearchPage) Error() string { return "pages: bad search page" }

func buildSearch(x *search.ModelIndex, lang string, q url.Values) (searchView, error) {
	m := x.Model()
	v := searchView{
		Query: strings.TrimSpace(q.Get("q")),
		Pilot: strings.TrimSpace(q.Get(readmodel.ParamPilot)),
		Theme: strings.TrimSpace(q.Get(readmodel.ParamTheme)),
		Page:  1,
	}
	idx := indexPilots(m)
	needle := strings.ToLower(v.Query)
	for _, p := range m.Pilots() {
		v.PilotOpts = append(v.PilotOpts, option{Value: p.Actor, Label: p.Name, Selected: p.Actor == v.Pilot})
		if needle != "" && (strings.Contains(strings.ToLower(p.Name), needle) || strings.Contains(strings.ToLower(p.Jurisdiction), needle)) {
			v.Pilots = append(v.Pilots, idx.ref(p.Actor, p.Name))
		}
	}
	for _, t := range m.Themes() {
		label := themeLabel(lang, t.Theme)
		v.ThemeOpts = append(v.ThemeOpts, option{Value: t.Theme, Label: label, Selected: strings.EqualFold(t.Theme, v.Theme)})
		if needle != "" && (strings.Contains(strings.ToLower(t.Theme), needle) || strings.Contains(strings.ToLower(label), needle)) {
			v.Themes = append(v.Themes, themeLink{Name: label, Path: ComparePathTheme(t.Theme)})
		}
	}
	if v.Query == "" {
		return v, nil
	}
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxSearchPage {
			return v, errSearchPage{}
		}
		v.Page = n
	}
	sq := search.Query{Text: v.Query, Area: v.Theme, Offset: (v.Page - 1) * searchPerPage, Limit: searchPerPage}
	if v.Pilot != "" {
		sq.Pilots = []string{v.Pilot}
	}
	res, err := x.Search(sq)
	if err != nil {
		return v, err
	}
	v.Total, v.Words = res.Total, strings.Join(res.Words, " ")
	v.Pages = (res.Total + searchPerPage - 1) / searchPerPage
	for _, hit := range res.Hits {
		c, ok := m.Commitment(hit.ID)
		if !ok {
			continue
		}
		title, snippets := search.Explain(c, m.Timeline(c.ID), hit.Terms, lang, snippetsPerResult)
		h := searchHit{commitmentItem: commitmentItemOf(lang, idx, c), TitleHTML: title}
		for _, s := range snippets {
			sn := searchSnippet{FieldKey: "hub_search_field_" + strings.ReplaceAll(string(s.Kind), "-", "_"), HTML: s.HTML}
			if l, _, _ := strings.Cut(s.Lang, "-"); s.Lang != "" && !strings.EqualFold(l, lang) {
				sn.Lang = s.Lang
			}
			h.Snippets = append(h.Snippets, sn)
		}
		v.Hits = append(v.Hits, h)
	}
	link := func(page int) string {
		lq := url.Values{"q": {v.Query}}
		if v.Pilot != "" {
			lq.Set(readmodel.ParamPilot, v.Pilot)
		}
		if v.Theme != "" {
			lq.Set(readmodel.ParamTheme, v.Theme)
		}
		if page > 1 {
			lq.Set("page", strconv.Itoa(page))
		}
		return PathSearch + "?" + lq.Encode()
	}
	if v.Page > 1 {
		v.PrevURL = link(v.Page - 1)
	}
	if v.Page < v.Pages && v.Page < maxSearchPage {
		v.NextURL = link(v.Page + 1)
	}
	return v, nil
}
