package node

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/node/plan/jsonshape"
)

// outboxTotal reads totalItems of the node's outbox over HTTP.
func outboxTotal(t *testing.T, tn *testNode) int {
	t.Helper()
	r, body := get(t, loopbackClient(), tn.Federation().OutboxID(), "application/activity+json")
	mustStatus(t, r, body, http.StatusOK)
	var coll struct {
		TotalItems int `json:"totalItems"`
	}
	if err := json.Unmarshal([]byte(body), &coll); err != nil {
		t.Fatal(err)
	}
	return coll.TotalItems
}

// postUpdate posts a progress update through the API and returns its id.
func postUpdate(t *testing.T, c *http.Client, tn *testNode, tok, cid string, body map[string]any) string {
	t.Helper()
	resp, out := do(t, c, http.MethodPost, tn.base+"/api/v1/commitments/"+cid+"/updates", body, bearer(tok))
	mustStatus(t, resp, out, http.StatusCreated)
	var u jsonshape.Update
	if err := json.Unmarshal([]byte(out), &u); err != nil || u.ID == "" {
		t.Fatalf("posted update: %s (%v)", out, err)
	}
	return u.ID
}

// TestEditDeleteUpdateAPI: PUT and DELETE of a single progress update:
// operators only, 422 naming the fields, 404 for unknown updates (or one of
// another commitment), 410 once deleted or withdrawn; an edit keeps the
// update's id and creation time, sets "updated", never changes the
// commitment, and publishes nothing when nothing changed.
func TestEditDeleteUpdateAPI(t *testing.T) {
	ctx := context.Background()
	tn, c, tok := startSeeded(t, "jalisco", "JAL0001", "JAL0002")
	api := tn.base + "/api/v1"
	uid := postUpdate(t, c, tn, tok, "JAL0001", map[string]any{"date": "2017-07-01", "text": map[string]string{"es": "Primer avance."},
		"completion": "substantial", "milestoneChanges": []map[string]string{{"milestoneId": "1", "status": "complete"}}})
	otherUID := postUpdate(t, c, tn, tok, "JAL0002", map[string]any{"text": map[string]string{"es": "Otro compromiso."}})
	path := api + "/commitments/JAL0001/updates/" + uid
	edit := map[string]any{"text": map[string]string{"es": "Primer avance, corregido.", "en": "First progress, fixed."},
		"completion": "limited", "evidence": []string{"https://jalisco.example/acta.pdf"}}

	// Only operators.
	anon := loopbackClient()
	resp, body := do(t, anon, http.MethodPut, path, edit, nil)
	mustStatus(t, resp, body, http.StatusUnauthorized)
	resp, body = do(t, anon, http.MethodDelete, path, nil, nil)
	mustStatus(t, resp, body, http.StatusUnauthorized)
	bob := tn.login(t, otherUser)
	bobCSRF := map[string]string{"X-CSRF-Token": csrf(t, bob, tn.base+"/")}
	resp, body = do(t, bob, http.MethodPut, path, edit, bobCSRF)
	mustStatus(t, resp, body, http.StatusForbidden)
	resp, body = do(t, bob, http.MethodDelete, path, nil, bobCSRF)
	mustStatus(t, resp, body, http.StatusForbidden)

	// 422 names every field at fault, and changes nothing.
	resp, body = do(t, c, http.MethodPut, path, map[string]any{"date": "2017-13-01", "text": map[string]string{}, "completion": "done"}, bearer(tok))
	mustStatus(t, resp, body, http.StatusUnprocessableEntity)
	for _, f := range []string{`"field":"date"`, `"field":"text"`, `"field":"completion"`} {
		if !strings.Contains(body, f) {
			t.Errorf("422 body lacks %s: %s", f, body)
		}
	}
	resp, body = do(t, c, http.MethodPut, path, map[string]any{"text": map[string]string{"es": "x"},
		"milestoneChanges": []map[string]string{{"milestoneId": "9", "status": "complete"}}}, bearer(tok))
	mustStatus(t, resp, body, http.StatusUnprocessableEntity)
	if !strings.Contains(body, `"field":"milestoneChanges[0].milestoneId"`) {
		t.Errorf("422 body: %s", body)
	}
	resp, body = do(t, c, http.MethodPut, path, map[string]any{"id": otherUID, "commitmentId": "JAL0002", "text": map[string]string{"es": "x"}}, bearer(tok))
	mustStatus(t, resp, body, http.StatusUnprocessableEntity)
	if !strings.Contains(body, `"field":"id"`) || !strings.Contains(body, `"field":"commitmentId"`) {
		t.Errorf("422 body: %s", body)
	}
	resp, body = do(t, c, http.MethodPut, path, `{"text":{"es":"x"},"txet":1}`, bearer(tok))
	mustStatus(t, resp, body, http.StatusBadRequest)

	// 404: unknown update, unknown commitment, another commitment's update.
	for _, p := range []string{"/commitments/JAL0001/updates/01ZZZZZZZZZZZZZZZZZZZZZZZZ", "/commitments/JAL0099/updates/" + uid, "/commitments/JAL0001/updates/" + otherUID} {
		resp, body = do(t, c, http.MethodPut, api+p, edit, bearer(tok))
		mustStatus(t, resp, body, http.StatusNotFound)
		resp, body = do(t, c, http.MethodDelete, api+p, nil, bearer(tok))
		mustStatus(t, resp, body, http.StatusNotFound)
	}

	// A valid edit: same id and created, a newer updated, the stored date
	// kept (none was sent); the commitment keeps what the update once set.
	before := outboxTotal(t, tn)
	resp, body = do(t, c, http.MethodPut, path, edit, bearer(tok))
	mustStatus(t, resp, body, http.StatusOK)
	var got jsonshape.Update
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != uid || got.Date != "2017-07-01" || got.Completion != "limited" || got.Updated.IsZero() || !got.Updated.After(got.Created) ||
		got.Text["en"] != "First progress, fixed." || len(got.MilestoneChanges) != 0 || len(got.Evidence) != 1 {
		t.Errorf("edited update: %s", body)
	}
	if after := outboxTotal(t, tn); after != before+1 {
		t.Errorf("an edit published %d activities, want 1 (Update{Note})", after-before)
	}
	cm, _ := tn.svc.Store().GetCommitment(ctx, "JAL0001")
	if cm.Completion != "substantial" || cm.Milestones[0].Status != "complete" {
		t.Errorf("the edit changed the commitment: %s, %s", cm.Completion, cm.Milestones[0].Status)
	}
	// The same edit again changes and publishes nothing.
	resp, body = do(t, c, http.MethodPut, path, edit, bearer(tok))
	mustStatus(t, resp, body, http.StatusOK)
	var same jsonshape.Update
	_ = json.Unmarshal([]byte(body), &same)
	if !same.Updated.Equal(got.Updated) {
		t.Errorf("an unchanged edit moved updated: %v → %v", got.Updated, same.Updated)
	}
	if after := outboxTotal(t, tn); after != before+1 {
		t.Errorf("an unchanged edit published: outbox %d → %d", before+1, after)
	}

	// Delete: 204, one Delete published, then 410 for every write on it.
	resp, body = do(t, c, http.MethodDelete, path, nil, bearer(tok))
	mustStatus(t, resp, body, http.StatusNoContent)
	if after := outboxTotal(t, tn); after != before+2 {
		t.Errorf("a delete published %d activities, want 1", after-before-1)
	}
	resp, body = do(t, c, http.MethodDelete, path, nil, bearer(tok))
	mustStatus(t, resp, body, http.StatusGone)
	resp, body = do(t, c, http.MethodPut, path, edit, bearer(tok))
	mustStatus(t, resp, body, http.StatusGone)
	resp, body = get(t, c, api+"/commitments/JAL0001/updates", "application/json")
	mustStatus(t, resp, body, http.StatusOK)
	if strings.Contains(body, uid) {
		t.Errorf("the deleted update is still listed: %s", body)
	}
	if cm2, _ := tn.svc.Store().GetCommitment(ctx, "JAL0001"); !cm2.SameContent(cm) {
		t.Errorf("deleting the update changed the commitment")
	}

	// Updates of a withdrawn commitment: 410.
	resp, body = do(t, c, http.MethodDelete, api+"/commitments/JAL0002", nil, bearer(tok))
	mustStatus(t, resp, body, http.StatusNoContent)
	resp, body = do(t, c, http.MethodPut, api+"/commitments/JAL0002/updates/"+otherUID, edit, bearer(tok))
	mustStatus(t, resp, body, http.StatusGone)
	resp, body = do(t, c, http.MethodDelete, api+"/commitments/JAL0002/updates/"+otherUID, nil, bearer(tok))
	mustStatus(t, resp, body, http.StatusGone)
}

