package web

import (
	"encoding/xml"
	"html/template"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/labstack/echo/v4"
)

type principal struct{ name string }

func (p principal) DisplayName() string { return p.name }

func testPages() fstest.MapFS {
	return fstest.MapFS{
		"_nav.html": {Data: []byte(`{{define "nav"}}<ul><li><a href="/plans"{{if eq .Path "/plans"}} aria-current="page"{{end}}>{{T "nav_plans"}}</a></li></ul>{{end}}`)},
		"plan.html": {Data: []byte(`{{define "content"}}<h1>{{.Title}}</h1>
<p class="n">{{T "common_commitments" .Data.N}}</p>
<p class="d">{{date .Data.When}}</p><p class="p">{{pct .Data.Pct}}</p><p class="num">{{num .Data.Big}}</p>
<div class="body">{{sanitize .Data.HTML}}</div>
{{range .Data.Levels}}{{template "completion" .}}{{end}}
{{template "pagination" .Data.Pager}}{{end}}`)},
	}
}

func renderPage(t *testing.T, target string, hdr map[string]string, set func(c echo.Context)) (string, *httptest.ResponseRecorder) {
	t.Helper()
	rend, err := NewRenderer(testPages())
	if err != nil {
		t.Fatal(err)
	}
	e := NewEcho(Options{Renderer: rend})
	e.GET("/plans", func(c echo.Context) error {
		if set != nil {
			set(c)
		}
		return Render(c, 200, "plan", T(c, "nav_plans"), map[string]any{
			"N": 3, "When": time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC), "Pct": 42.4, "Big": 1234567,
			"HTML":   `<p>ok <a href="https://x.example/">link</a><script>alert(1)</script><img src=x onerror=alert(1)></p>`,
			"Levels": []string{"limited", "complete"},
			"Pager":  NewPager(c.Request(), 45, 20),
		})
	})
	r := httptest.NewRequest("GET", target, nil)
	r.Header.Set("Accept", browserAccept)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	return w.Body.String(), w
}

func TestRenderPageEnglish(t *testing.T) {
	body, w := renderPage(t, "/plans?page=2&q=water", nil, nil)
	for _, want := range []string{
		`<html lang="en">`,
		`<title>Action plans · ogpnet</title>`,
		`<a href="/plans" aria-current="page">Action plans</a>`, // the package's nav partial
		`<p class="n">3 commitments</p>`,
		`<p class="d">March 5, 2025</p>`,
		`<p class="p">42%</p>`,
		`<p class="num">1,234,567</p>`,
		`href="/plans?lang=es&amp;page=2&amp;q=water"`, // language switch keeps the page
		`<a class="login" href="/login">Log in</a>`,
		`<span class="badge c-limited">Limited</span>`,
		`Showing 21–40 of 45`,
		`href="/plans?q=water"`,            // previous page (page 1 drops the parameter)
		`href="/plans?page=3&amp;q=water"`, // next page
		`/static/style.css?v=`,
		`<footer`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>", "onerror"} {
		if strings.Contains(body, bad) {
			t.Errorf("sanitize let %q through", bad)
		}
	}
	if !strings.Contains(body, `rel="nofollow`) {
		t.Errorf("links in sanitized HTML should be nofollow")
	}
	if v := w.Header().Values("Vary"); !strings.Contains(strings.Join(v, ","), "Accept-Language") {
		t.Errorf("Vary = %v", v)
	}
	if t.Failed() {
		t.Log(body)
	}
}

