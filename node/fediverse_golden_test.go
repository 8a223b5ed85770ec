package node

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/golden"
)

// fediverseNormalize keeps the stable shape of a document: the node's base
// URL, times, activity and update ids change run to run.
func fediverseNormalize(t *testing.T, doc any, base string) []byte {
	t.Helper()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(raw), base, "https://jalisco.example")
	s = regexp.MustCompile(`/activities/[0-9A-Za-z]+`).ReplaceAllString(s, "/activities/ID")
	s = regexp.MustCompile(`/updates/[0-9A-Z]{26}`).ReplaceAllString(s, "/updates/UPDATE")
	s = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`).ReplaceAllString(s, "TIME")
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	// The @context is pinned by federation/ogp's own golden files.
	if m, ok := v.(map[string]any); ok && m["@context"] != nil {
		m["@context"] = "CONTEXT"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return buf.Bytes()
}

// fediverseGolden compares got with testdata/fediverse/name.json (-update
// rewrites it).
func fediverseGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "fediverse", name+".json"), got)
}

// TestFediverseGolden pins every object and activity as a follower (a
// Mastodon or GoToSocial server) receives them over HTTP from a running
// node: the Create, Update and Delete of a plan's Page, a commitment's
// Article and a progress update's Note, and the objects at their IRIs.
// docs/vocabulary.md reviews these documents field by field against how
// both servers show them; a change here is a change in what people see.
func TestFediverseGolden(t *testing.T) {
	tn, f := startFollowed(t, "jalisco")
	tok := tn.token(t, "golden")
	c := loopbackClient()
	api := tn.base + "/api/v1"
	pIRI, cIRI := tn.base+"/plans/2016-2018", tn.base+"/commitments/JAL0004"
	norm := func(doc any) []byte { return fediverseNormalize(t, doc, tn.base) }
	object := func(iri string) map[string]any {
		t.Helper()
		r, body := get(t, c, iri, "application/activity+json")
		mustStatus(t, r, body, http.StatusOK)
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	resp, body := do(t, c, http.MethodPut, api+"/plans/2016-2018", samplePlan(), bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	createPlan := f.nextOf(t, "Create", pIRI)

	com := sampleCommitment("JAL0004")
	com["policyAreas"] = []string{"labor", "open-data"}
	resp, body = do(t, c, http.MethodPost, api+"/commitments", com, bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	createCommitment := f.nextOf(t, "Create", cIRI)
	updatePlan := f.nextOf(t, "Update", pIRI) // the plan lists it now
	fediverseGolden(t, "page", norm(object(pIRI)))
	fediverseGolden(t, "article", norm(object(cIRI)))

	time.Sleep(5 * time.Millisecond) // so the edit is visibly later
	com["title"] = map[string]string{"es": "Registro estatal de jornaleros agrícolas", "en": "State register of farm workers"}
	resp, body = do(t, c, http.MethodPut, api+"/commitments/JAL0004", com, bearer(tok))
	mustStatus(t, resp, body, http.StatusOK)
	updateCommitment := f.nextOf(t, "Update", cIRI)

	resp, body = do(t, c, http.MethodPost, api+"/commitments/JAL0004/updates", map[string]any{
		"date": "2017-07-01", "text": map[string]string{"es": "Se concluyó el diseño.", "en": "The design is done."}, "completion": "substantial",
		"evidence": []string{"https://jalisco.example/diseno.pdf"},
	}, bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	noteIRI := resp.Header.Get("Location")
	createNote := f.nextOf(t, "Create", noteIRI)
	fediverseGolden(t, "note", norm(object(noteIRI)))
	f.nextOf(t, "Update", cIRI) // the commitment's new completion

	resp, body = do(t, c, http.MethodDelete, api+"/commitments/JAL0004/updates/"+noteIRI[strings.LastIndex(noteIRI, "/")+1:], nil, bearer(tok))
	mustStatus(t, resp, body, http.StatusNoContent)
	deleteNote := f.nextOf(t, "Delete", noteIRI)
	resp, body = do(t, c, http.MethodDelete, api+"/commitments/JAL0004", nil, bearer(tok))
	mustStatus(t, resp, body, http.StatusNoContent)
	deleteCommitment := f.nextOf(t, "Delete", cIRI)

	for name, a := range map[string]map[string]any{
		"create-page": createPlan, "update-page": updatePlan,
		"create-article": createCommitment, "update-article": updateCommitment,
		"create-note": createNote, "delete-note": deleteNote, "delete-article": deleteCommitment,
	} {
		fediverseGolden(t, name, norm(a))
	}

	// What the goldens must hold whatever else changes: nothing that
	// GoToSocial shows as a content warning, "updated" only on edits.
	for name, a := range map[string]map[string]any{"create-page": createPlan, "create-article": createCommitment, "create-note": createNote} {
		o := a["object"].(map[string]any)
		if _, has := o["summary"]; has {
			t.Errorf("%s carries summary (a content warning in GoToSocial): %v", name, o["summary"])
		}
		if _, has := o["updated"]; has {
			t.Errorf("%s of a new object carries updated (shown as edited): %v", name, o["updated"])
		}
		if o["content"] == nil || o["content"] != o["contentMap"].(map[string]any)["es"] {
			t.Errorf("%s: content must be present and equal contentMap[es]: %v", name, o["content"])
		}
	}
	if o := updateCommitment["object"].(map[string]any); o["updated"] == nil {
		t.Error("the Update of an edited commitment has no updated: Mastodon ignores it as an edit")
	}
}
