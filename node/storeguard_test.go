package node

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// How a node reads the store, checked (issue 11, docs/architecture.md "How
// the store is read"). A page or API read is served from memory or by _id
// lookups; an idle node's loops read one document by _id each, or a small
// set after a write that changed it. Everything else would decode a whole
// collection on the embedded store at every request or tick.

// nodeRequestScans are the scanning reads a request may still send.
var nodeRequestScans = []storetest.Allowed{
	{Name: "find", Collection: "auth_tokens", Keys: "",
		Reason: "the operators' tokens page lists every API token issued, revoked ones too (audit)",
		Bound:  "O(tokens issued: a few per operator), on an operator's visit only"},
	{Name: "delete", Collection: "auth_sessions", Keys: "expires",
		Reason: "sign-in prune: expired sessions, logins and nonces, at most every 10 min, on a request that signs in or checks a session",
		Bound:  "O(live sessions, logins of the last 10 min); MongoDB: the TTL index on expires"},
	{Name: "delete", Collection: "auth_logins", Keys: "expires", Reason: "sign-in prune (above)", Bound: "as above"},
	{Name: "delete", Collection: "auth_nonces", Keys: "expires", Reason: "sign-in prune (above)", Bound: "as above"},
}

// nodeLoopScans are the scanning reads an idle node's background loops may
// send (the same entries as the map in docs/architecture.md). AtMost counts
// in the test's window, which follows the set-up's last write: a set read
// again after a write comes once per write (twice when a write lands
// during a read), the same read on a timer at every tick.
var nodeLoopScans = []storetest.Allowed{
	{Name: "find", Collection: "outbox_marks", Keys: "",
		Reason: "outbox replicas: every second one read of every process's mark (its count and latest ids), so another replica's publish shows within a second",
		Bound:  "O(processes that published in the last day): marks unused for 24 h are deleted"},
	{Name: "delete", Collection: "delivery_jobs", Keys: "_id",
		Reason: "delivery purge: finished jobs deleted together ({_id: {$in}}) once deliveries pause, at most 1/30 of the time",
		Bound:  "O(jobs finished since the last purge; at most 50,000 remembered)"},
	{Name: "find", Collection: "followers", Keys: "", AtMost: 2,
		Reason: "followers reload (every 5 s) reads the set only after followers_mark changed: a follower was written, by any replica",
		Bound:  "O(followers), once per follower written"},
	{Name: "find", Collection: "following", Keys: "", AtMost: 2,
		Reason: "following reload (every 5 s) reads the set only after following_mark changed: a follow was made or answered",
		Bound:  "O(actors followed), once per follow written"},
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

// TestNodeReadsTheStoreByIDOrFromMemory: after start-up, every page kind,
// collection and API read of a node (public, operator and federation), and
// then a few seconds of its idle background loops, send the store only _id
// lookups, apart from the allow-lists above. Runs on the embedded store,
// and on MongoDB when OGPNET_TEST_MONGO_URI is set (the same commands).
func TestNodeReadsTheStoreByIDOrFromMemory(t *testing.T) {
	ctx := context.Background()
	tn, c, tok := startSeeded(t, "jalisco", "JAL0001", "JAL0002")
	w := storetest.Watch(t, tn.cfg.DB)
	f := startFollower(t)
	if _, err := f.Follow(ctx, tn.Federation().ActorID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the follow to be accepted", func() bool {
		fw, err := f.FollowingOf(ctx, tn.Federation().ActorID())
		return err == nil && fw.State == federation.FollowAccepted
	})
	resp, body := do(t, c, http.MethodPost, tn.base+"/api/v1/commitments/JAL0001/updates", map[string]any{
		"date": "2017-07-01", "text": map[string]string{"es": "Se concluyó el diseño."}, "completion": "substantial",
	}, bearer(tok))
	mustStatus(t, resp, body, http.StatusCreated)
	var update struct{ ID string }
	if err := json.Unmarshal([]byte(body), &update); err != nil || update.ID == "" {
		t.Fatalf("update %s: %v", body, err)
	}
	uid := update.ID[strings.LastIndex(update.ID, "/")+1:]
	ana := tn.login(t, operatorUser)
	_, page := get(t, c, tn.base+"/users/jalisco/outbox?page=true", "application/activity+json")
	var outbox struct{ OrderedItems []struct{ ID string } }
	if err := json.Unmarshal([]byte(page), &outbox); err != nil || len(outbox.OrderedItems) == 0 {
		t.Fatalf("outbox page %s: %v", page, err)
	}
	activity := outbox.OrderedItems[0].ID

	ready := time.Now() // start-up and the set-up's writes are behind us
	const ap, html, js = "application/activity+json", "text/html", "application/json"
	type request struct {
		client       *http.Client
		path, accept string
		hdr          map[string]string
	}
	var requests []request
	for _, p := range []struct{ path, accept string }{
		{"/", html},
		{"/plans/2016-2018", html},
		{"/plans/2016-2018", ap},
		{"/commitments/JAL0001", html},
		{"/commitments/JAL0001", ap},
		{"/commitments/JAL0001/updates", ap},
		{"/commitments/JAL0001/updates/" + uid, html},
		{"/commitments/JAL0001/updates/" + uid, ap},
		{"/commitments/JAL0001/context", ap},
		{"/plans/2016-2018/context", ap},
		{"/commitments/JAL0001/replies", ap},
		{"/commitments/JAL0001/updates/" + uid + "/replies", ap},
		{"/plans/2016-2018/replies", ap},
		{"/ns/ogp", "application/ld+json"},
		{"/users/jalisco", ap},
		{"/users/jalisco", html},
		{"/users/jalisco/outbox", ap},
		{"/users/jalisco/outbox?page=true", ap},
		{"/users/jalisco/followers", ap},
		{"/users/jalisco/following", ap},
		{"/users/jalisco/collections/featured", ap},
		{"/users/jalisco/collections/tags", ap},
		{strings.TrimPrefix(activity, tn.base), ap},
		{"/application", ap},
		{"/application/outbox", ap},
		{"/application/collections/featured", ap},
		{"/.well-known/webfinger?resource=" + url.QueryEscape("acct:jalisco@"+tn.Federation().Host()), "application/jrd+json"},
		{"/.well-known/nodeinfo", js},
		{"/.well-known/host-meta", "application/xrd+xml"},
		{"/nodeinfo/2.1", js},
		{"/api/v1/plans", js},
		{"/api/v1/plans/2016-2018", js},
		{"/api/v1/commitments", js},
		{"/api/v1/commitments/JAL0001", js},
		{"/api/v1/commitments/JAL0001/updates", js},
	} {
		requests = append(requests, request{c, p.path, p.accept, nil})
	}
	requests = append(requests, request{c, "/api/v1/replies", js, bearer(tok)})
	for _, p := range []string{
		"/admin", "/admin/plans/new", "/admin/plans/2016-2018/edit", "/admin/commitments/new",
		"/admin/commitments/JAL0001/edit", "/admin/commitments/JAL0001/updates/new",
		"/admin/commitments/JAL0001/updates/" + uid + "/edit", "/admin/commitments/JAL0001/updates/" + uid + "/delete",
		"/admin/import", "/admin/conversations", "/admin/questions/new", "/admin/tokens",
	} {
		requests = append(requests, request{ana, p, html, nil})
	}
	for _, r := range requests {
		hdr := map[string]string{"Accept": r.accept}
		for k, v := range r.hdr {
			hdr[k] = v
		}
		resp, body := do(t, r.client, http.MethodGet, tn.base+r.path, nil, hdr)
		mustStatus(t, resp, body, http.StatusOK)
	}
	served := time.Now()
	time.Sleep(6 * time.Second) // refresh (1 s), reconcile and followers/following reload (5 s) run
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
	for _, cmd := range storetest.Unexpected(requestCmds, nodeRequestScans) {
		t.Errorf("a request read a collection by more than _id: %v", cmd)
	}
	idle := 0
	for _, cmd := range loopCmds {
		if cmd.At.After(served) {
			idle++
		}
	}
	if idle == 0 {
		t.Fatal("the guard saw no command of the idle node's loops")
	}
	for _, cmd := range storetest.Unexpected(loopCmds, nodeLoopScans) {
		t.Errorf("a background loop read a collection by more than _id: %v", cmd)
	}
}
