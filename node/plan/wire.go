package plan

import (
	"fmt"
	"html"
	"strings"
	"unicode/utf8"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// Wire maps domain values onto the ogp vocabulary for one node. The
// publishing layer builds one from the node's configuration and serves or
// delivers what it returns.
type Wire struct {
	IRIs ogp.IRIs
	// Lang is the node's default language: name, summary and content are
	// written in it, the …Map forms carry every language available.
	Lang string
	// Jurisdiction is the display name, e.g. "Jalisco, México".
	Jurisdiction string
}

// Commitment returns the Article for c.
func (w Wire) Commitment(c Commitment) ogp.Commitment {
	id := w.IRIs.Commitment(c.ID)
	langs := unionLangs(w.Lang, c.Title, c.Description)
	nameMap, summaryMap, contentMap := ogp.LangMap{}, ogp.LangMap{}, ogp.LangMap{}
	for _, l := range langs {
		title := c.ID + ": " + c.Title.Get(l)
		nameMap[l] = title
		summaryMap[l] = commitmentSummary(c, l)
		if !c.Description.IsZero() {
			contentMap[l] = paragraphs(c.Description.Get(l))
		}
	}
	out := ogp.Commitment{
		ID:           id,
		Type:         ogp.TypeCommitment,
		AttributedTo: w.IRIs.Actor(),
		URL:          id,
		Name:         nameMap[w.Lang],
		NameMap:      nameMap,
		Summary:      summaryMap[w.Lang],
		SummaryMap:   summaryMap,
		Content:      contentMap[w.Lang],
		ContentMap:   nonEmpty(contentMap),
		Published:    c.Created.UTC(),
		Updated:      c.Updated.UTC(),
		To:           ogp.IRIList{ogp.Public},
		CC:           ogp.IRIList{w.IRIs.Followers()},
		Thread:       w.IRIs.Updates(c.ID),

		Identifier:      c.ID,
		ActionPlan:      w.IRIs.Plan(c.PlanID),
		Jurisdiction:    w.Jurisdiction,
		StartDate:       c.StartDate,
		EndDate:         c.EndDate,
		LeadInstitution: c.LeadInstitution,
		Problem:         c.Problem.Get(w.Lang),
		ProblemMap:      langMap(c.Problem),
		Objective:       c.Objective.Get(w.Lang),
		ObjectiveMap:    langMap(c.Objective),
		Values:          append([]Value(nil), c.Values...),
		Completion:      c.Completion,
	}
	if len(c.OtherActors.Government)+len(c.OtherActors.CivilSociety) > 0 {
		out.OtherActors = &ogp.OtherActors{
			Government:   append([]string(nil), c.OtherActors.Government...),
			CivilSociety: append([]string(nil), c.OtherActors.CivilSociety...),
		}
	}
	if len(c.PolicyAreas) > 0 {
		out.PolicyAreas = append([]string(nil), c.PolicyAreas...)
		out.Taxonomy = TaxonomyVersion
		for _, a := range c.PolicyAreas {
			out.Tag = append(out.Tag, ogp.Tag{Type: ogp.TypeHashtag, Name: ogp.HashtagName(a)})
		}
	}
	for _, m := range c.Milestones {
		out.Milestones = append(out.Milestones, ogp.Milestone{
			ID:             w.IRIs.Milestone(c.ID, m.ID),
			Type:           ogp.TypeMilestone,
			Name:           m.Title.Get(w.Lang),
			NameMap:        langMap(m.Title),
			Deliverable:    m.Deliverable.Get(w.Lang),
			DeliverableMap: langMap(m.Deliverable),
			StartDate:      m.Start,
			EndDate:        m.End,
			Status:         m.Status,
			CompletedDate:  m.CompletedOn,
		})
	}
	if c.IRM != nil {
		out.IRM = &ogp.IRM{
			Verifiable:          c.IRM.Verifiable,
			PotentialImpact:     c.IRM.PotentialImpact,
			Starred:             c.IRM.Starred,
			DidItOpenGovernment: c.IRM.DidItOpenGovernment,
		}
	}
	return out
}

// ProgressUpdate returns the Note for u, an update on c.
func (w Wire) ProgressUpdate(u ProgressUpdate, c Commitment) ogp.ProgressUpdate {
	id := w.IRIs.Update(c.ID, u.ID)
	cIRI := w.IRIs.Commitment(c.ID)
	contentMap := ogp.LangMap{}
	for _, l := range unionLangs(w.Lang, u.Text) {
		contentMap[l] = updateContent(u, c, cIRI, l)
	}
	out := ogp.ProgressUpdate{
		ID:           id,
		Type:         ogp.TypeProgressUpdate,
		AttributedTo: w.IRIs.Actor(),
		URL:          id,
		InReplyTo:    cIRI,
		Thread:       w.IRIs.Updates(c.ID),
		Content:      contentMap[w.Lang],
		ContentMap:   contentMap,
		Published:    u.Created.UTC(),
		Updated:      u.Updated.UTC(), // zero (left out) unless edited
		To:           ogp.IRIList{ogp.Public},
		CC:           ogp.IRIList{w.IRIs.Followers()},
		Date:         u.Date,
		Completion:   u.Completion,
		Evidence:     append([]string(nil), u.Evidence...),
	}
	for _, ch := range u.MilestoneChanges {
		out.MilestoneChanges = append(out.MilestoneChanges, ogp.MilestoneChange{
			Milestone: w.IRIs.Milestone(c.ID, ch.MilestoneID),
			Status:    ch.Status,
		})
	}
	return out
}

// ActionPlan returns the Page for p listing commitments (deleted ones are
// left out, in the order given).
func (w Wire) ActionPlan(p ActionPlan, commitments []Commitment) ogp.ActionPlan {
	id := w.IRIs.Plan(p.ID)
	var live []string
	for _, c := range commitments {
		if !c.Deleted {
			live = append(live, w.IRIs.Commitment(c.ID))
		}
	}
	nameMap, summaryMap := ogp.LangMap{}, ogp.LangMap{}
	for _, l := range unionLangs(w.Lang, p.Title, p.Summary) {
		nameMap[l] = p.Title.Get(l)
		key := "plan-summary"
		if len(live) == 1 {
			key = "plan-summary-one"
		}
		s := fmt.Sprintf(label(l, key), len(live), p.Period.Start, p.Period.End)
		if d := p.Summary.Get(l); d != "" {
			s += " " + clip(d, 300)
		}
		summaryMap[l] = html.EscapeString(s)
	}
	out := ogp.ActionPlan{
		ID:           id,
		Type:         ogp.TypeActionPlan,
		AttributedTo: w.IRIs.Actor(),
		URL:          id,
		Name:         nameMap[w.Lang],
		NameMap:      nameMap,
		Summary:      summaryMap[w.Lang],
		SummaryMap:   summaryMap,
		Published:    p.Created.UTC(),
		Updated:      p.Updated.UTC(),
		To:           ogp.IRIList{ogp.Public},
		CC:           ogp.IRIList{w.IRIs.Followers()},
		Jurisdiction: p.Jurisdiction,
		Period:       ogp.Period{Start: p.Period.Start, End: p.Period.End},
		Status:       p.Status,
		Commitments:  live,
	}
	if out.Commitments == nil {
		out.Commitments = []string{}
	}
	for _, g := range p.Guidelines {
		if g.Level == "" {
			continue // not recorded: absent on the wire
		}
		out.Guidelines = append(out.Guidelines, ogp.Guideline{Key: g.Key, Level: g.Level, Evidence: append([]string(nil), g.Evidence...)})
	}
	if p.Participation != (Participation{}) {
		out.Participation = &ogp.Participation{Development: p.Participation.Development, Implementation: p.Participation.Implementation}
	}
	return out
}

// commitmentSummary is the one-line timeline text: identifier, title,
// completion and the start of the description.
func commitmentSummary(c Commitment, lang string) string {
	// summary is HTML in ActivityStreams: the plain-text fields are escaped.
	s := fmt.Sprintf("%s · %s · %s: %s.", c.ID, c.Title.Get(lang), label(lang, "completion"), completionLabel(c.Completion, lang))
	if d := c.Description.Get(lang); d != "" {
		s += " " + clip(d, 200)
	}
	return html.EscapeString(s)
}

func updateContent(u ProgressUpdate, c Commitment, cIRI, lang string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<p>%s %s “%s”: %s", html.EscapeString(label(lang, "progress-on")), html.EscapeString(c.ID),
		html.EscapeString(c.Title.Get(lang)), html.EscapeString(u.Text.Get(lang)))
	if u.Completion != "" {
		fmt.Fprintf(&b, " %s: %s.", html.EscapeString(label(lang, "completion")), html.EscapeString(completionLabel(u.Completion, lang)))
	}
	b.WriteString("</p>")
	fmt.Fprintf(&b, `<p><a href="%s">%s</a></p>`, html.EscapeString(cIRI), html.EscapeString(cIRI))
	if len(u.Evidence) > 0 {
		fmt.Fprintf(&b, "<p>%s:", html.EscapeString(label(lang, "evidence")))
		for _, l := range u.Evidence {
			fmt.Fprintf(&b, ` <a href="%s" rel="nofollow noopener noreferrer">%s</a>`, html.EscapeString(l), html.EscapeString(l))
		}
		b.WriteString("</p>")
	}
	return b.String()
}

