package pages

import (
	"net/url"
	"slices"
	"strings"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// The comparison's filter is a GET form, so every filtered view is a link
// that can be shared and works without JavaScript. Its grammar is the read
// model's (readmodel.ParseFilter), the same as the JSON API's.

// problemIDs names each refused parameter's message in the catalogue.
var problemIDs = map[string]string{
	readmodel.ParamValue:      "hub_err_value",
	readmodel.ParamCompletion: "hub_err_completion",
	readmodel.ParamStarred:    "hub_err_starred",
	readmodel.ParamPeriod:     "hub_err_period",
	readmodel.ParamPlanStatus: "hub_err_plan_status",
	readmodel.ParamFrom:       "hub_err_date",
	readmodel.ParamTo:         "hub_err_date",
	readmodel.ParamSort:       "hub_err_sort",
}

// parseFilter reads the filter from a query string. Refused parameters are
// reported as field errors (shown on the page) and left out, so one bad
// parameter does not blank the whole comparison; the API refuses the same
// parameters with a 400.
func parseFilter(q url.Values, lang string) (readmodel.Filter, []web.FieldError) {
	f, problems := readmodel.ParseFilter(q)
	var errs []web.FieldError
	for _, p := range problems {
		id := problemIDs[p.Param]
		if p.Reason == readmodel.BadRange {
			id = "hub_err_range"
		}
		errs = append(errs, web.FieldError{Field: p.Param, Message: web.TLang(lang, id)})
	}
	return f, errs
}

// nonEmpty trims values and drops blanks and repeats.
func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// filterOptions are the choices of the filter form, with the current
// selection marked.
type filterOptions struct {
	Themes     []optionItem
	Values     []optionItem
	Completion []optionItem
	Starred    []optionItem
	Periods    []optionItem
	PlanStatus []optionItem
}

// optionSource is what the filter's choices are made of, derived once per
// read-model version: plan periods newest first, and policy areas.
type optionSource struct {
	periodKeys []string
	periods    map[string]ogp.Period
	themes     []string
}

var optionSources = newVersionCache[*optionSource](4)

func optionSourceOf(m *readmodel.Model) *optionSource {
	ver := m.Version()
	if o, ok := optionSources.get(m, ver, ""); ok {
		return o
	}
	o := &optionSource{periods: map[string]ogp.Period{}, themes: sortedThemes(m)}
	for _, p := range m.Pilots() {
		for _, pl := range p.Plans {
			if pl.Period.Start != "" && pl.Period.End != "" {
				o.periods[readmodel.PeriodParam(pl.Period)] = pl.Period
			}
		}
	}
	for k := range o.periods {
		o.periodKeys = append(o.periodKeys, k)
	}
	slices.Sort(o.periodKeys)
	slices.Reverse(o.periodKeys) // newest first
	optionSources.put(m, ver, "", o)
	return o
}

func buildOptions(m *readmodel.Model, lang string, f readmodel.Filter) filterOptions {
	var o filterOptions
	src := optionSourceOf(m)
	for _, t := range src.themes {
		o.Themes = append(o.Themes, optionItem{Value: t, Label: themeLabel(lang, t), Selected: strings.EqualFold(t, f.Theme)})
	}
	for _, v := range ogp.Values {
		o.Values = append(o.Values, optionItem{Value: string(v), Label: valueLabel(lang, v), Selected: f.Value == v})
	}
	for _, c := range ogp.Completions {
		o.Completion = append(o.Completion, optionItem{Value: string(c), Label: completionLabel(lang, c), Selected: slices.Contains(f.Completion, c)})
	}
	// The grammar's canonical spelling; older links with yes/no still parse.
	o.Starred = []optionItem{
		{Value: "true", Label: web.TLang(lang, "hub_starred_only"), Selected: f.Starred != nil && *f.Starred},
		{Value: "false", Label: web.TLang(lang, "hub_not_starred"), Selected: f.Starred != nil && !*f.Starred},
	}
	for _, st := range []ogp.PlanStatus{ogp.PlanDevelopment, ogp.PlanImplementation, ogp.PlanEnded} {
		o.PlanStatus = append(o.PlanStatus, optionItem{Value: string(st), Label: planStatusLabel(lang, st), Selected: f.PlanStatus == st})
	}
	selected := readmodel.PeriodParam(f.Period)
	for _, k := range src.periodKeys {
		o.Periods = append(o.Periods, optionItem{Value: k, Label: formatPeriod(lang, src.periods[k]), Selected: selected == k})
	}
	return o
}
