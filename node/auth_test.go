package node

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// writeRoutes is every state-changing route of the node (forms and API).
var writeRoutes = []struct{ method, path string }{
	{http.MethodPost, "/admin/plans"},
	{http.MethodPost, "/admin/plans/2016-2018"},
	{http.MethodPost, "/admin/commitments"},
	{http.MethodPost, "/admin/commitments/JAL0001"},
	{http.MethodPost, "/admin/commitments/JAL0001/delete"},
	{http.MethodPost, "/admin/commitments/JAL0001/updates"},
	{http.MethodPost, "/admin/commitments/JAL0001/updates/01H0000000000000000000000A"},
	{http.MethodPost, "/admin/commitments/JAL0001/updates/01H0000000000000000000000A/delete"},
	{http.MethodPost, "/admin/import"},
	{http.MethodPost, "/admin/tokens"},
	{http.MethodPost, "/admin/tokens/abc/revoke"},
	{http.MethodPut, "/api/v1/plans/2016-2018"},
	{http.MethodPost, "/api/v1/commitments"},
	{http.MethodPut, "/api/v1/commitments/JAL0001"},
	{http.MethodDelete, "/api/v1/commitments/JAL0001"},
	{http.MethodPost, "/api/v1/commitments/JAL0001/updates"},
	{http.MethodPut, "/api/v1/commitments/JAL0001/updates/01H0000000000000000000000A"},
	{http.MethodDelete, "/api/v1/commitments/JAL0001/updates/01H0000000000000000000000A"},
	{http.MethodPost, "/api/v1/import"},
}

// TestOnlyOperatorsWrite: anonymous callers get 401 and signed-in users
// without the operator role get 403 on every write route, and nothing is
// written; an operator signed in through the real OpenID provider writes
// through the forms (with CSRF) and what they publish is public at once.
func TestOnlyOperatorsWrite(t *testing.T) {
	ctx := context.Background()
	tn, _, _ := startSeeded(t, "jalisco", "JAL0001")

	anon := loopbackClient()
	bob := tn.login(t, otherUser)
	bobCSRF := csrf(t, bob, tn.base+"/")
	for _, r := range writeRoutes {
		resp, body := do(t, anon, r.method, tn.base+r.path, "{}", nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s: %d, want 401 (%s)", r.method, r.path, resp.StatusCode, body)
		}
		// Bob has a session and even a valid CSRF token: still 403.
		resp, body = do(t, bob, r.method, tn.base+r.path, "{}", map[string]string{"X-CSRF-Token": bobCSRF})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("non-operator %s %s: %d, want 403 (%s)", r.method, r.path, resp.StatusCode, body)
		}
		resp, _ = do(t, anon, r.method, tn.base+r.path, "{}", bearer("ogpnet_0000000000000000_forged"))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("forged token %s %s: %d, want 401", r.method, r.path, resp.StatusCode)
		}
	}
	for _, page := range []string{"/admin", "/admin/commitments/JAL0001/updates/01H0000000000000000000000A/edit",
		"/admin/commitments/JAL0001/updates/01H0000000000000000000000A/delete"} {
		if resp, _ := get(t, bob, tn.base+page, "text/html"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("non-operator GET %s: %d", page, resp.StatusCode)
		}
	}
	if cm, _ := tn.svc.Store().GetCommitment(ctx, "JAL0001"); cm.Deleted || cm.Title.Get("en") != "State register of farm workers" {
		t.Fatalf("a refused write changed the commitment: %+v", cm)
	}

	// The operator signs in and uses the forms.
	ana := tn.login(t, operatorUser)
	token := csrf(t, ana, tn.base+"/admin/commitments/JAL0001/updates/new")
	form := url.Values{"_csrf": {token}, "date": {"2017-08-01"}, "text_es": {"Se publicó la convocatoria."},
		"text_en": {"The call was published."}, "completion": {"substantial"}, "ms_2": {"in-progress"}}
	// Without the CSRF token the operator's own session cannot post.
	noToken := url.Values{"date": form["date"], "text_es": form["text_es"]}
	resp, body := do(t, ana, http.MethodPost, tn.base+"/admin/commitments/JAL0001/updates", noToken, nil)
	mustStatus(t, resp, body, http.StatusForbidden)
	resp, body = do(t, ana, http.MethodPost, tn.base+"/admin/commitments/JAL0001/updates", form, map[string]string{"Accept": "text/html", "Accept-Language": "en"})
	mustStatus(t, resp, body, http.StatusOK) // after the redirect to the public page
	if !strings.Contains(body, "The call was published.") {
		t.Errorf("the commitment page does not show the new update")
	}
	_, page := get(t, loopbackClient(), tn.base+"/commitments/JAL0001?lang=es", "text/html")
	if !strings.Contains(page, "Se publicó la convocatoria.") || !strings.Contains(page, "Sustancial") {
		t.Errorf("the public page (es) does not show the update")
	}

	// A form with invalid fields comes back with a message per field.
	token = csrf(t, ana, tn.base+"/admin/commitments/new")
	bad := url.Values{"_csrf": {token}, "id": {"jal1"}, "planId": {"2016-2018"}, "startDate": {"2017-13-01"},
		"completion": {"limited"}, "milestones": {"0"}}
	resp, body = do(t, ana, http.MethodPost, tn.base+"/admin/commitments", bad, map[string]string{"Accept": "text/html"})
	mustStatus(t, resp, body, http.StatusUnprocessableEntity)
	for _, field := range []string{"<code>id</code>", "<code>startDate</code>", "<code>title</code>", "<code>leadInstitution</code>"} {
		if !strings.Contains(body, field) {
			t.Errorf("form errors lack %s", field)
		}
	}
}

