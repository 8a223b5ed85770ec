package pages

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ogpnet/ogpnet/internal/browsertest"
)

// TestComparisonInBrowser drives the comparison page and the side-by-side
// view in a real Chromium, with JavaScript off in effect (the pages have
// none): filters are a GET form, selection is checkboxes in a GET form.
func TestComparisonInBrowser(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	ctx := browsertest.New(t)

	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	count := func(sel string) int {
		t.Helper()
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
		if err != nil {
			t.Fatalf("nodes %s: %v", sel, err)
		}
		return len(nodes)
	}
	location := func() *url.URL {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	// submit clicks a submit button and waits for the next page to load:
	// the old document is marked first, so the wait cannot be satisfied by
	// the page the click left.
	submit := func(sel string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.dataset.stale = "1"; true`)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatal(err)
		}
		// Evaluating can fail while the tab navigates; keep asking until the
		// new document is complete or the test's browser deadline passes.
		for {
			done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.documentElement.dataset.stale && document.readyState === "complete"`))
			if err == nil && done {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("waiting for the page after %s: %v", sel, ctx.Err())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// The unfiltered comparison: all five commitments, charts rendered.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/compare?lang=en"),
		chromedp.WaitVisible(chromedp.CSS(`table.pilots-compare`)),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(`.result-count`); !strings.Contains(got, "5 commitments from 3 pilots") {
		t.Fatalf("result count = %q", got)
	}
	if n := count(`svg.chart`); n < 3 {
		t.Errorf("%d charts on the comparison page, want ≥ 3 (completion, overdue, process)", n)
	}
	if n := count(`details.data table, .chart-pair table`); n < 3 {
		t.Errorf("%d data tables with the charts, want ≥ 3", n)
	}
	// unfold opens a folded section (a <details>) by its summary.
	unfold := func(sel string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel+` > summary`)), chromedp.WaitVisible(chromedp.CSS(sel+` > :not(summary)`))); err != nil {
			t.Fatalf("unfolding %s: %v", sel, err)
		}
	}

	// Filter by theme through the form, then narrow by completion.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#f-theme`), "Fiscal Openness")); err != nil {
		t.Fatal(err)
	}
	submit(`form.filters button[type=submit]`)
	if got := location().Query().Get("theme"); got != "Fiscal Openness" {
		t.Errorf("theme in URL = %q", got)
	}
	if got := text(`.result-count`); !strings.Contains(got, "2 commitments from 2 pilots") {
		t.Errorf("after theme filter: %q", got)
	}
	unfold(`#commitments`)
	if got := text(`table.commitments tbody`); !strings.Contains(got, "Participatory budgeting") || !strings.Contains(got, "Participatory budget") || strings.Contains(got, "lobby") {
		t.Errorf("filtered list = %q", got)
	}
	unfold(`details.more-filters`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`input[name=completion][value=limited]`))); err != nil {
		t.Fatal(err)
	}
	submit(`form.filters button[type=submit]`)
	if got := text(`.result-count`); !strings.Contains(got, "1 commitment from 1 pilot") {
		t.Errorf("after completion filter: %q", got)
	}
	themeKept, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#f-theme`)))
	if err != nil {
		t.Fatal(err)
	}
	if themeKept != "Fiscal Openness" {
		t.Errorf("theme select after submit = %q (the form must keep its state)", themeKept)
	}

	// Starred only, via the select.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/compare"),
		chromedp.WaitReady(chromedp.CSS(`footer`)),
	); err != nil {
		t.Fatal(err)
	}
	unfold(`details.more-filters`)
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#f-starred`), "true")); err != nil {
		t.Fatal(err)
	}
	submit(`form.filters button[type=submit]`)
	unfold(`#commitments`)
	if got := text(`table.commitments tbody`); !strings.Contains(got, "Mandatory lobby registry") || count(`table.commitments tbody tr`) != 1 {
		t.Errorf("starred list = %q", got)
	}

	// Pick two commitments in the list and compare them side by side.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/compare"),
		chromedp.WaitVisible(chromedp.CSS(`#commitments`)),
		chromedp.Click(chromedp.CSS(`#commitments > summary`)),
		chromedp.Click(chromedp.CSS(`input[name=c][value="`+madBudget+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name=c][value="`+parBudget+`"]`)),
	); err != nil {
		t.Fatal(err)
	}
	submit(`#commitments form button[type=submit]`)
	if u := location(); u.Path != PathSideBySide || len(u.Query()["c"]) != 2 {
		t.Errorf("side-by-side URL = %s", u)
	}
	if n := count(`table.side-by-side thead th[scope=col]`); n != 2 {
		t.Errorf("%d columns, want 2", n)
	}
	head := text(`table.side-by-side thead`)
	if !strings.Contains(head, "Participatory budgeting") || !strings.Contains(head, "Participatory budget") {
		t.Errorf("columns = %q", head)
	}
	body := text(`table.side-by-side tbody`)
	for _, want := range []string{"Madrid", "Paris", "Fiscal Openness", "Substantial", "Limited", "No IRM data"} {
		if !strings.Contains(body, want) {
			t.Errorf("side-by-side body lacks %q: %q", want, body)
		}
	}

	// The language switcher keeps the selection and translates the view.
	submit(`.lang-switch a[hreflang=es]`)
	if got := text(`h1`); got != "Compromisos en paralelo" {
		t.Errorf("Spanish title = %q", got)
	}
	if got := text(`table.side-by-side thead`); !strings.Contains(got, "Desarrollar los presupuestos participativos") {
		t.Errorf("Spanish columns = %q (the node's own Spanish title)", got)
	}
}

