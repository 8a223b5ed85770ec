package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	rt "github.com/ogpnet/ogpnet/hub/readmodel/readmodeltest"
)

// TestCommitmentsFilters: the grammar's parameters select as documented,
// and both spellings of starred give the same answer.
func TestCommitmentsFilters(t *testing.T) {
	_, srv := fixture(t)
	for _, tc := range []struct {
		query string
		want  []string // ids, in the default order (pilot name, identifier)
	}{
		{"", []string{rt.JalLobby, rt.JalTeacher, rt.MadLobby, rt.MadBudget, rt.ParBudget}},
		{query("starred", "true"), []string{rt.MadLobby}},
		{query("starred", "yes"), []string{rt.MadLobby}},
		{query("starred", "1"), []string{rt.MadLobby}},
		{query("starred", "no"), []string{rt.JalLobby, rt.JalTeacher, rt.MadBudget, rt.ParBudget}},
		{query("starred", "false"), []string{rt.JalLobby, rt.JalTeacher, rt.MadBudget, rt.ParBudget}},
		{query("completion", "complete,not-started"), []string{rt.JalLobby, rt.MadLobby}},
		{query("completion", "complete", "completion", "not-started"), []string{rt.JalLobby, rt.MadLobby}},
		{query("pilot", rt.ParisActor, "pilot", rt.MadridActor), []string{rt.MadLobby, rt.MadBudget, rt.ParBudget}},
		{query("theme", "PUBLIC PARTICIPATION"), []string{rt.MadBudget, rt.ParBudget}},
		{query("value", "technology-innovation"), []string{rt.JalTeacher}},
		{query("q", "participatory"), []string{rt.MadBudget, rt.ParBudget}},
		{query("id", rt.ParBudget, "id", rt.JalLobby), []string{rt.JalLobby, rt.ParBudget}},
		// The period the pages offer now works here too.
		{query("period", "2016-12-01/2017-12-31"), []string{rt.JalLobby, rt.JalTeacher, rt.MadLobby, rt.MadBudget, rt.ParBudget}},
		{query("period", "2018-01-01/2019-12-31"), []string{}},
		{query("from", "2018-01-01"), []string{}},
		{query("sort", "name", "pilot", rt.MadridActor), []string{rt.MadBudget, rt.MadLobby}},
	} {
		var page commitmentsPage
		getJSON(t, srv, "/api/v1/commitments"+tc.query, http.StatusOK, &page)
		if got := ids(page.Items); !slices.Equal(got, tc.want) || page.Total != len(tc.want) {
			t.Errorf("%s: %d %q, want %q", tc.query, page.Total, got, tc.want)
		}
	}
}

// TestCommitmentsPaging: next is an absolute URL keeping the filter, and
// following it reaches every match once.
func TestCommitmentsPaging(t *testing.T) {
	_, srv := fixture(t)
	var page commitmentsPage
	getJSON(t, srv, "/api/v1/commitments"+query("limit", "2", "starred", "no"), http.StatusOK, &page)
	var seen []string
	for range 5 {
		seen = append(seen, ids(page.Items)...)
		if page.Total != 4 {
			t.Fatalf("total %d, want 4", page.Total)
		}
		if page.Next == nil {
			break
		}
		next := *page.Next
		if !strings.HasPrefix(next, base+PathCommitments+"?") || !strings.Contains(next, "starred=no") {
			t.Fatalf("next = %s", next)
		}
		page = commitmentsPage{}
		getJSON(t, srv, strings.TrimPrefix(next, base), http.StatusOK, &page)
	}
	if len(seen) != 4 || slices.Contains(seen, rt.MadLobby) {
		t.Errorf("pages gave %q", seen)
	}
}

