package hub_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/members"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"github.com/ogpnet/ogpnet/node/plan"
)

func newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	return e
}

// join adds n to h and waits until the follow is accepted.
func join(t *testing.T, h *testHub, n *testNode) {
	t.Helper()
	ctx := context.Background()
	if _, err := h.AddMember(ctx, "@"+n.slug+"@"+strings.TrimPrefix(n.base, "http://")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, n.slug+" accepts the hub's follow", func() bool {
		f, err := h.Federation().FollowingOf(ctx, n.actor())
		return err == nil && f.State == federation.FollowAccepted
	})
}

// TestHubFollowsRealNodes: two real nodes and a hub over loopback. History
// published before joining arrives by backfill; new commitments, progress
// updates, edits and deletions arrive live and show in the API and exports;
// export totals equal what the nodes' outboxes hold.
func TestHubFollowsRealNodes(t *testing.T) {
	jal := startNode(t, "jalisco")
	mad := startNode(t, "madrid")
	jal.seedPlan(t)
	mad.seedPlan(t)
	jal.create(t, 1, "Datos abiertos de obra pública", "open-data", "open-contracting")
	mad.create(t, 1, "Presupuestos participativos", "fiscal-openness", "citizen-participation")

	h := startHub(t, storetest.DB(t), "")
	join(t, h, jal)
	join(t, h, mad)

	// History before joining: backfilled once the follow is accepted.
	eventually(t, 15*time.Second, "backfill of both nodes' history", func() bool {
		return len(allCommitments(t, h.base, "")) == 2
	})
	var pilots struct {
		Items []struct {
			Actor       string `json:"actor"`
			Name        string `json:"name"`
			Commitments int    `json:"commitments"`
			Guidelines  struct {
				Points int `json:"points"`
			} `json:"guidelines"`
		} `json:"items"`
	}
	getJSON(t, h.base+"/api/v1/pilots", &pilots)
	if len(pilots.Items) != 2 {
		t.Fatalf("pilots = %+v", pilots.Items)
	}
	for _, p := range pilots.Items {
		if p.Commitments != 1 || p.Guidelines.Points != 3 || (p.Actor != jal.actor() && p.Actor != mad.actor()) {
			t.Errorf("pilot %+v", p)
		}
	}

	// Live: a new commitment shows within seconds.
	start := time.Now()
	jal.create(t, 2, "Contrataciones abiertas", "open-contracting")
	eventually(t, 5*time.Second, "the new commitment in the API", func() bool {
		for _, c := range allCommitments(t, h.base, "pilot="+url.QueryEscape(jal.actor())) {
			if c.ID == jal.commitmentIRI(2) {
				return true
			}
		}
		return false
	})
	t.Logf("node publish → hub API: %v", time.Since(start).Round(time.Millisecond))

	// A progress update moves completion (Create{Note} + Update{Article}).
	ctx := context.Background()
	if _, err := jal.Service().PostUpdate(ctx, plan.ProgressUpdate{
		CommitmentID: jal.cid(2), Date: "2025-05-01",
		Text:       plan.NewText("es", "Se publicó el portal de contrataciones."),
		Completion: ogp.CompletionSubstantial,
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the update in API and export", func() bool {
		got := allCommitments(t, h.base, "completion=substantial")
		if len(got) != 1 || got[0].ID != jal.commitmentIRI(2) || got[0].Updates != 1 {
			return false
		}
		for _, row := range csvRows(t, h.base, "")[1:] {
			if row[0] == jal.commitmentIRI(2) {
				return row[19] == "substantial"
			}
		}
		return false
	})
	var one struct {
		Timeline []struct {
			Content string `json:"content"`
		} `json:"timeline"`
	}
	getJSON(t, h.base+"/api/v1/commitment?id="+url.QueryEscape(jal.commitmentIRI(2)), &one)
	if len(one.Timeline) != 1 || !strings.Contains(one.Timeline[0].Content, "portal de contrataciones") {
		t.Errorf("timeline = %+v", one.Timeline)
	}

	// Search finds the progress text a real node just federated, stemmed
	// and without its accents, in the index the pages use.
	var found struct {
		Items []struct {
			Commitment struct {
				ID string `json:"id"`
			} `json:"commitment"`
		} `json:"items"`
	}
	getJSON(t, h.base+"/api/v1/search?q="+url.QueryEscape("contratacion publico"), &found)
	if len(found.Items) != 1 || found.Items[0].Commitment.ID != jal.commitmentIRI(2) {
		t.Errorf("search for the progress text = %+v", found)
	}

	// The peers endpoint is mounted, over the index the pages use.
	var peers struct {
		Commitment string            `json:"commitment"`
		Items      []json.RawMessage `json:"items"`
	}
	getJSON(t, h.base+"/api/v1/commitment/peers?id="+url.QueryEscape(jal.commitmentIRI(1)), &peers)
	if peers.Commitment != jal.commitmentIRI(1) || peers.Items == nil {
		t.Errorf("peers = %+v", peers)
	}

	// Delete reaches the API and the exports.
	if err := mad.Service().DeleteCommitment(ctx, mad.cid(1)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the deletion in API and exports", func() bool {
		return len(allCommitments(t, h.base, "pilot="+url.QueryEscape(mad.actor()))) == 0 &&
			len(csvRows(t, h.base, "pilot="+url.QueryEscape(mad.actor()))) == 1
	})

	// Export totals equal what the nodes' outboxes hold.
	for _, n := range []*testNode{jal, mad} {
		want := liveInOutbox(t, n.Federation().OutboxID())
		rows := csvRows(t, h.base, "pilot="+url.QueryEscape(n.actor()))[1:]
		var exp struct {
			Items []apiCommitment `json:"items"`
			Total int             `json:"total"`
		}
		getJSON(t, h.base+"/exports/commitments.json?pilot="+url.QueryEscape(n.actor()), &exp)
		if len(rows) != len(want) || exp.Total != len(want) || len(exp.Items) != len(want) {
			t.Errorf("%s: csv %d rows, json %d, outbox holds %d", n.slug, len(rows), exp.Total, len(want))
		}
		for _, r := range rows {
			if !want[r[0]] {
				t.Errorf("%s: exported %s is not live in the outbox", n.slug, r[0])
			}
		}
	}

	// Adding a member again changes nothing; suspending hides it (history
	// kept), resuming shows it again.
	if m, err := h.AddMember(ctx, jal.actor()); err != nil || m.State != members.StateActive {
		t.Fatalf("re-add: %+v %v", m, err)
	}
	if _, err := h.Members().Suspend(ctx, mad.actor()); err != nil {
		t.Fatal(err)
	}
	getJSON(t, h.base+"/api/v1/pilots", &pilots)
	if len(pilots.Items) != 1 || pilots.Items[0].Actor != jal.actor() {
		t.Errorf("after suspend: %+v", pilots.Items)
	}
	if m, _ := h.AddMember(ctx, mad.actor()); m.State != members.StateSuspended {
		t.Errorf("AddMember overrode a staff suspension: %+v", m)
	}
	list, err := h.Members().List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("members %v %v", list, err)
	}
	for _, m := range list {
		if m.Actor == mad.actor() && (m.FollowState != members.FollowNone || m.Health(time.Now()) != "suspended") {
			t.Errorf("suspended member %+v", m)
		}
		if m.Actor == jal.actor() && (m.LastDelivery.IsZero() || m.Health(time.Now()) != "ok") {
			t.Errorf("active member %+v health %s", m, m.Health(time.Now()))
		}
	}
	if _, err := h.Members().Resume(ctx, mad.actor()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "resumed pilot visible and followed", func() bool {
		getJSON(t, h.base+"/api/v1/pilots", &pilots)
		f, err := h.Federation().FollowingOf(ctx, mad.actor())
		return len(pilots.Items) == 2 && err == nil && f.State == federation.FollowAccepted
	})

	// Feeds: global, per pilot and per theme, with the live objects.
	code, feed, hdr := getBody(t, h.base+"/feed.atom")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/atom+xml") ||
		!strings.Contains(feed, jal.commitmentIRI(2)) || strings.Contains(feed, mad.commitmentIRI(1)) {
		t.Errorf("global feed: %d %s\n%s", code, hdr.Get("Content-Type"), feed)
	}
	_, feed, _ = getBody(t, h.base+"/feed.atom?theme=open-data")
	if !strings.Contains(feed, jal.commitmentIRI(1)) || strings.Contains(feed, jal.commitmentIRI(2)) {
		t.Errorf("theme feed:\n%s", feed)
	}
	_, feed, _ = getBody(t, h.base+"/feed.atom?pilot="+url.QueryEscape(mad.actor()))
	if strings.Contains(feed, jal.commitmentIRI(1)) || !strings.Contains(feed, "<feed") {
		t.Errorf("pilot feed:\n%s", feed)
	}
}

