package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/readmodel/readmodeltest"
	"github.com/ogpnet/ogpnet/internal/web"
)

// The API is tested over real HTTP on loopback with the shared web stack
// (its error handler decides between JSON and HTML errors), against the
// read-model fixture the page tests use.

const base = "http://hub.localhost:8080"

func newServer(t *testing.T, m *readmodel.Model) *httptest.Server {
	t.Helper()
	e := web.NewEcho(web.Options{Logger: slog.New(slog.DiscardHandler)})
	Register(e, Deps{Model: m, BaseURL: base, Title: "OGP hub"})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func fixture(t *testing.T) (*readmodel.Model, *httptest.Server) {
	m := readmodeltest.Fill(t)
	return m, newServer(t, m)
}

// get fetches path (with its query) from srv with an Accept header ("" for none).
func get(t *testing.T, srv *httptest.Server, path, accept string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// getJSON fetches path, wants status, and decodes the body into v.
func getJSON(t *testing.T, srv *httptest.Server, path string, status int, v any) {
	t.Helper()
	res, body := get(t, srv, path, "application/json")
	if res.StatusCode != status {
		t.Fatalf("GET %s = %d, want %d\n%s", path, res.StatusCode, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// apiError is the JSON error shape of internal/web.
type apiError struct {
	Error struct {
		Status  int              `json:"status"`
		Message string           `json:"message"`
		Fields  []web.FieldError `json:"fields"`
	} `json:"error"`
}

// commitmentsPage is GET /api/v1/commitments.
type commitmentsPage struct {
	Items []CommitmentJSON `json:"items"`
	Next  *string          `json:"next"`
	Total int              `json:"total"`
}

func ids(items []CommitmentJSON) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Add(kv[i], kv[i+1])
	}
	return "?" + q.Encode()
}
