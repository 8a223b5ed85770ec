package node

import (
	"net/http"
	"strings"
	"testing"
)

// TestBidiControlsStripped: names and titles sent with Unicode direction
// controls (U+202E and the rest) through the API and through an import are
// stored, served and federated without them; a title of nothing but such
// controls is blank, refused with the field named.
func TestBidiControlsStripped(t *testing.T) {
	tn, c, tok := startWithToken(t, "bidi")
	const rlo, lri, pdi, rlm = "\u202E", "\u2066", "\u2069", "\u200F"
	p := samplePlan()
	p["jurisdiction"] = "Jal" + rlo + "isco"
	resp, body := do(t, c, http.MethodPut, tn.base+"/api/v1/plans/2016-2018", p, bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)

	cm := sampleCommitment("JAL0001")
	cm["title"] = map[string]string{"es": "Registro " + rlo + "exe.jpg", "en": lri + "Register" + pdi}
	cm["leadInstitution"] = "Secretaría" + rlm + " del Trabajo"
	cm["otherActors"] = map[string]any{"government": []string{"Muni" + rlo + "cipio"}}
	resp, body = do(t, c, http.MethodPost, tn.base+"/api/v1/commitments", cm, bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)

	const imported = `{"lang":"es","commitments":[{"id":"JAL0002","planId":"2016-2018","title":"Brecha` + "\u202D" + ` salarial",` +
		`"startDate":"2017-01-01","endDate":"2018-06-30","leadInstitution":"` + "\u061C" + `Trabajo","completion":"not-started"}]}`
	resp, _, body = postImport(t, c, tn.base+"/api/v1/import", tok, map[string]string{"file": imported})
	mustStatus(t, resp, body, http.StatusOK)

	for _, u := range []string{
		"/api/v1/commitments/JAL0001", "/api/v1/commitments/JAL0002", "/api/v1/plans/2016-2018",
		"/commitments/JAL0001", "/commitments/JAL0002", "/plans/2016-2018", tn.Federation().OutboxID() + "?page=1",
	} {
		if !strings.HasPrefix(u, "http") {
			u = tn.base + u
		}
		for _, accept := range []string{"application/activity+json", "text/html"} {
			resp, body := get(t, c, u, accept)
			mustStatus(t, resp, body, http.StatusOK)
			if i := strings.IndexFunc(body, isBidi); i >= 0 {
				t.Errorf("%s (%s) carries a direction control at %d: %q", u, accept, i, body[max(0, i-40):min(len(body), i+40)])
			}
		}
	}
	_, page := get(t, c, tn.base+"/commitments/JAL0001", "application/activity+json")
	if !strings.Contains(page, "Registro exe.jpg") || !strings.Contains(page, "Secretaría del Trabajo") {
		t.Errorf("the stripped text is not served: %.400s", page)
	}

	only := sampleCommitment("JAL0003")
	only["title"] = map[string]string{"es": rlo + lri + pdi}
	resp, body = do(t, c, http.MethodPost, tn.base+"/api/v1/commitments", only, bearer(tok))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `"field":"title`) || !strings.Contains(body, "is required") {
		t.Errorf("a title of direction controls only: %d %s", resp.StatusCode, body)
	}
}

func isBidi(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}