// TestBadParameters: every list endpoint refuses a parameter outside the
// grammar with a 400 that names it and says what it accepts.
func TestBadParameters(t *testing.T) {
	_, srv := fixture(t)
	for _, tc := range []struct {
		path, field, message string
	}{
		{"/api/v1/commitments" + query("starred", "maybe"), "starred", `starred: want true or false (yes/no and 1/0 also accepted), got "maybe"`},
		{"/api/v1/commitments" + query("completion", "limited,done"), "completion", `completion: want one of no-evidence, not-started, limited, substantial, complete, got "done"`},
		{"/api/v1/commitments" + query("value", "bogus"), "value", `value: want one of access-to-information`},
		{"/api/v1/commitments" + query("period", "2017"), "period", "period: want YYYY-MM-DD/YYYY-MM-DD"},
		{"/api/v1/commitments" + query("from", "2017-06-01", "to", "2017-01-01"), "to", "to: the end date is before the start date"},
		{"/api/v1/commitments" + query("sort", "random"), "sort", "sort: want pilot, last-update or name"},
		{"/api/v1/matrix" + query("starred", "maybe"), "starred", "starred: want true or false"},
		{"/exports/commitments.csv" + query("from", "yesterday"), "from", "from: want a date as YYYY-MM-DD"},
		{"/exports/commitments.json" + query("to", "2017-02-30"), "to", "to: want a date as YYYY-MM-DD"},
		{"/feed.atom" + query("value", "bogus"), "value", "value: want one of"},
	} {
		var e apiError
		getJSON(t, srv, tc.path, http.StatusBadRequest, &e)
		if !strings.Contains(e.Error.Message, tc.message) {
			t.Errorf("%s: message %q, want %q", tc.path, e.Error.Message, tc.message)
		}
		if len(e.Error.Fields) != 1 || e.Error.Fields[0].Field != tc.field || !strings.Contains(e.Error.Fields[0].Message, tc.message) {
			t.Errorf("%s: fields %+v, want one for %s", tc.path, e.Error.Fields, tc.field)
		}
	}
	// Two refused parameters are both named.
	var e apiError
	getJSON(t, srv, "/api/v1/commitments"+query("starred", "x", "sort", "y"), http.StatusBadRequest, &e)
	if len(e.Error.Fields) != 2 || !strings.Contains(e.Error.Message, "starred:") || !strings.Contains(e.Error.Message, "sort:") {
		t.Errorf("two problems: %+v", e.Error)
	}
	// Paging parameters.
	for path, message := range map[string]string{
		"/api/v1/commitments" + query("limit", "0"):                          "limit: want 1 to 500",
		"/api/v1/commitments" + query("limit", "501"):                        "limit: want 1 to 500",
		"/api/v1/updates" + query("limit", "x"):                              "limit: want 1 to 500",
		"/api/v1/commitments" + query("cursor", "!!"):                        "cursor: not a cursor from this API",
		"/api/v1/commitment/peers" + query("id", rt.MadLobby, "limit", "51"): "limit: want 1 to 50",
	} {
		var e apiError
		getJSON(t, srv, path, http.StatusBadRequest, &e)
		if e.Error.Message != message {
			t.Errorf("%s: message %q, want %q", path, e.Error.Message, message)
		}
	}
}

// TestUnknownIDs: ids the hub does not show answer 404 with a reason.
func TestUnknownIDs(t *testing.T) {
	_, srv := fixture(t)
	for path, message := range map[string]string{
		"/api/v1/commitment" + query("id", "http://x.localhost/commitments/1"): "no such commitment",
		"/api/v1/commitment": "no such commitment",
		"/api/v1/commitment/peers" + query("id", "http://x.localhost/commitments/1"): "no such commitment",
		"/api/v1/pilot" + query("actor", "http://x.localhost/users/x"):               "no such pilot",
		"/feed.atom" + query("pilot", "http://x.localhost/users/x"):                  "no such pilot",
	} {
		var e apiError
		getJSON(t, srv, path, http.StatusNotFound, &e)
		if e.Error.Message != message || e.Error.Status != http.StatusNotFound {
			t.Errorf("%s: %+v, want %q", path, e.Error, message)
		}
	}
}

// TestErrorNegotiation: /api/ errors are always JSON; the feed and exports
// answer a browser with the HTML error page and anything else with JSON.
func TestErrorNegotiation(t *testing.T) {
	_, srv := fixture(t)
	for _, tc := range []struct {
		path, accept, wantType string
	}{
		{"/api/v1/commitments?starred=x", "text/html", "application/json"},
		{"/api/v1/commitments?starred=x", "", "application/json"},
		{"/exports/commitments.csv?starred=x", "text/html,application/xhtml+xml", "text/html"},
		{"/exports/commitments.csv?starred=x", "", "application/json"},
		{"/feed.atom?starred=x", "application/atom+xml", "application/json"},
	} {
		res, body := get(t, srv, tc.path, tc.accept)
		if res.StatusCode != http.StatusBadRequest || !strings.HasPrefix(res.Header.Get("Content-Type"), tc.wantType) {
			t.Errorf("%s (Accept %q) = %d %s, want 400 %s", tc.path, tc.accept, res.StatusCode, res.Header.Get("Content-Type"), tc.wantType)
		}
		if !strings.Contains(string(body), "starred: want true or false") {
			t.Errorf("%s (Accept %q): the reason is missing\n%s", tc.path, tc.accept, body)
		}
	}
}

// TestReadEndpoints: one commitment with its timeline, pilots, matrix.
func TestReadEndpoints(t *testing.T) {
	_, srv := fixture(t)
	var one struct {
		Commitment CommitmentJSON `json:"commitment"`
		Timeline   []UpdateJSON   `json:"timeline"`
	}
	getJSON(t, srv, "/api/v1/commitment"+query("id", rt.MadLobby), http.StatusOK, &one)
	if one.Commitment.ID != rt.MadLobby || !one.Commitment.Starred || len(one.Timeline) != 1 || one.Timeline[0].Date != "2017-03-20" {
		t.Errorf("commitment = %+v", one)
	}
	var pilot PilotJSON
	getJSON(t, srv, "/api/v1/pilot"+query("actor", rt.MadridActor), http.StatusOK, &pilot)
	if pilot.Name != "Madrid" || pilot.Commitments != 2 || pilot.Starred != 1 {
		t.Errorf("pilot = %+v", pilot)
	}
	var mx struct {
		Themes []string `json:"themes"`
		Rows   []struct {
			Pilot string `json:"pilot"`
		} `json:"rows"`
	}
	getJSON(t, srv, "/api/v1/matrix"+query("starred", "yes"), http.StatusOK, &mx)
	if !slices.Equal(mx.Themes, []string{"Anti-Corruption", "Lobbying"}) || len(mx.Rows) != 3 {
		t.Errorf("starred matrix = %+v", mx)
	}
}
