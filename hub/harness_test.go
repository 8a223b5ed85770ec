package hub_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"github.com/ogpnet/ogpnet/node"
	"github.com/ogpnet/ogpnet/node/plan"
)

// Every server in these tests listens on its own loopback port under a
// *.localhost name, so federation runs in development mode and requests go
// over real HTTP, signed and verified, exactly as between machines.

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// listen opens a loopback listener (on addr when given, for restarts) and
// returns it with the base URL "http://<name>.localhost:<port>".
func listen(t *testing.T, name, addr string) (net.Listener, string) {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 { // a just-closed port may take a moment to be free again
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return ln, "http://" + name + ".localhost:" + port
}

// running is a started server; stop ends its HTTP server and background work.
type running struct {
	base, addr string
	stop       func()
}

func serve(t *testing.T, ln net.Listener, h http.Handler, run func(context.Context) error) func() {
	ctx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	done := make(chan struct{})
	go func() { defer close(done); _ = run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		sctx, c2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer c2()
		_ = srv.Shutdown(sctx)
		<-done
	}
	t.Cleanup(stop)
	return stop
}

type testNode struct {
	running
	*node.Node
	slug, prefix string
}

// startNode starts a real node.
func startNode(t *testing.T, slug string) *testNode {
	t.Helper()
	return startNodeWith(t, slug, nil)
}

// startNodeWith starts a real node whose handler is wrapped by wrap (when
// not nil), e.g. to count or slow some requests.
func startNodeWith(t *testing.T, slug string, wrap func(http.Handler) http.Handler) *testNode {
	t.Helper()
	ln, base := listen(t, slug, "")
	n, err := node.New(context.Background(), node.Config{
		BaseURL: base, Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:], Lang: "es",
		Languages: []string{"es", "en"}, DB: storetest.DB(t), Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNode{Node: n, slug: slug, prefix: strings.ToUpper(slug[:3])}
	tn.base, tn.addr = base, ln.Addr().String()
	var h http.Handler = n.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	tn.stop = serve(t, ln, h, n.Run)
	return tn
}

func (n *testNode) actor() string { return n.Federation().ActorID() }

func (n *testNode) commitmentIRI(num int) string {
	return ogp.NewIRIs(n.base, n.slug).Commitment(n.cid(num))
}

func (n *testNode) cid(num int) string { return fmt.Sprintf("%s%04d", n.prefix, num) }

// seedPlan saves the node's action plan 2024-2026.
func (n *testNode) seedPlan(t *testing.T) {
	t.Helper()
	p := plan.NewActionPlan("2024-2026")
	p.Title = plan.NewText("es", "Plan de acción "+n.slug).With("en", "Action plan "+n.slug)
	p.Jurisdiction = n.slug
	p.Period = plan.Period{Start: "2024-01-01", End: "2026-12-31"}
	p.Status = ogp.PlanImplementation
	p.Prefix = n.prefix
	p.Guidelines[0].Level = ogp.GuidelineMet
	p.Guidelines[1].Level = ogp.GuidelinePartly
	p.Participation = plan.Participation{Development: ogp.IAP2Involve}
	if _, _, err := n.Service().SavePlan(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

func (n *testNode) commitment(num int, title string, areas ...string) plan.Commitment {
	return plan.Commitment{
		ID: n.cid(num), PlanID: "2024-2026",
		Title:           plan.NewText("es", title).With("en", title+" (en)"),
		StartDate:       "2024-02-01",
		EndDate:         "2026-06-30",
		LeadInstitution: "Secretaría de Transparencia",
		Description:     plan.NewText("es", "Descripción de "+title),
		Values:          []plan.Value{ogp.ValueAccessToInformation},
		PolicyAreas:     areas,
		Milestones: []plan.Milestone{
			{ID: "1", Title: plan.NewText("es", "Primera etapa"), Start: "2024-02-01", End: "2024-12-31", Status: ogp.MilestoneComplete, CompletedOn: "2024-11-30"},
			{ID: "2", Title: plan.NewText("es", "Segunda etapa"), Start: "2025-01-01", End: "2025-03-31", Status: ogp.MilestoneInProgress},
		},
		Completion: ogp.CompletionLimited,
	}
}

func (n *testNode) create(t *testing.T, num int, title string, areas ...string) {
	t.Helper()
	if _, err := n.Service().CreateCommitment(context.Background(), n.commitment(num, title, areas...)); err != nil {
		t.Fatal(err)
	}
}

type testHub struct {
	running
	*hub.Hub
	db *mongo.Database
}

// startHub starts a hub on db (restart: same db and addr).
func startHub(t *testing.T, db *mongo.Database, addr string) *testHub {
	t.Helper()
	ln, base := listen(t, "hub", addr)
	h, err := hub.New(context.Background(), hub.Config{
		BaseURL: base, Name: "Test hub", DB: db, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	th := &testHub{Hub: h, db: db}
	th.base, th.addr = base, ln.Addr().String()
	// Tagging: the store-read guard tells the commands serving requests
	// from the background loops' (storeguard_test.go).
	th.stop = serve(t, ln, storetest.Tagging(h.Handler()), h.Run)
	return th
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getJSON fetches url and decodes JSON into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	fetchJSON(t, http.DefaultClient, url, "", v)
}

// fetchJSON GETs url with client (asking for accept, when set), fails t
// unless the answer is 200, and decodes the JSON body into v.
func fetchJSON(t *testing.T, client *http.Client, url, accept string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, body)
	}
}

func getBody(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url) //nolint:gosec // loopback test server
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// apiCommitment is the contract other tools rely on (docs/api-hub.md).
type apiCommitment struct {
	ID         string `json:"id"`
	Pilot      string `json:"pilot"`
	Completion string `json:"completion"`
	Name       string `json:"name"`
	Summary    string `json:"summary"`
	Content    string `json:"content"`
	Updates    int    `json:"updates"`
}

type apiPage struct {
	Items []apiCommitment `json:"items"`
	Next  *string         `json:"next"`
	Total int             `json:"total"`
}

// allCommitments pages through GET /api/v1/commitments with query q.
func allCommitments(t *testing.T, base, q string) []apiCommitment {
	t.Helper()
	var out []apiCommitment
	url := base + "/api/v1/commitments?limit=2&" + q
	for url != "" {
		var p apiPage
		getJSON(t, url, &p)
		out = append(out, p.Items...)
		url = ""
		if p.Next != nil {
			url = *p.Next
		}
	}
	return out
}

func csvRows(t *testing.T, base, q string) [][]string {
	t.Helper()
	code, body, _ := getBody(t, base+"/exports/commitments.csv?"+q)
	if code != http.StatusOK {
		t.Fatalf("csv export: %d %s", code, body)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// liveInOutbox reads a node's outbox as any third party can (unsigned GET,
// every page) and returns the commitments it holds that were not deleted.
func liveInOutbox(t *testing.T, outbox string) map[string]bool {
	t.Helper()
	created, deleted := map[string]bool{}, map[string]bool{}
	var coll struct {
		First string `json:"first"`
	}
	getJSONAP(t, outbox, &coll)
	next := coll.First
	for next != "" {
		var page struct {
			Items []json.RawMessage `json:"orderedItems"`
			Next  string            `json:"next"`
		}
		getJSONAP(t, next, &page)
		for _, raw := range page.Items {
			var a struct {
				Type   string          `json:"type"`
				Object json.RawMessage `json:"object"`
			}
			_ = json.Unmarshal(raw, &a)
			var o struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			}
			_ = json.Unmarshal(a.Object, &o)
			switch {
			case a.Type == "Create" && o.Type == ogp.TypeCommitment:
				created[o.ID] = true
			case a.Type == "Delete":
				deleted[o.ID] = true
			}
		}
		next = page.Next
	}
	for id := range deleted {
		delete(created, id)
	}
	return created
}

// getJSONAP fetches the ActivityPub document at url into v.
func getJSONAP(t *testing.T, url string, v any) {
	t.Helper()
	// The node is reached by its *.localhost name on loopback.
	fetchJSON(t, loopbackClient, url, "application/activity+json", v)
}

// loopbackClient dials every *.localhost name on 127.0.0.1, as browsers do.
var loopbackClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
	DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
	},
}}

func init() {
	// The test's plain http.Get calls go to *.localhost too.
	http.DefaultClient = loopbackClient
}

// follower is a plain fediverse account (a federation.Server with no OGP
// code) that records what it receives.
type follower struct {
	running
	*federation.Server
	got chan *federation.Activity
	// others holds Announces read from got while waiting for another.
	others []*federation.Activity
}

// announces is a follower's Inbox: it passes on the Announces (and Undos)
// it receives.
type announces struct {
	federation.IgnoreInbox
	got chan *federation.Activity
}

func (in announces) Object(_ context.Context, a *federation.Activity) error {
	if a.Type == "Announce" || a.Type == "Undo" {
		in.got <- a
	}
	return nil
}

func startFollower(t *testing.T, name string) *follower {
	t.Helper()
	ln, base := listen(t, name, "")
	got := make(chan *federation.Activity, 1000)
	s, err := federation.New(context.Background(), federation.Config{
		BaseURL: base, Username: "alice", ActorType: "Person", DB: storetest.DB(t), Logger: quietLogger(),
		Inbox: announces{got: got},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &follower{Server: s, got: got}
	f.base, f.addr = base, ln.Addr().String()
	e := newEcho()
	s.Register(e)
	f.stop = serve(t, ln, e, s.Run)
	return f
}

// followHub has f follow the hub h, which has member n, and waits until the
// hub accepted the follow and has backfilled n once: from then on, what n
// publishes reaches f only as the hub's Announces of new objects and changes.
func followHub(t *testing.T, f *follower, h *testHub, n *testNode) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.Follow(ctx, h.Federation().ActorID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the hub accepts the follower", func() bool {
		fo, err := f.FollowingOf(ctx, h.Federation().ActorID())
		return err == nil && fo.State == federation.FollowAccepted
	})
	eventually(t, 10*time.Second, "the first backfill", func() bool {
		m, _ := h.Members().Get(n.actor())
		return !m.LastBackfill.IsZero()
	})
}