// labels are the few words the wire text needs. English and Spanish are
// complete; other languages fall back to English words around text in their
// own language (the web layer has the full catalogues).
var labels = map[string]map[string]string{
	"en": {"completion": "Completion", "progress-on": "Progress on", "evidence": "Evidence", "plan-summary": "%d commitments, %s to %s.", "plan-summary-one": "%d commitment, %s to %s."},
	"es": {"completion": "Avance", "progress-on": "Avance en", "evidence": "Evidencia", "plan-summary": "%d compromisos, del %s al %s.", "plan-summary-one": "%d compromiso, del %s al %s."},
}

var completionEs = map[Completion]string{
	ogp.CompletionNoEvidence:  "sin evidencia disponible",
	ogp.CompletionNotStarted:  "no iniciado",
	ogp.CompletionLimited:     "limitado",
	ogp.CompletionSubstantial: "sustancial",
	ogp.CompletionComplete:    "completo",
}

func label(lang, key string) string {
	p, _, _ := strings.Cut(lang, "-")
	if m, ok := labels[p]; ok {
		return m[key]
	}
	return labels["en"][key]
}

func completionLabel(c Completion, lang string) string {
	if strings.HasPrefix(lang, "es") {
		return completionEs[c]
	}
	return strings.ToLower(c.Label())
}

// paragraphs turns plain text into HTML paragraphs: blank lines separate
// paragraphs, single newlines become line breaks, everything is escaped.
func paragraphs(s string) string {
	var b strings.Builder
	for para := range strings.SplitSeq(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		lines := strings.Split(para, "\n")
		for i, l := range lines {
			lines[i] = html.EscapeString(l)
		}
		b.WriteString("<p>" + strings.Join(lines, "<br>") + "</p>")
	}
	return b.String()
}

// clip shortens s to at most n characters at a word boundary, with "…".
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// unionLangs lists the node language first, then every other language any
// of texts has, once each.
func unionLangs(first string, texts ...Text) []string {
	out := []string{first}
	seen := map[string]bool{first: true}
	for _, t := range texts {
		for _, l := range t.Langs() {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

func langMap(t Text) ogp.LangMap {
	if t.IsZero() {
		return nil
	}
	m := ogp.LangMap{}
	for _, l := range t.Langs() {
		m[l] = t.Map[l]
	}
	return m
}

func nonEmpty(m ogp.LangMap) ogp.LangMap {
	if len(m) == 0 {
		return nil
	}
	return m
}