// TestAPIValidation: the JSON API answers invalid input with 422 and the
// fields at fault, unknown fields with 400, and duplicates with 409.
func TestAPIValidation(t *testing.T) {
	tn, c, tok := startSeeded(t, "jalisco")
	api := tn.base + "/api/v1"

	bad := sampleCommitment("MAD0001") // not the plan's prefix JAL
	bad["values"] = []string{"transparency"}
	resp, body := do(t, c, http.MethodPost, api+"/commitments", bad, bearer(tok))
	mustStatus(t, resp, body, http.StatusUnprocessableEntity)
	for _, f := range []string{`"field":"values[0]"`, `"field":"id"`} {
		if !strings.Contains(body, f) {
			t.Errorf("422 body lacks %s: %s", f, body)
		}
	}
	bad = sampleCommitment("JAL0002")
	bad["endDate"] = "2016-02-30"
	delete(bad, "leadInstitution")
	resp, body = do(t, c, http.MethodPost, api+"/commitments", bad, bearer(tok))
	mustStatus(t, resp, body, http.StatusUnprocessableEntity)
	for _, f := range []string{`"field":"endDate"`, `"field":"leadInstitution"`} {
		if !strings.Contains(body, f) {
			t.Errorf("422 body lacks %s: %s", f, body)
		}
	}
	resp, body = do(t, c, http.MethodPost, api+"/commitments", `{"id":"JAL0001","titel":{}}`, bearer(tok))
	mustStatus(t, resp, body, http.StatusBadRequest)
	resp, body = do(t, c, http.MethodPost, api+"/commitments", sampleCommitment("JAL0001"), bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	resp, body = do(t, c, http.MethodPost, api+"/commitments", sampleCommitment("JAL0001"), bearer(tok))
	mustStatus(t, resp, body, http.StatusConflict)
	// The deprecated "plan" still names the plan (for one release); the
	// answer spells it planId only.
	alias := sampleCommitment("JAL0003")
	alias["plan"] = alias["planId"]
	delete(alias, "planId")
	resp, body = do(t, c, http.MethodPost, api+"/commitments", alias, bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	if !strings.Contains(body, `"planId":"2016-2018"`) || strings.Contains(body, `"plan":`) {
		t.Errorf("created with the plan alias: %s", body)
	}
	alias["planId"] = "2014-2016"
	resp, body = do(t, c, http.MethodPut, api+"/commitments/JAL0003", alias, bearer(tok))
	mustStatus(t, resp, body, http.StatusUnprocessableEntity)
	if !strings.Contains(body, `"field":"planId"`) {
		t.Errorf("plan and planId that disagree: %s", body)
	}
	resp, body = do(t, c, http.MethodPost, api+"/commitments/JAL0001/updates",
		map[string]any{"text": map[string]string{"es": "x"}, "milestoneChanges": []map[string]string{{"milestoneId": "9", "status": "complete"}}}, bearer(tok))
	mustStatus(t, resp, body, http.StatusUnprocessableEntity)
	if !strings.Contains(body, "milestoneChanges[0].milestoneId") {
		t.Errorf("422 body: %s", body)
	}
	// One answer lists every invalid field: a malformed date beside an
	// unknown milestone (checked against the commitment), and a malformed
	// date beside a plan that does not exist.
	resp, body = do(t, c, http.MethodPost, api+"/commitments/JAL0001/updates",
		map[string]any{"date": "2017-13-45", "text": map[string]string{"es": "x"}, "completion": "done",
			"milestoneChanges": []map[string]string{{"milestoneId": "9", "status": "complete"}}}, bearer(tok))
	mustStatus(t, resp, body, http.StatusUnprocessableEntity)
	for _, f := range []string{`"field":"date"`, `"field":"completion"`, `"field":"milestoneChanges[0].milestoneId"`} {
		if !strings.Contains(body, f) {
			t.Errorf("a 422 for an update with three faults lacks %s: %s", f, body)
		}
	}
	orphan := sampleCommitment("JAL0009")
	orphan["planId"] = "2030-2032"
	orphan["startDate"] = "someday"
	resp, body = do(t, c, http.MethodPost, api+"/commitments", orphan, bearer(tok))
	mustStatus(t, resp, body, http.StatusUnprocessableEntity)
	for _, f := range []string{`"field":"planId"`, `"field":"startDate"`} {
		if !strings.Contains(body, f) {
			t.Errorf("a 422 for a commitment with a bad date and no plan lacks %s: %s", f, body)
		}
	}
	resp, body = get(t, c, api+"/commitments/JAL0001", "application/json")
	mustStatus(t, resp, body, http.StatusOK)
	resp, body = get(t, c, api+"/commitments/NOPE0001", "application/json")
	mustStatus(t, resp, body, http.StatusNotFound)
}

// TestNoBrowserLogin: without an OpenID issuer the node runs (auth in
// tokens-only mode), offers no sign-in, and API tokens made with
// CreateAPIToken still write.
func TestNoBrowserLogin(t *testing.T) {
	ctx := context.Background()
	l, base := listen(t, "kigoma")
	n, err := New(ctx, Config{BaseURL: base, Slug: "kigoma", Name: "Kigoma (test)", Lang: "en",
		DB: storetestDB(t), Version: "test", Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, l, n.Handler())
	runBackground(t, n.Run)
	tok, err := n.CreateAPIToken(ctx, "cli")
	if err != nil {
		t.Fatal(err)
	}
	c := loopbackClient()
	p := samplePlan()
	p["prefix"] = "KIG"
	resp, body := do(t, c, http.MethodPut, base+"/api/v1/plans/2016-2018", p, bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	resp, body = get(t, c, base+"/auth/login", "text/html")
	mustStatus(t, resp, body, http.StatusNotFound)
	resp, body = get(t, c, base+"/auth/callback?state=s&code=c", "text/html")
	mustStatus(t, resp, body, http.StatusNotFound)
	// Auth runs tokens-only (no fake issuer): its token routes are there.
	resp, body = do(t, c, http.MethodGet, base+"/auth/tokens", nil, bearer(tok))
	mustStatus(t, resp, body, http.StatusOK)
	_, home := get(t, c, base+"/", "text/html")
	if strings.Contains(home, "/auth/login") {
		t.Error("the home page offers a sign-in that cannot work")
	}
	resp, body = get(t, c, base+"/api/v1/nothing-here", "application/json")
	mustStatus(t, resp, body, http.StatusNotFound)
}
