package pages

import (
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// The vocabulary's enums are slugs ("no-evidence"); the shared catalogue
// names them with prefixes and underscores ("completion_no_evidence"). The
// functions below do that mapping in one place, so templates get ready
// labels and the catalogue test sees every id spelled out where possible.

// msgID turns a slug into a catalogue id with prefix.
func msgID(prefix, slug string) string {
	return prefix + strings.ReplaceAll(slug, "-", "_")
}

// slugLabel names a valid enum value by its catalogue id (prefix + slug),
// and returns invalid for a value the vocabulary does not define.
func slugLabel[T interface {
	~string
	Valid() bool
}](lang, prefix string, v T, invalid string) string {
	if !v.Valid() {
		return invalid
	}
	return web.TLang(lang, msgID(prefix, string(v)))
}

// themeLabel names a policy-area slug from the taxonomy; a slug the
// catalogue does not know (another taxonomy version) is shown as is.
func themeLabel(lang, slug string) string {
	id := msgID("policy_", slug)
	if l := web.TLang(lang, id); l != id && l != "" {
		return l
	}
	return slug
}

// pick is t for a reader of lang: the translation when the node gave one,
// else the original, with the language it is in (for the lang attribute).
func pick(lang string, t readmodel.Text) (string, string) {
	return web.PickLang(lang, t.Default, t.Map)
}

// pickHTML is pick for sanitised HTML.
func pickHTML(lang string, h readmodel.HTML) (template.HTML, string) {
	return web.PickLang(lang, h.Default, h.Map)
}

// themeLabels names each policy-area slug of slugs in lang.
func themeLabels(lang string, slugs []string) []string {
	out := make([]string, 0, len(slugs))
	for _, s := range slugs {
		out = append(out, themeLabel(lang, s))
	}
	return out
}

func completionLabel(lang string, c ogp.Completion) string {
	return slugLabel(lang, "completion_", c, web.TLang(lang, "common_unknown"))
}

func valueLabel(lang string, v ogp.Value) string {
	return slugLabel(lang, "value_", v, string(v))
}

// milestoneIDs maps milestone states to catalogue ids; the shared catalogue
// predates the vocabulary's "complete"/"cancelled" spelling.
var milestoneIDs = map[ogp.MilestoneStatus]string{
	ogp.MilestoneNotStarted: "milestone_not_started",
	ogp.MilestoneInProgress: "milestone_in_progress",
	ogp.MilestoneComplete:   "milestone_completed",
	ogp.MilestoneCancelled:  "milestone_withdrawn",
}

func milestoneLabel(lang string, s ogp.MilestoneStatus) string {
	return labelOf(lang, milestoneIDs, s, "common_unknown")
}

var yesNoIDs = map[ogp.YesNo]string{
	ogp.Yes:     "common_yes",
	ogp.No:      "common_no",
	ogp.Pending: "hub_irm_pending",
}

func yesNoLabel(lang string, y ogp.YesNo) string {
	return labelOf(lang, yesNoIDs, y, "hub_irm_no_data")
}

// labelOf names k by its catalogue id in ids, or by fallback's when ids has
// none (an unset or unknown value).
func labelOf[K comparable](lang string, ids map[K]string, k K, fallback string) string {
	if id, ok := ids[k]; ok {
		return web.TLang(lang, id)
	}
	return web.TLang(lang, fallback)
}

func impactLabel(lang string, p ogp.PotentialImpact) string {
	switch p {
	case ogp.ImpactPending:
		return web.TLang(lang, "hub_irm_pending")
	case "":
		return web.TLang(lang, "hub_irm_no_data")
	}
	if !p.Valid() {
		return web.TLang(lang, "common_unknown")
	}
	return web.TLang(lang, msgID("irm_impact_", string(p)))
}

var resultsIDs = map[ogp.EarlyResults]string{
	ogp.ResultsWorsened:     "irm_opened_worsened",
	ogp.ResultsDidNotChange: "irm_opened_no_change",
	ogp.ResultsMarginal:     "irm_opened_marginal",
	ogp.ResultsMajor:        "irm_opened_major",
	ogp.ResultsOutstanding:  "irm_opened_outstanding",
	ogp.ResultsPending:      "hub_irm_pending",
}

func resultsLabel(lang string, r ogp.EarlyResults) string {
	return labelOf(lang, resultsIDs, r, "hub_irm_no_data")
}

// guidelineLabel names one of the seven IRM process guidelines. The shared
// catalogue's guideline_* ids are the 2022 co-creation standards, a
// different list, so the hub has its own ids for the 2012–2017 guidelines
// that the pilot plans were assessed against.
func guidelineLabel(lang string, k ogp.GuidelineKey) string {
	return slugLabel(lang, "hub_guideline_", k, string(k))
}

var guidelineLevelIDs = map[ogp.GuidelineLevel]string{
	ogp.GuidelineMet:    "guideline_met",
	ogp.GuidelinePartly: "guideline_partly_met",
	ogp.GuidelineNotMet: "guideline_not_met",
}

func guidelineLevelLabel(lang string, l ogp.GuidelineLevel) string {
	return labelOf(lang, guidelineLevelIDs, l, "hub_not_recorded")
}

func iap2Label(lang string, l ogp.IAP2Level) string {
	return slugLabel(lang, "iap2_", l, web.TLang(lang, "hub_not_recorded"))
}

func planStatusLabel(lang string, s ogp.PlanStatus) string {
	return slugLabel(lang, "hub_plan_", s, "")
}

// formatDate writes a calendar day in the reader's language ("March 5,
// 2017", "5 de marzo de 2017"); "" for an unset date.
func formatDate(lang string, d ogp.Date) string {
	t := d.Time()
	if t.IsZero() {
		return ""
	}
	return formatDay(lang, t)
}

func formatDay(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return web.TLang(lang, "date_format",
		"Day", strconv.Itoa(t.Day()),
		"Month", web.TLang(lang, "month_"+strconv.Itoa(int(t.Month()))),
		"Year", strconv.Itoa(t.Year()))
}

func formatPeriod(lang string, p ogp.Period) string {
	if p.Start.IsZero() && p.End.IsZero() {
		return ""
	}
	return web.TLang(lang, "date_period", "Start", formatDate(lang, p.Start), "End", formatDate(lang, p.End))
}

// completionClass is the CSS class of a completion level, shared with
// internal/web's style.css (c-complete, c-no_evidence, …);
// classes, not style attributes, because the CSP forbids inline styles.
func completionClass(c ogp.Completion) string {
	if !c.Valid() {
		return "c-unknown"
	}
	return "c-" + strings.ReplaceAll(string(c), "-", "_")
}