// TestHubCatchesUpAfterDowntime: the hub is stopped while a node publishes;
// restarted on the same database it rebuilds its read model from the store
// and backfills what it missed, well before the node's delivery retry.
func TestHubCatchesUpAfterDowntime(t *testing.T) {
	n := startNode(t, "ontario")
	n.seedPlan(t)
	n.create(t, 1, "Open contracting", "open-contracting")
	db := storetest.DB(t)
	h := startHub(t, db, "")
	join(t, h, n)
	eventually(t, 15*time.Second, "first backfill", func() bool { return len(allCommitments(t, h.base, "")) == 1 })

	addr := h.addr
	h.stop()
	n.create(t, 2, "Beneficial ownership", "beneficial-ownership")
	n.create(t, 3, "Open parliament", "legislature")
	if err := n.Service().DeleteCommitment(context.Background(), n.cid(1)); err != nil {
		t.Fatal(err)
	}
	// A withdrawn id reused: the backfill meets the re-creation before the
	// Delete (newest first) and must keep it.
	if err := n.Service().DeleteCommitment(context.Background(), n.cid(2)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	n.create(t, 2, "Beneficial ownership, again", "beneficial-ownership")

	h2 := startHub(t, db, addr)
	// Straight after New: the read model was rebuilt from the store.
	if got := len(h2.ReadModel().Pilots()); got != 1 {
		t.Fatalf("after restart: %d pilots in the read model", got)
	}
	if _, ok := h2.ReadModel().Commitment(n.commitmentIRI(1)); !ok {
		t.Fatal("after restart: stored commitment missing from the rebuilt read model")
	}
	start := time.Now()
	eventually(t, 8*time.Second, "catch-up by backfill", func() bool {
		got := allCommitments(t, h2.base, "")
		return len(got) == 2 && got[0].ID == n.commitmentIRI(2) && got[1].ID == n.commitmentIRI(3) &&
			strings.HasSuffix(got[0].Name, "Beneficial ownership, again")
	})
	t.Logf("caught up %v after restart", time.Since(start).Round(time.Millisecond))
	m, ok := h2.Members().Get(n.actor())
	if !ok || m.LastBackfill.IsZero() || m.BackfillError != "" {
		t.Errorf("member after backfill: %+v", m)
	}
}

// TestGroupAnnouncesOnce: a plain fediverse account follows the hub's Group
// and gets one Announce{object: node object IRI} per new object, never a
// second one for the same object (updates, redelivery, backfill). Edits
// reach it as Announces of the Update activity, not as second boosts.
func TestGroupAnnouncesOnce(t *testing.T) {
	n := startNode(t, "seoul")
	n.seedPlan(t) // history: backfilled, not announced
	h := startHub(t, storetest.DB(t), "")
	join(t, h, n)
	f := startFollower(t, "fan")
	followHub(t, f, h, n)
	ctx := context.Background()

	n.create(t, 1, "Open budgets", "fiscal-openness")
	if _, err := n.Service().PostUpdate(ctx, plan.ProgressUpdate{CommitmentID: n.cid(1), Date: "2025-01-10",
		Text: plan.NewText("es", "Avance"), Completion: ogp.CompletionSubstantial}); err != nil {
		t.Fatal(err)
	}
	c := n.commitment(1, "Open budgets, revised", "fiscal-openness")
	c.Completion = ogp.CompletionSubstantial
	if _, err := n.Service().UpdateCommitment(ctx, c); err != nil {
		t.Fatal(err)
	}
	// A backfill re-reads every activity: nothing may be announced again.
	if err := h.Backfill(ctx); err != nil {
		t.Fatal(err)
	}

	seen := map[string]int{}
	deadline := time.After(4 * time.Second)
	for done := false; !done; {
		select {
		case in := <-f.got:
			if in.Actor != h.Federation().ActorID() {
				t.Errorf("Announce from %s", in.Actor)
			}
			if a := openAnnounce(t, in); a.IRI != "" {
				seen[a.IRI]++ // a boost; relayed edits are TestFollowerOfTheHubSeesEditsAndRemovals's
			}
		case <-deadline:
			done = true
		}
	}
	want := []string{n.commitmentIRI(1)}
	if len(seen) != 2 {
		t.Errorf("announced %v, want the commitment and its progress update", seen)
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("%s announced %d times", id, seen[id])
		}
	}
	for id, k := range seen {
		if k != 1 || !strings.HasPrefix(id, n.base) {
			t.Errorf("announce of %s ×%d", id, k)
		}
	}
	if seen[ogp.NewIRIs(n.base, n.slug).Plan("2024-2026")] != 0 {
		t.Error("history (the plan) was announced")
	}
}

