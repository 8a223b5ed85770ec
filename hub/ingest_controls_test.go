package hub_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// ingestCount reads ogpnet_hub_ingest_objects_total{result, source="live"}.
func ingestCount(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "ogpnet_hub_ingest_objects_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["result"] == result && labels["source"] == "live" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestIngestControls: the hub's own ingest rules, each reached by a case
// that only it refuses, with the reason read from the ingest counter:
// a non-member delivering straight to the hub's inbox is not stored
// (result="not-member"); a member's activity about an object on another
// host is ignored before anything is fetched from that host
// (result="foreign-host", the other host sees no request); a member's
// announce of another account's object on its own host is refused by the
// attributedTo rule and not stored; and a member's names and titles lose
// their Unicode direction controls.
func TestIngestControls(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	ln, base := listen(t, "hub", "")
	h, err := hub.New(ctx, hub.Config{BaseURL: base, Name: "Test hub", DB: storetest.DB(t), Logger: quietLogger(), Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	th := &testHub{Hub: h}
	th.base, th.addr = base, ln.Addr().String()
	th.stop = serve(t, ln, h.Handler(), h.Run)

	rln, rbase := listen(t, "rogue", "")
	rogue, err := federation.New(ctx, federation.Config{BaseURL: rbase, Username: "rogue", ActorType: "Organization", DB: storetest.DB(t), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	e := newEcho()
	rogue.Register(e)
	// Another account's commitment on the member's own host: only the
	// attributedTo rule can refuse it (member, own host, valid document).
	othersIRIs := ogp.NewIRIs(rbase, "rogue")
	others := ogp.Commitment{
		Post: ogp.Post{
			ID:           othersIRIs.Commitment("ROG0002"),
			Type:         ogp.TypeCommitment,
			AttributedTo: rbase + "/users/other",
			URL:          othersIRIs.Commitment("ROG0002"),
			Name:         "Not the member's",
			Published:    time.Now().UTC().Add(-time.Minute),
			To:           []string{ogp.Public},
		},
		Identifier: "ROG0002", ActionPlan: othersIRIs.Plan("2024-2026"),
		LeadInstitution: "X", Completion: ogp.CompletionLimited,
	}
	e.GET("/commitments/ROG0002", func(c echo.Context) error {
		doc, _ := json.Marshal(others)
		return c.Blob(http.StatusOK, "application/activity+json", doc)
	})
	serve(t, rln, e, rogue.Run)
	if _, err := th.AddMember(ctx, rogue.ActorID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "follow accepted", func() bool {
		f, err := th.Federation().FollowingOf(ctx, rogue.ActorID())
		return err == nil && f.State == federation.FollowAccepted
	})
	stranger := startFollower(t, "stranger")

	iris := ogp.NewIRIs(rbase, "rogue")
	commitment := func(owner *federation.Server, iris ogp.IRIs, id, name string) ogp.Commitment {
		return ogp.Commitment{
			Post: ogp.Post{
				ID:           iris.Commitment(id),
				Type:         ogp.TypeCommitment,
				AttributedTo: owner.ActorID(),
				URL:          iris.Commitment(id),
				Name:         name,
				Published:    time.Now().UTC().Add(-time.Minute),
				To:           []string{ogp.Public},
				CC:           []string{owner.FollowersID()},
			},
			Identifier: id, ActionPlan: iris.Plan("2024-2026"),
			LeadInstitution: "Secre\u2066taría\u2069", Completion: ogp.CompletionLimited,
		}
	}
	send := func(s *federation.Server, typ string, obj any) {
		t.Helper()
		body, err := json.Marshal(map[string]any{"@context": ogp.JSONLDContext(), "id": s.NewActivityID(), "type": typ,
			"actor": s.ActorID(), "object": obj, "to": []string{ogp.Public}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, body, []string{th.Federation().InboxID()}); err != nil {
			t.Fatal(err)
		}
	}

	// Members only: a stranger's own, valid commitment, straight to the inbox.
	sIRIs := ogp.NewIRIs(stranger.base, "alice")
	send(stranger.Server, "Create", commitment(stranger.Server, sIRIs, "SPA0001", "Spam"))
	eventually(t, 10*time.Second, `result="not-member"`, func() bool { return ingestCount(t, reg, "not-member") == 1 })

	// Own host first: a member announcing an object on another host. The
	// other host would serve a valid commitment if asked; it must not be.
	var victimGets atomic.Int64
	victim := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		victimGets.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(victim.Close)
	victimNote := strings.Replace(victim.URL, "127.0.0.1", "victim.localhost", 1) + "/commitments/VIC0001"
	send(rogue, "Announce", victimNote)
	eventually(t, 10*time.Second, `result="foreign-host"`, func() bool { return ingestCount(t, reg, "foreign-host") == 1 })
	if n := victimGets.Load(); n != 0 {
		t.Errorf("the other host was asked %d times for an object the hub must ignore", n)
	}

	// attributedTo: the member announcing another account's object on its
	// own host; fetched, valid, refused (422) and counted as foreign.
	send(rogue, "Announce", others.ID)
	eventually(t, 10*time.Second, `result="foreign-host" for another account's object`, func() bool { return ingestCount(t, reg, "foreign-host") == 2 })

	// Direction controls: stripped from the member's names.
	send(rogue, "Create", commitment(rogue, iris, "ROG0001", "Evil \u202Egpj.exe\u202C"))
	var got []apiCommitment
	eventually(t, 10*time.Second, "the member's commitment", func() bool {
		got = allCommitments(t, th.base, "")
		return len(got) >= 1
	})
	if len(got) != 1 || got[0].ID != iris.Commitment("ROG0001") {
		t.Fatalf("stored %+v, want only the member's own commitment", got)
	}
	if got[0].Name != "Evil gpj.exe" {
		t.Errorf("name %q", got[0].Name)
	}
	for _, u := range []string{"/api/v1/commitments", "/exports/commitments.csv", "/feed.atom"} {
		code, body, _ := getBody(t, th.base+u)
		if code != http.StatusOK {
			t.Errorf("%s: %d", u, code)
		}
		if i := strings.IndexFunc(body, func(r rune) bool { return ogp.IsBidiControl(r) }); i >= 0 {
			t.Errorf("%s carries a direction control: %q", u, body[max(0, i-30):min(len(body), i+30)])
		}
	}
	if n := ingestCount(t, reg, "not-member"); n != 1 {
		t.Errorf("not-member = %v", n)
	}
}
