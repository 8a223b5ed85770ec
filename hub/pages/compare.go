package pages

import (
	"html/template"
	"net/url"
	"slices"
	"strings"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// compareView is the comparison page. Every section honours the filter:
// the matrix and charts count only matching commitments, the process table
// lists only the selected pilots (all when none is selected).
type compareView struct {
	Form    readmodel.Filter
	Options filterOptions
	Errors  []web.FieldError
	Active  bool

	Matched int // commitments matching the filter
	Pilots  int // pilots with at least one match

	Matrix matrixView

	CompletionSVG  template.HTML
	CompletionData template.HTML

	OverdueSVG   template.HTML
	OverdueData  template.HTML
	Overdue      []overdueItem
	OverdueTotal int

	ProcessSVG  template.HTML
	ProcessData template.HTML
	Process     processView

	List      []commitmentItem
	NextURL   string
	FirstURL  string
	ListTotal int
	MaxSelect int

	Data dataLinks // the same selection as feed, exports and API
}

type matrixView struct {
	Themes []themeLink
	Rows   []matrixRow
}

type matrixRow struct {
	Pilot pilotRef
	Total int
	Cells []matrixCell
}

type matrixCell struct {
	Count int
	High  int
	URL   string // the comparison narrowed to this pilot and theme
	Label string // accessible description, e.g. "Jalisco, Education: 2 commitments, 1 substantial or complete"
}

type overdueItem struct {
	Pilot      pilotRef
	Commitment string
	Path       string
	Milestone  string
	Due        string
	DueISO     string
	Status     string
}

// processView compares the pilots' current plans against the seven IRM
// process guidelines and the IAP2 level of public influence.
type processView struct {
	Guidelines []processHeader
	Rows       []processRow
}

type processHeader struct {
	Key   ogp.GuidelineKey
	Short string // column number "1"…"7"
	Label string
}

type processRow struct {
	Pilot       pilotRef
	Plan        string
	Cells       []guidelineRow
	Score       readmodel.GuidelineScore
	Percent     int
	Development string
	Implement   string
	MeetsMin    bool
	HasDev      bool
	HasPlan     bool
}

// listPerPage is the page size of the comparison's commitment list.
const listPerPage = 50

// maxOverdueListed caps the overdue list; the chart and table count all.
const maxOverdueListed = 100

// MaxSideBySide is how many commitments the side-by-side view compares.
const MaxSideBySide = 4

func buildCompare(m *readmodel.Model, lang string, q url.Values, today ogp.Date) (compareView, error) {
	f, errs := parseFilter(q, lang)
	cursor := q.Get("cursor")
	v := compareView{Form: f, Errors: errs, Active: f.Narrows(), MaxSelect: MaxSideBySide, Data: filteredData(f)}
	v.Options = buildOptions(m, lang, f)
	pilots := m.Pilots()
	idx := pilotIndex{}
	for _, p := range pilots {
		idx[p.Actor] = p.PilotInfo
	}

	// One pass over the matching commitments feeds the completion chart and
	// the overdue milestones; the read model keeps these per pilot only
	// unfiltered, and a filtered pass is a scan of small in-memory structs.
	byPilot := map[string]map[ogp.Completion]int{}
	overdueBy := map[string]int{}
	m.Each(func(c readmodel.Commitment) bool {
		if !f.Match(&c) {
			return true
		}
		v.Matched++
		if byPilot[c.Pilot] == nil {
			byPilot[c.Pilot] = map[ogp.Completion]int{}
		}
		byPilot[c.Pilot][c.Completion]++
		for _, ms := range c.Milestones {
			if !milestoneOverdue(ms, today) {
				continue
			}
			overdueBy[c.Pilot]++
			v.OverdueTotal++
			name := ms.Name
			if t := ms.NameMap[lang]; t != "" {
				name = t
			}
			v.Overdue = append(v.Overdue, overdueItem{
				Pilot: idx.ref(c.Pilot, c.PilotName), Commitment: c.Name.In(lang), Path: CommitmentPath(c.ID),
				Milestone: name, Due: formatDate(lang, ms.EndDate), DueISO: string(ms.EndDate),
				Status: milestoneLabel(lang, ms.Status),
			})
		}
		return true
	})
	v.Pilots = len(byPilot)
	// Oldest due date first: the longest overdue is the most telling.
	slices.SortStableFunc(v.Overdue, func(a, b overdueItem) int { return strings.Compare(a.DueISO, b.DueISO) })
	if len(v.Overdue) > maxOverdueListed {
		v.Overdue = v.Overdue[:maxOverdueListed]
	}

	var rows []web.StackedRow
	var obars []web.Bar
	for _, p := range pilots {
		if by, ok := byPilot[p.Actor]; ok {
			rows = append(rows, completionStackedRow(lang, p.Name, by))
			obars = append(obars, web.Bar{Label: p.Name, Value: float64(overdueBy[p.Actor]), Class: "c-not_started"})
		}
	}
	if len(rows) > 0 {
		t := web.TLang(lang, "hub_chart_completion_title")
		v.CompletionSVG = web.StackedBar(t, rows)
		v.CompletionData = web.StackedTable(t, web.TLang(lang, "hub_pilot"), web.TLang(lang, "chart_total"), rows)
		ot := web.TLang(lang, "hub_chart_overdue_title")
		v.OverdueSVG = web.BarChart(ot, obars)
		v.OverdueData = web.BarTable(ot, web.TLang(lang, "hub_pilot"), web.TLang(lang, "hub_ms_overdue"), obars)
	}

	v.Matrix = buildMatrix(m, lang, f, idx)
	v.Process = buildProcess(m, lang, pilots, f.Pilots)
	var pbars []web.Bar
	for _, r := range v.Process.Rows {
		if r.HasPlan {
			pbars = append(pbars, web.Bar{Label: r.Pilot.Name, Value: float64(r.Percent)})
		}
	}
	if len(pbars) > 0 {
		pt := web.TLang(lang, "hub_chart_process_title")
		v.ProcessSVG = web.BarChart(pt, pbars)
		v.ProcessData = web.BarTable(pt, web.TLang(lang, "hub_pilot"), web.TLang(lang, "hub_process_score"), pbars)
	}

	page, err := m.Commitments(f, cursor, listPerPage)
	if err != nil {
		return v, err
	}
	v.ListTotal = page.Total
	for _, c := range page.Items {
		v.List = append(v.List, commitmentItemOf(lang, idx, c))
	}
	v.NextURL, v.FirstURL = pageLinks(PathCompare, f.Values(), page.Next, cursor, "commitments")
	return v, nil
}

func buildMatrix(m *readmodel.Model, lang string, f readmodel.Filter, idx pilotIndex) matrixView {
	mx := m.Matrix(f)
	var v matrixView
	for _, t := range mx.Themes {
		v.Themes = append(v.Themes, themeLink{Name: themeLabel(lang, t), Path: ComparePathTheme(t)})
	}
	for _, r := range mx.Rows {
		row := matrixRow{Pilot: idx.ref(r.Pilot, r.Name)}
		for i, c := range r.Cells {
			row.Total += c.Commitments
			cell := matrixCell{Count: c.Commitments, High: c.High}
			if c.Commitments > 0 && i < len(mx.Themes) {
				q := f.Values()
				q.Set(readmodel.ParamPilot, r.Pilot)
				q.Set(readmodel.ParamTheme, mx.Themes[i])
				cell.URL = withQuery(PathCompare, q, "")
				cell.Label = web.TLang(lang, "hub_matrix_cell_n", c.Commitments, "Pilot", r.Name, "Theme", themeLabel(lang, mx.Themes[i]),
					"High", c.High)
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

func buildProcess(m *readmodel.Model, lang string, pilots []readmodel.Pilot, selected []string) processView {
	var v processView
	for i, k := range ogp.GuidelineKeys {
		v.Guidelines = append(v.Guidelines, processHeader{Key: k, Short: string(rune('1' + i)), Label: guidelineLabel(lang, k)})
	}
	for _, p := range pilots {
		if len(selected) > 0 && !slices.Contains(selected, p.Actor) {
			continue
		}
		row := processRow{Pilot: refOf(p.PilotInfo)}
		if pl, ok := m.Plan(p.CurrentPlan); ok {
			row.HasPlan = true
			row.Plan = pl.Name.In(lang)
			row.Cells = guidelineRows(lang, pl.Guidelines)
			row.Score = pl.Score
			row.Percent = pl.Score.Percent()
			row.Development = iap2Label(lang, pl.Participation.Development)
			row.Implement = iap2Label(lang, pl.Participation.Implementation)
			row.HasDev = pl.Participation.Development != ""
			row.MeetsMin = pl.Participation.Development.MeetsMinimum()
		} else {
			row.Cells = guidelineRows(lang, nil)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}
