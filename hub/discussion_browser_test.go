package hub_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ogpnet/ogpnet/internal/browsertest"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// TestDiscussionOnAPhone: in real Chromium at 390 px, a commitment's
// thread (a question, the government's answer nested under it) fits the
// screen without sideways scrolling, the answer is marked as the
// government's, and "how to reply" opens without JavaScript.
func TestDiscussionOnAPhone(t *testing.T) {
	town := startOwner(t, "town")
	peer := startOwner(t, "peer")
	cIRI := town.publishCommitment(t, "TOW0001", "Open budget portal", "fiscal-openness")
	h := startHub(t, storetest.DB(t), "")
	joinOwner(t, h, town, cIRI)
	joinOwner(t, h, peer, "")
	inbox := h.Federation().InboxID()
	q := peer.note("q1", cIRI, "<p>Which tool do you use for the portal? "+strings.Repeat("averyveryverylongwordwithoutbreaks", 3)+"</p>", h.Federation().ActorID())
	peer.send(t, inbox, "Create", q, "")
	eventually(t, 15*time.Second, "the question", func() bool { return len(thread(t, h, cIRI)) == 1 })
	town.send(t, inbox, "Create", town.note("a1", q["id"].(string), "<p>CKAN, with a custom theme.</p>", h.Federation().ActorID()), "")
	eventually(t, 15*time.Second, "the answer", func() bool { return len(thread(t, h, cIRI)) == 2 })

	ctx := browsertest.New(t)
	eval := func(js string) bool {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(h.base+"/commitment?id="+urlQuery(cIRI)),
		chromedp.WaitVisible(chromedp.CSS(`section.discussion`)),
	); err != nil {
		t.Fatal(err)
	}
	if eval(`document.documentElement.scrollWidth > window.innerWidth`) {
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > window.innerWidth+1).slice(0,8).map(e => e.tagName+"."+e.className+"#"+e.id+":"+Math.round(e.getBoundingClientRect().right)).join(" ")`))
		t.Errorf("the commitment page scrolls sideways at 390 px: %s", wide)
	}
	if !eval(`document.querySelectorAll("ol.thread > li.post > ol.replies > li.post.government").length === 1`) {
		t.Error("the government's answer is not nested under the question and marked")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`details.how-to-reply summary`))); err != nil {
		t.Fatal(err)
	}
	if !eval(`document.querySelector("details.how-to-reply").open && document.querySelector("#reply-iri").offsetWidth > 0`) {
		t.Error("how to reply does not open")
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(h.base+"/discussion"),
		chromedp.WaitVisible(chromedp.CSS(`section.learning`)),
	); err != nil {
		t.Fatal(err)
	}
	if eval(`document.documentElement.scrollWidth > window.innerWidth`) {
		t.Error("the discussion page scrolls sideways at 390 px")
	}
}
