package demo_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ogpnet/ogpnet/cmd/ogpnet/demo"
	"github.com/ogpnet/ogpnet/internal/browsertest"
)

// checkBannerLinks: every address the start-up banner prints answers (a
// reader copies them into a browser first).
func checkBannerLinks(t *testing.T, r *run) {
	t.Helper()
	r.waitBanner(t)
	banner := r.out.String()
	links := regexp.MustCompile(`https?://[^\s,)]+`).FindAllString(banner, -1)
	if len(links) < len(r.d.Pilots)+2 {
		t.Errorf("the banner names %d addresses, want the hub, the provider and the %d nodes:\n%s", len(links), len(r.d.Pilots), banner)
	}
	for _, l := range links {
		if status, _ := r.get(t, l); status != http.StatusOK {
			t.Errorf("the banner's address %s answers %d, want 200", l, status)
		}
	}
}

// checkAccessibility runs axe-core (WCAG 2.2 A and AA) on every page kind
// of the hub and of one node, at 1280 and 390 px, in the test's one
// browser. The browser is already signed in as slug's operator (the
// operator forms render); hub staff sign in here, and the provider's own
// sign-in form is checked on the way. hubPages are pages the caller reached
// by following links (a pilot, a commitment), so this list does not depend
// on the hub's URL scheme; new page kinds go into the lists below.
func checkAccessibility(t *testing.T, r *run, b *browser, slug string, hubPages []string) {
	t.Helper()
	hub := r.d.URL("hub")
	node := r.d.URL(slug)

	// Hub staff sign in: the provider's form is a page readers meet too.
	b.do(chromedp.EmulateViewport(browsertest.Desktop.Width, browsertest.Desktop.Height),
		chromedp.Navigate(hub+"/staff/members"), chromedp.WaitVisible(`#username`))
	if vs, err := browsertest.AxeCurrent(b.ctx); err != nil {
		t.Error(err)
	} else if len(vs) > 0 {
		t.Errorf("the development sign-in form has %d violations:\n%s", len(vs), browsertest.FormatViolations(vs))
	}
	b.do(chromedp.SendKeys(`#username`, demo.StaffLogin), chromedp.SendKeys(`#password`, demo.StaffPassword))
	b.submit(`button[type=submit]`)
	if u := b.location(); !strings.HasSuffix(u.Path, "/staff/members") {
		t.Fatalf("after the staff sign-in, the browser is at %s", u)
	}

	// The node's objects, found through its API rather than guessed.
	var plans struct {
		Plans []struct {
			ID string `json:"id"`
		} `json:"plans"`
	}
	r.getJSON(t, node+"/api/v1/plans", &plans)
	var cs struct {
		Commitments []struct {
			ID string `json:"id"`
		} `json:"commitments"`
	}
	r.getJSON(t, node+"/api/v1/commitments", &cs)
	if len(plans.Plans) == 0 || len(cs.Commitments) == 0 {
		t.Fatalf("%s lists no plan or no commitment", slug)
	}
	planID, cid := url.PathEscape(plans.Plans[0].ID), url.PathEscape(cs.Commitments[0].ID)
	var ups struct {
		Updates []struct {
			ID string `json:"id"`
		} `json:"updates"`
	}
	r.getJSON(t, node+"/api/v1/commitments/"+cid+"/updates", &ups)

	pages := append([]string{
		hub + "/",
		hub + "/compare",
		hub + "/compare/commitments",
		hub + "/search?q=agua",
		hub + "/staff/members",
		hub + "/no-such-page",
	}, hubPages...)
	pages = append(pages,
		node+"/",
		node+"/?lang=ko",
		node+"/plans/"+planID,
		node+"/commitments/"+cid,
		node+"/admin",
		node+"/admin/plans/new",
		node+"/admin/plans/"+planID+"/edit",
		node+"/admin/commitments/new",
		node+"/admin/commitments/"+cid+"/edit",
		node+"/admin/commitments/"+cid+"/updates/new",
		node+"/admin/import",
		node+"/admin/conversations",
		node+"/admin/conversations?status=held",
		node+"/admin/questions/new",
		node+"/admin/tokens",
		node+"/no-such-page",
	)
	if len(ups.Updates) > 0 {
		uid := url.PathEscape(ups.Updates[0].ID)
		pages = append(pages,
			node+"/commitments/"+cid+"/updates/"+uid,
			node+"/admin/commitments/"+cid+"/updates/"+uid+"/edit",
			node+"/admin/commitments/"+cid+"/updates/"+uid+"/delete",
		)
	}
	started := time.Now()
	browsertest.CheckAccessibility(t, b.ctx, pages)
	t.Logf("axe-core %s: %d pages × 2 widths checked in %s", browsertest.AxeVersion, len(pages), time.Since(started).Round(time.Second))
}
