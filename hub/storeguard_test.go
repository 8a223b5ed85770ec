package hub_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

func TestStoreGuardExplore(t *testing.T) {
	n := startNode(t, "quito")
	n.seedPlan(t)
	n.create(t, 1, "Open budgets", "fiscal-openness")
	db := storetest.DB(t)
	w := storetest.Watch(t, db)
	h := startHub(t, db, "")
	join(t, h, n)
	eventually(t, 10*time.Second, "the commitment on the hub", func() bool {
		return len(allCommitments(t, h.base, "")) == 1
	})
	time.Sleep(2 * time.Second)
	start := time.Now()
	const ap, html, js = "application/activity+json", "text/html", "application/json"
	commitment := url.QueryEscape(n.commitmentIRI(1))
	actor := url.QueryEscape(n.actor())
	for _, p := range []struct{ path, accept string }{
		{"/", html},
		{"/pilots", html},
		{"/pilot?actor=" + actor, html},
		{"/commitment?id=" + commitment, html},
		{"/pilots/" + n.slug, html},
		{"/pilots/" + n.slug + "/commitments/" + n.cid(1), html},
		{"/compare/commitments?c=" + commitment, html},
		{"/compare", html},
		{"/search?q=budgets", html},
		{"/discussion", html},
		{"/api/v1/commitments", js},
		{"/api/v1/commitment?id=" + commitment, js},
		{"/api/v1/commitment/peers?id=" + commitment, js},
		{"/api/v1/pilots", js},
		{"/api/v1/pilot?actor=" + actor, js},
		{"/api/v1/updates", js},
		{"/api/v1/matrix", js},
		{"/api/v1/themes", js},
		{"/api/v1/stats", js},
		{"/api/v1/search?q=budgets", js},
		{"/api/v1/discussion?id=" + commitment, js},
		{"/feed.atom", "application/atom+xml"},
		{"/exports/commitments.csv", "text/csv"},
		{"/exports/commitments.json", js},
		{"/users/hub", ap},
		{"/users/hub/outbox", ap},
		{"/users/hub/outbox?page=true", ap},
		{"/users/hub/followers", ap},
		{"/users/hub/following", ap},
		{"/users/hub/members", ap},
		{"/users/hub/collections/featured", ap},
		{"/.well-known/webfinger?resource=acct:hub@" + h.Federation().Host(), "application/jrd+json"},
		{"/.well-known/nodeinfo", js},
		{"/nodeinfo/2.1", js},
		{"/healthz", "text/plain"},
		{"/readyz", "text/plain"},
	} {
		req, _ := http.NewRequest(http.MethodGet, h.base+p.path, nil)
		req.Header.Set("Accept", p.accept)
		resp, err := loopbackClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		t.Logf("%s %d", p.path, resp.StatusCode)
	}
	time.Sleep(6 * time.Second)
	for _, cmd := range w.Commands(time.Time{}) {
		if cmd.At.After(start) || cmd.Scans() {
			t.Log(cmd.At.Sub(start), cmd)
		}
	}
}