func TestRenderPageSpanishWithUser(t *testing.T) {
	body, _ := renderPage(t, "/plans?lang=es", nil, func(c echo.Context) {
		c.Set(PrincipalKey, principal{"Ana"})
		c.Set(CSRFKey, "tok123")
	})
	for _, want := range []string{
		`<html lang="es">`,
		`<p class="n">3 compromisos</p>`,
		`<p class="d">5 de marzo de 2025</p>`,
		"<p class=\"p\">42\u00a0%</p>",
		`<p class="num">1.234.567</p>`,
		`Sesión iniciada como Ana`,
		`<input type="hidden" name="_csrf" value="tok123">`,
		`Cerrar sesión`,
		`aria-current="true">ES</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}

func TestRendererErrors(t *testing.T) {
	if _, err := NewRenderer(fstest.MapFS{"bad.html": {Data: []byte(`{{define "content"}}{{.Oops`)}}); err == nil {
		t.Error("a broken template must fail NewRenderer")
	}
	rend, err := NewRenderer(testPages())
	if err != nil {
		t.Fatal(err)
	}
	if got := rend.Pages(); strings.Join(got, ",") != "error.html,plan.html" {
		t.Errorf("Pages = %v", got)
	}
}

func TestStaticAssets(t *testing.T) {
	e := NewEcho(Options{})
	url := StaticURL("style.css")
	w := do(e, "GET", url, "")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("GET %s: %d %q", url, w.Code, w.Header().Get("Content-Type"))
	}
	if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("versioned asset Cache-Control = %q", cc)
	}
	etag := w.Header().Get("ETag")
	if w := do(e, "GET", "/static/style.css", "", "If-None-Match", etag); w.Code != 304 {
		t.Errorf("revalidation: %d, want 304", w.Code)
	}
	if w := do(e, "GET", "/static/", "application/json"); w.Code != 404 {
		t.Errorf("directory listing: %d, want 404", w.Code)
	}
	if w := do(e, "GET", "/static/../static.go", "application/json"); w.Code != 404 {
		t.Errorf("path escape: %d, want 404", w.Code)
	}
}

// svgDoc is enough of SVG to check structure.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Role    string   `xml:"role,attr"`
	Title   string   `xml:"title"`
	Desc    string   `xml:"desc"`
	Rects   []struct {
		Class string  `xml:"class,attr"`
		Width float64 `xml:"width,attr"`
	} `xml:"rect"`
	Groups []struct {
		Title string `xml:"title"`
		Rects []struct {
			Class string  `xml:"class,attr"`
			Width float64 `xml:"width,attr"`
			Title string  `xml:"title"`
		} `xml:"rect"`
		Texts []string `xml:"text"`
	} `xml:"g"`
}

func parseSVG(t *testing.T, h template.HTML) svgDoc {
	t.Helper()
	var d svgDoc
	if err := xml.Unmarshal([]byte(h), &d); err != nil {
		t.Fatalf("SVG is not well-formed XML: %v\n%s", err, h)
	}
	if d.Role != "img" || d.Title == "" {
		t.Errorf("SVG lacks role=img or title: %s", h)
	}
	return d
}

func TestBarChart(t *testing.T) {
	h := BarChart(`Commitments <by> "theme" & more`, []Bar{
		{Label: "Open data", Value: 10},
		{Label: "Justice", Value: 5, Class: `c-complete"><script>`},
		{Label: "Health", Value: 0},
	})
	d := parseSVG(t, h)
	if d.Title != `Commitments <by> "theme" & more` {
		t.Errorf("title = %q", d.Title)
	}
	if !strings.Contains(d.Desc, "Open data: 10") || !strings.Contains(d.Desc, "Justice: 5") {
		t.Errorf("desc = %q", d.Desc)
	}
	if len(d.Groups) != 3 {
		t.Fatalf("%d bars, want 3", len(d.Groups))
	}
	w0, w1 := d.Groups[0].Rects[1].Width, d.Groups[1].Rects[1].Width
	if w0 <= 0 || w1*2 != w0 || d.Groups[2].Rects[1].Width != 0 {
		t.Errorf("bar widths %v, %v, %v not proportional", w0, w1, d.Groups[2].Rects[1].Width)
	}
	if strings.Contains(string(h), "<script") {
		t.Errorf("class injection not neutralised: %s", h)
	}
	if d.Groups[0].Texts[1] != "10" {
		t.Errorf("value label = %q", d.Groups[0].Texts[1])
	}
}

func TestStackedBar(t *testing.T) {
	h := StackedBar("Completion by pilot", []StackedRow{
		{Label: "Jalisco", Segments: []Segment{{Label: "Complete", Class: "c-complete", Value: 3}, {Label: "Limited", Class: "c-limited", Value: 1}}},
		{Label: "Madrid", Segments: []Segment{{Label: "Limited", Class: "c-limited", Value: 2}}},
	})
	d := parseSVG(t, h)
	if !strings.Contains(d.Desc, "Jalisco: Complete 3, Limited 1") {
		t.Errorf("desc = %q", d.Desc)
	}
	row := d.Groups[0]
	if len(row.Rects) != 3 || row.Rects[1].Class != "c-complete" || row.Rects[1].Width != 3*row.Rects[2].Width {
		t.Errorf("Jalisco segments wrong: %+v", row.Rects)
	}
	if !strings.Contains(row.Rects[1].Title, "75%") {
		t.Errorf("segment title = %q", row.Rects[1].Title)
	}
	// Madrid's single segment fills its whole track.
	if m := d.Groups[1]; m.Rects[1].Width != m.Rects[0].Width {
		t.Errorf("Madrid: %+v", m.Rects)
	}
	tbl := string(StackedTable("Completion", "Pilot", "Total", []StackedRow{
		{Label: "Jalisco", Segments: []Segment{{Label: "Complete", Value: 3}, {Label: "Limited", Value: 1}}},
	}))
	for _, want := range []string{"<caption>Completion</caption>", `<th scope="row">Jalisco</th>`, `<td class="num">4</td>`} {
		if !strings.Contains(tbl, want) {
			t.Errorf("table lacks %q: %s", want, tbl)
		}
	}
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		in    float64
		width float64
	}{{42, 42}, {-5, 0}, {250, 100}} {
		h := ProgressBar(tc.in, "Milestones")
		var d svgDoc
		if err := xml.Unmarshal([]byte(h), &d); err != nil {
			t.Fatal(err)
		}
		if d.Rects[1].Width != tc.width || !strings.Contains(d.Title, "Milestones: ") {
			t.Errorf("ProgressBar(%v): %s", tc.in, h)
		}
	}
}

