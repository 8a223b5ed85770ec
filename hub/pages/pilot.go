package pages

import (
	"html/template"
	"net/url"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// pilotView is a pilot's page: its plans and process record, its
// commitments, completion and milestone charts, and its latest updates.
type pilotView struct {
	Name         string
	Actor        string
	Handle       string
	URL          string // the node's own profile page
	Jurisdiction string
	Summary      readmodel.PilotSummary
	Plans        []planView
	Commitments  []commitmentItem
	Timeline     []updateItem
	Themes       []themeLink

	CompletionSVG  template.HTML
	CompletionData template.HTML
	MilestoneSVG   template.HTML
	MilestoneData  template.HTML
	CompareURL     string
	FeedURL        string
	Learning       *learningView // nil without a discussion
}

// planView is one action plan with its process record.
type planView struct {
	ID          string
	URL         string
	Name        string
	SummaryHTML template.HTML
	Period      string
	Status      string
	Current     bool
	Guidelines  []guidelineRow
	Score       readmodel.GuidelineScore
	Development string // IAP2 level during development
	Implement   string // IAP2 level during implementation
	MeetsMin    bool   // development reached "involve"
	HasDevLevel bool
}

type guidelineRow struct {
	Key   ogp.GuidelineKey
	Label string
	Level string
	Class string // "met", "partly", "not-met", "unknown"
	// Evidence are http(s) links only.
	Evidence []string
}

// timelineOnPilot is how many updates a pilot page lists.
const timelineOnPilot = 20

func buildPilot(m *readmodel.Model, lang string, p readmodel.Pilot) pilotView {
	v := pilotView{
		Name: p.Name, Actor: p.Actor, Handle: p.Handle, URL: p.URL,
		Jurisdiction: p.Jurisdiction, Summary: p.Summary, Themes: themeLinks(lang, p.Themes),
		CompareURL: PathCompare + "?pilot=" + url.QueryEscape(p.Actor),
		FeedURL:    FeedPath(p.Actor, ""),
	}
	if v.URL == "" {
		v.URL = readmodel.SafeLink(p.Actor)
	}
	for _, pl := range p.Plans {
		v.Plans = append(v.Plans, planViewOf(lang, pl, pl.ID == p.CurrentPlan))
	}
	idx := indexPilots(m)
	byID := map[string]readmodel.Commitment{}
	f := readmodel.Filter{Pilots: []string{p.Actor}}
	m.Each(func(c readmodel.Commitment) bool {
		if f.Match(&c) {
			v.Commitments = append(v.Commitments, commitmentItemOf(lang, idx, c))
			byID[c.ID] = c
		}
		return true
	})
	for _, u := range m.PilotTimeline(p.Actor, timelineOnPilot) {
		var cp *readmodel.Commitment
		if c, ok := byID[u.Commitment]; ok {
			cp = &c
		}
		v.Timeline = append(v.Timeline, updateItemOf(lang, idx, u, cp))
	}
	title := web.TLang(lang, "hub_chart_completion_of", "Name", p.Name)
	bars := completionBars(lang, p.Summary.ByCompletion)
	v.CompletionSVG = web.BarChart(title, bars)
	v.CompletionData = web.BarTable(title, web.TLang(lang, "completion_label"), web.TLang(lang, "hub_commitments_count"), bars)
	mt := web.TLang(lang, "hub_chart_milestones_of", "Name", p.Name)
	mbars := milestoneBars(lang, p.Summary.Milestones)
	v.MilestoneSVG = web.BarChart(mt, mbars)
	v.MilestoneData = web.BarTable(mt, web.TLang(lang, "milestone_status"), web.TLang(lang, "hub_milestones_count"), mbars)
	return v
}

func completionBars(lang string, by map[ogp.Completion]int) []web.Bar {
	bars := make([]web.Bar, 0, len(ogp.Completions))
	for _, lvl := range ogp.Completions {
		bars = append(bars, web.Bar{Label: completionLabel(lang, lvl), Value: float64(by[lvl]), Class: completionClass(lvl)})
	}
	return bars
}

// milestoneBars splits milestones the way the IRM's "on time" indicator
// reads them: done on time, on track, overdue, done late, cancelled.
func milestoneBars(lang string, mc readmodel.MilestoneCounts) []web.Bar {
	return []web.Bar{
		{Label: web.TLang(lang, "hub_ms_complete"), Value: float64(mc.Complete), Class: "c-complete"},
		{Label: web.TLang(lang, "hub_ms_on_track"), Value: float64(mc.OnTrack), Class: "c-substantial"},
		{Label: web.TLang(lang, "hub_ms_overdue"), Value: float64(mc.Overdue), Class: "c-not_started"},
		{Label: web.TLang(lang, "hub_ms_complete_late"), Value: float64(mc.CompleteLate), Class: "c-limited"},
		{Label: web.TLang(lang, "hub_ms_cancelled"), Value: float64(mc.Cancelled), Class: "c-no_evidence"},
	}
}

func planViewOf(lang string, pl readmodel.Plan, current bool) planView {
	v := planView{
		ID: pl.ID, URL: pl.URL, Name: pl.Name.In(lang), SummaryHTML: pl.SummaryHTML.In(lang),
		Period: formatPeriod(lang, pl.Period), Status: planStatusLabel(lang, pl.Status),
		Current: current, Score: pl.Score,
		Development: iap2Label(lang, pl.Participation.Development),
		Implement:   iap2Label(lang, pl.Participation.Implementation),
		MeetsMin:    pl.Participation.Development.MeetsMinimum(),
		HasDevLevel: pl.Participation.Development != "",
	}
	if v.URL == "" {
		v.URL = readmodel.SafeLink(pl.ID)
	}
	// One status per plan: its stage as the node published it; "current"
	// only names the plan the summary follows when the node gave no stage.
	if v.Status == "" && current {
		v.Status = web.TLang(lang, "hub_current_plan")
	}
	v.Guidelines = guidelineRows(lang, pl.Guidelines)
	return v
}

// guidelineRows lists all seven guidelines in the IRM's order, marking
// those the plan did not record, so plans compare row by row.
func guidelineRows(lang string, gs []ogp.Guideline) []guidelineRow {
	byKey := map[ogp.GuidelineKey]ogp.Guideline{}
	for _, g := range gs {
		byKey[g.Key] = g
	}
	rows := make([]guidelineRow, 0, len(ogp.GuidelineKeys))
	for _, k := range ogp.GuidelineKeys {
		g, ok := byKey[k]
		row := guidelineRow{Key: k, Label: guidelineLabel(lang, k), Level: guidelineLevelLabel(lang, g.Level), Class: "unknown"}
		if ok && g.Level.Valid() {
			row.Class = string(g.Level)
		}
		for _, e := range g.Evidence {
			if l := readmodel.SafeLink(e); l != "" {
				row.Evidence = append(row.Evidence, l)
			}
		}
		rows = append(rows, row)
	}
	return rows
}
