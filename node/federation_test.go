package node

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

func samplePlan() map[string]any {
	return map[string]any{
		"title":        map[string]string{"es": "Plan de acción 2016-2018", "en": "Action plan 2016-2018"},
		"jurisdiction": "Jalisco",
		"period":       map[string]string{"start": "2016-12-01", "end": "2018-06-30"},
		"status":       "implementation",
		"prefix":       "JAL",
		"guidelines": []map[string]any{
			{"key": "process-published", "level": "met", "evidence": []string{"https://example.org/timeline"}},
			{"key": "advance-notice", "level": "partly"},
		},
		"participation": map[string]string{"development": "involve", "implementation": "consult"},
	}
}

func sampleCommitment(id string) map[string]any {
	return map[string]any{
		"id": id, "planId": "2016-2018",
		"title":           map[string]string{"es": "Registro estatal de jornaleros", "en": "State register of farm workers"},
		"startDate":       "2017-01-01",
		"endDate":         "2018-06-30",
		"leadInstitution": "Secretaría del Trabajo",
		"description":     map[string]string{"es": "Un registro público.", "en": "A public register."},
		"values":          []string{"access-to-information"},
		"milestones": []map[string]any{
			{"id": "1", "title": map[string]string{"es": "Diseño del registro"}, "end": "2017-06-30", "status": "in-progress"},
			{"id": "2", "title": map[string]string{"es": "Publicación"}, "end": "2018-03-31", "status": "not-started"},
		},
		"completion": "limited",
	}
}

