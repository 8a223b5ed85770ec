package hub_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/hub"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/oidcdev"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// How a hub reads the store, checked (issue 11, docs/architecture.md "How
// the store is read"). Pages, API, feeds and exports answer from the read
// model; an idle hub's loops read a document by _id each, a collection
// bounded by time (hub_seq: the last hour's numbers), or a small set after
// a write that changed it. Everything else would decode a whole collection
// on the embedded store at every request or tick.

// hubRequestScans are the scanning reads a request may still send.
var hubRequestScans = []storetest.Allowed{
	{Name: "delete", Collection: "auth_sessions", Keys: "expires",
		Reason: "sign-in prune: expired sessions, logins and nonces, at most every 10 min, on a request that signs in or checks a session",
		Bound:  "O(live sessions, logins of the last 10 min); MongoDB: the TTL index on expires"},
	{Name: "delete", Collection: "auth_logins", Keys: "expires", Reason: "sign-in prune (above)", Bound: "as above"},
	{Name: "delete", Collection: "auth_nonces", Keys: "expires", Reason: "sign-in prune (above)", Bound: "as above"},
}

// hubLoopScans are the scanning reads an idle hub's background loops may
// send (the same entries as the map in docs/architecture.md). AtMost counts
// in the test's window, which follows the set-up's last write: a set read
// again after a write comes once per write (twice when a write lands
// during a read), the same read on a timer at every tick.
var hubLoopScans = []storetest.Allowed{
	{Name: "find", Collection: "outbox_marks", Keys: "",
		Reason: "outbox replicas: every second one read of every process's mark (its count and latest ids), so another replica's publish shows within a second",
		Bound:  "O(processes that published in the last day): marks unused for 24 h are deleted"},
	{Name: "delete", Collection: "delivery_jobs", Keys: "_id",
		Reason: "delivery purge: finished jobs deleted together ({_id: {$in}}) once deliveries pause, at most 1/30 of the time",
		Bound:  "O(jobs finished since the last purge; at most 50,000 remembered)"},
	{Name: "find", Collection: "hub_seq", Keys: "_id",
		Reason: "tailer, every second: the numbers above the highest read, and the missing ones ($in)",
		Bound:  "O(writes of the last hour): hub_seq is pruned every 10 min, keeping the highest"},
	{Name: "delete", Collection: "hub_seq", Keys: "_id,at",
		Reason: "tailer, every 10 min: prune of the numbers older than an hour",
		Bound:  "O(writes of the last hour + 10 min)"},
	{Name: "find", Collection: "hub_objects", Keys: "seq",
		Reason: "tailer: a re-scan by the indexed seq only when more than 1,000 numbers are missing (a replica far behind)",
		Bound:  "O(objects) on the embedded store, rare; MongoDB: the seq index"},
	{Name: "find", Collection: "hub_members", Keys: "", AtMost: 3,
		Reason: "member refresh (every second) reads the members only after hub_members_mark changed: a member was written, by any replica",
		Bound:  "O(members), once per member write"},
	{Name: "find", Collection: "followers", Keys: "", AtMost: 2,
		Reason: "followers reload (every 5 s) reads the set only after followers_mark changed",
		Bound:  "O(followers), once per follower written"},
	{Name: "find", Collection: "following", Keys: "", AtMost: 2,
		Reason: "following reload (every 5 s) reads the set only after following_mark changed: a member followed or its follow answered",
		Bound:  "O(members), once per follow written"},
	{Name: "delete", Collection: "hub_backfill_claims", Keys: "", AtMost: 2,
		Reason: "backfill: a walk's end releases its lease (by owner, kind, member); each interval prunes claims by age",
		Bound:  "O(members × intervals kept), per walk and per interval (10 min)"},
	{Name: "find", Collection: "delivery_jobs", Keys: "",
		Reason: "delivery queue rescan every minute (issue 11 item 4 moves it onto the rule)",
		Bound:  "O(delivery backlog) a minute"},
	{Name: "find", Collection: "delivery_hosts", Keys: "",
		Reason: "delivery host table refresh every 30 s (other replicas' marks)",
		Bound:  "O(follower hosts) every 30 s"},
	{Name: "find", Collection: "delivery_host_days", Keys: "",
		Reason: "delivery host table refresh every 30 s (failure days)",
		Bound:  "O(failing hosts × days) every 30 s"},
	{Name: "delete", Collection: "delivery_dead", Keys: "deadAt",
		Reason: "delivery sweep, hourly: dead jobs past retention", Bound: "O(dead jobs kept) an hour"},
	{Name: "delete", Collection: "delivery_claims", Keys: "at",
		Reason: "delivery sweep, hourly: old claim keys", Bound: "O(claims of the retention window) an hour"},
	{Name: "delete", Collection: "delivery_seen", Keys: "at",
		Reason: "delivery sweep, hourly: enqueue markers past the dedupe window", Bound: "O(activities enqueued in the window) an hour"},
	{Name: "delete", Collection: "delivery_bodies", Keys: "at",
		Reason: "delivery sweep, hourly: bodies past a week", Bound: "O(activities of the last week) an hour"},
}

