package readmodel

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// The filter grammar, shared by every surface that lists commitments (the
// comparison page, /api/v1/commitments and /api/v1/matrix, the feed, the
// exports), documented in docs/api-hub.md "Filter parameters":
//
//	pilot=<actor IRI>      repeatable (any of); values are not comma-split (IRIs)
//	id=<commitment IRI>    repeatable (any of); not comma-split
//	theme=<policy area>    case-insensitive
//	value=<OGP value>      one of ogp.Values
//	completion=<level>     repeatable or comma-separated (any of)
//	starred=true|false     yes/no and 1/0 are accepted too; Values writes true/false
//	period=<start>/<end>   a plan period, YYYY-MM-DD/YYYY-MM-DD
//	plan-status=<stage>    the plan's stage: development, implementation or ended
//	from=, to=<YYYY-MM-DD> overlap with the commitment's dates; they narrow period
//	q=<words>              all must appear
//	sort=pilot|last-update|name
//
// Blank values are ignored; surrounding spaces are trimmed.

// Parameter names of the filter grammar.
const (
	ParamPilot      = "pilot"
	ParamID         = "id"
	ParamTheme      = "theme"
	ParamValue      = "value"
	ParamCompletion = "completion"
	ParamStarred    = "starred"
	ParamPeriod     = "period"
	ParamPlanStatus = "plan-status"
	ParamFrom       = "from"
	ParamTo         = "to"
	ParamQuery      = "q"
	ParamSort       = "sort"
)

// Reason says why a filter parameter was refused.
type Reason string

// Reasons a parameter is refused.
const (
	// BadValue: the value is not in the parameter's grammar.
	BadValue Reason = "bad-value"
	// BadRange: the dates end before they start (reported on "to").
	BadRange Reason = "bad-range"
)

// Problem is one filter parameter ParseFilter refused.
type Problem struct {
	Param  string // the query parameter, e.g. "starred"
	Value  string // the value as given
	Reason Reason
}

// wants describes, per parameter, what the grammar accepts (API messages).
var wants = map[string]string{
	ParamValue:      "one of " + joinSlugs(ogp.Values),
	ParamCompletion: "one of " + joinSlugs(ogp.Completions),
	ParamStarred:    "true or false (yes/no and 1/0 also accepted)",
	ParamPeriod:     "YYYY-MM-DD/YYYY-MM-DD",
	ParamPlanStatus: "one of " + joinSlugs([]ogp.PlanStatus{ogp.PlanDevelopment, ogp.PlanImplementation, ogp.PlanEnded}),
	ParamFrom:       "a date as YYYY-MM-DD",
	ParamTo:         "a date as YYYY-MM-DD",
	ParamSort:       SortPilot + ", " + SortLastUpdate + " or " + SortName,
}

