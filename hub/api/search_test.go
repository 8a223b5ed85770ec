package api

import (
	"net/http"
	"strings"
	"testing"

	rt "github.com/ogpnet/ogpnet/hub/readmodel/readmodeltest"
)

type searchAnswer struct {
	Query string          `json:"query"`
	Total int             `json:"total"`
	Page  int             `json:"page"`
	Items []SearchHitJSON `json:"items"`
	Next  *string         `json:"next"`
}

// TestSearch: words of any field in any language find the commitment,
// the matched words come back marked in escaped text, and the filters
// narrow the hits.
func TestSearch(t *testing.T) {
	_, srv := fixture(t)
	var a searchAnswer
	// "register" is only in the English lead (stemmed: "registers"
	// finds it), "lobby" in the titles.
	getJSON(t, srv, "/api/v1/search"+query("q", "registers lobby", "lang", "en"), http.StatusOK, &a)
	if a.Total != 1 || a.Items[0].Commitment.ID != rt.MadLobby {
		t.Fatalf("search = %+v", a)
	}
	h := a.Items[0].Highlights
	if len(h) == 0 || !strings.Contains(string(h[0].HTML), "<mark>register</mark>") || strings.Contains(string(h[0].HTML), "<img") {
		t.Errorf("highlights = %+v", h)
	}
	if !strings.Contains(string(a.Items[0].Title), "<mark>lobby</mark>") {
		t.Errorf("title = %q", a.Items[0].Title)
	}
	// Progress text counts, and the pilot filter narrows.
	getJSON(t, srv, "/api/v1/search"+query("q", "plenary"), http.StatusOK, &a)
	if a.Total != 1 || a.Items[0].Commitment.ID != rt.MadLobby {
		t.Errorf("progress text: %+v", a)
	}
	getJSON(t, srv, "/api/v1/search"+query("q", "participatory budget"), http.StatusOK, &a)
	if a.Total != 2 {
		t.Fatalf("participatory budget: %d hits", a.Total)
	}
	getJSON(t, srv, "/api/v1/search"+query("q", "participatory budget", "pilot", rt.ParisActor), http.StatusOK, &a)
	if a.Total != 1 || a.Items[0].Commitment.ID != rt.ParBudget {
		t.Errorf("filtered by Paris: %+v", a)
	}
	getJSON(t, srv, "/api/v1/search"+query("q", "participatory budget", "limit", "1"), http.StatusOK, &a)
	if len(a.Items) != 1 || a.Next == nil || !strings.Contains(*a.Next, "page=2") {
		t.Errorf("page 1 of 2: %+v", a)
	}
}

func TestSearchRefusesBadInput(t *testing.T) {
	_, srv := fixture(t)
	for _, c := range []struct{ path, want string }{
		{"/api/v1/search", "q:"},
		{"/api/v1/search" + query("q", "water", "page", "0"), "page:"},
		{"/api/v1/search" + query("q", "water", "limit", "101"), "limit:"},
		{"/api/v1/search" + query("q", strings.Repeat("water ", 100)), "q: the query is"},
	} {
		res, body := get(t, srv, c.path, "application/json")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want 400 naming %q", c.path, res.StatusCode, body, c.want)
		}
	}
}
