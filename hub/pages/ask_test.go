package pages

import (
	"net/http"
	"net/url"
	"testing"
)

// TestAskAsAGovernment: a commitment page offers the other pilots' operators
// the way to ask its owner a question (issue 10, peer questions): /ask
// redirects to the chosen pilot's own node question form, with the
// commitment as inReplyTo, and refuses what the hub does not hold.
func TestAskAsAGovernment(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	body := mustGet(t, srv.URL+commitmentPage(madLobby), "en")
	mustContain(t, body, "commitment", `id="ask"`, "Ask as a government",
		`<option value="`+jaliscoActor+`"`, `<option value="`+parisActor+`"`,
		// each peer links to its page's form
		commitmentPage(jalLobby)+`#ask`)
	mustNotContain(t, body, "commitment", `<option value="`+madridActor+`"`)

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ask := func(commitment, pilot string) (int, string) {
		t.Helper()
		q := url.Values{"commitment": {commitment}, "pilot": {pilot}}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+PathAsk+"?"+q.Encode(), nil)
		req.Header.Set("Accept", "text/html")
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Location")
	}
	code, loc := ask(madLobby, jaliscoActor)
	j, _ := url.Parse(jaliscoActor)
	want := j.Scheme + "://" + j.Host + "/admin/questions/new?inReplyTo=" + url.QueryEscape(madLobby)
	if code != http.StatusSeeOther || loc != want {
		t.Errorf("ask Jalisco → %d %q, want 303 %q", code, loc, want)
	}
	for _, c := range []struct{ name, commitment, pilot string }{
		{"its own pilot", madLobby, madridActor},
		{"a pilot the hub does not hold", madLobby, "https://evil.example/users/x"},
		{"a commitment the hub does not hold", "https://evil.example/c/1", jaliscoActor},
	} {
		if code, loc := ask(c.commitment, c.pilot); code != http.StatusBadRequest || loc != "" {
			t.Errorf("%s: %d %q, want 400 and no redirect", c.name, code, loc)
		}
	}
	_, body = get(t, srv.URL+PathAsk+"?commitment="+url.QueryEscape(madLobby)+"&pilot="+url.QueryEscape(madridActor), "en")
	mustContain(t, body, "refusal", "Choose one of the other active pilots")
}
