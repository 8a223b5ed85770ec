package readmodel

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

func boolPtr(b bool) *bool { return &b }

// TestParseFilterSpellings: every spelling a link or API client used before
// the grammar was shared still parses, to the same filter.
func TestParseFilterSpellings(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  Filter
	}{
		{"starred=true", Filter{Starred: boolPtr(true)}},
		{"starred=yes", Filter{Starred: boolPtr(true)}},
		{"starred=1", Filter{Starred: boolPtr(true)}},
		{"starred=TRUE", Filter{Starred: boolPtr(true)}},
		{"starred=false", Filter{Starred: boolPtr(false)}},
		{"starred=no", Filter{Starred: boolPtr(false)}},
		{"starred=0", Filter{Starred: boolPtr(false)}},
		{"starred=", Filter{}},
		// completion repeated (the page's checkboxes) or comma-separated (API).
		{"completion=limited&completion=complete", Filter{Completion: []ogp.Completion{ogp.CompletionLimited, ogp.CompletionComplete}}},
		{"completion=limited,+complete,limited", Filter{Completion: []ogp.Completion{ogp.CompletionLimited, ogp.CompletionComplete}}},
		// IRIs are never split at commas; blanks and repeats are dropped.
		{"pilot=http://a.example/u,x&pilot=+&pilot=http://a.example/u,x", Filter{Pilots: []string{"http://a.example/u,x"}}},
		{"id=http://a.example/c/1&id=http://b.example/c/2", Filter{IDs: []string{"http://a.example/c/1", "http://b.example/c/2"}}},
		{"theme=+Open+Data+&q=+lobby+&value=civic-participation&sort=name",
			Filter{Theme: "Open Data", Query: "lobby", Value: ogp.ValueCivicParticipation, Sort: SortName}},
		// A plan period, narrowed by an explicit end.
		{"period=2016-12-01/2017-12-31&to=2017-06-30",
			Filter{Period: ogp.Period{Start: "2016-12-01", End: "2017-12-31"}, To: "2017-06-30"}},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		got, ps := ParseFilter(q)
		if len(ps) != 0 {
			t.Errorf("%s: problems %v", tc.query, ps)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.query, got, tc.want)
		}
	}
}

// TestParseFilterProblems: a refused parameter is named with its reason,
// and the rest of the filter still applies.
func TestParseFilterProblems(t *testing.T) {
	for _, tc := range []struct {
		query   string
		param   string
		reason  Reason
		message string // part of Problem.Error
		keeps   Filter
	}{
		{"value=bogus&theme=x", ParamValue, BadValue, `value: want one of access-to-information,`, Filter{Theme: "x"}},
		{"completion=limited,done", ParamCompletion, BadValue, `got "done"`, Filter{Completion: []ogp.Completion{ogp.CompletionLimited}}},
		{"starred=maybe", ParamStarred, BadValue, "starred: want true or false", Filter{}},
		{"period=2017", ParamPeriod, BadValue, "period: want YYYY-MM-DD/YYYY-MM-DD", Filter{}},
		{"from=yesterday", ParamFrom, BadValue, "from: want a date as YYYY-MM-DD", Filter{}},
		{"to=2017-13-01", ParamTo, BadValue, "to: want a date", Filter{}},
		{"sort=random", ParamSort, BadValue, "sort: want pilot, last-update or name", Filter{}},
		{"plan-status=closed", ParamPlanStatus, BadValue, "plan-status: want one of development, implementation, ended", Filter{}},
		// Reversed ranges drop every date, the period's too.
		{"from=2017-06-01&to=2017-01-01", ParamTo, BadRange, "to: the end date is before the start date", Filter{}},
		{"period=2016-12-01/2017-12-31&from=2018-01-01", ParamTo, BadRange, "end date is before", Filter{}},
	} {
		q, _ := url.ParseQuery(tc.query)
		got, ps := ParseFilter(q)
		if len(ps) != 1 || ps[0].Param != tc.param || ps[0].Reason != tc.reason {
			t.Errorf("%s: problems %+v, want one %s %s", tc.query, ps, tc.param, tc.reason)
			continue
		}
		if !strings.Contains(ps.Error(), tc.message) {
			t.Errorf("%s: message %q, want it to contain %q", tc.query, ps.Error(), tc.message)
		}
		if !reflect.DeepEqual(got, tc.keeps) {
			t.Errorf("%s: filter %+v, want %+v", tc.query, got, tc.keeps)
		}
	}
	_, ps := ParseFilter(url.Values{"value": {"x"}, "starred": {"y"}})
	if len(ps) != 2 || !strings.Contains(ps.Error(), "; starred:") {
		t.Errorf("two problems = %q", ps.Error())
	}
}

// TestFilterValuesRoundTrip: links written by Values parse back to the
// same filter, in the canonical spelling.
func TestFilterValuesRoundTrip(t *testing.T) {
	f := Filter{
		Pilots: []string{"http://a.example/users/a", "http://b.example/users/b"}, IDs: []string{"http://a.example/c/1"},
		Theme: "Justice", Value: ogp.ValueTechnologyInnovation,
		Completion: []ogp.Completion{ogp.CompletionNotStarted, ogp.CompletionComplete}, Starred: boolPtr(false),
		Period: ogp.Period{Start: "2016-01-01", End: "2017-12-31"}, From: "2016-06-01",
		Query: "open budget", Sort: SortLastUpdate, PlanStatus: ogp.PlanEnded,
	}
	q := f.Values()
	if q.Get(ParamStarred) != "false" || q.Get(ParamPeriod) != "2016-01-01/2017-12-31" || len(q[ParamCompletion]) != 2 {
		t.Errorf("canonical form = %s", q.Encode())
	}
	back, ps := ParseFilter(q)
	if len(ps) != 0 || !reflect.DeepEqual(back, f) {
		t.Errorf("round trip:\n got %+v %v\nwant %+v", back, ps, f)
	}
	if len(Filter{}.Values()) != 0 || (Filter{}).Narrows() || (Filter{Sort: SortName}).Narrows() {
		t.Error("the zero filter writes nothing and narrows nothing")
	}
	if !(Filter{Period: ogp.Period{Start: "2016-01-01"}}).Narrows() {
		t.Error("a period narrows")
	}
	if !(Filter{PlanStatus: ogp.PlanEnded}).Narrows() || !(Filter{PlanStatus: ogp.PlanEnded}).Match(&Commitment{PlanStatus: ogp.PlanEnded}) ||
		(Filter{PlanStatus: ogp.PlanEnded}).Match(&Commitment{PlanStatus: ogp.PlanImplementation}) {
		t.Error("plan-status narrows to the commitments of plans at that stage")
	}
}

// TestFilterPeriodMatch: a period selects like from/to, and explicit dates
// replace its ends.
func TestFilterPeriodMatch(t *testing.T) {
	c := &Commitment{StartDate: "2017-01-01", EndDate: "2017-06-30"}
	for _, tc := range []struct {
		f    Filter
		want bool
	}{
		{Filter{Period: ogp.Period{Start: "2016-01-01", End: "2016-12-31"}}, false},
		{Filter{Period: ogp.Period{Start: "2016-01-01", End: "2017-12-31"}}, true},
		{Filter{Period: ogp.Period{Start: "2016-01-01", End: "2017-12-31"}, From: "2017-07-01"}, false},
		{Filter{Period: ogp.Period{Start: "2016-01-01", End: "2016-12-31"}, To: "2017-02-01"}, true},
	} {
		if got := tc.f.Match(c); got != tc.want {
			t.Errorf("%+v: match %v, want %v", tc.f, got, tc.want)
		}
	}
}