func joinSlugs[T ~string](slugs []T) string {
	s := make([]string, len(slugs))
	for i, v := range slugs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// Error is the English message API clients get: it names the parameter and
// what it accepts.
func (p Problem) Error() string {
	if p.Reason == BadRange {
		return p.Param + ": the end date is before the start date"
	}
	return p.Param + ": want " + wants[p.Param] + ", got " + strconv.Quote(p.Value)
}

// Problems lists the parameters ParseFilter refused, in grammar order.
type Problems []Problem

// Error joins the problems' messages.
func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// ParseFilter reads the filter grammar from a query string. It is lenient
// and strict at once: the returned Filter holds every valid parameter (so a
// page can still show the rest of the comparison), and Problems lists the
// refused ones (so the API can answer 400 naming them). Cursor and limit
// are paging, not filtering, and are left to the caller.
func ParseFilter(q url.Values) (Filter, Problems) {
	var ps Problems
	bad := func(param, value string) { ps = append(ps, Problem{Param: param, Value: value, Reason: BadValue}) }
	f := Filter{
		Pilots: repeated(q, ParamPilot, false),
		IDs:    repeated(q, ParamID, false),
		Theme:  strings.TrimSpace(q.Get(ParamTheme)),
		Query:  strings.TrimSpace(q.Get(ParamQuery)),
	}
	if s := strings.TrimSpace(q.Get(ParamValue)); s != "" {
		if v := ogp.Value(s); v.Valid() {
			f.Value = v
		} else {
			bad(ParamValue, s)
		}
	}
	for _, s := range repeated(q, ParamCompletion, true) {
		if c := ogp.Completion(s); c.Valid() {
			f.Completion = append(f.Completion, c)
		} else {
			bad(ParamCompletion, s)
		}
	}
	if s := strings.TrimSpace(q.Get(ParamStarred)); s != "" {
		if b, ok := parseBool(s); ok {
			f.Starred = &b
		} else {
			bad(ParamStarred, s)
		}
	}
	if s := strings.TrimSpace(q.Get(ParamPeriod)); s != "" {
		if p, ok := parsePeriod(s); ok {
			f.Period = p
		} else {
			bad(ParamPeriod, s)
		}
	}
	if s := strings.TrimSpace(q.Get(ParamPlanStatus)); s != "" {
		if st := ogp.PlanStatus(s); st.Valid() {
			f.PlanStatus = st
		} else {
			bad(ParamPlanStatus, s)
		}
	}
	for _, d := range []struct {
		param string
		dst   *ogp.Date
	}{{ParamFrom, &f.From}, {ParamTo, &f.To}} {
		if s := strings.TrimSpace(q.Get(d.param)); s != "" {
			if v, err := ogp.ParseDate(s); err == nil {
				*d.dst = v
			} else {
				bad(d.param, s)
			}
		}
	}
	if from, to := f.dateRange(); from != "" && to != "" && to.Before(from) {
		// Which end is wrong is a guess; dropping all dates shows everything
		// rather than nothing.
		ps = append(ps, Problem{Param: ParamTo, Value: string(to), Reason: BadRange})
		f.Period, f.From, f.To = ogp.Period{}, "", ""
	}
	switch s := strings.TrimSpace(q.Get(ParamSort)); s {
	case "", SortPilot, SortLastUpdate, SortName:
		f.Sort = s
	default:
		bad(ParamSort, s)
	}
	return f, ps
}

// repeated reads a repeatable parameter: values trimmed, blanks and
// repeats dropped, and, when split is set, comma-separated lists taken
// apart (never for IRIs, which may contain commas).
func repeated(q url.Values, name string, split bool) []string {
	var out []string
	for _, v := range q[name] {
		parts := []string{v}
		if split {
			parts = strings.Split(v, ",")
		}
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// parseBool accepts the spellings in use: true/false (the API), yes/no (the
// comparison page's older links), 1/0 and the rest of strconv.ParseBool.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "yes":
		return true, true
	case "no":
		return false, true
	}
	b, err := strconv.ParseBool(strings.ToLower(s))
	return b, err == nil
}

func parsePeriod(s string) (ogp.Period, bool) {
	start, end, ok := strings.Cut(s, "/")
	if !ok {
		return ogp.Period{}, false
	}
	ps, err1 := ogp.ParseDate(strings.TrimSpace(start))
	pe, err2 := ogp.ParseDate(strings.TrimSpace(end))
	if err1 != nil || err2 != nil {
		return ogp.Period{}, false
	}
	return ogp.Period{Start: ps, End: pe}, true
}

// PeriodParam is a plan period in the period parameter's form
// ("2016-12-01/2017-12-31"), the value of the page's period options.
func PeriodParam(p ogp.Period) string {
	if p.Start.IsZero() && p.End.IsZero() {
		return ""
	}
	return string(p.Start) + "/" + string(p.End)
}

// Values writes f in the grammar's canonical form (starred as true/false,
// completion repeated), for links that keep a filter: ParseFilter(f.Values())
// gives f back.
func (f Filter) Values() url.Values {
	q := url.Values{}
	add := func(k string, vs ...string) {
		for _, v := range vs {
			if v != "" {
				q.Add(k, v)
			}
		}
	}
	add(ParamPilot, f.Pilots...)
	add(ParamID, f.IDs...)
	add(ParamTheme, f.Theme)
	add(ParamValue, string(f.Value))
	for _, c := range f.Completion {
		add(ParamCompletion, string(c))
	}
	if f.Starred != nil {
		add(ParamStarred, strconv.FormatBool(*f.Starred))
	}
	add(ParamPeriod, PeriodParam(f.Period))
	add(ParamPlanStatus, string(f.PlanStatus))
	add(ParamFrom, string(f.From))
	add(ParamTo, string(f.To))
	add(ParamQuery, f.Query)
	add(ParamSort, f.Sort)
	return q
}