func TestPager(t *testing.T) {
	r := httptest.NewRequest("GET", "/x?page=99", nil)
	p := NewPager(r, 45, 20)
	if p.Page != 3 || p.Pages != 3 || p.From() != 41 || p.To() != 45 || p.HasNext() || !p.HasPrev() {
		t.Errorf("pager = %+v from %d to %d", p, p.From(), p.To())
	}
	if p := NewPager(httptest.NewRequest("GET", "/x", nil), 0, 20); p.Pages != 1 || p.From() != 0 {
		t.Errorf("empty list pager = %+v", p)
	}
}

// TestChartIDsAreStable: a chart renders the same bytes every time (so a
// page's length, ETag and HEAD answer do not drift), while two charts that
// share a title but not their data still get their own ids.
func TestChartIDsAreStable(t *testing.T) {
	a := []Bar{{Label: "Complete", Value: 3}}
	b := []Bar{{Label: "Complete", Value: 4}}
	if first, again := BarChart("Completion", a), BarChart("Completion", a); first != again {
		t.Fatalf("two renders differ:\n%s\n%s", first, again)
	}
	idOf := func(svg template.HTML) string {
		_, rest, _ := strings.Cut(string(svg), `<title id="`)
		id, _, _ := strings.Cut(rest, `"`)
		return id
	}
	if x, y := idOf(BarChart("Completion", a)), idOf(BarChart("Completion", b)); x == "" || x == y {
		t.Fatalf("charts with one title but other data share the id %q and %q", x, y)
	}
}

