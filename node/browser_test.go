package node

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ogpnet/ogpnet/internal/browsertest"
)

// TestBrowserOperatorPostsProgress: in Debian's Chromium, an operator opens
// the progress form, is sent to the OpenID provider's login page, signs in,
// posts a progress update through the form, and the public commitment page
// (seen by an anonymous reader too) shows it in its timeline.
func TestBrowserOperatorPostsProgress(t *testing.T) {
	bctx := browsertest.New(t, browsertest.WithTimeout(45*time.Second))
	tn, _, _ := startSeeded(t, "jalisco", "JAL0001")

	const text = "Se instaló el comité de seguimiento con 12 organizaciones."
	err := chromedp.Do(bctx,
		chromedp.Navigate(tn.base+"/admin/commitments/JAL0001/updates/new?lang=es"),
		// The provider's login form (another origin).
		chromedp.WaitVisible(`#username`),
		chromedp.SendKeys(`#username`, operatorUser),
		chromedp.SendKeys(`#password`, password),
		chromedp.Click(`button[type=submit]`),
		// Back on the node, at the progress form.
		chromedp.WaitVisible(`#text_es`),
		chromedp.SendKeys(`#text_es`, text),
		chromedp.SetValue(`#completion`, "substantial"),
		chromedp.SetValue(`#ms_1`, "complete"),
		chromedp.Click(`#update-form button[type=submit]`),
		chromedp.WaitVisible(`#timeline .update`),
	)
	if err != nil {
		t.Fatal(err)
	}
	location, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	timeline, err := chromedp.Run(bctx, chromedp.Text(`#timeline`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(location, tn.base+"/commitments/JAL0001") {
		t.Errorf("after posting, the browser is at %s", location)
	}
	if !strings.Contains(timeline, text) || !strings.Contains(timeline, "Sustancial") {
		t.Errorf("timeline after posting: %q", timeline)
	}
	// Anyone sees it, in either language's UI.
	_, page := get(t, loopbackClient(), tn.base+"/commitments/JAL0001?lang=en", "text/html")
	if !strings.Contains(page, text) || !strings.Contains(page, "Progress timeline") {
		t.Errorf("the public page does not show the update")
	}
}
