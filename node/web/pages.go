package web

import (
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/plan"
)

// Public pages. Each handler loads, builds a view model in the reader's
// language (UI from the catalogue, content from the node's texts with
// plan.Text's language fallback), and renders.

// textView is content in the language it was actually found in, so the
// page can mark a fallback with lang="…" for screen readers.
type textView struct {
	Text, Lang string
}

// Paras splits the text at blank lines, for multi-paragraph fields.
func (t textView) Paras() []string {
	var out []string
	for p := range strings.SplitSeq(strings.ReplaceAll(t.Text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func tv(t plan.Text, lang string) textView {
	s := t.Get(lang)
	if s == "" {
		return textView{}
	}
	if t.Map[lang] == s {
		return textView{s, lang}
	}
	for _, l := range t.Langs() {
		if t.Map[l] == s {
			return textView{s, l}
		}
	}
	return textView{s, t.Lang}
}

// enumLabel translates a vocabulary value: message node_<kind>_<value>.
func enumLabel(c echo.Context, kind, v string) string {
	if v == "" {
		return ""
	}
	return web.T(c, "node_"+kind+"_"+strings.ReplaceAll(v, "-", "_"))
}

// policyLabel names a taxonomy policy area in lang. The taxonomy itself
// carries English and Spanish (kept as they are); other UI languages take the
// shared catalogue's policy_<slug> label, falling back to the English name.
func policyLabel(lang string, pa plan.PolicyArea) string {
	if lang != "en" && !strings.HasPrefix(lang, "es") {
		id := "policy_" + strings.ReplaceAll(pa.Slug, "-", "_")
		if l := web.TLang(lang, id); l != id && l != "" {
			return l
		}
	}
	return pa.Label(lang)
}

func isOperator(c echo.Context) bool {
	p := auth.CurrentPrincipal(c)
	return p != nil && p.Operator
}

type planCard struct {
	ID           string
	Title        textView
	Start, End   string
	Status       string
	Count        int
	HighPct      float64
	MilestonePct float64
	Bar          template.HTML
	Commitments  []homeCommitment
}

// homeCommitment is one line of a plan's commitment list on the home page.
type homeCommitment struct {
	ID            string
	Title         textView
	Completion    string
	CompletionKey string
}

type homeView struct {
	Name, Summary, Handle, ActorIRI string
	Plans                           []planCard
	Operator                        bool
	HubURL                          string // this pilot on the hub, "" without one
}

func (h *Handlers) home(c echo.Context) error {
	ctx := c.Request().Context()
	lang := web.Lang(c)
	plans, err := h.store.ListPlans(ctx)
	if err != nil {
		return err
	}
	v := homeView{Name: h.site.Name, Summary: h.site.Summary, ActorIRI: h.iris.Actor(),
		Handle: "@" + h.site.Slug + "@" + h.site.Host, Operator: isOperator(c), HubURL: h.hubPilotURL()}
	for _, p := range plans {
		cs, err := h.store.ListCommitments(ctx, p.ID)
		if err != nil {
			return err
		}
		sum := plan.Summarize(cs, h.now())
		card := planCard{
			ID: p.ID, Title: tv(p.Title, lang), Start: string(p.Period.Start), End: string(p.Period.End),
			Status: enumLabel(c, "planstatus", string(p.Status)), Count: sum.Commitments,
			HighPct: sum.HighCompletionPercent(), MilestonePct: sum.MilestonePercent(),
			Bar: web.ProgressBar(sum.MilestonePercent(), web.T(c, "node_milestones_done")),
		}
		for _, cm := range cs {
			if cm.Deleted {
				continue
			}
			card.Commitments = append(card.Commitments, homeCommitment{ID: cm.ID, Title: tv(cm.Title, lang),
				Completion: enumLabel(c, "completion", string(cm.Completion)), CompletionKey: string(cm.Completion)})
		}
		v.Plans = append(v.Plans, card)
	}
	c.Response().Header().Add("Link", `<`+h.iris.Actor()+`>; rel="alternate"; type="application/activity+json"`)
	return c.Render(http.StatusOK, "home.html", web.Page{Title: h.site.Name, Data: v, Alternate: h.iris.Actor()})
}

type guidelineRow struct {
	Label, Level, LevelKey string
	Evidence               []string
}

type commitmentRow struct {
	ID, Lead            string
	Title               textView
	Completion          string
	CompletionKey       string
	MilestonePct        float64
	Done, Counted, Late int
	Bar                 template.HTML
	Starred             bool
}

type planView struct {
	ID, IRI                string
	Title, Summary         textView
	Jurisdiction           string
	Start, End, Status     string
	Guidelines             []guidelineRow
	Development, Implement string
	MeetsMinimum           bool
	DevelopmentRecorded    bool
	Commitments            []commitmentRow
	Chart, ChartTable      template.HTML
	HighPct, MilestonePct  float64
	Operator               bool
}

func (h *Handlers) planPage(c echo.Context, p plan.ActionPlan, cs []plan.Commitment) error {
	lang := web.Lang(c)
	now := h.now()
	v := planView{ID: p.ID, IRI: h.iris.Plan(p.ID), Title: tv(p.Title, lang), Summary: tv(p.Summary, lang),
		Jurisdiction: p.Jurisdiction, Start: string(p.Period.Start), End: string(p.Period.End),
		Status:       enumLabel(c, "planstatus", string(p.Status)),
		Development:  enumLabel(c, "iap2", string(p.Participation.Development)),
		Implement:    enumLabel(c, "iap2", string(p.Participation.Implementation)),
		MeetsMinimum: p.Participation.Development.MeetsMinimum(), DevelopmentRecorded: p.Participation.Development != "",
		Operator: isOperator(c)}
	for _, g := range p.Guidelines {
		level := enumLabel(c, "level", string(g.Level))
		if level == "" {
			level = web.T(c, "node_not_recorded")
		}
		v.Guidelines = append(v.Guidelines, guidelineRow{Label: enumLabel(c, "guideline", string(g.Key)),
			Level: level, LevelKey: string(g.Level), Evidence: g.Evidence})
	}
	for _, cm := range cs {
		v.Commitments = append(v.Commitments, h.commitmentRow(c, cm, lang, now))
	}
	sum := plan.Summarize(cs, now)
	v.HighPct, v.MilestonePct = sum.HighCompletionPercent(), sum.MilestonePercent()
	var bars []web.Bar
	for _, k := range ogp.Completions {
		bars = append(bars, web.Bar{Label: enumLabel(c, "completion", string(k)), Value: float64(sum.ByCompletion[k])})
	}
	title := web.T(c, "node_chart_completion")
	v.Chart = web.BarChart(title, bars)
	v.ChartTable = web.BarTable(title, web.T(c, "completion_label"), web.T(c, "node_commitment_count"), bars)
	return c.Render(http.StatusOK, "plan.html", web.Page{Title: v.Title.Text, Data: v, Alternate: v.IRI})
}

func (h *Handlers) commitmentRow(c echo.Context, cm plan.Commitment, lang string, now time.Time) commitmentRow {
	done, counted, late := cm.MilestoneProgress(now)
	pct := 0.0
	if counted > 0 {
		pct = 100 * float64(done) / float64(counted)
	}
	return commitmentRow{ID: cm.ID, Lead: cm.LeadInstitution, Title: tv(cm.Title, lang),
		Completion: enumLabel(c, "completion", string(cm.Completion)), CompletionKey: string(cm.Completion),
		MilestonePct: pct, Done: done, Counted: counted, Late: late,
		Bar:     web.ProgressBar(pct, web.T(c, "node_milestones_done")),
		Starred: cm.IRM != nil && cm.IRM.Starred == ogp.Yes}
}

type milestoneRow struct {
	ID                      string
	Title, Deliverable      textView
	Start, End, CompletedOn string
	Status, StatusKey       string
	Overdue                 bool
}

type updateRow struct {
	ID, IRI, Date string
	// Edited is the day of the last edit ("YYYY-MM-DD"), "" if never edited.
	Edited        string
	Text          textView
	Completion    string
	CompletionKey string
	Changes       []string
	Evidence      []string
}

// updateRowOf is the view of u, an update on cm: milestone changes are
// named by the milestone's title in the reader's language.
func (h *Handlers) updateRowOf(c echo.Context, cm plan.Commitment, u plan.ProgressUpdate, lang string) updateRow {
	row := updateRow{ID: u.ID, IRI: h.iris.Update(cm.ID, u.ID), Date: string(u.Date), Text: tv(u.Text, lang),
		Completion: enumLabel(c, "completion", string(u.Completion)), CompletionKey: string(u.Completion), Evidence: u.Evidence}
	if !u.Updated.IsZero() {
		row.Edited = string(ogp.DateOf(u.Updated.UTC()))
	}
	for _, ch := range u.MilestoneChanges {
		name := ch.MilestoneID
		for _, m := range cm.Milestones {
			if m.ID == ch.MilestoneID && m.Title.Get(lang) != "" {
				name = m.Title.Get(lang)
			}
		}
		row.Changes = append(row.Changes, name+": "+enumLabel(c, "milestone", string(ch.Status)))
	}
	return row
}

type irmRow struct{ Label, Value string }

type commitmentView struct {
	commitmentRow
	IRI, PlanID                     string
	PlanTitle                       textView
	Start, End                      string
	Government, CivilSociety        []string
	Problem, Objective, Description textView
	Values, PolicyAreas             []string
	Milestones                      []milestoneRow
	IRM                             []irmRow
	Updates                         []updateRow
	Updated                         string
	Operator                        bool
	Thread                          threadView
	HubURL                          string // this commitment on the hub, "" without one
}

func (h *Handlers) commitmentPage(c echo.Context, cm plan.Commitment) error {
	ctx := c.Request().Context()
	lang := web.Lang(c)
	now := h.now()
	ups, err := h.store.ListUpdates(ctx, cm.ID, 0)
	if err != nil {
		return err
	}
	v := commitmentView{commitmentRow: h.commitmentRow(c, cm, lang, now), IRI: h.iris.Commitment(cm.ID), PlanID: cm.PlanID,
		Start: string(cm.StartDate), End: string(cm.EndDate),
		Government: cm.OtherActors.Government, CivilSociety: cm.OtherActors.CivilSociety,
		Problem: tv(cm.Problem, lang), Objective: tv(cm.Objective, lang), Description: tv(cm.Description, lang),
		Updated: cm.Updated.UTC().Format("2006-01-02T15:04:05Z"), Operator: isOperator(c), HubURL: h.hubCommitmentURL(cm.ID),
		Thread: h.thread(h.iris.Commitment(cm.ID))}
	if p, err := h.store.GetPlan(ctx, cm.PlanID); err == nil {
		v.PlanTitle = tv(p.Title, lang)
	}
	for _, val := range cm.Values {
		v.Values = append(v.Values, enumLabel(c, "value", string(val)))
	}
	for _, a := range cm.PolicyAreas {
		if pa, ok := plan.LookupPolicyArea(a); ok {
			v.PolicyAreas = append(v.PolicyAreas, policyLabel(lang, pa))
		} else {
			v.PolicyAreas = append(v.PolicyAreas, a)
		}
	}
	for _, m := range cm.Milestones {
		v.Milestones = append(v.Milestones, milestoneRow{ID: m.ID, Title: tv(m.Title, lang), Deliverable: tv(m.Deliverable, lang),
			Start: string(m.Start), End: string(m.End), CompletedOn: string(m.CompletedOn),
			Status: enumLabel(c, "milestone", string(m.Status)), StatusKey: string(m.Status), Overdue: m.Overdue(now)})
	}
	if cm.IRM != nil {
		v.IRM = []irmRow{
			{web.T(c, "irm_verifiable"), enumLabel(c, "yesno", string(cm.IRM.Verifiable))},
			{web.T(c, "irm_potential_impact"), enumLabel(c, "impact", string(cm.IRM.PotentialImpact))},
			{web.T(c, "irm_star"), enumLabel(c, "yesno", string(cm.IRM.Starred))},
			{web.T(c, "irm_did_it_open"), enumLabel(c, "results", string(cm.IRM.DidItOpenGovernment))},
		}
	}
	// ListUpdates leaves deleted updates out of the timeline.
	for _, u := range slices.Backward(ups) {
		v.Updates = append(v.Updates, h.updateRowOf(c, cm, u, lang))
	}
	return c.Render(http.StatusOK, "commitment.html", web.Page{Title: cm.ID + ": " + v.Title.Text, Data: v, Alternate: v.IRI,
		Description: cm.Title.Get(lang)})
}

type updateView struct {
	updateRow
	CommitmentID    string
	CommitmentTitle textView
	Operator        bool
	Thread          threadView
}

func (h *Handlers) updatePage(c echo.Context, cm plan.Commitment, u plan.ProgressUpdate) error {
	lang := web.Lang(c)
	v := updateView{CommitmentID: cm.ID, CommitmentTitle: tv(cm.Title, lang),
		updateRow: h.updateRowOf(c, cm, u, lang), Operator: isOperator(c),
		Thread: h.thread(h.iris.Update(cm.ID, u.ID))}
	return c.Render(http.StatusOK, "update.html", web.Page{Title: web.T(c, "node_update_title", "ID", cm.ID), Data: v, Alternate: v.IRI})
}
