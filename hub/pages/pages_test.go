package pages

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/hub/readmodel/readmodeltest"
	"github.com/ogpnet/ogpnet/internal/web/webtest"
)

func mustContain(t *testing.T, page, where string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("%s: missing %q", where, w)
		}
	}
}

// mustGet fetches a page that must answer 200 and returns it.
func mustGet(t *testing.T, url, lang string) string {
	t.Helper()
	status, body := get(t, url, lang)
	if status != 200 {
		t.Fatalf("GET %s (%s) = %d\n%s", url, lang, status, body)
	}
	return body
}

func mustNotContain(t *testing.T, page, where string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(page, b) {
			t.Errorf("%s: unexpectedly contains %q", where, b)
		}
	}
}

func TestHomePage(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	body := mustGet(t, srv.URL+"/", "en")
	mustContain(t, body, "home",
		`href="/pilots/madrid"`, "Jalisco", "Paris",
		"Latest progress updates", "By-law approved by the plenary.",
		`<svg`, `<table`, // the chart and its data table
		`href="/hub-assets/hub.css"`)
	// Remote HTML was sanitised at ingest and is not escaped twice.
	mustNotContain(t, body, "home", "<script", "steal()", "&lt;p&gt;")
	body = mustGet(t, srv.URL+"/", "es")
	mustContain(t, body, "home es", `lang="es"`, "Pilotos de gobierno abierto", "Ordenanza aprobada por el Pleno.")
}

func TestPilotPage(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	body := mustGet(t, srv.URL+"/pilots/madrid@madrid.localhost:8080", "en")
	mustContain(t, body, "pilot",
		"<h1>Madrid</h1>", "Plan de Acción de Madrid 2016-2017", "Mandatory lobby registry",
		"Process and timeline published before consultation", "Partly met", "Not recorded",
		"https://madrid.example/timeline", "Collaborate", "meets the OGP minimum",
		`rel="alternate" type="application/activity+json" href="http://madrid.localhost:8080/users/madrid"`)
	mustNotContain(t, body, "pilot", "javascript:", "Registro público de cabilderos") // Jalisco's
	// The same pilot by actor IRI, and an unknown one.
	if s, _ := get(t, srv.URL+"/pilot?actor="+url.QueryEscape(jaliscoActor), "en"); s != 200 {
		t.Errorf("pilot by IRI = %d", s)
	}
	if s, _ := get(t, srv.URL+"/pilots/nobody@nowhere", "en"); s != 404 {
		t.Errorf("unknown pilot = %d, want 404", s)
	}
}

func TestCommitmentPage(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	body := mustGet(t, srv.URL+commitmentPage(madLobby), "en")
	mustContain(t, body, "commitment",
		"Mandatory lobby registry", "MAD0001",
		// Link to the node's original (its IRI, which serves HTML to browsers).
		`href="`+madLobby+`"`,
		"<strong>public, mandatory</strong>", "By-law approved", "Transformative", "Major",
		"Access to information", "Ayuntamiento de Madrid", "https://madrid.example/ordenanza",
		// Peers panel: Jalisco's lobby register shares Anti-Corruption.
		"Peers elsewhere", commitmentPage(jalLobby), "Shares: Anti-Corruption")
	mustNotContain(t, body, "commitment", "<script", "onerror", "<img", "javascript:alert",
		// never a peer from the same jurisdiction
		commitmentPage(madBudget))

	// Spanish: the node's own Spanish text and translated labels.
	_, body = get(t, srv.URL+commitmentPage(madLobby), "es")
	mustContain(t, body, "commitment es", "Registro obligatorio de lobbies", "público y obligatorio",
		"Pares en otras jurisdicciones", "Ver el original en el sitio de Madrid")

	// A reader whose language the node did not translate into gets the
	// original, marked with its language for screen readers; the reader's
	// own language is not marked.
	_, body = get(t, srv.URL+CommitmentPath(madLobby), "ko")
	mustContain(t, body, "commitment ko", `<span lang="es">Registro obligatorio de lobbies</span>`)
	_, body = get(t, srv.URL+CommitmentPath(madLobby), "es")
	mustContain(t, body, "commitment es", `<span>Registro obligatorio de lobbies</span>`)

	// Overdue milestone is flagged; a commitment with text-only peers.
	_, body = get(t, srv.URL+commitmentPage(madBudget), "en")
	mustContain(t, body, "budget", `class="overdue"`, "Citizen vote", commitmentPage(parBudget), "Shares: Public Participation, Fiscal Openness")

	if s, _ := get(t, srv.URL+commitmentPage("http://madrid.localhost:8080/commitments/NOPE"), "en"); s != 404 {
		t.Errorf("unknown commitment = %d, want 404", s)
	}
}

