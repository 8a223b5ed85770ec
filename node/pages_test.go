package node

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPagesRender: every public and operator page renders in both UI
// languages, with the node's content falling back across languages, and
// the operator's plan form and token page work end to end.
func TestPagesRender(t *testing.T) {
	tn, c, tok := startWithToken(t, "jalisco")
	cm := sampleCommitment("JAL0001")
	cm["irm"] = map[string]string{"verifiable": "yes", "potentialImpact": "moderate", "starred": "no", "didItOpenGovernment": "pending"}
	tn.seed(t, c, tok, cm)

	pages := []struct{ path, en, es string }{
		{"/", "Action plans", "Planes de acción"},
		{"/users/jalisco", "@jalisco@jalisco.localhost", "Síganos"},
		{"/plans/2016-2018", "How the plan was made", "Cómo se elaboró el plan"},
		{"/plans/2016-2018", "Advance notice of consultation", "Aviso previo de la consulta"},
		{"/commitments/JAL0001", "Milestones", "Hitos"},
		{"/commitments/JAL0001", "Moderate", "Moderado"},
	}
	for _, p := range pages {
		for lang, want := range map[string]string{"en": p.en, "es": p.es} {
			r, html := get(t, c, tn.base+p.path+"?lang="+lang, "text/html")
			mustStatus(t, r, html, http.StatusOK)
			if !strings.Contains(html, want) {
				t.Errorf("%s (%s) lacks %q", p.path, lang, want)
			}
		}
	}
	// The home lists each plan's commitments and links to this pilot on the
	// hub; a commitment page links to its own page there.
	_, home := get(t, c, tn.base+"/?lang=en", "text/html")
	if !strings.Contains(home, `href="/commitments/JAL0001"`) {
		t.Errorf("the home page does not list commitment JAL0001")
	}
	if want := `href="` + testHubURL + `/pilot?actor=` + url.QueryEscape(tn.base+"/users/jalisco") + `"`; !strings.Contains(home, want) {
		t.Errorf("the home page lacks the link to the hub %s", want)
	}
	_, page := get(t, c, tn.base+"/commitments/JAL0001?lang=en", "text/html")
	if want := `href="` + testHubURL + `/commitment?id=` + url.QueryEscape(tn.base+"/commitments/JAL0001") + `"`; !strings.Contains(page, want) {
		t.Errorf("the commitment page lacks the link to the hub %s", want)
	}
	// Content in a language the commitment lacks falls back, marked with lang.
	_, html := get(t, c, tn.base+"/commitments/JAL0001?lang=en", "text/html")
	if !strings.Contains(html, `<span lang="es">Diseño del registro</span>`) {
		t.Errorf("milestone title fallback is not marked lang=es")
	}
	r, _ := get(t, c, tn.base+"/plans/2016-2018", "application/activity+json")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/activity+json") {
		t.Errorf("plan AP: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}

	ana := tn.login(t, operatorUser)
	for _, p := range []string{"/admin", "/admin/plans/new", "/admin/plans/2016-2018/edit", "/admin/commitments/new",
		"/admin/commitments/JAL0001/edit", "/admin/commitments/JAL0001/updates/new", "/admin/import", "/admin/tokens"} {
		r, html := get(t, ana, tn.base+p, "text/html")
		mustStatus(t, r, html, http.StatusOK)
	}
	// Edit the plan through its form: the guideline level sticks.
	token := csrf(t, ana, tn.base+"/admin/plans/2016-2018/edit")
	form := url.Values{"_csrf": {token}, "title_es": {"Plan 2016-2018"}, "title_en": {"Plan 2016-2018"}, "jurisdiction": {"Jalisco"},
		"start": {"2016-12-01"}, "end": {"2018-06-30"}, "status": {"implementation"}, "prefix": {"JAL"},
		"level_awareness-raising": {"not-met"}, "development": {"consult"}}
	resp, body := do(t, ana, http.MethodPost, tn.base+"/admin/plans/2016-2018", form, map[string]string{"Accept": "text/html", "Accept-Language": "en"})
	mustStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, "below OGP") {
		t.Errorf("a plan consulted below Involve is not flagged")
	}
	// Create a token in the UI: shown once; it works on the API.
	token = csrf(t, ana, tn.base+"/admin/tokens")
	resp, body = do(t, ana, http.MethodPost, tn.base+"/admin/tokens", url.Values{"_csrf": {token}, "label": {"script"}}, map[string]string{"Accept": "text/html"})
	mustStatus(t, resp, body, http.StatusOK)
	m := strings.Index(body, "ogpnet_")
	if m < 0 {
		t.Fatal("the new token is not shown")
	}
	plain := body[m : m+strings.IndexByte(body[m:], '<')]
	resp, body = do(t, loopbackClient(), http.MethodDelete, tn.base+"/api/v1/commitments/JAL0001", nil, bearer(plain))
	mustStatus(t, resp, body, http.StatusNoContent)
}
