package pages

import (
	"cmp"
	"html"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// The comparison page puts the answers first: one compact table of the
// pilots (sortable by any column with plain links, paged), two charts of
// shares sorted by value, then the details folded in <details>: the
// pilots × policy-area matrix, overdue milestones, the process record per
// guideline and the matching commitments, each paged. Every section follows
// the filter; the page's own state (sort, pages) lives in the URL.

// Query parameters of the page beside the filter grammar.
const (
	paramBy          = "by"    // column the pilot table is sorted by
	paramDir         = "dir"   // asc or desc
	paramPilotPage   = "page"  // page of the pilot table
	paramOverduePage = "opage" // page of the overdue milestones
	paramCursor      = "cursor"
	paramPilotQuery  = "pq" // a name to find in the pilot picker
)

// Page sizes of the comparison's lists.
const (
	pilotsPerPage  = 15
	overduePerPage = 20
	listPerPage    = 20
	// maxOverdueListed caps the overdue list (oldest first); the table and
	// chart count all of them.
	maxOverdueListed = 200
)

// MaxSideBySide is how many commitments the side-by-side view compares.
const MaxSideBySide = 4

// QuestionFigures is what the comparison shows of a pilot's public
// discussion: questions asked of it and how many it answered.
type QuestionFigures struct {
	Asked, Answered int
}

// QuestionsFunc gives a pilot's discussion figures; ok is false when the
// pilot has none. It is called once per visible pilot per page, so it must
// be a lookup in memory.
type QuestionsFunc func(pilotActor string) (f QuestionFigures, ok bool)

// compareView is the comparison page.
type compareView struct {
	Form        readmodel.Filter
	Options     filterOptions
	PilotPicker template.HTML // one checkbox per pilot (pre-escaped: a hub may have thousands)
	Chosen      string        // "all" / "3 chosen"
	PilotQuery  string        // the name the picker looks for
	PilotsMore  string        // "60 of 1,000 listed: find the others by name"
	Errors      []web.FieldError
	Active      bool
	State       []hiddenField // the table's sort, kept when the filter form is sent

	Matched     int
	Pilots      int
	MatchedText string

	Table pilotTable

	CompletionSVG  template.HTML
	CompletionData template.HTML
	MilestoneSVG   template.HTML
	MilestoneData  template.HTML

	Matrix  matrixView
	Overdue overdueView
	Process processView

	ProcessSVG  template.HTML
	ProcessData template.HTML

	List      []commitmentItem
	ListOpen  bool
	NextURL   string
	FirstURL  string
	ListTotal int
	MaxSelect int

	Data dataLinks // the same selection as feed, exports and API

	// Learning is the discussion's figures for the same selection (set by
	// the handler; nil without a discussion).
	Learning *learningView
}

type hiddenField struct{ Name, Value string }

// pilotTable is the compact table: one row per pilot of the current page.
type pilotTable struct {
	Columns   []tableColumn
	Rows      []pilotRow
	Questions bool // the discussion column is shown
	Page      int
	Pages     int
	PrevURL   string
	NextURL   string
	From, To  int
	Total     int
}

type tableColumn struct {
	Key      string
	Label    string
	URL      string // sort by this column (or reverse it)
	AriaSort string // "ascending", "descending" or ""
	Num      bool
}

// pilotRow is one pilot's figures over the matching commitments.
type pilotRow struct {
	Pilot         pilotRef
	Actor         string
	Commitments   int
	High          int // substantial or complete
	HighPct       int
	Milestones    int // not cancelled
	OnTime        int // done on time or on track
	OnTimePct     int
	Overdue       int
	OverduePct    int
	Late          int // done late
	HasPlan       bool
	Process       int // percent
	Participation string
	HasDev        bool
	MeetsMin      bool
	Updates       int
	LastUpdate    string
	LastUpdateISO string
	Questions     QuestionFigures
	HasQuestions  bool
	AnsweredPct   int

	agg *pilotAgg
}

type overdueView struct {
	Total   int
	Listed  int // at most maxOverdueListed
	Items   []overdueItem
	Open    bool
	Page    int
	Pages   int
	PrevURL string
	NextURL string
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

func buildCompare(m *readmodel.Model, lang string, q url.Values, today ogp.Date) (compareView, error) {
	return buildCompareWith(m, lang, q, today, nil)
}

func buildCompareWith(m *readmodel.Model, lang string, q url.Values, today ogp.Date, questions QuestionsFunc) (compareView, error) {
	f, errs := parseFilter(q, lang)
	idx := indexPilots(m)
	data, err := compareDataOf(m, f, today)
	if err != nil {
		return compareView{}, err
	}
	v := compareView{Form: f, Errors: errs, Active: f.Narrows(), MaxSelect: MaxSideBySide, Data: filteredData(f)}
	v.Options = buildOptions(m, lang, f)
	v.PilotQuery = strings.TrimSpace(q.Get(paramPilotQuery))
	v.PilotPicker, v.Chosen, v.PilotsMore = pilotPicker(m, idx, lang, f.Pilots, v.PilotQuery)
	v.Matched, v.Pilots = data.matched, len(data.rows)
	v.MatchedText = web.TLang(lang, "hub_matched_n", data.matched,
		"Pilots", web.TLang(lang, "common_pilots", len(data.rows)))

	// The table: every matching pilot's row, sorted, then one page of it.
	by, dir := tableSort(q)
	// Sorting works on the figures derived once per filter; only the rows
	// of the page shown are formatted.
	rows := data.sorted(by, dir, questions)
	v.Table.Questions = questions != nil
	state := f.Values()
	if by != "pilot" || dir != "asc" {
		state.Set(paramBy, by)
		state.Set(paramDir, dir)
		v.State = []hiddenField{{paramBy, by}, {paramDir, dir}}
	}
	v.Table.Columns = tableColumns(lang, f.Values(), by, dir, questions != nil)
	page, _ := strconv.Atoi(q.Get(paramPilotPage))
	v.Table.Total = len(rows)
	v.Table.Pages = max(1, (len(rows)+pilotsPerPage-1)/pilotsPerPage)
	v.Table.Page = min(max(page, 1), v.Table.Pages)
	from := (v.Table.Page - 1) * pilotsPerPage
	to := min(from+pilotsPerPage, len(rows))
	for _, k := range rows[from:to] {
		if questions != nil && by != "answered" {
			k.q, k.hasQ = questions(k.agg.actor)
			k.answeredPct = pct(k.q.Answered, k.q.Asked)
		}
		v.Table.Rows = append(v.Table.Rows, pilotRowOf(lang, idx, k))
	}
	v.Table.From, v.Table.To = from+1, to
	pageURL := func(key string, n int, base url.Values, fragment string) string {
		pq := url.Values{}
		for k, vs := range base {
			pq[k] = vs
		}
		// The pilot table's first page is the default; the folded lists
		// keep their page (1 too) so they open on it.
		if n > 1 || key != paramPilotPage {
			pq.Set(key, strconv.Itoa(n))
		}
		return withQuery(PathCompare, pq, fragment)
	}
	if v.Table.Page > 1 {
		v.Table.PrevURL = pageURL(paramPilotPage, v.Table.Page-1, state, "pilots-h")
	}
	if v.Table.Page < v.Table.Pages {
		v.Table.NextURL = pageURL(paramPilotPage, v.Table.Page+1, state, "pilots-h")
	}

	// Charts, matrix and process record follow the table's page.
	shown := v.Table.Rows
	v.CompletionSVG, v.CompletionData = completionChart(lang, shown)
	v.MilestoneSVG, v.MilestoneData = milestoneChart(lang, shown)
	v.Matrix = buildMatrix(lang, f, data, shown)
	v.Process = buildProcess(m, lang, idx, shown)
	v.ProcessSVG, v.ProcessData = processChart(lang, shown)

	// Overdue milestones, oldest first, paged.
	v.Overdue = overdueViewOf(m, lang, idx, data, q, state, pageURL)

	// The commitment list.
	cursor := q.Get(paramCursor)
	v.ListOpen = cursor != ""
	var list readmodel.Page[readmodel.Commitment]
	if cursor == "" && data.first != nil {
		list = *data.first
	} else if list, err = m.Commitments(f, cursor, listPerPage); err != nil {
		return v, err
	}
	v.ListTotal = list.Total
	for _, c := range list.Items {
		v.List = append(v.List, commitmentItemOf(lang, idx, c))
	}
	v.NextURL, v.FirstURL = pageLinks(PathCompare, f.Values(), list.Next, cursor, "commitments")
	return v, nil
}

// tableSort reads the table's column and direction; unknown values fall
// back to the pilot's name, A to Z.
func tableSort(q url.Values) (by, dir string) {
	by = q.Get(paramBy)
	if !slices.ContainsFunc(pilotColumns, func(c pilotColumn) bool { return c.key == by }) {
		by = "pilot"
	}
	dir = q.Get(paramDir)
	if dir != "asc" && dir != "desc" {
		dir = defaultDir(by)
	}
	return by, dir
}

// rowKey is one pilot's row before formatting: what sorting needs.
type rowKey struct {
	agg         *pilotAgg
	q           QuestionFigures
	hasQ        bool
	answeredPct int
}

// pilotColumn is one sortable column of the pilot table.
type pilotColumn struct {
	key     string
	labelID string
	num     bool
	cmp     func(a, b *rowKey) int
}

var pilotColumns = []pilotColumn{
	{"pilot", "hub_pilot", false, func(a, b *rowKey) int { return 0 }},
	{"commitments", "hub_col_commitments", true, func(a, b *rowKey) int { return a.agg.commitments - b.agg.commitments }},
	{"complete", "hub_col_complete", true, func(a, b *rowKey) int {
		return cmp.Or(a.agg.highPct-b.agg.highPct, a.agg.high-b.agg.high)
	}},
	{"on-time", "hub_col_on_time", true, func(a, b *rowKey) int {
		return cmp.Or(a.agg.onTimePct-b.agg.onTimePct, a.agg.onTime-b.agg.onTime)
	}},
	{"overdue", "hub_col_overdue", true, func(a, b *rowKey) int {
		return cmp.Or(a.agg.overduePct-b.agg.overduePct, a.agg.overdue-b.agg.overdue)
	}},
	{"process", "hub_process_score", true, func(a, b *rowKey) int { return processKey(a.agg) - processKey(b.agg) }},
	{"participation", "hub_col_participation", false, func(a, b *rowKey) int { return iap2Rank(a.agg) - iap2Rank(b.agg) }},
	{"updates", "hub_col_updates", true, func(a, b *rowKey) int { return a.agg.updates - b.agg.updates }},
	{"last-update", "hub_last_update", false, func(a, b *rowKey) int { return a.agg.lastUpdate.Compare(b.agg.lastUpdate) }},
	{"answered", "hub_col_answered", true, func(a, b *rowKey) int {
		return cmp.Or(a.answeredPct-b.answeredPct, a.q.Answered-b.q.Answered)
	}},
}

func processKey(a *pilotAgg) int {
	if !a.hasPlan {
		return -1
	}
	return a.process
}

func iap2Rank(a *pilotAgg) int { return slices.Index(ogp.IAP2Levels, a.development) }

// defaultDir: names A to Z, figures largest first.
func defaultDir(by string) string {
	if by == "pilot" {
		return "asc"
	}
	return "desc"
}

func sortRows(rows []rowKey, by, dir string) {
	i := slices.IndexFunc(pilotColumns, func(c pilotColumn) bool { return c.key == by })
	col := pilotColumns[max(i, 0)]
	slices.SortFunc(rows, func(a, b rowKey) int {
		c := col.cmp(&a, &b)
		if dir == "desc" {
			c = -c
		}
		// Ties (and the name column) by name, A to Z unless the reader
		// asked for the names Z to A.
		n := cmp.Or(strings.Compare(a.agg.key, b.agg.key), strings.Compare(a.agg.actor, b.agg.actor))
		if by == "pilot" && dir == "desc" {
			n = -n
		}
		return cmp.Or(c, n)
	})
}

func tableColumns(lang string, base url.Values, by, dir string, questions bool) []tableColumn {
	var out []tableColumn
	for _, c := range pilotColumns {
		if c.key == "answered" && !questions {
			continue
		}
		q := url.Values{}
		for k, vs := range base {
			q[k] = vs
		}
		next := defaultDir(c.key)
		col := tableColumn{Key: c.key, Label: web.TLang(lang, c.labelID), Num: c.num}
		if c.key == by {
			col.AriaSort = map[string]string{"asc": "ascending", "desc": "descending"}[dir]
			next = map[string]string{"asc": "desc", "desc": "asc"}[dir]
		}
		q.Set(paramBy, c.key)
		q.Set(paramDir, next)
		col.URL = withQuery(PathCompare, q, "pilots-h")
		out = append(out, col)
	}
	return out
}

func pct(part, whole int) int {
	if whole <= 0 {
		return 0
	}
	return (part*100 + whole/2) / whole
}

func pilotRowOf(lang string, idx *siteIndex, k rowKey) pilotRow {
	a := k.agg
	r := pilotRow{Pilot: idx.ref(a.actor, a.name), Actor: a.actor, Commitments: a.commitments, agg: a,
		High: a.high, HighPct: a.highPct, Milestones: a.msN, OnTime: a.onTime, OnTimePct: a.onTimePct,
		Overdue: a.overdue, OverduePct: a.overduePct, Late: a.late, HasPlan: a.hasPlan, Process: a.process,
		Updates: a.updates, Questions: k.q, HasQuestions: k.hasQ, AnsweredPct: k.answeredPct}
	r.Participation = iap2Label(lang, a.development)
	r.HasDev, r.MeetsMin = a.development != "", a.development.MeetsMinimum()
	if !a.lastUpdate.IsZero() {
		r.LastUpdate = formatDay(lang, a.lastUpdate)
		r.LastUpdateISO = a.lastUpdate.UTC().Format(ogp.DateLayout)
	}
	return r
}

func completionIndex(c ogp.Completion) int { return max(slices.Index(ogp.Completions, c), 0) }

// completionChart: each pilot's commitments by completion level as shares,
// the pilots ordered by the share substantially or completely implemented.
func completionChart(lang string, shown []pilotRow) (template.HTML, template.HTML) {
	if len(shown) == 0 {
		return "", ""
	}
	rows := slices.Clone(shown)
	slices.SortStableFunc(rows, func(a, b pilotRow) int { return cmp.Or(b.HighPct-a.HighPct, b.High-a.High) })
	title := web.TLang(lang, "hub_chart_completion_share")
	var srows []web.StackedRow
	header := []string{web.TLang(lang, "hub_pilot")}
	for _, lvl := range ogp.Completions {
		header = append(header, completionLabel(lang, lvl))
	}
	header = append(header, web.TLang(lang, "chart_total"), web.TLang(lang, "hub_col_complete"))
	var table [][]string
	for _, r := range rows {
		srows = append(srows, completionStackedRow(lang, r.Pilot.Name, r.agg.byMap()))
		line := []string{r.Pilot.Name}
		for _, n := range r.agg.by {
			line = append(line, strconv.Itoa(n))
		}
		line = append(line, strconv.Itoa(r.Commitments), web.FormatPct(lang, r.HighPct))
		table = append(table, line)
	}
	return web.StackedBar(title, srows), web.DataTable(title, header, table)
}

// milestoneChart: each pilot's milestones on time, done late and overdue
// as shares, ordered by the share on time.
func milestoneChart(lang string, shown []pilotRow) (template.HTML, template.HTML) {
	var rows []pilotRow
	for _, r := range shown {
		if r.Milestones > 0 {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return "", ""
	}
	slices.SortStableFunc(rows, func(a, b pilotRow) int { return cmp.Or(b.OnTimePct-a.OnTimePct, a.OverduePct-b.OverduePct) })
	title := web.TLang(lang, "hub_chart_milestone_share")
	onTime, late, overdue := web.TLang(lang, "hub_col_on_time"), web.TLang(lang, "hub_ms_complete_late"), web.TLang(lang, "hub_ms_overdue")
	var srows []web.StackedRow
	var table [][]string
	for _, r := range rows {
		srows = append(srows, web.StackedRow{Label: r.Pilot.Name, Segments: []web.Segment{
			{Label: onTime, Class: "c-complete", Value: float64(r.OnTime)},
			{Label: late, Class: "c-limited", Value: float64(r.Late)},
			{Label: overdue, Class: "c-not_started", Value: float64(r.Overdue)},
		}})
		table = append(table, []string{r.Pilot.Name,
			shareText(lang, r.OnTime, r.Milestones), shareText(lang, r.Late, r.Milestones), shareText(lang, r.Overdue, r.Milestones),
			strconv.Itoa(r.Milestones)})
	}
	header := []string{web.TLang(lang, "hub_pilot"), onTime, late, overdue, web.TLang(lang, "chart_total")}
	return web.StackedBar(title, srows), web.DataTable(title, header, table)
}

// processChart: the process score of each pilot's current plan, highest first.
func processChart(lang string, shown []pilotRow) (template.HTML, template.HTML) {
	var rows []pilotRow
	for _, r := range shown {
		if r.HasPlan {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return "", ""
	}
	slices.SortStableFunc(rows, func(a, b pilotRow) int { return b.Process - a.Process })
	title := web.TLang(lang, "hub_chart_process_title")
	var bars []web.Bar
	for _, r := range rows {
		bars = append(bars, web.Bar{Label: r.Pilot.Name, Value: float64(r.Process)})
	}
	return web.BarChart(title, bars), web.BarTable(title, web.TLang(lang, "hub_pilot"), web.TLang(lang, "hub_process_score"), bars)
}

// shareText is "40% (2 of 5)": a share with the counts beside it.
func shareText(lang string, part, whole int) string {
	return web.TLang(lang, "hub_share_of", "Pct", web.FormatPct(lang, pct(part, whole)), "Part", part, "Whole", whole)
}

func buildMatrix(lang string, f readmodel.Filter, data *compareData, shown []pilotRow) matrixView {
	var v matrixView
	mx := data.matrix
	rowOf := func(actor string) *readmodel.MatrixRow {
		if i, ok := data.matrixRow[actor]; ok {
			return &mx.Rows[i]
		}
		return nil
	}
	// Only the themes the shown pilots use, in the matrix's order.
	used := make([]bool, len(mx.Themes))
	for _, s := range shown {
		if r := rowOf(s.Actor); r != nil {
			for i, c := range r.Cells {
				if c.Commitments > 0 {
					used[i] = true
				}
			}
		}
	}
	var cols []int
	for i, t := range mx.Themes {
		if used[i] {
			cols = append(cols, i)
			v.Themes = append(v.Themes, themeLink{Name: themeLabel(lang, t), Path: ComparePathTheme(t)})
		}
	}
	for _, s := range shown {
		r := rowOf(s.Actor)
		if r == nil {
			continue
		}
		row := matrixRow{Pilot: s.Pilot}
		for _, i := range cols {
			c := r.Cells[i]
			row.Total += c.Commitments
			cell := matrixCell{Count: c.Commitments, High: c.High}
			if c.Commitments > 0 {
				q := f.Values()
				q.Set(readmodel.ParamPilot, r.Pilot)
				q.Set(readmodel.ParamTheme, mx.Themes[i])
				cell.URL = withQuery(PathCompare, q, "")
				cell.Label = web.TLang(lang, "hub_matrix_cell_n", c.Commitments, "Pilot", s.Pilot.Name, "Theme", themeLabel(lang, mx.Themes[i]),
					"High", c.High)
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

func buildProcess(m *readmodel.Model, lang string, idx *siteIndex, shown []pilotRow) processView {
	var v processView
	for i, k := range ogp.GuidelineKeys {
		v.Guidelines = append(v.Guidelines, processHeader{Key: k, Short: string(rune('1' + i)), Label: guidelineLabel(lang, k)})
	}
	for _, s := range shown {
		row := processRow{Pilot: s.Pilot}
		if pl, ok := m.Plan(s.agg.plan); ok {
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

func overdueViewOf(m *readmodel.Model, lang string, idx *siteIndex, data *compareData, q, state url.Values,
	pageURL func(string, int, url.Values, string) string) overdueView {
	v := overdueView{Total: data.overdueTotal, Listed: len(data.overdue)}
	v.Pages = max(1, (len(data.overdue)+overduePerPage-1)/overduePerPage)
	page, _ := strconv.Atoi(q.Get(paramOverduePage))
	v.Open = page > 0
	v.Page = min(max(page, 1), v.Pages)
	from := (v.Page - 1) * overduePerPage
	for _, o := range data.overdue[from:min(from+overduePerPage, len(data.overdue))] {
		c, ok := m.Commitment(o.commitment)
		if !ok || o.milestone >= len(c.Milestones) {
			continue
		}
		ms := c.Milestones[o.milestone]
		name := ms.Name
		if t := ms.NameMap[lang]; t != "" {
			name = t
		}
		v.Items = append(v.Items, overdueItem{
			Pilot: idx.ref(c.Pilot, c.PilotName), Commitment: c.Name.In(lang), Path: idx.commitmentPath(c.ID, c.Pilot),
			Milestone: name, Due: formatDate(lang, ms.EndDate), DueISO: string(ms.EndDate),
			Status: milestoneLabel(lang, ms.Status),
		})
	}
	if v.Page > 1 {
		v.PrevURL = pageURL(paramOverduePage, v.Page-1, state, "overdue-h")
	}
	if v.Page < v.Pages {
		v.NextURL = pageURL(paramOverduePage, v.Page+1, state, "overdue-h")
	}
	return v
}

// pilotsInPicker caps the unchosen pilots the picker lists; a hub with
// more members finds the others by name (pq), so the page stays the same
// size whatever the number of members.
const pilotsInPicker = 60

// pilotPicker renders the filter form's pilot checkboxes: the chosen ones
// (ticked), then the first pilotsInPicker others whose name contains
// query. It is pre-escaped HTML built from parts made once per read-model
// version, not a template loop.
func pilotPicker(m *readmodel.Model, idx *siteIndex, lang string, chosen []string, query string) (template.HTML, string, string) {
	pk := pickerOf(m, idx)
	needle := strings.ToLower(strings.TrimSpace(query))
	if len(chosen) == 0 && needle == "" {
		// The usual case, the same for every reader: built once.
		pk.once.Do(func() { pk.plain, pk.plainListed = pk.build(nil, "") })
		return pk.plain, web.TLang(lang, "hub_pilots_all"), pilotsMore(lang, pk.plainListed[0], pk.plainListed[1])
	}
	html, listed := pk.build(chosen, needle)
	label := web.TLang(lang, "hub_pilots_all")
	if len(chosen) > 0 {
		label = web.TLang(lang, "hub_pilots_chosen", len(chosen))
	}
	return html, label, pilotsMore(lang, listed[0], listed[1])
}

func pilotsMore(lang string, listed, matching int) string {
	if listed < matching {
		return web.TLang(lang, "hub_pilots_more", "Listed", listed, "Total", matching)
	}
	return ""
}

// build lists the chosen pilots (ticked), then up to pilotsInPicker others
// whose lower-cased name contains needle; listed is {shown, matching}.
func (pk *picker) build(chosen []string, needle string) (template.HTML, [2]int) {
	var b strings.Builder
	write := func(i int, checked bool) {
		b.WriteString(pk.parts[i].pre)
		if checked {
			b.WriteString(" checked")
		}
		b.WriteString(pk.parts[i].post)
	}
	for i, a := range pk.actors {
		if slices.Contains(chosen, a) {
			write(i, true)
		}
	}
	listed, matching := 0, 0
	for i, a := range pk.actors {
		if slices.Contains(chosen, a) || (needle != "" && !strings.Contains(pk.names[i], needle)) {
			continue
		}
		matching++
		if listed < pilotsInPicker {
			write(i, false)
			listed++
		}
	}
	return template.HTML(b.String()), [2]int{listed, matching} //nolint:gosec // every value escaped in pickerOf
}

type pickerPart struct{ pre, post string }

type picker struct {
	once        sync.Once
	plain       template.HTML // nothing chosen, no name looked for
	plainListed [2]int
	parts       []pickerPart
	actors      []string
	names       []string // lower-cased, for the name search
}

var pickers = newVersionCache[*picker](4)

func pickerOf(m *readmodel.Model, idx *siteIndex) *picker {
	ver := idx.version
	if pk, ok := pickers.get(m, ver, ""); ok {
		return pk
	}
	pk := &picker{}
	for _, p := range m.Pilots() {
		pk.parts = append(pk.parts, pickerPart{
			pre:  `<li><label class="check"><input type="checkbox" name="pilot" value="` + html.EscapeString(p.Actor) + `"`,
			post: `> ` + html.EscapeString(p.Name) + `</label></li>`,
		})
		pk.actors = append(pk.actors, p.Actor)
		pk.names = append(pk.names, strings.ToLower(p.Name))
	}
	pickers.put(m, ver, "", pk)
	return pk
}

// pilotAgg is one pilot's figures over the commitments a filter selects.
type pilotAgg struct {
	actor, name, key string
	commitments      int
	by               [5]int // by completion level, in ogp.Completions order
	milestones       readmodel.MilestoneCounts
	updates          int
	lastUpdate       time.Time
	plan             string // current plan IRI
	hasPlan          bool
	process          int
	development      ogp.IAP2Level

	// Derived by finish: what the table shows and sorts by.
	high, highPct                          int // substantial or complete
	msN                                    int // milestones not cancelled
	onTime, onTimePct, overdue, overduePct int
	late                                   int
}

func (a *pilotAgg) finish() {
	a.high = a.by[completionIndex(ogp.CompletionSubstantial)] + a.by[completionIndex(ogp.CompletionComplete)]
	a.highPct = pct(a.high, a.commitments)
	ms := a.milestones
	a.msN = ms.Total - ms.Cancelled
	a.onTime, a.overdue, a.late = ms.OnTime(), ms.Overdue, ms.CompleteLate
	a.onTimePct, a.overduePct = pct(a.onTime, a.msN), pct(a.overdue, a.msN)
}

func (a *pilotAgg) byMap() map[ogp.Completion]int {
	out := make(map[ogp.Completion]int, len(a.by))
	for i, n := range a.by {
		out[ogp.Completions[i]] = n
	}
	return out
}

type overdueRef struct {
	due        ogp.Date
	commitment string
	milestone  int
}

// compareData is what one filter selects, derived once per read-model
// version and day and kept for the next requests with the same filter: the
// per-pilot figures, the oldest overdue milestones, the matrix and the
// first page of the commitment list. A request then only sorts, pages and
// renders, so the page's cost follows what it shows, not how much the hub
// holds.
type compareData struct {
	rows         []pilotAgg // pilots with at least one match, by name
	matched      int
	overdue      []overdueRef // oldest first, at most maxOverdueListed
	overdueTotal int
	matrix       readmodel.Matrix
	matrixRow    map[string]int // actor → index in matrix.Rows
	first        *readmodel.Page[readmodel.Commitment]

	mu     sync.Mutex
	orders map[string][]rowKey // the table's orders asked for so far, by "column dir"
}

// compareCache holds the figures of the 8 filters asked for last (about
// 2 MB each at 1,000 pilots, the matrix being the largest part).
var compareCache = newVersionCache[*compareData](8)

func compareDataOf(m *readmodel.Model, f readmodel.Filter, today ogp.Date) (*compareData, error) {
	ver := m.Version()
	key := string(today) + "\x00" + f.Values().Encode()
	if d, ok := compareCache.get(m, ver, key); ok {
		return d, nil
	}
	d := &compareData{}
	byActor := map[string]*pilotAgg{}
	pilots := m.Pilots()
	for _, p := range pilots {
		a := &pilotAgg{actor: p.Actor, name: p.Name, key: strings.ToLower(p.Name), plan: p.CurrentPlan}
		if pl, ok := m.Plan(p.CurrentPlan); ok {
			a.hasPlan, a.process, a.development = true, pl.Score.Percent(), pl.Participation.Development
		}
		byActor[p.Actor] = a
	}
	if !f.Narrows() {
		// The read model keeps every pilot's unfiltered summary.
		for _, p := range pilots {
			a, s := byActor[p.Actor], p.Summary
			a.commitments, a.milestones, a.updates = s.Commitments, s.Milestones, s.Updates
			for i, c := range ogp.Completions {
				a.by[i] = s.ByCompletion[c]
			}
		}
	}
	m.Each(func(c readmodel.Commitment) bool {
		if !f.Match(&c) {
			return true
		}
		d.matched++
		a := byActor[c.Pilot]
		if a == nil {
			return true
		}
		if f.Narrows() {
			a.commitments++
			a.by[completionIndex(c.Completion)]++
			mc := c.MilestoneCounts
			a.milestones.Total += mc.Total
			a.milestones.Complete += mc.Complete
			a.milestones.CompleteLate += mc.CompleteLate
			a.milestones.OnTrack += mc.OnTrack
			a.milestones.Overdue += mc.Overdue
			a.milestones.Cancelled += mc.Cancelled
			a.updates += c.Updates
		}
		// Last update: the newest progress report or edit.
		if lu := lastUpdateOf(c); lu.After(a.lastUpdate) {
			a.lastUpdate = lu
		}
		if c.MilestoneCounts.Overdue == 0 {
			return true
		}
		for i, ms := range c.Milestones {
			if !milestoneOverdue(ms, today) {
				continue
			}
			d.overdueTotal++
			d.overdue = insertOldest(d.overdue, overdueRef{due: ms.EndDate, commitment: c.ID, milestone: i})
		}
		return true
	})
	for _, p := range pilots {
		if a := byActor[p.Actor]; a.commitments > 0 {
			a.finish()
			d.rows = append(d.rows, *a)
		}
	}
	d.matrix = m.Matrix(f)
	d.matrixRow = make(map[string]int, len(d.matrix.Rows))
	for i, r := range d.matrix.Rows {
		d.matrixRow[r.Pilot] = i
	}
	first, err := m.Commitments(f, "", listPerPage)
	if err != nil {
		return nil, err
	}
	d.first = &first
	compareCache.put(m, ver, key, d)
	return d, nil
}

// sorted returns the pilots' rows in the table's order. Orders by the
// read model's figures are kept with the data (they change only with it),
// without discussion figures (the caller adds them to the rows it shows);
// sorting by those figures, which come from elsewhere, is done afresh.
func (d *compareData) sorted(by, dir string, questions QuestionsFunc) []rowKey {
	key := by + " " + dir
	cacheable := by != "answered"
	if cacheable {
		d.mu.Lock()
		rows, ok := d.orders[key]
		d.mu.Unlock()
		if ok {
			return rows
		}
	}
	rows := make([]rowKey, len(d.rows))
	for i := range d.rows {
		rows[i].agg = &d.rows[i]
	}
	if !cacheable {
		rows = withQuestions(rows, questions)
	}
	sortRows(rows, by, dir)
	if cacheable {
		d.mu.Lock()
		if d.orders == nil {
			d.orders = map[string][]rowKey{}
		}
		d.orders[key] = rows
		d.mu.Unlock()
	}
	return rows
}

// withQuestions fills in the discussion figures (a copy: cached orders are
// shared by requests).
func withQuestions(rows []rowKey, questions QuestionsFunc) []rowKey {
	if questions == nil {
		return rows
	}
	out := slices.Clone(rows)
	for i := range out {
		out[i].q, out[i].hasQ = questions(out[i].agg.actor)
		out[i].answeredPct = pct(out[i].q.Answered, out[i].q.Asked)
	}
	return out
}

// insertOldest keeps list sorted by due date (then commitment, milestone)
// and at most maxOverdueListed long.
func insertOldest(list []overdueRef, o overdueRef) []overdueRef {
	less := func(a, b overdueRef) int {
		return cmp.Or(strings.Compare(string(a.due), string(b.due)), strings.Compare(a.commitment, b.commitment), a.milestone-b.milestone)
	}
	if len(list) == maxOverdueListed && less(o, list[len(list)-1]) >= 0 {
		return list
	}
	at, _ := slices.BinarySearchFunc(list, o, less)
	list = slices.Insert(list, at, o)
	if len(list) > maxOverdueListed {
		list = list[:maxOverdueListed]
	}
	return list
}

// lastUpdateOf is a commitment's "Last update": its newest progress report
// or edit, whichever is later; zero when it has neither.
func lastUpdateOf(c readmodel.Commitment) time.Time {
	var t time.Time
	if c.Updates > 0 {
		t = c.LastUpdate
	}
	if c.Updated.After(t) {
		t = c.Updated
	}
	return t
}