// hubPageKinds are one URL of every kind of public hub page.
func hubPageKinds() []string {
	return []string{
		"/",
		"/pilots/madrid",
		commitmentPage(madLobby),
		"/compare",
		"/compare?theme=Public+Participation&opage=1&cursor=",
		SideBySidePath(madLobby, madBudget, jalTeacher, parBudget),
		SideBySidePath(),
		"/search?q=budget",
		"/no/such/page",
	}
}

// TestHubPagesFitPhones: at 360 and 390 px wide no hub page is wider than
// the viewport (the document does not scroll sideways), and every wide
// table scrolls inside its own region, which is labelled and reachable by
// keyboard.
func TestHubPagesFitPhones(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	ctx := browsertest.New(t)
	for _, width := range []int64{360, 390} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 800)); err != nil {
			t.Fatal(err)
		}
		for _, path := range hubPageKinds() {
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+path+sep(path)+"lang=en"), chromedp.WaitReady("footer")); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if wide > int(width) {
				culprits, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")]
					.filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".table-scroll"))
					.slice(0, 5).map(e => e.tagName + "." + e.className)`))
				t.Errorf("%s at %d px: the page is %d px wide (%v)", path, width, wide, culprits)
			}
			bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".table-scroll")]
				.filter(e => e.getAttribute("role") !== "region" || !(e.getAttribute("aria-label") || e.getAttribute("aria-labelledby")) || e.tabIndex !== 0)
				.map(e => e.outerHTML.slice(0, 80))`))
			if err != nil {
				t.Fatal(err)
			}
			if len(bad) > 0 {
				t.Errorf("%s: scrolling tables without a labelled, focusable region: %q", path, bad)
			}
		}
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// TestComparisonFitsThreeScreens: with fifteen pilots (the demo's number)
// the comparison at its default filters is about three screens tall at
// 1280 px: the answers first, the long lists folded.
func TestComparisonFitsThreeScreens(t *testing.T) {
	m := fillModel(t)
	addScalePilots(m, 0, 12, 5, 3)
	srv := newServer(t, m, Deps{})
	ctx := browsertest.New(t)
	const width, screen = 1280, 800
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, screen),
		chromedp.Navigate(srv.URL+"/compare?lang=en"), chromedp.WaitReady("footer")); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.pilots-compare tbody tr").length`))
	if err != nil {
		t.Fatal(err)
	}
	if rows != 15 {
		t.Errorf("%d pilots in the table, want all 15", rows)
	}
	height, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollHeight`))
	if err != nil {
		t.Fatal(err)
	}
	if height > 3*screen+screen/4 {
		t.Errorf("the comparison is %d px tall at %d px wide, want about three screens (≤ %d)", height, width, 3*screen+screen/4)
	}
	t.Logf("comparison at %d px: %d px tall (%.1f screens of %d)", width, height, float64(height)/screen, screen)
	// The long lists are there, folded.
	folded, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("details.fold:not([open])").length`))
	if err != nil {
		t.Fatal(err)
	}
	if folded < 4 {
		t.Errorf("%d folded sections, want the overdue list, matrix, process record and commitments folded", folded)
	}
}

// TestSideBySideLayouts: four commitments sit in four columns on a desktop
// and are stacked, each value labelled with its commitment, on a phone.
func TestSideBySideLayouts(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	ctx := browsertest.New(t)
	page := srv.URL + SideBySidePath(madLobby, madBudget, jalTeacher, parBudget) + "&lang=en"
	columnTops := `[...document.querySelectorAll("table.side-by-side thead th[scope=col]")].map(e => Math.round(e.getBoundingClientRect().top))`
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(page), chromedp.WaitReady("footer")); err != nil {
		t.Fatal(err)
	}
	tops, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](columnTops))
	if err != nil {
		t.Fatal(err)
	}
	if len(tops) != 4 || tops[0] != tops[3] {
		t.Errorf("desktop: column tops %v, want four columns on one line", tops)
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(".side-scroll").scrollWidth <= document.querySelector(".side-scroll").clientWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if !wide {
		t.Error("desktop: four columns do not fit without scrolling")
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 800), chromedp.Navigate(page), chromedp.WaitReady("footer")); err != nil {
		t.Fatal(err)
	}
	tops, err = chromedp.Run(ctx, chromedp.Evaluate[[]int](columnTops))
	if err != nil {
		t.Fatal(err)
	}
	if len(tops) != 4 || tops[0] == tops[1] {
		t.Errorf("phone: column tops %v, want the commitments stacked", tops)
	}
	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("table.side-by-side tbody td"), "::before").content`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(label, "Mandatory lobby registry") {
		t.Errorf("phone: a value is labelled %s, want its commitment's name", label)
	}
}