// TestHostileNodeIsNeutralised: a third-party server (a plain
// federation.Server, as any other implementation could be) publishes a
// commitment full of hostile HTML; what the hub serves is sanitised. Its
// objects about another host, and a non-member's objects, are not stored.
func TestHostileNodeIsNeutralised(t *testing.T) {
	ln, base := listen(t, "rogue", "")
	rogue, err := federation.New(context.Background(), federation.Config{
		BaseURL: base, Username: "rogue", ActorType: "Organization", DB: storetest.DB(t), Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEcho()
	rogue.Register(e)
	serve(t, ln, e, rogue.Run)
	stranger := startFollower(t, "stranger")

	h := startHub(t, storetest.DB(t), "")
	ctx := context.Background()
	if _, err := h.AddMember(ctx, rogue.ActorID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "follow accepted", func() bool {
		f, err := h.Federation().FollowingOf(ctx, rogue.ActorID())
		return err == nil && f.State == federation.FollowAccepted
	})

	iris := ogp.NewIRIs(base, "rogue")
	evil := ogp.Commitment{
		Post: ogp.Post{
			ID:           iris.Commitment("ROG0001"),
			Type:         ogp.TypeCommitment,
			AttributedTo: rogue.ActorID(),
			URL:          iris.Commitment("ROG0001"),
			Name:         `<img src=x onerror=alert(1)>Evil`,
			Summary:      `<p onclick="steal()">Fine <script>alert(1)</script><a href="javascript:alert(1)">x</a><a href="https://ok.example/">ok</a></p>`,
			Content:      `<iframe src="https://evil.example"></iframe><style>body{}</style><p>text</p>`,
			Published:    time.Now().UTC().Add(-time.Minute),
			To:           []string{ogp.Public},
			CC:           []string{rogue.FollowersID()},
		},
		Identifier: "ROG0001", ActionPlan: iris.Plan("2024-2026"),
		Completion: ogp.CompletionLimited, PolicyAreas: []string{"open-data"}, Taxonomy: "ogpnet-2026.1",
	}
	publish := func(s *federation.Server, obj any) {
		t.Helper()
		body, err := ogp.NewActivity(ogp.ActivityCreate, s.NewActivityID(), s.ActorID(), obj,
			[]string{ogp.Public}, []string{s.FollowersID()}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Publish(ctx, body); err != nil {
			t.Fatal(err)
		}
	}
	publish(rogue, evil)
	// A commitment claiming to live on another host, attributed to rogue.
	foreign := evil
	foreign.ID, foreign.URL, foreign.Identifier = "http://victim.localhost:1/commitments/VIC0001", "", "VIC0001"
	// ogp.NewActivity refuses to build that, so it is written by hand.
	raw, _ := json.Marshal(map[string]any{"@context": ogp.JSONLDContext(), "id": rogue.NewActivityID(), "type": "Create",
		"actor": rogue.ActorID(), "object": foreign, "to": []string{ogp.Public}})
	if err := rogue.Publish(ctx, raw); err != nil {
		t.Fatal(err)
	}
	// A non-member delivering straight to the hub's inbox.
	if _, err := stranger.Follow(ctx, h.Federation().ActorID()); err != nil {
		t.Fatal(err)
	}
	sIRIs := ogp.NewIRIs(stranger.base, "alice")
	spam := evil
	spam.ID, spam.URL, spam.AttributedTo, spam.Identifier = sIRIs.Commitment("SPA0001"), "", stranger.ActorID(), "SPA0001"
	spam.ActionPlan = sIRIs.Plan("x")
	eventually(t, 10*time.Second, "stranger follows hub", func() bool {
		fo, err := stranger.FollowingOf(ctx, h.Federation().ActorID())
		return err == nil && fo.State == federation.FollowAccepted
	})
	publish(stranger.Server, spam)

	var got []apiCommitment
	eventually(t, 5*time.Second, "the hostile commitment", func() bool {
		got = allCommitments(t, h.base, "")
		return len(got) >= 1
	})
	time.Sleep(500 * time.Millisecond) // let the other two deliveries land (they must not be stored)
	got = allCommitments(t, h.base, "")
	if len(got) != 1 || got[0].ID != evil.ID {
		t.Fatalf("stored %+v, want only the member's own commitment", got)
	}
	for _, s := range []string{got[0].Summary, got[0].Content} {
		low := strings.ToLower(s)
		for _, bad := range []string{"<script", "onclick", "javascript:", "<iframe", "<style", "onerror"} {
			if strings.Contains(low, bad) {
				t.Errorf("served HTML contains %q: %s", bad, s)
			}
		}
	}
	if !strings.Contains(got[0].Summary, `href="https://ok.example/"`) {
		t.Errorf("safe link lost: %s", got[0].Summary)
	}
	// The feed and exports carry the sanitised text too.
	_, feed, _ := getBody(t, h.base+"/feed.atom")
	if strings.Contains(feed, "&lt;script") || strings.Contains(feed, "<script") {
		t.Errorf("feed carries a script:\n%s", feed)
	}
	rows := csvRows(t, h.base, "")
	if len(rows) != 2 || strings.Contains(rows[1][35], "alert") {
		t.Errorf("csv: %q", rows)
	}
	if code, _, _ := getBody(t, h.base+"/api/v1/commitments?completion=bogus"); code != http.StatusBadRequest {
		t.Errorf("bad filter: %d", code)
	}
	if code, _, _ := getBody(t, h.base+"/api/v1/commitments?cursor=!!"); code != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", code)
	}
}
