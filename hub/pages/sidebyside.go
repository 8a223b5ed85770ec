package pages

import (
	"html/template"
	"net/url"
	"strings"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// sideView compares 2 to MaxSideBySide commitments column by column, and
// holds the picker: every commitment of every pilot, grouped by pilot,
// narrowed by words or pilot and paged, with the selection carried through
// searching and paging in the form itself.
type sideView struct {
	Columns []sideColumn
	Rows    []sideRow
	Notice  string // why the selection was trimmed or is too small
	Missing int    // chosen commitments the hub does not (or no longer) show

	Picker sidePicker
}

// sidePicker is the form that chooses the commitments.
type sidePicker struct {
	Open     bool // unfolded: fewer than 2 chosen, or the reader is searching or paging
	Query    string
	Pilots   []optionItem
	Selected []commitmentItem // checked boxes, whatever page is shown
	Groups   []candidateGroup
	Total    int
	Next     string // cursor of the next page ("" on the last)
	Paged    bool   // past the first page (a "first page" button)
}

type candidateGroup struct {
	Pilot pilotRef
	Items []commitmentItem
}

type sideColumn struct {
	commitmentItem
	Original string
	Progress template.HTML
	Percent  int
}

// sideRow is one field across the compared commitments; Cells align with
// Columns. HTML cells are sanitised read-model HTML.
type sideRow struct {
	Label string
	Cells []sideCell
}

type sideCell struct {
	Text string
	HTML template.HTML
	List []string
}

// candidatesPerPage is the picker's page size.
const candidatesPerPage = 50

func buildSideBySide(m *readmodel.Model, lang string, q url.Values) (sideView, error) {
	var v sideView
	ids := nonEmpty(q["c"])
	if len(ids) > MaxSideBySide {
		v.Notice = web.TLang(lang, "hub_side_too_many", "Max", MaxSideBySide)
		ids = ids[:MaxSideBySide]
	}
	idx := indexPilots(m)
	var cs []readmodel.Commitment
	for _, id := range ids {
		c, ok := m.Commitment(id)
		if !ok {
			v.Missing++
			continue
		}
		cs = append(cs, c)
	}
	if len(cs) < 2 && v.Notice == "" {
		v.Notice = web.TLang(lang, "hub_side_too_few", "Max", MaxSideBySide)
	}
	if err := buildPicker(m, lang, idx, q, cs, &v.Picker); err != nil {
		return v, err
	}
	for _, c := range cs {
		col := sideColumn{commitmentItem: commitmentItemOf(lang, idx, c), Original: c.URL}
		if col.Original == "" {
			col.Original = readmodel.SafeLink(c.ID)
		}
		if n := c.MilestoneCounts.Total - c.MilestoneCounts.Cancelled; n > 0 {
			col.Percent = (c.MilestoneCounts.Complete + c.MilestoneCounts.CompleteLate) * 100 / n
		}
		col.Progress = web.ProgressBar(float64(col.Percent), web.TLang(lang, "hub_milestones_done"))
		v.Columns = append(v.Columns, col)
	}
	if len(cs) == 0 {
		return v, nil
	}
	row := func(id string, cell func(c readmodel.Commitment) sideCell) {
		r := sideRow{Label: web.TLang(lang, id)}
		for _, c := range cs {
			r.Cells = append(r.Cells, cell(c))
		}
		v.Rows = append(v.Rows, r)
	}
	text := func(s string) sideCell { return sideCell{Text: s} }
	row("hub_pilot", func(c readmodel.Commitment) sideCell { return text(idx.ref(c.Pilot, c.PilotName).Name) })
	row("common_action_plan", func(c readmodel.Commitment) sideCell {
		if pl, ok := m.Plan(c.ActionPlan); ok {
			return text(pl.Name.In(lang))
		}
		return text(c.PlanName)
	})
	row("hub_dates", func(c readmodel.Commitment) sideCell {
		return text(formatPeriod(lang, ogp.Period{Start: c.StartDate, End: c.EndDate}))
	})
	row("common_lead_agency", func(c readmodel.Commitment) sideCell { return text(c.LeadInstitution) })
	row("policy_label", func(c readmodel.Commitment) sideCell { return sideCell{List: themeLabels(lang, c.Themes)} })
	row("value_label", func(c readmodel.Commitment) sideCell {
		var l []string
		for _, val := range c.Values {
			l = append(l, valueLabel(lang, val))
		}
		return sideCell{List: l}
	})
	row("completion_label", func(c readmodel.Commitment) sideCell { return text(completionLabel(lang, c.Completion)) })
	row("hub_milestones", func(c readmodel.Commitment) sideCell {
		mc := c.MilestoneCounts
		return text(web.TLang(lang, "hub_milestone_summary", mc.Total, "Done", mc.Complete+mc.CompleteLate, "Overdue", mc.Overdue))
	})
	// The IRM rows say "No IRM data" for a commitment without an assessment.
	irmRow := func(id string, label func(*ogp.IRM) string) {
		row(id, func(c readmodel.Commitment) sideCell {
			if c.IRM == nil {
				return text(web.TLang(lang, "hub_irm_no_data"))
			}
			return text(label(c.IRM))
		})
	}
	irmRow("irm_verifiable", func(irm *ogp.IRM) string { return yesNoLabel(lang, irm.Verifiable) })
	irmRow("irm_potential_impact", func(irm *ogp.IRM) string { return impactLabel(lang, irm.PotentialImpact) })
	irmRow("irm_star", func(irm *ogp.IRM) string { return yesNoLabel(lang, irm.Starred) })
	irmRow("irm_did_it_open", func(irm *ogp.IRM) string { return resultsLabel(lang, irm.DidItOpenGovernment) })
	row("hub_objective", func(c readmodel.Commitment) sideCell { return text(c.Objective.In(lang)) })
	row("common_description", func(c readmodel.Commitment) sideCell {
		h := c.SummaryHTML.In(lang)
		if h == "" {
			h = c.ContentHTML.In(lang)
		}
		return sideCell{HTML: h}
	})
	row("hub_last_update", func(c readmodel.Commitment) sideCell {
		return text(formatDay(lang, lastUpdateOf(c)))
	})
	return v, nil
}

// buildPicker lists one page of candidates (every visible commitment, or
// those matching the words and pilot), grouped by pilot, leaving out the
// chosen ones, which are listed first as ticked boxes.
func buildPicker(m *readmodel.Model, lang string, idx *siteIndex, q url.Values, chosen []readmodel.Commitment, p *sidePicker) error {
	p.Query = strings.TrimSpace(q.Get("q"))
	pilot := strings.TrimSpace(q.Get("pilot"))
	cursor := q.Get(paramCursor)
	p.Open = len(chosen) < 2 || p.Query != "" || pilot != "" || cursor != ""
	p.Paged = cursor != ""
	for _, pl := range m.Pilots() {
		p.Pilots = append(p.Pilots, optionItem{Value: pl.Actor, Label: pl.Name, Selected: pl.Actor == pilot})
	}
	chosenIDs := map[string]bool{}
	for _, c := range chosen {
		chosenIDs[c.ID] = true
		p.Selected = append(p.Selected, commitmentItemOf(lang, idx, c))
	}
	f := readmodel.Filter{Query: p.Query}
	if pilot != "" {
		f.Pilots = []string{pilot}
	}
	page, err := m.Commitments(f, cursor, candidatesPerPage)
	if err != nil {
		return err
	}
	p.Total, p.Next = page.Total, page.Next
	for _, c := range page.Items {
		if chosenIDs[c.ID] {
			continue
		}
		it := commitmentItemOf(lang, idx, c)
		if n := len(p.Groups); n == 0 || p.Groups[n-1].Pilot != it.Pilot {
			p.Groups = append(p.Groups, candidateGroup{Pilot: it.Pilot})
		}
		g := &p.Groups[len(p.Groups)-1]
		g.Items = append(g.Items, it)
	}
	return nil
}
