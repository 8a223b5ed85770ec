package node

import (
	"net/http"
	"testing"

	"github.com/ogpnet/ogpnet/internal/web/webtest"
)

// TestHeadAnswersLikeGet: every GET route of a node, its actor and
// collections, discovery documents, object IRIs (AP JSON and HTML) and
// pages, answers HEAD with the GET's status and headers and no body; an
// unknown path is 404 to both.
func TestHeadAnswersLikeGet(t *testing.T) {
	tn, c, _ := startSeeded(t, "jalisco", "JAL0001")
	const ap, html = "application/activity+json", "text/html"
	for _, p := range []struct{ path, accept string }{
		{"/users/jalisco", ap},
		{"/users/jalisco", html},
		{"/users/jalisco/outbox", ap},
		{"/users/jalisco/outbox?page=true", ap},
		{"/users/jalisco/followers", ap},
		{"/users/jalisco/collections/featured", ap},
		{"/users/jalisco/collections/tags", ap},
		{"/application", ap},
		{"/application/outbox", ap},
		{"/.well-known/webfinger?resource=acct:jalisco@" + tn.Federation().Host(), "application/jrd+json"},
		{"/.well-known/nodeinfo", "application/json"},
		{"/nodeinfo/2.1", "application/json"},
		{"/ns/ogp", "application/ld+json"},
		{"/plans/2016-2018", ap},
		{"/plans/2016-2018", html},
		{"/commitments/JAL0001", ap},
		{"/commitments/JAL0001", html},
		{"/commitments/JAL0001/updates", ap},
		{"/", html},
		{"/api/v1/commitments", "application/json"},
	} {
		webtest.HeadLikeGet(t, c, tn.base+p.path, p.accept, http.StatusOK)
	}
	webtest.HeadLikeGet(t, c, tn.base+"/no/such/page", html, http.StatusNotFound)
	webtest.HeadLikeGet(t, c, tn.base+"/commitments/NOPE0001", ap, http.StatusNotFound)
}
