package pages

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/readmodel/readmodeltest"
	"github.com/ogpnet/ogpnet/internal/web"
)

// The fixture lives in readmodeltest (the API's tests use it too); these
// short names keep the page tests readable.
var (
	today     = readmodeltest.Today
	fixedNow  = readmodeltest.Now
	fillModel = readmodeltest.Fill
)

const (
	madridActor  = readmodeltest.MadridActor
	jaliscoActor = readmodeltest.JaliscoActor
	parisActor   = readmodeltest.ParisActor

	madLobby   = readmodeltest.MadLobby
	madBudget  = readmodeltest.MadBudget
	jalLobby   = readmodeltest.JalLobby
	jalTeacher = readmodeltest.JalTeacher
	parBudget  = readmodeltest.ParBudget
)

// newServer starts the hub pages over real HTTP on loopback, with the
// shared web stack (middleware, error handler, renderer).
func newServer(t testing.TB, m *readmodel.Model, d Deps) *httptest.Server {
	t.Helper()
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	e := web.NewEcho(web.Options{Logger: logger, Renderer: r})
	d.Model, d.Renderer, d.Logger, d.Now = m, r, logger, fixedNow
	Register(e, d)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

// commitmentPage is a commitment's readable hub path, as the fixture's
// handles make it: /pilots/<name>/commitments/<last segment of the IRI>.
func commitmentPage(iri string) string {
	u, err := url.Parse(iri)
	if err != nil {
		panic(err)
	}
	name, _, _ := strings.Cut(u.Hostname(), ".")
	return "/pilots/" + name + "/commitments/" + path.Base(u.Path)
}

// get fetches a page as a browser would (Accept: text/html) in lang.
func get(t testing.TB, url, lang string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func readmodelPilot(actor, name, state string) readmodel.PilotInfo {
	return readmodel.PilotInfo{Actor: actor, Name: name, State: state}
}
