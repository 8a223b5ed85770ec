package pages

import (
	"html/template"
	"math"
	"strings"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// commitmentView is a commitment's page: every field, milestones, the
// progress timeline, the IRM assessment, the peers panel, and the link to
// the node's original.
type commitmentView struct {
	ID         string
	IRI        string // ID when it is a safe http(s) link, for the href
	Original   string // the node's page for it (url, else the IRI)
	Identifier string
	Name       string
	Pilot      pilotRef
	Plan       string
	PlanURL    string
	Period     string
	Start, End string

	SummaryHTML template.HTML
	ContentHTML template.HTML
	Problem     string
	Objective   string
	// The language each text is in when the reader's is missing (lang="…").
	NameLang, SummaryLang, ContentLang, ProblemLang, ObjectiveLang string

	Lead         string
	Government   []string
	CivilSociety []string
	Values       []string
	Themes       []themeLink

	Completion      ogp.Completion
	CompletionLabel string
	CompletionClass string
	Milestones      []milestoneView
	MilestoneCounts readmodel.MilestoneCounts
	IRM             *irmView
	Starred         bool
	Timeline        []updateItem
	Peers           []peerView
	SideURL         string // this commitment beside its closest peers
	LastUpdate      string
	Published       string
	Thread          *threadView // nil without a discussion
	Ask             *askForm    // nil when no other pilot could ask
}

type milestoneView struct {
	Name        string
	Deliverable string
	// The language of each when not the reader's (lang="…").
	NameLang, DeliverableLang string
	Start, End                string
	Status                    string
	StatusClass               string
	Completed                 string
	Overdue                   bool
}

// irmView is the IRM assessment; nil on the page means "No IRM data".
type irmView struct {
	Verifiable string
	Impact     string
	Starred    string
	Results    string
}

// peerView is one similar commitment in another jurisdiction.
type peerView struct {
	commitmentItem
	SharedAreas []string // labels
	Words       []string // the shared words that weigh most
	Similarity  int      // text similarity, percent
}

// peersOnCommitment is how many peers the panel shows.
const peersOnCommitment = 6

// similarFunc returns peers of a commitment (peers.ModelIndex.Similar in
// production); a parameter so the view model is testable on its own.
type similarFunc func(id string, limit int) []peerMatch

// peerMatch mirrors peers.Match without importing it into every view.
type peerMatch struct {
	ID          string
	SharedAreas []string
	Words       []string
	Text        float64 // text similarity, 0..1
}

func buildCommitment(m *readmodel.Model, lang string, c readmodel.Commitment, similar similarFunc, today ogp.Date) commitmentView {
	idx := indexPilots(m)
	v := commitmentView{
		ID: c.ID, Original: c.URL, Identifier: identifierUnlessInName(c.Identifier, c.Name.In(lang)), Name: c.Name.In(lang),
		Pilot: idx.ref(c.Pilot, c.PilotName), Plan: c.PlanName,
		Period: formatPeriod(lang, c.Period),
		Start:  formatDate(lang, c.StartDate), End: formatDate(lang, c.EndDate),
		Lead: c.LeadInstitution, Government: c.OtherActors.Government, CivilSociety: c.OtherActors.CivilSociety,
		Themes:     themeLinks(lang, c.Themes),
		Completion: c.Completion, CompletionLabel: completionLabel(lang, c.Completion),
		CompletionClass: completionClass(c.Completion),
		MilestoneCounts: c.MilestoneCounts, Starred: c.Starred,
		LastUpdate: formatDay(lang, lastUpdateOf(c)), Published: formatDay(lang, c.Published),
	}
	v.Name, v.NameLang = pick(lang, c.Name)
	v.SummaryHTML, v.SummaryLang = pickHTML(lang, c.SummaryHTML)
	v.ContentHTML, v.ContentLang = pickHTML(lang, c.ContentHTML)
	v.Problem, v.ProblemLang = pick(lang, c.Problem)
	v.Objective, v.ObjectiveLang = pick(lang, c.Objective)
	v.IRI = readmodel.SafeLink(c.ID)
	if v.Original == "" {
		// The IRI itself answers browsers with the node's HTML page.
		v.Original = readmodel.SafeLink(c.ID)
	}
	if pl, ok := m.Plan(c.ActionPlan); ok {
		v.Plan = pl.Name.In(lang)
		v.PlanURL = pl.URL
		if v.PlanURL == "" {
			v.PlanURL = readmodel.SafeLink(pl.ID)
		}
	}
	for _, val := range c.Values {
		v.Values = append(v.Values, valueLabel(lang, val))
	}
	for _, ms := range c.Milestones {
		name, nameLang := web.PickLang(lang, ms.Name, ms.NameMap)
		deliv, delivLang := web.PickLang(lang, ms.Deliverable, ms.DeliverableMap)
		v.Milestones = append(v.Milestones, milestoneView{
			Name: name, NameLang: nameLang, Deliverable: deliv, DeliverableLang: delivLang,
			Start: formatDate(lang, ms.StartDate), End: formatDate(lang, ms.EndDate),
			Status: milestoneLabel(lang, ms.Status), StatusClass: "ms-" + string(ms.Status),
			Completed: formatDate(lang, ms.CompletedDate),
			Overdue:   milestoneOverdue(ms, today),
		})
	}
	if c.IRM != nil {
		v.IRM = &irmView{
			Verifiable: yesNoLabel(lang, c.IRM.Verifiable),
			Impact:     impactLabel(lang, c.IRM.PotentialImpact),
			Starred:    yesNoLabel(lang, c.IRM.Starred),
			Results:    resultsLabel(lang, c.IRM.DidItOpenGovernment),
		}
	}
	for _, u := range m.Timeline(c.ID) {
		v.Timeline = append(v.Timeline, updateItemOf(lang, idx, u, &c))
	}
	if similar != nil {
		for _, p := range similar(c.ID, peersOnCommitment) {
			pc, ok := m.Commitment(p.ID)
			if !ok {
				continue
			}
			var areas []string
			for _, a := range p.SharedAreas {
				areas = append(areas, themeLabel(lang, a))
			}
			v.Peers = append(v.Peers, peerView{
				commitmentItem: commitmentItemOf(lang, idx, pc),
				SharedAreas:    areas,
				Words:          p.Words,
				Similarity:     int(math.Round(p.Text * 100)),
			})
		}
	}
	if len(v.Peers) > 0 {
		ids := []string{c.ID}
		for _, p := range v.Peers[:min(len(v.Peers), MaxSideBySide-1)] {
			ids = append(ids, p.ID)
		}
		v.SideURL = SideBySidePath(ids...)
	}
	return v
}

// milestoneOverdue matches the read model's rule: not complete or
// cancelled, and its end date has passed.
func milestoneOverdue(ms ogp.Milestone, today ogp.Date) bool {
	if ms.Status == ogp.MilestoneComplete || ms.Status == ogp.MilestoneCancelled {
		return false
	}
	return ms.EndDate != "" && ms.EndDate.Before(today)
}

// identifierUnlessInName avoids "JAL0001 JAL0001: …": nodes may already
// start the name with the commitment's identifier.
func identifierUnlessInName(id, name string) string {
	if id != "" && strings.HasPrefix(name, id) {
		return ""
	}
	return id
}