// rows returns the <tbody> rows' header cells of the table with the class.
func rowHeaders(body, class string) []string {
	i := strings.Index(body, `<table class="`+class+`"`)
	if i < 0 {
		return nil
	}
	tbl := body[i:]
	tbl = tbl[:strings.Index(tbl, "</table>")]
	tb := tbl[strings.Index(tbl, "<tbody>"):]
	var out []string
	for _, m := range regexp.MustCompile(`(?s)<tr[^>]*>\s*(?:<td>.*?</td>\s*)?<th scope="row">(.*?)</th>`).FindAllStringSubmatch(tb, -1) {
		out = append(out, regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], ""))
	}
	return out
}

func TestComparePage(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	body := mustGet(t, srv.URL+"/compare", "en")
	mustContain(t, body, "compare",
		"5 commitments from 3 pilots match.",
		`<table class="matrix"`, "Anti-Corruption", "Education",
		"Completion of commitments per pilot",
		"Overdue milestones", "Citizen vote", "Platform launch",
		"Process quality against the IRM guidelines", "below the OGP minimum", "Not recorded",
		`<input type="checkbox" name="c" value="`+madLobby+`"`,
		`<form class="filters" method="get" action="/compare"`)
	if got := rowHeaders(body, "matrix"); strings.Join(got, ",") != "Jalisco,Madrid,Paris" {
		t.Errorf("matrix rows = %q", got)
	}

	// Filter by theme: only the two participatory budgets, two pilots.
	_, body = get(t, srv.URL+"/compare?theme=Public+Participation", "en")
	mustContain(t, body, "theme", "2 commitments from 2 pilots match.")
	if !regexp.MustCompile(`(?i)<option value="public participation" selected>`).MatchString(body) {
		t.Error("theme option not selected")
	}
	if got := rowHeaders(body, "commitments"); len(got) != 2 {
		t.Errorf("theme filter list = %q", got)
	}
	// OGP value + completion + starred + period.
	_, body = get(t, srv.URL+"/compare?value=public-accountability&completion=complete&completion=not-started", "en")
	mustContain(t, body, "value+completion", "2 commitments from 2 pilots match.")
	// Starred in every spelling links have used; the form writes true/false.
	for _, yes := range []string{"yes", "true", "1"} {
		_, body = get(t, srv.URL+"/compare?starred="+yes, "en")
		mustContain(t, body, "starred="+yes, "1 commitment from 1 pilot matches.", "Mandatory lobby registry",
			`<option value="true" selected>`)
	}
	// The same selection as feed, exports and API, in the canonical spelling.
	body = mustGet(t, srv.URL+"/compare?starred=yes&theme=Lobbying&sort=name", "en")
	mustContain(t, body, "data links",
		`href="/exports/commitments.csv?sort=name&amp;starred=true&amp;theme=Lobbying"`,
		`href="/exports/commitments.json?sort=name&amp;starred=true&amp;theme=Lobbying"`,
		`href="/api/v1/commitments?sort=name&amp;starred=true&amp;theme=Lobbying"`,
		`href="/feed.atom?starred=true&amp;theme=Lobbying"`)
	_, body = get(t, srv.URL+"/compare?starred=no", "en")
	mustContain(t, body, "starred=no", "4 commitments from 3 pilots match.", `<option value="false" selected>`)
	_, body = get(t, srv.URL+"/compare?period=2016-12-01%2F2017-12-31", "en")
	mustContain(t, body, "period", "5 commitments from 3 pilots match.", `<option value="2016-12-01/2017-12-31" selected>`)
	_, body = get(t, srv.URL+"/compare?from=2018-01-01", "en")
	mustContain(t, body, "from", "No commitments match these filters.")
	_, body = get(t, srv.URL+"/compare?pilot="+url.QueryEscape(jaliscoActor), "en")
	mustContain(t, body, "pilot", "2 commitments from 1 pilot match.")
	if got := rowHeaders(body, "process"); strings.Join(got, ",") != "Jalisco" {
		t.Errorf("process rows for one pilot = %q", got)
	}

	// Bad input: the page still renders, with errors listed, and a 400.
	for query, messages := range map[string][]string{
		"value=bogus&from=yesterday":    {"Unknown OGP value.", "Enter a date as YYYY-MM-DD."},
		"sort=random&starred=maybe":     {"Unknown sort order.", "Choose starred or not starred."},
		"from=2017-06-01&to=2017-01-01": {"The end date is before the start date."},
	} {
		status, body := get(t, srv.URL+"/compare?"+query, "en")
		if status != 400 {
			t.Errorf("%s: status = %d, want 400", query, status)
		}
		mustContain(t, body, query, append(messages, "5 commitments from 3 pilots match.")...)
	}
	if s, _ := get(t, srv.URL+"/compare?cursor=!!", "en"); s != 400 {
		t.Errorf("bad cursor = %d, want 400", s)
	}

	// Spanish.
	_, body = get(t, srv.URL+"/compare", "es")
	mustContain(t, body, "compare es", "Comparar los pilotos", "Coinciden 5 compromisos de 3 pilotos.", "Aplicar filtros")
}

