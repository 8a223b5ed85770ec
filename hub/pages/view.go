package pages

import (
	"html/template"
	"slices"
	"strings"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// View models shared by several pages. Every label is translated and every
// date formatted here, so templates only place values; plain strings are
// escaped by html/template, and the only template.HTML values are the read
// model's *HTML fields (sanitised at ingest) and SVG built by internal/web.

// pilotRef links to a pilot's hub page.
type pilotRef struct {
	Name string
	Path string
}

// commitmentItem is one commitment in a list.
type commitmentItem struct {
	ID              string
	Path            string
	Identifier      string
	Name            string
	NameLang        string // the language Name is in, for lang="…" on a fallback
	Pilot           pilotRef
	Themes          []themeLink
	Completion      ogp.Completion
	CompletionLabel string
	CompletionClass string
	Starred         bool
	Overdue         int
	LastUpdate      string
	LastUpdateISO   string
}

type themeLink struct {
	Name string
	Path string
}

func themeLinks(lang string, themes []string) []themeLink {
	out := make([]themeLink, 0, len(themes))
	for _, t := range themes {
		out = append(out, themeLink{Name: themeLabel(lang, t), Path: ComparePathTheme(t)})
	}
	return out
}

func commitmentItemOf(lang string, idx *siteIndex, c readmodel.Commitment) commitmentItem {
	it := commitmentItem{
		ID:              c.ID,
		Path:            idx.commitmentPath(c.ID, c.Pilot),
		Identifier:      identifierUnlessInName(c.Identifier, c.Name.In(lang)),
		Name:            c.Name.In(lang),
		Pilot:           idx.ref(c.Pilot, c.PilotName),
		Themes:          themeLinks(lang, c.Themes),
		Completion:      c.Completion,
		CompletionLabel: completionLabel(lang, c.Completion),
		CompletionClass: completionClass(c.Completion),
		Starred:         c.Starred,
		Overdue:         c.MilestoneCounts.Overdue,
	}
	it.Name, it.NameLang = pick(lang, c.Name)
	if lu := lastUpdateOf(c); !lu.IsZero() {
		it.LastUpdate = formatDay(lang, lu)
		it.LastUpdateISO = lu.UTC().Format(ogp.DateLayout)
	}
	return it
}

// updateItem is one progress update in a timeline or feed.
type updateItem struct {
	ID              string
	URL             string // the node's original
	Date            string
	DateISO         string
	Pilot           pilotRef
	Commitment      string // commitment name
	CommitmentLang  string // its language when not the reader's
	CommitmentPath  string
	ContentHTML     template.HTML // sanitised at ingest
	ContentLang     string        // its language when not the reader's
	Completion      ogp.Completion
	CompletionLabel string
	CompletionClass string
	Milestones      []string // "Milestone name: Completed"
	Evidence        []string // http(s) only (read model)
}

// updateItemOf builds an update item; names maps commitment IRIs to their
// display names (the update itself carries only the IRI).
func updateItemOf(lang string, idx *siteIndex, u readmodel.Update, commitment *readmodel.Commitment) updateItem {
	it := updateItem{
		ID:             u.ID,
		URL:            u.URL,
		Date:           formatDate(lang, u.Date),
		DateISO:        string(u.Date),
		Pilot:          idx.ref(u.Pilot, ""),
		CommitmentPath: idx.commitmentPath(u.Commitment, u.Pilot),
		Completion:     u.Completion,
		Evidence:       u.Evidence,
	}
	it.ContentHTML, it.ContentLang = pickHTML(lang, u.ContentHTML)
	if it.URL == "" {
		it.URL = readmodel.SafeLink(u.ID)
	}
	if u.Completion != "" {
		it.CompletionLabel = completionLabel(lang, u.Completion)
		it.CompletionClass = completionClass(u.Completion)
	}
	if commitment != nil {
		it.Commitment, it.CommitmentLang = pick(lang, commitment.Name)
		for _, ch := range u.MilestoneChanges {
			name := ch.Milestone
			for _, ms := range commitment.Milestones {
				if ms.ID == ch.Milestone {
					name = ms.Name
					if v := ms.NameMap[lang]; v != "" {
						name = v
					}
				}
			}
			it.Milestones = append(it.Milestones, name+": "+milestoneLabel(lang, ch.Status))
		}
	}
	return it
}

// optionItem is one <option> or checkbox of a filter form.
type optionItem struct {
	Value    string
	Label    string
	Selected bool
}

// sortedThemes returns theme names ordered case-insensitively.
func sortedThemes(m *readmodel.Model) []string {
	var out []string
	for _, t := range m.Themes() {
		out = append(out, t.Theme)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}
