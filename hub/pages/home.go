package pages

import (
	"html/template"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// homeView is the community home: every pilot with its headline figures,
// the latest progress updates across the network, and the shared themes.
type homeView struct {
	Totals         readmodel.Totals
	Pilots         []pilotCard
	Latest         []updateItem
	Themes         []themeCount
	CompletionSVG  template.HTML
	CompletionData template.HTML
	Data           dataLinks
}

// dataLinks point at the feeds, exports and API served by hub/api.
type dataLinks struct{ Feed, CSV, JSON, API string }

// filteredData links to the feed, exports and API list of the commitments
// filter f selects: they share the comparison's grammar, so the page's query
// carries over as is (the feed is always newest first).
func filteredData(f readmodel.Filter) dataLinks {
	q := f.Values()
	d := dataLinks{CSV: withQuery(pathExportCSV, q, ""), JSON: withQuery(pathExportJSON, q, ""), API: withQuery(pathAPIList, q, "")}
	q.Del(readmodel.ParamSort)
	d.Feed = withQuery(pathFeed, q, "")
	return d
}

// pilotCard is one pilot on the home page.
type pilotCard struct {
	pilotRef
	Jurisdiction string
	Commitments  int
	Starred      int
	Overdue      int
	Updates      int
	LastUpdate   string
	HighPercent  int // share of commitments with substantial or complete implementation
	Progress     template.HTML
}

type themeCount struct {
	themeLink
	Commitments int
	Pilots      int
}

// latestOnHome is how many updates the home page lists.
const latestOnHome = 15

func buildHome(m *readmodel.Model, lang string) homeView {
	v := homeView{Totals: m.Totals(), Data: dataLinks{Feed: FeedPath("", ""), CSV: pathExportCSV, JSON: pathExportJSON, API: pathAPIPilots}}
	idx := indexPilots(m)
	var rows []web.StackedRow
	for _, p := range m.Pilots() {
		s := p.Summary
		card := pilotCard{
			pilotRef:     idx.ref(p.Actor, p.Name),
			Jurisdiction: p.Jurisdiction,
			Commitments:  s.Commitments,
			Starred:      s.Starred,
			Overdue:      s.Milestones.Overdue,
			Updates:      s.Updates,
			LastUpdate:   formatDay(lang, s.LastUpdate),
		}
		if s.Commitments > 0 {
			high := s.ByCompletion[ogp.CompletionSubstantial] + s.ByCompletion[ogp.CompletionComplete]
			card.HighPercent = high * 100 / s.Commitments
		}
		card.Progress = web.ProgressBar(float64(card.HighPercent), web.TLang(lang, "hub_high_completion"))
		v.Pilots = append(v.Pilots, card)
		rows = append(rows, completionStackedRow(lang, p.Name, s.ByCompletion))
	}
	if len(rows) > 0 {
		title := web.TLang(lang, "hub_chart_completion_title")
		v.CompletionSVG = web.StackedBar(title, rows)
		v.CompletionData = web.StackedTable(title, web.TLang(lang, "hub_pilot"), web.TLang(lang, "chart_total"), rows)
	}
	for _, u := range m.Latest(latestOnHome) {
		c, ok := m.Commitment(u.Commitment)
		var cp *readmodel.Commitment
		if ok {
			cp = &c
		}
		v.Latest = append(v.Latest, updateItemOf(lang, idx, u, cp))
	}
	for _, t := range m.Themes() {
		v.Themes = append(v.Themes, themeCount{
			themeLink:   themeLink{Name: themeLabel(lang, t.Theme), Path: ComparePathTheme(t.Theme)},
			Commitments: t.Commitments, Pilots: t.Pilots,
		})
	}
	return v
}

// completionStackedRow is one pilot's completion distribution as a chart row,
// with every level present (zeros included) so the table has all columns.
func completionStackedRow(lang, label string, by map[ogp.Completion]int) web.StackedRow {
	row := web.StackedRow{Label: label}
	for _, lvl := range ogp.Completions {
		row.Segments = append(row.Segments, web.Segment{
			Label: completionLabel(lang, lvl), Class: completionClass(lvl), Value: float64(by[lvl]),
		})
	}
	return row
}