func TestSideBySide(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	body := mustGet(t, srv.URL+SideBySidePath(madBudget, parBudget, jalTeacher), "en")
	mustContain(t, body, "side", `<table class="side-by-side cols-3"`, "3 commitments compared field by field",
		"Participatory budgeting", "Participatory budget", "Tech platform for teacher training",
		`href="`+parBudget+`"`, "No IRM data", "Milestones done")
}

func TestSideBySideLimits(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	_, body := get(t, srv.URL+SideBySidePath(madLobby, madBudget, jalLobby, jalTeacher, parBudget), "en")
	mustContain(t, body, "five", "At most 4 commitments can be compared", "4 commitments compared field by field")
	_, body = get(t, srv.URL+SideBySidePath(madLobby), "en")
	mustContain(t, body, "one", "Choose 2 to 4 commitments to compare.", "Choose commitments")
	_, body = get(t, srv.URL+SideBySidePath(madLobby, "http://x.localhost/commitments/gone"), "en")
	mustContain(t, body, "missing", "Commitments not found (deleted or hidden): 1")
}

func TestSearch(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	_, body := get(t, srv.URL+"/search?q=participatory", "en")
	mustContain(t, body, "search", "Commitments containing “participatory”: 2", commitmentPage(madBudget), commitmentPage(parBudget))
	// Accent-insensitive, and across languages (Spanish text of Jalisco).
	_, body = get(t, srv.URL+"/search?q=formacion", "es")
	mustContain(t, body, "search es", commitmentPage(jalTeacher))
	_, body = get(t, srv.URL+"/search?q=jalisco", "en")
	mustContain(t, body, "search pilot", `href="/pilots/jalisco"`)
	// Every field counts (here the English lead, a description when there
	// is none), stemmed, with the
	// matched words marked in escaped text and where they were found.
	_, body = get(t, srv.URL+"/search?q=registers", "en")
	mustContain(t, body, "search lead", commitmentPage(madLobby), "<mark>register</mark>", "Description:")
	mustNotContain(t, body, "search lead", "<img", "onerror")
	// Progress text, in another language than the reader's, tagged.
	_, body = get(t, srv.URL+"/search?q=plenary", "es")
	mustContain(t, body, "search progress", commitmentPage(madLobby), "Informe de avance", `lang="en"`, "<mark>plenary</mark>")
	// The filters narrow: by pilot and by policy area.
	_, body = get(t, srv.URL+"/search?q=participatory&pilot="+url.QueryEscape(parisActor), "en")
	mustContain(t, body, "search by pilot", "Commitments containing “participatory”: 1", commitmentPage(parBudget))
	mustNotContain(t, body, "search by pilot", commitmentPage(madBudget))
	_, body = get(t, srv.URL+"/search?q=participatory&theme=Education", "en")
	mustContain(t, body, "search by area", "Commitments containing “participatory”: 0", "No commitment contains every word")
	// A page out of range and a query over the limits are refused.
	status, body := get(t, srv.URL+"/search?q=participatory&page=0", "en")
	if status != http.StatusBadRequest || !strings.Contains(body, "between 1 and 500") {
		t.Errorf("page=0: %d", status)
	}
	status, _ = get(t, srv.URL+"/search?q="+strings.Repeat("word+", 20), "en")
	if status != http.StatusBadRequest {
		t.Errorf("20 words: %d, want 400", status)
	}
}

