package pages

import (
	"net/url"
	"strings"

	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// searchView is the search page: pilots and themes whose names match, and
// commitments whose text contains every word (the read model folds case
// and accents and searches all languages).
type searchView struct {
	Query       string
	Pilots      []pilotRef
	Themes      []themeLink
	Commitments []commitmentItem
	Total       int
	NextURL     string
	FirstURL    string
}

const searchPerPage = 30

func buildSearch(m *readmodel.Model, lang string, q url.Values) (searchView, error) {
	v := searchView{Query: strings.TrimSpace(q.Get("q"))}
	if v.Query == "" {
		return v, nil
	}
	needle := strings.ToLower(v.Query)
	idx := pilotIndex{}
	for _, p := range m.Pilots() {
		idx[p.Actor] = p.PilotInfo
		if strings.Contains(strings.ToLower(p.Name), needle) || strings.Contains(strings.ToLower(p.Jurisdiction), needle) {
			v.Pilots = append(v.Pilots, refOf(p.PilotInfo))
		}
	}
	for _, t := range m.Themes() {
		if strings.Contains(strings.ToLower(t.Theme), needle) {
			v.Themes = append(v.Themes, themeLink{Name: themeLabel(lang, t.Theme), Path: ComparePathTheme(t.Theme)})
		}
	}
	cursor := q.Get("cursor")
	page, err := m.Commitments(readmodel.Filter{Query: v.Query}, cursor, searchPerPage)
	if err != nil {
		return v, err
	}
	v.Total = page.Total
	for _, c := range page.Items {
		v.Commitments = append(v.Commitments, commitmentItemOf(lang, idx, c))
	}
	v.NextURL, v.FirstURL = pageLinks(PathSearch, url.Values{"q": {v.Query}}, page.Next, cursor, "")
	return v, nil
}
