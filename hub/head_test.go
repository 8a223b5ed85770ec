package hub_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"github.com/ogpnet/ogpnet/internal/web/webtest"
)

// TestHubAnswersHead: the hub's pages, API, feeds, exports and federation
// documents answer HEAD with the GET's status, Content-Type and length and
// no body; an unknown path is 404 to both.
func TestHubAnswersHead(t *testing.T) {
	n := startNode(t, "quito")
	n.seedPlan(t)
	n.create(t, 1, "Open budgets", "fiscal-openness")
	h := startHub(t, storetest.DB(t), "")
	join(t, h, n)
	eventually(t, 10*time.Second, "the commitment on the hub", func() bool {
		return len(allCommitments(t, h.base, "")) == 1
	})
	const ap, html, js = "application/activity+json", "text/html", "application/json"
	commitment := url.QueryEscape(n.commitmentIRI(1))
	for _, p := range []struct{ path, accept string }{
		{"/", html},
		{"/pilots", html},
		{"/pilot?actor=" + url.QueryEscape(n.actor()), html},
		{"/commitment?id=" + commitment, html}, // 301 to the readable address, followed
		{"/pilots/" + n.slug, html},
		{"/pilots/" + n.slug + "/commitments/" + n.cid(1), html},
		{"/compare/commitments?c=" + commitment, html},
		{"/compare", html},
		{"/search?q=budgets", html},
		{"/api/v1/commitments", js},
		{"/api/v1/commitment?id=" + commitment, js},
		{"/api/v1/pilots", js},
		{"/api/v1/stats", js},
		{"/feed.atom", "application/atom+xml"},
		{"/exports/commitments.csv", "text/csv"},
		{"/exports/commitments.json", js},
		{"/users/hub", ap},
		{"/users/hub/outbox", ap},
		{"/users/hub/collections/featured", ap},
		{"/.well-known/webfinger?resource=acct:hub@" + h.Federation().Host(), "application/jrd+json"},
		{"/healthz", "text/plain"},
	} {
		webtest.HeadLikeGet(t, loopbackClient, h.base+p.path, p.accept, http.StatusOK)
	}
	webtest.HeadLikeGet(t, loopbackClient, h.base+"/no/such/page", html, http.StatusNotFound)
	webtest.HeadLikeGet(t, loopbackClient, h.base+"/api/v1/nothing", js, http.StatusNotFound)
}