func TestHiddenPilotDisappears(t *testing.T) {
	m := fillModel(t)
	srv := newServer(t, m, Deps{})
	// Warm the peers index, then suspend Jalisco: its commitments must
	// leave the pages and the peers panel.
	_, body := get(t, srv.URL+commitmentPage(madLobby), "en")
	mustContain(t, body, "before", commitmentPage(jalLobby))
	m.SetPilot(readmodelPilot(jaliscoActor, "Jalisco", "suspended"))
	_, body = get(t, srv.URL+commitmentPage(madLobby), "en")
	mustNotContain(t, body, "after", commitmentPage(jalLobby))
	if s, _ := get(t, srv.URL+commitmentPage(jalLobby), "en"); s != 404 {
		t.Errorf("suspended pilot's commitment = %d, want 404", s)
	}
	_, body = get(t, srv.URL+"/compare", "en")
	mustContain(t, body, "compare after", "3 commitments from 2 pilots match.")
}

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestReadableURLs: pilots and commitments have readable addresses; the
// older ones (handle with host, IRI in the query) answer 301 to them,
// keeping the rest of the query; HEAD answers like GET.
func TestReadableURLs(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	body := mustGet(t, srv.URL+"/pilots/madrid", "en")
	mustContain(t, body, "pilot", "<h1>Madrid</h1>", `href="/pilots/madrid/commitments/MAD0001"`)
	body = mustGet(t, srv.URL+"/pilots/madrid/commitments/MAD0001", "en")
	mustContain(t, body, "commitment", "Mandatory lobby registry")
	for from, to := range map[string]string{
		"/pilots/madrid@madrid.localhost:8080":                       "/pilots/madrid",
		"/pilots/MADRID":                                             "/pilots/madrid",
		"/pilot?actor=" + url.QueryEscape(madridActor) + "&lang=es":  "/pilots/madrid?lang=es",
		"/commitment?id=" + url.QueryEscape(madLobby):                "/pilots/madrid/commitments/MAD0001",
		"/commitment?id=" + url.QueryEscape(jalTeacher) + "&lang=fr": "/pilots/jalisco/commitments/JAL0005?lang=fr",
		"/pilots/madrid@madrid.localhost:8080/commitments/MAD0001":   "/pilots/madrid/commitments/MAD0001",
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			req, _ := http.NewRequest(method, srv.URL+from, nil)
			req.Header.Set("Accept", "text/html")
			res, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != to {
				t.Errorf("%s %s = %d → %q, want 301 → %q", method, from, res.StatusCode, res.Header.Get("Location"), to)
			}
		}
	}
	for _, path := range []string{"/pilots/nobody", "/pilots/madrid/commitments/NOPE", "/pilots/madrid/commitments/JAL0001"} {
		if s, _ := get(t, srv.URL+path, "en"); s != http.StatusNotFound {
			t.Errorf("%s = %d, want 404", path, s)
		}
	}
	// HEAD on the readable pages answers like GET.
	for _, path := range []string{"/pilots/madrid", "/pilots/madrid/commitments/MAD0001", "/compare", SideBySidePath(madLobby, parBudget)} {
		webtest.HeadLikeGet(t, http.DefaultClient, srv.URL+path, "text/html", http.StatusOK)
	}
}

