package plan

import (
	"fmt"
	"html"
	"strings"
	"time"
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
	// TagPage, when set, returns the web page of a policy area's
	// commitments (the Hashtag's href); without it hashtags have no href.
	TagPage func(area string) string
}

// Commitment returns the Article for c. What fediverse servers show is
// name (Mastodon: name and link; GoToSocial: name as the topic line) and
// content, written as a short post: title, lead, link, hashtags. There is
// no summary: GoToSocial makes it a content warning. The structured lead
// and description travel as ogp:lead and ogp:description
// (docs/vocabulary.md, "How fediverse servers show it").
func (w Wire) Commitment(c Commitment) ogp.Commitment {
	id := w.IRIs.Commitment(c.ID)
	langs := unionLangs(w.Lang, c.Title, c.Description)
	var tags []ogp.Tag
	for _, a := range c.PolicyAreas {
		tags = append(tags, w.hashtag(a))
	}
	nameMap, leadMap, descMap, contentMap := ogp.LangMap{}, ogp.LangMap{}, ogp.LangMap{}, ogp.LangMap{}
	for _, l := range langs {
		title := c.ID + ": " + c.Title.Get(l)
		nameMap[l] = title
		leadMap[l] = commitmentLead(c, l)
		if !c.Description.IsZero() {
			descMap[l] = paragraphs(c.Description.Get(l))
		}
		contentMap[l] = post(title, leadMap[l], id, tags)
	}
	out := ogp.Commitment{
		Post:           w.post(ogp.TypeCommitment, id, nameMap, contentMap, c.Created, c.Updated),
		Thread:         w.IRIs.Conversation(c.ID),
		Tag:            tags,
		Lead:           leadMap[w.Lang],
		LeadMap:        leadMap,
		Description:    descMap[w.Lang],
		DescriptionMap: nonEmpty(descMap),

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
	var tags []ogp.Tag
	for _, a := range c.PolicyAreas {
		tags = append(tags, w.hashtag(a))
	}
	contentMap := ogp.LangMap{}
	for _, l := range unionLangs(w.Lang, u.Text) {
		contentMap[l] = updateContent(u, c, cIRI, l, tags)
	}
	out := ogp.ProgressUpdate{
		ID:           id,
		Type:         ogp.TypeProgressUpdate,
		AttributedTo: w.IRIs.Actor(),
		URL:          id,
		InReplyTo:    cIRI,
		Thread:       w.IRIs.Conversation(c.ID),
		Content:      contentMap[w.Lang],
		ContentMap:   contentMap,
		Published:    u.Created.UTC(),
		Updated:      editedAt(u.Created, u.Updated),
		To:           ogp.IRIList{ogp.Public},
		CC:           ogp.IRIList{w.IRIs.Followers()},
		Tag:          tags,
		Replies:      ogp.NewReplies(id, nil),
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

// post returns the public head of a Commitment or an ActionPlan: id, its
// names and fediverse content in each language (the node's language first),
// and the public addressing every object of the node carries.
func (w Wire) post(typ, id string, names, contents ogp.LangMap, created, saved time.Time) ogp.Post {
	return ogp.Post{
		ID:           id,
		Type:         typ,
		AttributedTo: w.IRIs.Actor(),
		URL:          id,
		Name:         names[w.Lang],
		NameMap:      names,
		Content:      contents[w.Lang],
		ContentMap:   contents,
		Published:    created.UTC(),
		Updated:      editedAt(created, saved),
		To:           ogp.IRIList{ogp.Public},
		CC:           ogp.IRIList{w.IRIs.Followers()},
		Replies:      ogp.NewReplies(id, nil),
	}
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
	nameMap, leadMap, contentMap := ogp.LangMap{}, ogp.LangMap{}, ogp.LangMap{}
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
		leadMap[l] = html.EscapeString(s)
		contentMap[l] = post(nameMap[l], leadMap[l], id, nil)
	}
	out := ogp.ActionPlan{
		Post:         w.post(ogp.TypeActionPlan, id, nameMap, contentMap, p.Created, p.Updated),
		Thread:       w.IRIs.PlanConversation(p.ID),
		Lead:         leadMap[w.Lang],
		LeadMap:      leadMap,
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

// editedAt is the "updated" of an object created at created and last
// saved at saved: zero (left out on the wire) unless it was edited after
// it was published. Mastodon and GoToSocial mark a post "edited" whenever
// "updated" is present, and FEP-b2b8 reads its absence as "never
// modified"; consumers order versions by updated, else published.
func editedAt(created, saved time.Time) time.Time {
	if !saved.After(created) {
		return time.Time{}
	}
	return saved.UTC()
}

// hashtag is the Hashtag of a policy area. Its href is the node's page of
// the commitments in that area when the wire knows one (TagPage).
func (w Wire) hashtag(area string) ogp.Tag {
	t := ogp.Tag{Type: ogp.TypeHashtag, Name: ogp.HashtagName(area)}
	if w.TagPage != nil {
		t.Href = w.TagPage(area)
	}
	return t
}

// commitmentLead is the short lead: completion and the start of the
// description, HTML-escaped (ogp:lead is HTML, like summary).
func commitmentLead(c Commitment, lang string) string {
	s := fmt.Sprintf("%s: %s.", label(lang, "completion"), completionLabel(c.Completion, lang))
	if d := c.Description.Get(lang); d != "" {
		s += " " + clip(d, 200)
	}
	return html.EscapeString(s)
}

// post is the content fediverse servers show for an Article or Page: the
// title in bold, the lead (already HTML), the link and the hashtags, in
// the paragraphs and tags Mastodon's and GoToSocial's sanitisers keep.
func post(title, leadHTML, link string, tags []ogp.Tag) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<p><strong>%s</strong></p>", html.EscapeString(title))
	if leadHTML != "" {
		fmt.Fprintf(&b, "<p>%s</p>", leadHTML)
	}
	fmt.Fprintf(&b, `<p><a href="%s">%s</a></p>`, html.EscapeString(link), html.EscapeString(link))
	writeHashtags(&b, tags)
	return b.String()
}

// writeHashtags writes the tags as one paragraph, each a link to its page
// when it has one (the microformat Mastodon itself writes), else as text.
func writeHashtags(b *strings.Builder, tags []ogp.Tag) {
	if len(tags) == 0 {
		return
	}
	b.WriteString("<p>")
	for i, t := range tags {
		if i > 0 {
			b.WriteString(" ")
		}
		name := html.EscapeString(strings.TrimPrefix(t.Name, "#"))
		if t.Href != "" {
			fmt.Fprintf(b, `<a href="%s" class="mention hashtag" rel="tag">#<span>%s</span></a>`, html.EscapeString(t.Href), name)
		} else {
			b.WriteString("#" + name)
		}
	}
	b.WriteString("</p>")
}

// updateContent is a progress update as a post: the commitment's title
// linked to it, the completion it reached, the text, the evidence and the
// commitment's hashtags.
func updateContent(u ProgressUpdate, c Commitment, cIRI, lang string, tags []ogp.Tag) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<p>%s <a href="%s"><strong>%s: %s</strong></a></p>`, html.EscapeString(label(lang, "progress-on")),
		html.EscapeString(cIRI), html.EscapeString(c.ID), html.EscapeString(c.Title.Get(lang)))
	if u.Completion != "" {
		fmt.Fprintf(&b, "<p>%s: %s.</p>", html.EscapeString(label(lang, "completion")), html.EscapeString(completionLabel(u.Completion, lang)))
	}
	b.WriteString(paragraphs(u.Text.Get(lang)))
	if len(u.Evidence) > 0 {
		fmt.Fprintf(&b, "<p>%s:", html.EscapeString(label(lang, "evidence")))
		for _, l := range u.Evidence {
			fmt.Fprintf(&b, ` <a href="%s" rel="nofollow noopener noreferrer">%s</a>`, html.EscapeString(l), html.EscapeString(l))
		}
		b.WriteString("</p>")
	}
	writeHashtags(&b, tags)
	return b.String()
}

// labels are the few words the wire text needs, in the five UI languages
// (the web layer's catalogues hold the same words); other languages fall
// back to English words around text in their own language.
var labels = map[string]map[string]string{
	"en": {"completion": "Completion", "progress-on": "Progress on", "evidence": "Evidence", "plan-summary": "%d commitments, %s to %s.", "plan-summary-one": "%d commitment, %s to %s."},
	"es": {"completion": "Avance", "progress-on": "Avance en", "evidence": "Evidencia", "plan-summary": "%d compromisos, del %s al %s.", "plan-summary-one": "%d compromiso, del %s al %s."},
	"fr": {"completion": "Avancement", "progress-on": "Avancement de", "evidence": "Preuves", "plan-summary": "%d engagements, du %s au %s.", "plan-summary-one": "%d engagement, du %s au %s."},
	"pt": {"completion": "Execução", "progress-on": "Andamento de", "evidence": "Evidências", "plan-summary": "%d compromissos, de %s a %s.", "plan-summary-one": "%d compromisso, de %s a %s."},
	"ko": {"completion": "이행 수준", "progress-on": "진행 상황:", "evidence": "증빙", "plan-summary": "과제 %d개, %s ~ %s.", "plan-summary-one": "과제 %d개, %s ~ %s."},
}

// completionWords are the completion levels in running text, per language.
var completionWords = map[string]map[Completion]string{
	"es": completionEs,
	"fr": {ogp.CompletionNoEvidence: "aucune preuve disponible", ogp.CompletionNotStarted: "non commencé",
		ogp.CompletionLimited: "limité", ogp.CompletionSubstantial: "substantiel", ogp.CompletionComplete: "achevé"},
	"pt": {ogp.CompletionNoEvidence: "sem evidências disponíveis", ogp.CompletionNotStarted: "não iniciado",
		ogp.CompletionLimited: "limitado", ogp.CompletionSubstantial: "substancial", ogp.CompletionComplete: "concluído"},
	"ko": {ogp.CompletionNoEvidence: "증거 없음", ogp.CompletionNotStarted: "시작 안 함",
		ogp.CompletionLimited: "제한적", ogp.CompletionSubstantial: "상당함", ogp.CompletionComplete: "완료"},
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
	p, _, _ := strings.Cut(lang, "-")
	if m, ok := completionWords[p]; ok && m[c] != "" {
		return m[c]
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