// TestRenderPageByAcceptLanguage: a page asked for with Accept-Language in
// one of the newer catalogues renders in it, with <html lang> set and the
// switch marking it current.
func TestRenderPageByAcceptLanguage(t *testing.T) {
	for _, tc := range []struct {
		header, lang string
		want         []string
	}{
		{"fr-FR,fr;q=0.9", "fr", []string{
			`<title>Plans d&#39;action · ogpnet</title>`,
			`<p class="n">3 engagements</p>`,
			`<p class="d">5 mars 2025</p>`,
			"<p class=\"p\">42\u00a0%</p>",
			"<p class=\"num\">1\u202f234\u202f567</p>",
			`Aller au contenu`,
			`aria-current="true">FR</a>`,
		}},
		{"pt-BR,pt;q=0.9,en;q=0.5", "pt", []string{
			`<title>Planos de ação · ogpnet</title>`,
			`<p class="n">3 compromissos</p>`,
			`<p class="d">5 de março de 2025</p>`,
			`<p class="num">1.234.567</p>`,
			`Pular para o conteúdo`,
			`aria-current="true">PT</a>`,
		}},
		{"ko-KR,ko;q=0.9", "ko", []string{
			`<title>실행계획 · ogpnet</title>`,
			`<p class="n">과제 3개</p>`,
			`<p class="d">2025년 3월 5일</p>`,
			`<p class="num">1,234,567</p>`,
			`본문으로 건너뛰기`,
			`aria-current="true">KO</a>`,
		}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			body, w := renderPage(t, "/plans", map[string]string{"Accept-Language": tc.header}, nil)
			want := append([]string{`<html lang="` + tc.lang + `">`}, tc.want...)
			for _, s := range want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			if got := w.Header().Get("Content-Language"); got != tc.lang {
				t.Errorf("Content-Language = %q, want %q", got, tc.lang)
			}
			for _, l := range Languages() {
				if !strings.Contains(body, `hreflang="`+l+`"`) {
					t.Errorf("language switch lacks %s", l)
				}
			}
			if t.Failed() {
				t.Log(body)
			}
		})
	}
}

// TestPickLang: the reader's translation when there is one (a regional form
// counts), else the original, with the language it is in, so that a page
// marks exactly the fallbacks with lang="…".
func TestPickLang(t *testing.T) {
	m := map[string]string{"es": "Registro de cabilderos", "en": "Lobby register"}
	for _, tc := range []struct {
		reader, def   string
		m             map[string]string
		want, wantLng string
	}{
		{"en", "Registro de cabilderos", m, "Lobby register", "en"},
		{"ko", "Registro de cabilderos", m, "Registro de cabilderos", "es"},
		{"es", "Registro", map[string]string{"es-MX": "Registro de cabilderos"}, "Registro de cabilderos", "es-MX"},
		{"fr", "Only text", nil, "Only text", ""},
		{"fr", "", map[string]string{"pt": "Texto"}, "Texto", "pt"},
	} {
		got, lng := PickLang(tc.reader, tc.def, tc.m)
		if got != tc.want || lng != tc.wantLng {
			t.Errorf("PickLang(%s, %q) = %q, %q; want %q, %q", tc.reader, tc.def, got, lng, tc.want, tc.wantLng)
		}
	}
	for _, tc := range []struct{ page, code, want string }{
		{"en", "es", ` lang="es"`},
		{"es", "es-MX", ""}, // the same language: nothing to mark
		{"ko", "", ""},
		{"en", `es" onclick="x`, ""}, // not a tag: never echoed
	} {
		if got := string(LangAttr(tc.page, tc.code)); got != tc.want {
			t.Errorf("LangAttr(%s, %q) = %q, want %q", tc.page, tc.code, got, tc.want)
		}
	}
}

// Pages render into reused buffers: a short page after a long one carries
// nothing of it, and the long page the client got is unchanged afterwards.
func TestRenderReusesBuffersCleanly(t *testing.T) {
	rend, err := NewRenderer(fstest.MapFS{"list.html": {Data: []byte(`{{define "content"}}{{range .Data}}<p>item {{.}}</p>{{end}}{{end}}`)}})
	if err != nil {
		t.Fatal(err)
	}
	e := NewEcho(Options{Renderer: rend})
	e.GET("/list", func(c echo.Context) error {
		n := 1
		if c.QueryParam("long") != "" {
			n = 20000
		}
		items := make([]int, n)
		for i := range items {
			items[i] = i
		}
		return Render(c, 200, "list", "List", items)
	})
	get := func(target string) string {
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("Accept", browserAccept)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("%s: status %d", target, w.Code)
		}
		return w.Body.String()
	}
	long := get("/list?long=1")
	longCopy := strings.Clone(long)
	for range 3 {
		short := get("/list")
		if strings.Contains(short, "item 19999") || !strings.Contains(short, "<p>item 0</p>") || strings.Count(short, "<p>item") != 1 {
			t.Fatalf("the short page holds %d items (%d bytes)", strings.Count(short, "<p>item"), len(short))
		}
	}
	if long != longCopy || !strings.Contains(long, "<p>item 19999</p>") || !strings.HasSuffix(strings.TrimSpace(long), "</html>") {
		t.Error("the long page changed after later pages were rendered")
	}
}