// TestComparePilotTable: the compact table has a row per matching pilot
// with shares and counts, sorts by any column with plain links (the
// current one marked with aria-sort), keeps its sort when the filter form
// is sent, and the pilots compared are any subset, kept in the URL.
func TestComparePilotTable(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	body := mustGet(t, srv.URL+"/compare", "en")
	if got := rowHeaders(body, "pilots-compare"); strings.Join(got, ",") != "Jalisco,Madrid,Paris" {
		t.Errorf("rows by name = %q", got)
	}
	mustContain(t, body, "table",
		`aria-sort="ascending"><a href="/compare?by=pilot&amp;dir=desc#pilots-h">Pilot`,
		`<a href="/compare?by=overdue&amp;dir=desc#pilots-h">Milestones overdue`,
		"Substantial or complete", "Milestones on time", "Process score", "Public influence", "Updates", "Last update",
		// Madrid: 2 commitments, both substantial or complete.
		`100% <span class="count">(2/2)</span>`)
	mustNotContain(t, body, "table without discussion", "Questions answered")

	// Sorted by overdue share, largest first; the filter form keeps it.
	body = mustGet(t, srv.URL+"/compare?by=overdue&dir=desc", "en")
	got := rowHeaders(body, "pilots-compare")
	if len(got) != 3 || got[2] != "Paris" {
		t.Errorf("rows by overdue share = %q (Paris has none overdue)", got)
	}
	mustContain(t, body, "sorted", `aria-sort="descending"`, `<input type="hidden" name="by" value="overdue">`, `<input type="hidden" name="dir" value="desc">`)

	// Any subset of pilots, kept in the URL and ticked in the picker.
	body = mustGet(t, srv.URL+"/compare?pilot="+url.QueryEscape(madridActor)+"&pilot="+url.QueryEscape(parisActor), "en")
	if got := rowHeaders(body, "pilots-compare"); strings.Join(got, ",") != "Madrid,Paris" {
		t.Errorf("chosen pilots = %q", got)
	}
	mustContain(t, body, "picker", "Pilots: 2 chosen", `value="`+madridActor+`" checked>`, `value="`+parisActor+`" checked>`)
	mustNotContain(t, body, "picker", `value="`+jaliscoActor+`" checked>`)

	// Plan status: every fixture plan is in implementation.
	mustContain(t, mustGet(t, srv.URL+"/compare?plan-status=implementation", "en"), "implementation",
		"5 commitments from 3 pilots match.", `<option value="implementation" selected>`)
	mustContain(t, mustGet(t, srv.URL+"/compare?plan-status=ended", "en"), "ended", "0 commitments from 0 pilots match.")
	status, body := get(t, srv.URL+"/compare?plan-status=closed", "en")
	if status != http.StatusBadRequest {
		t.Errorf("unknown plan status = %d, want 400", status)
	}
	mustContain(t, body, "bad plan status", "Unknown plan status.")

	// Plurals: one of each.
	mustContain(t, mustGet(t, srv.URL+"/compare?starred=true", "en"), "one", "1 commitment from 1 pilot matches.")
	mustContain(t, mustGet(t, srv.URL+"/compare?starred=true", "es"), "one es", "Coincide 1 compromiso de 1 piloto.")

	// The discussion column appears once hub/discussion provides figures.
	srv = newServer(t, fillModel(t), Deps{Questions: func(actor string) (QuestionFigures, bool) {
		if actor == madridActor {
			return QuestionFigures{Asked: 4, Answered: 3}, true
		}
		return QuestionFigures{}, false
	}})
	body = mustGet(t, srv.URL+"/compare?by=answered", "en")
	mustContain(t, body, "questions", "Questions answered", `75% <span class="count">(3/4)</span>`)
	if got := rowHeaders(body, "pilots-compare"); len(got) == 0 || got[0] != "Madrid" {
		t.Errorf("rows by questions answered = %q", got)
	}
}

