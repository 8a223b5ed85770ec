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
		chromedp.WaitVisible(chromedp.CSS(`table.matrix`)),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(`.result-count`); !strings.Contains(got, "5 commitments from 3 pilots") {
		t.Fatalf("result count = %q", got)
	}
	if n := count(`svg.chart`); n < 3 {
		t.Errorf("%d charts on the comparison page, want ≥ 3 (completion, overdue, process)", n)
	}
	if n := count(`.chart-pair table`); n < 3 {
		t.Errorf("%d data tables beside charts, want ≥ 3", n)
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
	if got := text(`table.commitments tbody`); !strings.Contains(got, "Participatory budgeting") || !strings.Contains(got, "Participatory budget") || strings.Contains(got, "lobby") {
		t.Errorf("filtered list = %q", got)
	}
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
		chromedp.WaitVisible(chromedp.CSS(`#f-starred`)),
		chromedp.SetValue(chromedp.CSS(`#f-starred`), "true"),
	); err != nil {
		t.Fatal(err)
	}
	submit(`form.filters button[type=submit]`)
	if got := text(`table.commitments tbody`); !strings.Contains(got, "Mandatory lobby registry") || count(`table.commitments tbody tr`) != 1 {
		t.Errorf("starred list = %q", got)
	}

	// Pick two commitments in the list and compare them side by side.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/compare"),
		chromedp.WaitVisible(chromedp.CSS(`#commitments`)),
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
