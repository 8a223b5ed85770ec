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
	tok, err := tn.CreateAPIToken(context.Background(), "size")
	if err != nil {
		t.Fatal(err)
	}
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