// TestHubReadsTheStoreByIDOrFromMemory: after start-up, every page kind,
// API read, feed, export, staff page and federation document of a hub with
// a member, and then a few seconds of its idle background loops (accept
// poll shortened to a second), send the store only _id lookups, apart
// from the allow-lists above. Runs on the embedded store, and on MongoDB
// when OGPNET_TEST_MONGO_URI is set (the same commands).
func TestHubReadsTheStoreByIDOrFromMemory(t *testing.T) {
	ctx := context.Background()
	hub.SetAcceptPoll(t, time.Second)
	prov, issuer := oidcdev.StartTest(t, []oidcdev.User{
		{Subject: "ana", Email: "ana@ogp.example", Name: "Ana Staff", Password: "pw", EmailVerified: true},
	}, nil)
	n := startNode(t, "quito")
	n.seedPlan(t)
	n.create(t, 1, "Open budgets", "fiscal-openness")
	db := storetest.DB(t)
	w := storetest.Watch(t, db)
	ln, base := listen(t, "hub", "")
	prov.AddClient(oidcdev.Client{ID: "hub", Secret: "hub-secret", RedirectURIs: []string{base + "/auth/callback"}})
	hb, err := hub.New(ctx, hub.Config{
		BaseURL: base, Name: "Test hub", DB: db, Logger: quietLogger(),
		Auth: auth.Config{Issuer: issuer, ClientID: "hub", ClientSecret: "hub-secret", RedirectURL: base + "/auth/callback",
			AllowedEmailDomains: []string{"ogp.example"}, Logger: quietLogger()},
	})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now() // what New read is the start-up rebuild
	h := &testHub{Hub: hb, db: db}
	h.base, h.addr = base, ln.Addr().String()
	h.stop = serve(t, ln, storetest.Tagging(hb.Handler()), hb.Run)
	join(t, h, n)
	eventually(t, 10*time.Second, "the commitment on the hub", func() bool {
		return len(allCommitments(t, h.base, "")) == 1
	})
	jar, _ := cookiejar.New(nil)
	staff := &http.Client{Jar: jar, Transport: loopbackClient.Transport, Timeout: 10 * time.Second}
	resp, err := oidcdev.Login(ctx, staff, base+"/auth/login?next=/", "ana", "pw")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(w.Scans(time.Time{})) == len(w.Scans(started)) {
		t.Fatal("the guard saw no start-up rebuild (is the database watched from the start?)")
	}

	ready := time.Now() // start-up, the join and its backfill are behind us
	const ap, html, js = "application/activity+json", "text/html", "application/json"
	commitment := url.QueryEscape(n.commitmentIRI(1))
	actor := url.QueryEscape(n.actor())
	type request struct {
		client       *http.Client
		path, accept string
	}
	var requests []request
	for _, p := range []struct{ path, accept string }{
		{"/", html},
		{"/pilots", html},
		{"/pilot?actor=" + actor, html},
		{"/commitment?id=" + commitment, html},
		{"/pilots/" + n.slug, html},
		{"/pilots/" + n.slug + "/commitments/" + n.cid(1), html},
		{"/compare", html},
		{"/compare/commitments?c=" + commitment, html},
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
		{"/api/v1/discussion?commitment=" + commitment, js},
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
		{"/application", ap},
		{"/.well-known/webfinger?resource=acct:hub@" + h.Federation().Host(), "application/jrd+json"},
		{"/.well-known/nodeinfo", js},
		{"/nodeinfo/2.1", js},
		{"/healthz", "text/plain"},
		{"/readyz", "text/plain"},
	} {
		requests = append(requests, request{loopbackClient, p.path, p.accept})
	}
	for _, p := range []struct{ path, accept string }{
		{"/staff/members", html},
		{"/staff/discussion", html},
		{"/api/v1/staff/members", js},
		{"/api/v1/staff/discussion", js},
	} {
		requests = append(requests, request{staff, p.path, p.accept})
	}
	for _, r := range requests {
		req, _ := http.NewRequest(http.MethodGet, h.base+r.path, nil)
		req.Header.Set("Accept", r.accept)
		resp, err := r.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", r.path, resp.Status)
		}
	}
	// A session this replica has not cached is read from the store by _id:
	// a request that certainly reaches the store, so that the check below
	// proves request commands are tagged (every other hub read above is
	// served from memory).
	probe, _ := http.NewRequest(http.MethodGet, h.base+"/staff/members", nil)
	probe.AddCookie(&http.Cookie{Name: "ogpnet_session", Value: "not-a-session-anyone-holds"})
	if resp, err := loopbackClient.Do(probe); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	served := time.Now()
	// The tailer and member refresh (1 s), the accept poll (1 s here), the
	// followers and following reload (5 s) and the delivery queue run.
	time.Sleep(6 * time.Second)
	var requestCmds, loopCmds []storetest.Command
	for _, cmd := range w.Scans(ready) {
		t.Logf("%v", cmd) // what the allow-lists let through, for go test -v
	}
	for _, cmd := range w.Commands(ready) {
		if cmd.Tag != "" {
			requestCmds = append(requestCmds, cmd)
		} else {
			loopCmds = append(loopCmds, cmd)
		}
	}
	if len(requestCmds) == 0 {
		t.Fatal("the guard saw no command serving the requests (is the handler tagged?)")
	}
	for _, cmd := range storetest.Unexpected(requestCmds, hubRequestScans) {
		t.Errorf("a request read a collection by more than _id: %v", cmd)
	}
	idle := 0
	for _, cmd := range loopCmds {
		if cmd.At.After(served) {
			idle++
		}
	}
	if idle == 0 {
		t.Fatal("the guard saw no command of the idle hub's loops")
	}
	for _, cmd := range storetest.Unexpected(loopCmds, hubLoopScans) {
		t.Errorf("a background loop read a collection by more than _id: %v", cmd)
	}
}
