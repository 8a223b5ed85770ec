package pages

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ogpnet/ogpnet/internal/browsertest"
)

// TestSearchInBrowser drives the search page in a real Chromium: the form
// (words, pilot, policy area) is a GET form without script, the hits show
// the matched words marked, the filters narrow and survive the submit, and
// the page fits a 390 px phone.
func TestSearchInBrowser(t *testing.T) {
	srv := newServer(t, fillModel(t), Deps{})
	ctx := browsertest.New(t)
	submit := func() {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.dataset.stale = "1"; true`)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form.search-form button[type=submit]`))); err != nil {
			t.Fatal(err)
		}
		for {
			done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.documentElement.dataset.stale && document.readyState === "complete"`))
			if err == nil && done {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("waiting for the results: %v", ctx.Err())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}

	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(srv.URL+"/search?lang=en"),
		chromedp.WaitVisible(chromedp.CSS(`#search-q`)),
		chromedp.SetValue(chromedp.CSS(`#search-q`), "participatory budget"),
	); err != nil {
		t.Fatal(err)
	}
	submit()
	if got := eval(`String(document.querySelectorAll(".search-hits > li").length)`); got != "2" {
		t.Fatalf("%s hits for participatory budget, want 2", got)
	}
	if got := eval(`Array.from(document.querySelectorAll(".search-hits mark")).map(m => m.textContent.toLowerCase()).join(" ")`); !strings.Contains(got, "participatory") || !strings.Contains(got, "budget") {
		t.Errorf("marked words = %q", got)
	}

	// Narrow to Paris with the pilot select; the choice survives the submit.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#search-pilot`), parisActor)); err != nil {
		t.Fatal(err)
	}
	submit()
	if got := eval(`Array.from(document.querySelectorAll(".search-hits h3")).map(h => h.textContent).join("|")`); got != "Participatory budget" {
		t.Errorf("hits for Paris = %q", got)
	}
	if got := eval(`document.querySelector("#search-pilot").value`); got != parisActor {
		t.Errorf("pilot select after submit = %q", got)
	}

	// A phone: nothing wider than the viewport.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if got := eval(`String(document.documentElement.scrollWidth)`); got != "390" {
		t.Errorf("search page is %s px wide at 390 px", got)
	}
}
