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

// TestBrowserOperatorAnswers: in Chromium, an operator signs in, opens
// Conversations, sees a reply held from a Mastodon account (its content
// warning shown), answers it as the government through the form; the
// answer is listed as sent, and the public commitment page shows the
// reply with the answer threaded under it.
func TestBrowserOperatorAnswers(t *testing.T) {
	bctx := browsertest.New(t, browsertest.WithTimeout(45*time.Second))
	tn, _, _ := startSeeded(t, "jalisco", "JAL0001")
	cIRI := tn.base + "/commitments/JAL0001"
	nodeActor := tn.Federation().ActorID()
	masto := startFediAccount(t, "mastodon", "maria", false)
	reply := masto.wrap("Create", mastodonReply(masto, masto.statusIRI(), cIRI, nodeActor, "@jalisco"))
	if code, msg := masto.send(t, nodeActor+"/inbox", reply); code != 202 {
		t.Fatalf("reply: %d %s", code, msg)
	}

	const answer = "The register is funded from the state budget, line 4.2."
	err := chromedp.Do(bctx,
		chromedp.Navigate(tn.base+"/admin/conversations?lang=en"),
		chromedp.WaitVisible(`#username`),
		chromedp.SendKeys(`#username`, operatorUser),
		chromedp.SendKeys(`#password`, password),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`form.answer textarea`),
		chromedp.SendKeys(`form.answer textarea`, answer),
		chromedp.Click(`form.answer button[type=submit]`),
		// The "sent" tab is the current one once the answer is published.
		chromedp.WaitVisible(`a[aria-current=page][href$="status=sent"]`),
		chromedp.WaitVisible(`ol.conversations .reply`),
	)
	if err != nil {
		t.Fatal(err)
	}
	location, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	sent, err := chromedp.Run(bctx, chromedp.Text(`ol.conversations`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(location, "/admin/conversations?status=sent") || !strings.Contains(sent, answer) {
		t.Errorf("after answering, at %s the list reads %q", location, sent)
	}
	_, page := get(t, loopbackClient(), cIRI+"?lang=en", "text/html")
	rAt, aAt := strings.Index(page, "How was the register funded?"), strings.Index(page, answer)
	if rAt < 0 || aAt < rAt || !strings.Contains(page, "Content warning: Budget figures") {
		t.Errorf("the public thread does not show the reply with the answer under it")
	}
}