// TestFollowerReceivesCreateUpdateDelete: a separate federation server
// follows the node over real HTTP and receives, signed, the Create, the
// Update (with a newer "updated") and the Delete (a Tombstone) of a
// commitment, and of a progress update's Note, in the forms Mastodon
// renders; the objects dereference at their IRIs (410 once deleted).
func TestFollowerReceivesCreateUpdateDelete(t *testing.T) {
	tn, f := startFollowed(t, "jalisco")
	tok := tn.token(t, "federation test")
	c := loopbackClient()
	api := tn.base + "/api/v1"
	cIRI := tn.base + "/commitments/JAL0004"

	resp, body := do(t, c, http.MethodPut, api+"/plans/2016-2018", samplePlan(), bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	plan := f.nextOf(t, "Create", tn.base+"/plans/2016-2018")
	if obj := plan["object"].(map[string]any); obj["type"] != "Page" {
		t.Errorf("plan type %v", obj["type"])
	}

	resp, body = do(t, c, http.MethodPost, api+"/commitments", sampleCommitment("JAL0004"), bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	create := f.nextOf(t, "Create", cIRI)
	obj := create["object"].(map[string]any)
	// Mastodon shows an Article as name + url, GoToSocial name + content
	// (docs/vocabulary.md); no summary, which GoToSocial makes a CW.
	if obj["type"] != "Article" || obj["url"] != cIRI || !strings.Contains(obj["name"].(string), "Registro estatal") || obj["summary"] != nil ||
		!strings.Contains(obj["content"].(string), cIRI) {
		t.Errorf("Create object: %v", obj)
	}
	if obj["content"] != obj["contentMap"].(map[string]any)["es"] {
		t.Errorf("content and contentMap[es] differ: %v / %v", obj["content"], obj["contentMap"])
	}
	if to := create["to"].([]any); len(to) != 1 || to[0] != ogp.Public {
		t.Errorf("to = %v", to)
	}
	if cc := create["cc"].([]any); len(cc) != 1 || cc[0] != tn.Federation().FollowersID() {
		t.Errorf("cc = %v", cc)
	}
	published, _ := time.Parse(time.RFC3339, obj["published"].(string))
	f.nextOf(t, "Update", tn.base+"/plans/2016-2018") // the plan lists it now

	// The object dereferences: AP JSON or HTML at the same IRI.
	r, apBody := get(t, c, cIRI, "application/activity+json")
	mustStatus(t, r, apBody, http.StatusOK)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/activity+json") || !strings.Contains(r.Header.Get("Vary"), "Accept") {
		t.Errorf("AP GET headers: %v", r.Header)
	}
	var served map[string]any
	_ = json.Unmarshal([]byte(apBody), &served)
	if served["id"] != cIRI {
		t.Errorf("served id %v", served["id"])
	}
	r, html := get(t, c, cIRI, "text/html")
	mustStatus(t, r, html, http.StatusOK)
	// A reader without a language preference gets the node's own language;
	// one whose browser asks for English gets the translation.
	if !strings.Contains(html, "Registro estatal de jornaleros") || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("HTML page without a language preference: %s, not in Spanish", r.Header.Get("Content-Type"))
	}
	r, html = do(t, c, http.MethodGet, cIRI, nil, map[string]string{"Accept": "text/html", "Accept-Language": "en-GB,en;q=0.8"})
	mustStatus(t, r, html, http.StatusOK)
	if !strings.Contains(html, "State register of farm workers") || r.Header.Get("Content-Language") != "en" {
		t.Errorf("HTML page for an English reader: Content-Language %q, no English title", r.Header.Get("Content-Language"))
	}

	time.Sleep(5 * time.Millisecond) // so "updated" is visibly later
	edit := sampleCommitment("JAL0004")
	edit["title"] = map[string]string{"es": "Registro estatal de jornaleros agrícolas"}
	resp, body = do(t, c, http.MethodPut, api+"/commitments/JAL0004", edit, bearer(tok))
	mustStatus(t, resp, body, http.StatusOK)
	update := f.nextOf(t, "Update", cIRI)
	uobj := update["object"].(map[string]any)
	updated, err := time.Parse(time.RFC3339, uobj["updated"].(string))
	if err != nil || !updated.After(published) {
		t.Errorf("Update's updated %v is not after published %v", uobj["updated"], published)
	}
	if !strings.Contains(uobj["name"].(string), "agrícolas") {
		t.Errorf("Update carries the old name: %v", uobj["name"])
	}

	// A progress update is a Note threaded on the commitment, then the
	// commitment's new state follows as an Update.
	resp, body = do(t, c, http.MethodPost, api+"/commitments/JAL0004/updates", map[string]any{
		"date": "2017-07-01", "text": map[string]string{"es": "Se concluyó el diseño."}, "completion": "substantial",
		"milestoneChanges": []map[string]string{{"milestoneId": "1", "status": "complete"}},
	}, bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	note := f.nextOf(t, "Create", cIRI+"/updates/")
	nobj := note["object"].(map[string]any)
	if nobj["type"] != "Note" || nobj["inReplyTo"] != cIRI || nobj["context"] != cIRI+"/context" ||
		!strings.Contains(nobj["content"].(string), "Se concluyó el diseño.") || nobj["summary"] != nil {
		t.Errorf("Note: %v", nobj)
	}
	after := f.nextOf(t, "Update", cIRI)
	aobj := after["object"].(map[string]any)
	if aobj["ogp:completion"] != "substantial" {
		t.Errorf("commitment after the update: completion %v", aobj["ogp:completion"])
	}
	if u2, _ := time.Parse(time.RFC3339, aobj["updated"].(string)); !u2.After(updated) && !u2.Equal(updated) {
		t.Errorf("updated went backwards: %v then %v", updated, u2)
	}
	// The thread collection lists the Note.
	r, coll := get(t, c, cIRI+"/updates", "application/activity+json")
	mustStatus(t, r, coll, http.StatusOK)
	if !strings.Contains(coll, nobj["id"].(string)) {
		t.Errorf("updates collection lacks the note: %s", coll)
	}

	// Editing the progress update federates Update{Note} with a newer
	// "updated", same id and "published"; the commitment keeps its state.
	noteIRI := nobj["id"].(string)
	uid := noteIRI[strings.LastIndex(noteIRI, "/")+1:]
	notePublished, _ := time.Parse(time.RFC3339, nobj["published"].(string))
	time.Sleep(5 * time.Millisecond)
	resp, body = do(t, c, http.MethodPut, api+"/commitments/JAL0004/updates/"+uid, map[string]any{
		"date": "2017-07-02", "text": map[string]string{"es": "Se concluyó y publicó el diseño."}, "completion": "complete",
		"evidence": []string{"https://jalisco.example/diseno.pdf"},
	}, bearer(tok))
	mustStatus(t, resp, body, http.StatusOK)
	nupd := f.nextOf(t, "Update", noteIRI)
	nuobj := nupd["object"].(map[string]any)
	noteUpdated, err := time.Parse(time.RFC3339, nuobj["updated"].(string))
	if err != nil || !noteUpdated.After(notePublished) || nuobj["published"] != nobj["published"] {
		t.Errorf("Update{Note}: updated %v, published %v (was %v)", nuobj["updated"], nuobj["published"], nobj["published"])
	}
	if nuobj["type"] != "Note" || !strings.Contains(nuobj["content"].(string), "Se concluyó y publicó el diseño.") ||
		nuobj["ogp:date"] != "2017-07-02" || nuobj["inReplyTo"] != cIRI {
		t.Errorf("edited Note: %v", nuobj)
	}
	r, body = get(t, c, noteIRI, "application/activity+json")
	mustStatus(t, r, body, http.StatusOK)
	if !strings.Contains(body, `"updated"`) || !strings.Contains(body, "publicó el diseño") {
		t.Errorf("the Note's IRI serves the old version: %s", body)
	}
	r, body = get(t, c, api+"/commitments/JAL0004", "application/json")
	mustStatus(t, r, body, http.StatusOK)
	if !strings.Contains(body, `"completion":"substantial"`) {
		t.Errorf("editing an update changed the commitment's completion: %s", body)
	}

	// A second update, then its removal: Delete{Tombstone}, 410 at its IRI,
	// gone from the thread collection.
	resp, body = do(t, c, http.MethodPost, api+"/commitments/JAL0004/updates", map[string]any{
		"date": "2017-08-01", "text": map[string]string{"es": "Un avance por error."}}, bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	wrongIRI := resp.Header.Get("Location")
	f.nextOf(t, "Create", wrongIRI)
	resp, body = do(t, c, http.MethodDelete, api+"/commitments/JAL0004/updates/"+wrongIRI[strings.LastIndex(wrongIRI, "/")+1:], nil, bearer(tok))
	mustStatus(t, resp, body, http.StatusNoContent)
	udel := f.nextOf(t, "Delete", wrongIRI)
	if o := udel["object"].(map[string]any); o["type"] != "Tombstone" || o["formerType"] != "Note" || o["deleted"] == nil {
		t.Errorf("Delete of the update: %v", o)
	}
	r, body = get(t, c, wrongIRI, "application/activity+json")
	mustStatus(t, r, body, http.StatusGone)
	if !strings.Contains(body, `"Tombstone"`) || !strings.Contains(body, wrongIRI) {
		t.Errorf("410 body of the deleted update: %s", body)
	}
	r, coll = get(t, c, cIRI+"/updates", "application/activity+json")
	mustStatus(t, r, coll, http.StatusOK)
	if strings.Contains(coll, wrongIRI) || !strings.Contains(coll, noteIRI) {
		t.Errorf("updates collection after the delete: %s", coll)
	}

	resp, body = do(t, c, http.MethodDelete, api+"/commitments/JAL0004", nil, bearer(tok))
	mustStatus(t, resp, body, http.StatusNoContent)
	del := f.nextOf(t, "Delete", cIRI)
	dobj := del["object"].(map[string]any)
	if dobj["type"] != "Tombstone" || dobj["id"] != cIRI {
		t.Errorf("Delete object: %v", dobj)
	}
	r, gone := get(t, c, cIRI, "application/activity+json")
	mustStatus(t, r, gone, http.StatusGone)
	if !strings.Contains(gone, `"Tombstone"`) {
		t.Errorf("410 body: %s", gone)
	}
	r, body = get(t, c, cIRI, "text/html")
	mustStatus(t, r, body, http.StatusGone)
	r, body = get(t, c, nobj["id"].(string), "application/activity+json")
	mustStatus(t, r, body, http.StatusGone)

	// The node serves its JSON-LD context.
	r, ctxDoc := get(t, c, tn.base+"/ns/ogp", "application/ld+json")
	mustStatus(t, r, ctxDoc, http.StatusOK)
	if !strings.Contains(ctxDoc, ogp.NS) {
		t.Errorf("context document: %s", ctxDoc)
	}
}