// TestSideBySidePicker: every commitment of every pilot can be picked,
// grouped by pilot and narrowed by pilot or words, and the ticked boxes
// survive paging (the pager is a submit button of the same form).
func TestSideBySidePicker(t *testing.T) {
	m := readmodeltest.Fill(t)
	addScalePilots(m, 0, 3, 30, 0) // 90 more commitments: two pages of candidates
	srv := newServer(t, m, Deps{})
	body := mustGet(t, srv.URL+"/compare/commitments", "en")
	mustContain(t, body, "first page", "Commitments found: 95.", "<legend>Jalisco</legend>", "<legend>Madrid</legend>")
	next := regexp.MustCompile(`name="cursor" value="([^"]+)"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("no next page button")
	}
	// Tick one on page 1, go to page 2: it stays chosen.
	q := url.Values{"c": {madLobby}, "cursor": {next[1]}}
	body = mustGet(t, srv.URL+"/compare/commitments?"+q.Encode(), "en")
	mustContain(t, body, "second page", "Chosen so far (1)", `value="`+madLobby+`" checked>`, "<legend>Pilot 2</legend>")
	// Tick one there too: the comparison shows both.
	q = url.Values{"c": {madLobby, "http://p2.localhost/commitments/P0029"}}
	body = mustGet(t, srv.URL+"/compare/commitments?"+q.Encode(), "en")
	mustContain(t, body, "compared", `<table class="side-by-side cols-2"`, "Mandatory lobby registry", "Commitment 29 of pilot 2")
	// Narrowed to one pilot.
	body = mustGet(t, srv.URL+"/compare/commitments?pilot="+url.QueryEscape(parisActor), "en")
	mustContain(t, body, "one pilot", "Commitments found: 1.", "<legend>Paris</legend>")
	mustNotContain(t, body, "one pilot", "<legend>Madrid</legend>")
	// Every commitment appears on some page.
	seen := map[string]bool{}
	cursor := ""
	for range 5 {
		q := url.Values{}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		body := mustGet(t, srv.URL+"/compare/commitments?"+q.Encode(), "en")
		for _, m := range regexp.MustCompile(`name="c" value="([^"]+)">`).FindAllStringSubmatch(body, -1) {
			seen[m[1]] = true
		}
		n := regexp.MustCompile(`name="cursor" value="([^"]+)"`).FindStringSubmatch(body)
		if n == nil {
			break
		}
		cursor = n[1]
	}
	if len(seen) != 95 {
		t.Errorf("%d commitments can be picked, want all 95", len(seen))
	}
}

// TestComparePilotPickerScales: with many members the picker lists the
// chosen pilots and 60 others, and finds the rest by name, so the page
// stays the same size; the pilot table is paged.
func TestComparePilotPickerScales(t *testing.T) {
	srv := newServer(t, scaleModel(80, 1, 0), Deps{})
	body := mustGet(t, srv.URL+"/compare", "en")
	if n := strings.Count(body, `name="pilot" value=`); n != 60 {
		t.Errorf("%d pilots in the picker, want 60", n)
	}
	mustContain(t, body, "many", "60 of 80 pilots listed", `id="f-pq"`, "Pilots 1–15 of 80", `rel="next" href="/compare?page=2#pilots-h"`)
	body = mustGet(t, srv.URL+"/compare?pq=pilot+7&pilot="+url.QueryEscape("http://p3.localhost/users/p3"), "en")
	mustContain(t, body, "by name", `value="http://p3.localhost/users/p3" checked>`, `value="http://p7.localhost/users/p7">`, `value="http://p79.localhost/users/p79">`)
	if n := strings.Count(body, `name="pilot" value=`); n != 12 {
		t.Errorf("%d pilots in the picker, want the chosen one and the 11 named Pilot 7…", n)
	}
	body = mustGet(t, srv.URL+"/compare?page=6", "en")
	mustContain(t, body, "last page", "Pilots 76–80 of 80", "Page 6 of 6")
}
