package node

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestAPIBodyTooLarge: a JSON body over the site's cap, sent without a
// Content-Length (chunked), is answered 413 "too large", not "malformed".
func TestAPIBodyTooLarge(t *testing.T) {
	tn := startNode(t, "madrid")
	tok := tn.token(t, "size")
	body := `{"id":"MAD0009","title":{"es":"` + strings.Repeat("x", 3<<20) + `"}}`
	req, _ := http.NewRequest(http.MethodPost, tn.base+"/api/v1/commitments", struct{ *strings.Reader }{strings.NewReader(body)})
	req.ContentLength = -1 // chunked: the cap trips while decoding
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := loopbackClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

// TestJSONShapeLimits: a JSON API body or a JSON import file with an array
// over its limit (jsonlimit.API: 1,000 items; jsonlimit.Import: 10,000) is
// refused with the limit named, before it is decoded, and nothing is
// written.
func TestJSONShapeLimits(t *testing.T) {
	tn, c, tok := startWithToken(t, "lisboa")
	body := `{"id":"LIS0001","planId":"p","title":{"es":"x"},"policyAreas":[` + strings.Repeat(`"a",`, 1000) + `"a"]}`
	resp, got := do(t, c, http.MethodPost, tn.base+"/api/v1/commitments", body, map[string]string{
		"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, "an array has more than 1000 items") {
		t.Errorf("API: %d %s", resp.StatusCode, got)
	}
	file := `{"lang":"es","commitments":[` + strings.Repeat(`{},`, 10000) + `{}]}`
	resp, _, got = postImport(t, c, tn.base+"/api/v1/import", tok, map[string]string{"file": file})
	if resp.StatusCode != http.StatusUnprocessableEntity && resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, "an array has more than 10000 items") {
		t.Errorf("import: %d %.300s", resp.StatusCode, got)
	}
	if cs, _ := tn.svc.Store().ListCommitments(context.Background(), ""); len(cs) != 0 {
		t.Errorf("%d commitments written", len(cs))
	}
}