// TestEditDeleteUpdateForms: a signed-in operator edits a progress update
// through the form (with CSRF) and the public timeline shows the new text
// marked "edited"; deleting asks for confirmation first and the update then
// leaves the timeline. Readers see no edit or delete links.
func TestEditDeleteUpdateForms(t *testing.T) {
	ctx := context.Background()
	tn, c, tok := startSeeded(t, "jalisco", "JAL0001")
	uid := postUpdate(t, c, tn, tok, "JAL0001", map[string]any{"date": "2017-07-01", "text": map[string]string{"es": "Texto original."},
		"milestoneChanges": []map[string]string{{"milestoneId": "1", "status": "complete"}}})
	keep := postUpdate(t, c, tn, tok, "JAL0001", map[string]any{"date": "2017-08-01", "text": map[string]string{"es": "Se queda."}})
	editPath := "/admin/commitments/JAL0001/updates/" + uid + "/edit"
	deletePath := "/admin/commitments/JAL0001/updates/" + uid + "/delete"

	// Readers get the timeline without operator links.
	_, page := get(t, loopbackClient(), tn.base+"/commitments/JAL0001?lang=es", "text/html")
	if !strings.Contains(page, "Texto original.") || strings.Contains(page, editPath) || strings.Contains(page, deletePath) {
		t.Errorf("public timeline for readers is wrong")
	}

	ana := tn.login(t, operatorUser)
	_, page = get(t, ana, tn.base+"/commitments/JAL0001?lang=es", "text/html")
	if !strings.Contains(page, editPath) || !strings.Contains(page, deletePath) {
		t.Errorf("the operator's timeline has no edit/delete links")
	}
	_, page = get(t, ana, tn.base+"/commitments/JAL0001/updates/"+uid+"?lang=es", "text/html")
	if !strings.Contains(page, editPath) || !strings.Contains(page, deletePath) {
		t.Errorf("the update's page has no edit/delete links for the operator")
	}
	// The edit form is filled in, milestone choice included.
	r, form := get(t, ana, tn.base+editPath, "text/html")
	mustStatus(t, r, form, http.StatusOK)
	if !strings.Contains(form, "Texto original.") || !strings.Contains(form, `action="/admin/commitments/JAL0001/updates/`+uid+`"`) ||
		!strings.Contains(form, `value="complete" selected`) {
		t.Errorf("edit form not filled in: %s", form)
	}
	token := csrfRe.FindStringSubmatch(form)[1]
	vals := url.Values{"date": {"2017-07-03"}, "text_es": {"Texto corregido."}, "ms_1": {"complete"}}
	resp, body := do(t, ana, http.MethodPost, tn.base+"/admin/commitments/JAL0001/updates/"+uid, vals, nil)
	mustStatus(t, resp, body, http.StatusForbidden) // no CSRF token
	bad := url.Values{"_csrf": {token}, "date": {"2017-07-03"}, "text_es": {""}}
	resp, body = do(t, ana, http.MethodPost, tn.base+"/admin/commitments/JAL0001/updates/"+uid, bad, map[string]string{"Accept": "text/html"})
	mustStatus(t, resp, body, http.StatusUnprocessableEntity)
	if !strings.Contains(body, "<code>text</code>") {
		t.Errorf("the edit form does not name the invalid field")
	}
	vals.Set("_csrf", token)
	resp, body = do(t, ana, http.MethodPost, tn.base+"/admin/commitments/JAL0001/updates/"+uid, vals, map[string]string{"Accept": "text/html"})
	mustStatus(t, resp, body, http.StatusOK) // the commitment page, after the redirect
	u, _ := tn.svc.Store().GetUpdate(ctx, uid)
	if u.Text.Get("es") != "Texto corregido." || u.Date != "2017-07-03" || len(u.MilestoneChanges) != 1 || u.MilestoneChanges[0].MilestoneID != "1" {
		t.Errorf("stored after the form edit: %+v", u)
	}
	for lang, edited := range map[string]string{"es": "editado el", "en": "edited "} {
		_, page = get(t, loopbackClient(), tn.base+"/commitments/JAL0001?lang="+lang, "text/html")
		if !strings.Contains(page, "Texto corregido.") || strings.Contains(page, "Texto original.") || strings.Count(page, edited) != 1 {
			t.Errorf("public timeline (%s) after the edit: want the new text marked %q once", lang, edited)
		}
	}

	// Delete: a confirmation page first, whose form carries the CSRF token.
	r, confirm := get(t, ana, tn.base+deletePath, "text/html")
	mustStatus(t, r, confirm, http.StatusOK)
	if !strings.Contains(confirm, "Texto corregido.") || !strings.Contains(confirm, `action="`+deletePath+`"`) || !csrfRe.MatchString(confirm) {
		t.Errorf("delete confirmation page: %s", confirm)
	}
	resp, body = do(t, ana, http.MethodPost, tn.base+deletePath, url.Values{}, nil)
	mustStatus(t, resp, body, http.StatusForbidden) // no CSRF token
	resp, body = do(t, ana, http.MethodPost, tn.base+deletePath, url.Values{"_csrf": {csrfRe.FindStringSubmatch(confirm)[1]}}, map[string]string{"Accept": "text/html"})
	mustStatus(t, resp, body, http.StatusOK)
	_, page = get(t, loopbackClient(), tn.base+"/commitments/JAL0001?lang=es", "text/html")
	if strings.Contains(page, "Texto corregido.") || !strings.Contains(page, "Se queda.") || !strings.Contains(page, keep) {
		t.Errorf("public timeline after the delete")
	}
	r, body = get(t, loopbackClient(), tn.base+"/commitments/JAL0001/updates/"+uid, "text/html")
	mustStatus(t, r, body, http.StatusGone)
	for _, p := range []string{editPath, deletePath} {
		r, body = get(t, ana, tn.base+p, "text/html")
		mustStatus(t, r, body, http.StatusGone)
	}
}
