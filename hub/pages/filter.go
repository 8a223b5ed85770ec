package pages

import (
	"net/url"
	"slices"
	"strings"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// filterForm is the comparison filter as submitted (a GET form, so every
// filtered view is a link that can be shared and works without JavaScript).
type filterForm struct {
	Pilots     []string
	Theme      string
	Value      string
	Completion []string
	Starred    string // "", "yes", "no"
	Period     string // "start/end" of a plan period, or ""
	From, To   string
	Query      string
	Cursor     string
}

// parseFilter reads the form from a query string and builds the read-model
// filter. Invalid values are reported as field errors (shown on the page)
// and ignored, so one bad parameter does not blank the whole comparison.
func parseFilter(q url.Values, lang string) (filterForm, readmodel.Filter, []web.FieldError) {
	ff := filterForm{
		Pilots:     nonEmpty(q["pilot"]),
		Theme:      strings.TrimSpace(q.Get("theme")),
		Value:      q.Get("value"),
		Completion: nonEmpty(q["completion"]),
		Starred:    q.Get("starred"),
		Period:     q.Get("period"),
		From:       strings.TrimSpace(q.Get("from")),
		To:         strings.TrimSpace(q.Get("to")),
		Query:      strings.TrimSpace(q.Get("q")),
		Cursor:     q.Get("cursor"),
	}
	var errs []web.FieldError
	bad := func(field, id string) {
		errs = append(errs, web.FieldError{Field: field, Message: web.TLang(lang, id)})
	}
	f := readmodel.Filter{Pilots: ff.Pilots, Theme: ff.Theme, Query: ff.Query}
	if ff.Value != "" {
		if v := ogp.Value(ff.Value); v.Valid() {
			f.Value = v
		} else {
			bad("value", "hub_err_value")
			ff.Value = ""
		}
	}
	var levels []string
	for _, c := range ff.Completion {
		if lvl := ogp.Completion(c); lvl.Valid() {
			f.Completion = append(f.Completion, lvl)
			levels = append(levels, c)
		} else {
			bad("completion", "hub_err_completion")
		}
	}
	ff.Completion = levels
	switch ff.Starred {
	case "":
	case "yes", "no":
		b := ff.Starred == "yes"
		f.Starred = &b
	default:
		bad("starred", "hub_err_starred")
		ff.Starred = ""
	}
	if ff.Period != "" {
		start, end, ok := strings.Cut(ff.Period, "/")
		s, err1 := ogp.ParseDate(start)
		e, err2 := ogp.ParseDate(end)
		if !ok || err1 != nil || err2 != nil {
			bad("period", "hub_err_period")
			ff.Period = ""
		} else {
			f.From, f.To = s, e
		}
	}
	// Explicit dates narrow (or replace) the chosen plan period.
	if ff.From != "" {
		if d, err := ogp.ParseDate(ff.From); err == nil {
			f.From = d
		} else {
			bad("from", "hub_err_date")
			ff.From = ""
		}
	}
	if ff.To != "" {
		if d, err := ogp.ParseDate(ff.To); err == nil {
			f.To = d
		} else {
			bad("to", "hub_err_date")
			ff.To = ""
		}
	}
	if f.From != "" && f.To != "" && f.To.Before(f.From) {
		bad("to", "hub_err_range")
		f.From, f.To, ff.From, ff.To, ff.Period = "", "", "", "", ""
	}
	return ff, f, errs
}

func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Active reports whether any filter is set (the cursor is not a filter).
func (ff filterForm) Active() bool {
	return len(ff.Pilots) > 0 || ff.Theme != "" || ff.Value != "" || len(ff.Completion) > 0 ||
		ff.Starred != "" || ff.Period != "" || ff.From != "" || ff.To != "" || ff.Query != ""
}

// values encodes the form back into a query, without the cursor.
func (ff filterForm) values() url.Values {
	q := url.Values{}
	for _, p := range ff.Pilots {
		q.Add("pilot", p)
	}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("theme", ff.Theme)
	set("value", ff.Value)
	for _, c := range ff.Completion {
		q.Add("completion", c)
	}
	set("starred", ff.Starred)
	set("period", ff.Period)
	set("from", ff.From)
	set("to", ff.To)
	set("q", ff.Query)
	return q
}

// filterOptions are the choices of the filter form, with the current
// selection marked.
type filterOptions struct {
	Pilots     []optionItem
	Themes     []optionItem
	Values     []optionItem
	Completion []optionItem
	Starred    []optionItem
	Periods    []optionItem
}

func buildOptions(m *readmodel.Model, lang string, ff filterForm) filterOptions {
	var o filterOptions
	periods := map[string]ogp.Period{}
	for _, p := range m.Pilots() {
		o.Pilots = append(o.Pilots, optionItem{Value: p.Actor, Label: p.Name, Selected: slices.Contains(ff.Pilots, p.Actor)})
		for _, pl := range p.Plans {
			if pl.Period.Start != "" && pl.Period.End != "" {
				periods[string(pl.Period.Start)+"/"+string(pl.Period.End)] = pl.Period
			}
		}
	}
	for _, t := range sortedThemes(m) {
		o.Themes = append(o.Themes, optionItem{Value: t, Label: themeLabel(lang, t), Selected: strings.EqualFold(t, ff.Theme)})
	}
	for _, v := range ogp.Values {
		o.Values = append(o.Values, optionItem{Value: string(v), Label: valueLabel(lang, v), Selected: ff.Value == string(v)})
	}
	for _, c := range ogp.Completions {
		o.Completion = append(o.Completion, optionItem{Value: string(c), Label: completionLabel(lang, c), Selected: slices.Contains(ff.Completion, string(c))})
	}
	o.Starred = []optionItem{
		{Value: "yes", Label: web.TLang(lang, "hub_starred_only"), Selected: ff.Starred == "yes"},
		{Value: "no", Label: web.TLang(lang, "hub_not_starred"), Selected: ff.Starred == "no"},
	}
	keys := make([]string, 0, len(periods))
	for k := range periods {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Reverse(keys) // newest first
	for _, k := range keys {
		o.Periods = append(o.Periods, optionItem{Value: k, Label: formatPeriod(lang, periods[k]), Selected: ff.Period == k})
	}
	return o
}
