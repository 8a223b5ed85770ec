package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ogpnet/ogpnet/cmd/ogpnet/demo"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/browsertest"
)

// The budgets: the hub shows every pilot within 30 s of start (the
// tests allow 60 s for slow CI machines) and an operator's update reaches
// the hub within 10 s.
const (
	sampleDeadline   = 60 * time.Second
	federationBudget = 10 * time.Second
)

// TestDemoEndToEnd runs the whole demo (store, identity provider, 15 nodes,
// hub, real HTTP through one listener) and walks through it in Chromium the
// way a visitor and an operator would: the hub lists the 15 pilots, the
// comparison filters by theme through its form, a commitment links to its
// node, the node's operator signs in through the development OpenID
// provider and posts a progress update, and the update reaches the hub.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole demo: skipped with -short")
	}
	// browsertest.New's rules, checked before the demo starts rather than
	// after it has seeded.
	if os.Getenv("OGPNET_SKIP_BROWSER") == "1" {
		t.Skip("OGPNET_SKIP_BROWSER=1: browser tests skipped")
	}
	if err := browsertest.Available(); err != nil {
		t.Fatalf("%v (run .ci/install-chromium)", err)
	}
	started := time.Now()
	r := startDemo(t, "127.0.0.1:0", t.TempDir())
	t.Logf("demo.Start returned after %s", time.Since(started).Round(time.Millisecond))
	want := readSample(t, r.d)
	waitForSample(t, r.d, want, started)

	// The walk-through takes about a minute and the accessibility sweep after
	// it another; the deadline leaves room for a loaded CI machine.
	ctx := browsertest.New(t, browsertest.WithTimeout(8*time.Minute))
	b := &browser{t: t, ctx: ctx}
	hub := r.d.URL("hub")
	model := r.d.Hub.ReadModel()

	// 1. The hub's home page lists the 15 pilots by name.
	b.do(chromedp.Navigate(hub+"/"), chromedp.WaitVisible(`ul.pilots`))
	listed := b.strings(`Array.from(document.querySelectorAll("ul.pilots li.card h3 a")).map(a => a.textContent.trim())`)
	var names []string
	for _, p := range r.d.Pilots {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	slices.Sort(listed)
	if !slices.Equal(listed, names) {
		t.Errorf("the hub's home lists %d pilots %q, want the 15 pilots %q", len(listed), listed, names)
	}
	pilotPage := b.strings(`Array.from(document.querySelectorAll("ul.pilots li.card h3 a")).map(a => a.href)`)

	// 2. The comparison, filtered by a theme through the GET form.
	b.do(chromedp.Navigate(hub+"/compare"), chromedp.WaitVisible(`#f-theme`))
	themes := b.strings(`Array.from(document.querySelectorAll("#f-theme option")).map(o => o.value).filter(v => v)`)
	if len(themes) == 0 {
		t.Fatal("the comparison's theme select offers no theme")
	}
	theme := themes[0]
	if slices.Contains(themes, "open-data") { // shared by several pilots
		theme = "open-data"
	}
	b.do(chromedp.SetValue(`#f-theme`, theme))
	b.submit(`form.filters button[type=submit]`)
	if got := b.location().Query().Get("theme"); got != theme {
		t.Errorf("after filtering, the URL's theme is %q, want %q", got, theme)
	}
	type row struct {
		ID     string   `json:"id"`
		Themes []string `json:"themes"` // from each theme link's ?theme=
	}
	var rows []row
	b.eval(`Array.from(document.querySelectorAll("table.commitments tbody tr")).map(tr => ({
		id: (tr.querySelector("input[name=c]") || {}).value || "",
		themes: Array.from(tr.querySelectorAll("td a[href*='theme=']")).map(a => new URL(a.href).searchParams.get("theme")),
	}))`, &rows)
	if len(rows) == 0 {
		t.Fatalf("filtering by %q lists no commitment", theme)
	}
	var gotIDs []string
	for _, rw := range rows {
		gotIDs = append(gotIDs, rw.ID)
		if !slices.ContainsFunc(rw.Themes, func(s string) bool { return strings.EqualFold(s, theme) }) {
			t.Errorf("filtered by %q, the list shows %s with themes %q", theme, rw.ID, rw.Themes)
		}
	}
	var wantIDs []string
	model.Each(func(c readmodel.Commitment) bool {
		if slices.ContainsFunc(c.Themes, func(s string) bool { return strings.EqualFold(s, theme) }) {
			wantIDs = append(wantIDs, c.ID)
		}
		return true
	})
	slices.Sort(gotIDs)
	slices.Sort(wantIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("filtered by %q, the list shows %d commitments %q; the hub holds %d with that theme %q",
			theme, len(gotIDs), gotIDs, len(wantIDs), wantIDs)
	}
	if got := b.text(`.result-count`); !strings.Contains(got, fmt.Sprint(len(wantIDs))) {
		t.Errorf("result count %q does not say %d", got, len(wantIDs))
	}
	t.Logf("theme %q: %d commitments listed", theme, len(rows))

	// 3. A commitment's hub page links to the original on its node.
	pick := rows[0]
	c, ok := model.Commitment(pick.ID)
	if !ok {
		t.Fatalf("the hub's model lacks %s", pick.ID)
	}
	slug := slugOf(t, r.d, c.Pilot)
	// The list is folded on the comparison page: unfold it, then follow
	// the first commitment to its readable hub address.
	b.do(chromedp.Click(`#commitments > summary`), chromedp.WaitVisible(`table.commitments`))
	b.submit(`table.commitments tbody tr:first-child th a`)
	b.do(chromedp.WaitVisible(`a.original`))
	if u, key := b.location(), c.ID[strings.LastIndex(c.ID, "/")+1:]; !strings.HasPrefix(u.Path, "/pilots/") || !strings.HasSuffix(u.Path, "/commitments/"+key) {
		t.Errorf("the commitment link led to %s, want /pilots/<pilot>/commitments/%s", u, key)
	}
	if h1 := b.text(`h1`); !strings.Contains(h1, c.Identifier) {
		t.Errorf("the hub's commitment page is titled %q, want %s", h1, c.Identifier)
	}
	b.submit(`.status-line a.original`)
	nodeBase, _ := url.Parse(r.d.URL(slug))
	if u := b.location(); u.Host != nodeBase.Host {
		t.Fatalf("following the link to the original, the browser is at %s, want host %s", u, nodeBase.Host)
	}
	b.do(chromedp.WaitVisible(`article.commitment h1`))
	if got := b.text(`article.commitment h1 .ident`); got != c.Identifier {
		t.Errorf("the node's page shows commitment %q, want %q", got, c.Identifier)
	}
	if h1 := b.text(`article.commitment h1`); c.Identifier == "" || !strings.Contains(h1, c.Identifier) {
		t.Errorf("the node's page heading is %q", h1)
	}

	// 4. The node's operator signs in through the development provider and
	// posts a progress update through the form.
	form := r.d.URL(slug) + "/admin/commitments/" + url.PathEscape(c.Identifier) + "/updates/new"
	b.do(chromedp.Navigate(form), chromedp.WaitVisible(`#username`))
	loginBase, _ := url.Parse(r.d.URL("login"))
	if u := b.location(); u.Host != loginBase.Host {
		t.Errorf("the progress form sent an anonymous visitor to %s, want the login page at %s", u, loginBase.Host)
	}
	user, password := demo.OperatorLogin(slug)
	b.do(chromedp.SendKeys(`#username`, user), chromedp.SendKeys(`#password`, password))
	b.submit(`button[type=submit]`)
	b.do(chromedp.WaitVisible(`#update-form`))
	if u := b.location(); u.Host != nodeBase.Host || !strings.HasSuffix(u.Path, "/updates/new") {
		t.Fatalf("after signing in, the browser is at %s, want the progress form", u)
	}
	unique := fmt.Sprintf("End-to-end check %d: the monitoring committee met.", time.Now().UnixNano())
	// Every language's text box gets the sentence, so the hub shows it
	// whichever language it picks.
	b.eval(`(() => { const ts = document.querySelectorAll("#update-form textarea[id^=text_]");
		ts.forEach(t => { t.value = `+jsString(unique)+`; }); return ts.length; })()`, new(int))
	posted := time.Now()
	b.submit(`#update-form button[type=submit]`)
	b.do(chromedp.WaitVisible(`#timeline`))
	if tl := b.text(`#timeline`); !strings.Contains(tl, unique) {
		t.Fatalf("after posting, the node's timeline lacks the update: %q", tl)
	}
	if u := b.location(); u.Host != nodeBase.Host || !strings.HasPrefix(u.Path, "/commitments/") {
		t.Errorf("after posting, the browser is at %s", u)
	}

	// 5. The update reaches the hub's page for the commitment.
	page := hub + "/commitment?id=" + url.QueryEscape(c.ID)
	var arrived time.Duration
	for {
		status, body := r.get(t, page)
		if status == http.StatusOK && strings.Contains(body, unique) {
			arrived = time.Since(posted)
			break
		}
		if time.Since(posted) > 3*federationBudget {
			t.Fatalf("the update did not reach the hub's commitment page within %s", 3*federationBudget)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the operator's update reached the hub %s after the form was submitted", arrived.Round(time.Millisecond))
	if arrived > federationBudget {
		t.Errorf("the update took %s to reach the hub, want within %s", arrived.Round(time.Millisecond), federationBudget)
	}
	b.do(chromedp.Navigate(page), chromedp.WaitVisible(`ol.timeline`))
	if tl := b.text(`ol.timeline`); !strings.Contains(tl, unique) {
		t.Errorf("the hub's commitment page in the browser lacks the update: %q", tl)
	}

	// 6. The banner's addresses answer, and every page kind passes axe.
	checkBannerLinks(t, r)
	checkAccessibility(t, r, b, slug, []string{pilotPage[0], page, hub + "/discussion", hub + "/staff/discussion"})

	// 7. The sample's cross-pilot questions and answers, made through the
	// nodes' API, are on the hub's discussion page.
	deadline := time.Now().Add(2 * time.Minute)
	for r.d.Hub.Discussion().FiguresOf(nil).Answered < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("the sample conversations did not reach the hub: %+v", r.d.Hub.Discussion().FiguresOf(nil))
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.do(chromedp.Navigate(hub+"/discussion"), chromedp.WaitVisible(`section.learning`))
	if got := b.text(`ol.thread.recent`); !strings.Contains(got, "(illustrative)") {
		t.Errorf("the hub's discussion page lacks the illustrative sample threads: %q", got)
	}
}

// TestDemoRestartKeepsData stops a demo and starts it again on the same data
// folder and address: the sample is not imported twice (the same
// commitments and updates, on the nodes and on the hub), the tokens file is
// kept, and its tokens still authorize API writes.
func TestDemoRestartKeepsData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole demo twice: skipped with -short")
	}
	// Base URLs carry the port, so every IRI depends on it: both runs use
	// one fixed free port, as `make demo` does with 8080.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()

	started := time.Now()
	r1 := startDemo(t, addr, dir)
	want := readSample(t, r1.d)
	waitForSample(t, r1.d, want, started)
	r1.waitBanner(t)
	nodes1 := r1.nodeContent(t)
	for slug, nc := range nodes1 {
		if len(nc.Commitments) != want[slug].Commitments || nc.Updates() != want[slug].Updates {
			t.Errorf("first run: node %s holds %d commitments and %d updates, the sample has %d and %d",
				slug, len(nc.Commitments), nc.Updates(), want[slug].Commitments, want[slug].Updates)
		}
	}
	hub1 := hubCounts(r1.d)
	tokens1, err := os.ReadFile(r1.d.TokensFile())
	if err != nil {
		t.Fatalf("tokens file after the first run: %v", err)
	}
	stopped := time.Now()
	r1.stop(t)
	t.Logf("first run stopped in %s", time.Since(stopped).Round(time.Millisecond))

	restarted := time.Now()
	r2 := startDemo(t, addr, dir)
	t.Logf("second demo.Start returned after %s", time.Since(restarted).Round(time.Millisecond))
	waitForSample(t, r2.d, want, restarted)
	r2.waitBanner(t) // seeding (skipped or not) and the tokens file are done
	t.Logf("restart: ready (seeding checked, tokens kept) %s after Start", time.Since(restarted).Round(time.Millisecond))

	nodes2 := r2.nodeContent(t)
	for _, p := range r2.d.Pilots {
		a, b := nodes1[p.Slug], nodes2[p.Slug]
		if !slices.Equal(a.Commitments, b.Commitments) || !equalUpdates(a.UpdateIDs, b.UpdateIDs) {
			t.Errorf("node %s after restart: commitments %q updates %d, before %q updates %d",
				p.Slug, b.Commitments, b.Updates(), a.Commitments, a.Updates())
		}
	}
	if hub2 := hubCounts(r2.d); !mapsEqual(hub1, hub2) {
		t.Errorf("hub per-pilot counts changed across the restart:\nbefore %v\nafter  %v", hub1, hub2)
	}
	tokens2, err := os.ReadFile(r2.d.TokensFile())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tokens1, tokens2) {
		t.Errorf("the tokens file changed across the restart:\nbefore %s\nafter  %s", tokens1, tokens2)
	}

	// A token from the kept file still writes through the node's API.
	var tokens map[string]string
	if err := json.Unmarshal(tokens2, &tokens); err != nil {
		t.Fatalf("tokens file: %v", err)
	}
	if len(tokens) != len(r2.d.Pilots) {
		t.Errorf("tokens file has %d tokens, want one per pilot (%d)", len(tokens), len(r2.d.Pilots))
	}
	slug := r2.d.Pilots[0].Slug
	tok := tokens[slug]
	if tok == "" {
		t.Fatalf("no token for %s in %s", slug, tokens2)
	}
	cid := nodes2[slug].Commitments[0]
	api := r2.d.URL(slug) + "/api/v1/commitments/" + url.PathEscape(cid) + "/updates"
	note := fmt.Sprintf("Written with a kept demo token (%d).", time.Now().UnixNano())
	body := `{"text":{"en":"` + note + `","` + r2.d.Pilots[0].Lang + `":"` + note + `"}}`
	if status, resp := r2.send(t, http.MethodPost, api, body, "Bearer not-a-token"); status != http.StatusUnauthorized {
		t.Errorf("POST with a bogus token: %d %s, want 401", status, resp)
	}
	posted := time.Now()
	status, resp := r2.send(t, http.MethodPost, api, body, "Bearer "+tok)
	if status != http.StatusCreated {
		t.Fatalf("POST with the kept token of %s: %d %s, want 201", slug, status, resp)
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(resp), &created); err != nil || created.ID == "" {
		t.Fatalf("POST answer without the update's id: %s", resp)
	}
	if n := len(r2.nodeContent(t)[slug].UpdateIDs[cid]); n != len(nodes2[slug].UpdateIDs[cid])+1 {
		t.Errorf("after the token write, %s has %d updates, want %d", cid, n, len(nodes2[slug].UpdateIDs[cid])+1)
	}
	// The restarted node still federates: its keys and the hub's follow
	// survived, so the update reaches the hub.
	actor := r2.d.Nodes[slug].Federation().ActorID()
	for {
		if hubHasUpdate(r2.d, actor, cid, note) {
			t.Logf("after the restart, an API update reached the hub in %s", time.Since(posted).Round(time.Millisecond))
			break
		}
		if time.Since(posted) > federationBudget {
			t.Fatalf("after the restart, an update on %s did not reach the hub within %s", slug, federationBudget)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// An edit and then a removal of that update reach the hub too (Update
	// and Delete of the Note), through the same federation path.
	edited := note + " (edited)"
	editBody := `{"text":{"en":"` + edited + `","` + r2.d.Pilots[0].Lang + `":"` + edited + `"}}`
	if status, resp := r2.send(t, http.MethodPut, api+"/"+url.PathEscape(created.ID), editBody, "Bearer "+tok); status != http.StatusOK {
		t.Fatalf("PUT of the update: %d %s", status, resp)
	}
	waitHub(t, "the edit", func() bool { return hubHasUpdate(r2.d, actor, cid, edited) })
	if status, resp := r2.send(t, http.MethodDelete, api+"/"+url.PathEscape(created.ID), "", "Bearer "+tok); status != http.StatusNoContent {
		t.Fatalf("DELETE of the update: %d %s", status, resp)
	}
	waitHub(t, "the removal", func() bool { return !hubHasUpdate(r2.d, actor, cid, note) })

	// The same data on another port would change every IRI (the hub would
	// list each pilot twice): Start refuses it and says how to proceed.
	r2.stop(t)
	d, err := demo.Start(context.Background(), demo.Options{Addr: "127.0.0.1:0", DataDir: dir, Out: io.Discard,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		d.Close()
		t.Fatal("demo.Start served the data folder on another port")
	}
	if _, port, _ := net.SplitHostPort(addr); !strings.Contains(err.Error(), "--addr 127.0.0.1:"+port) {
		t.Errorf("demo.Start on another port: %v (want a hint to use port %s)", err, port)
	}
}

// run is one demo running in the background.
type run struct {
	d      *demo.Demo
	addr   string // the listener, where every *.localhost request is sent
	cancel context.CancelFunc
	done   chan error
	out    *syncBuffer // the start-up banner
	log    *syncBuffer // warnings and errors
	http   *http.Client
	once   sync.Once
}

// startDemo starts a demo on addr with data in dir and runs it in the
// background; the test's cleanup stops it.
func startDemo(t *testing.T, addr, dir string) *run {
	t.Helper()
	r := &run{done: make(chan error, 1), out: &syncBuffer{}, log: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := demo.Start(context.Background(), demo.Options{Addr: addr, DataDir: dir, Out: r.out, Logger: logger, Version: "test"})
	if err != nil {
		t.Fatalf("demo.Start: %v", err)
	}
	r.d = d
	r.addr = net.JoinHostPort("127.0.0.1", d.Port)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	r.http = &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, r.addr)
			},
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(func() {
		r.stop(t)
		if t.Failed() {
			if s := r.log.String(); s != "" {
				t.Logf("demo log (warnings and errors):\n%s", s)
			}
		}
	})
	return r
}

// stop cancels Run, waits for it to return and closes the demo (once).
func (r *run) stop(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("demo Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("demo Run did not return within 30 s of its context ending")
		}
		r.d.Close()
		r.http.CloseIdleConnections()
	})
}

// waitBanner waits until Run has seeded, followed every node, written the
// tokens file and printed its banner.
func (r *run) waitBanner(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(sampleDeadline)
	for !strings.Contains(r.out.String(), "Press Ctrl-C") {
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("demo Run returned before its set-up finished: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo Run did not finish its set-up within %s", sampleDeadline)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do sends one request through the demo's listener and returns the
// answer's status and body.
func (r *run) do(t *testing.T, method, u, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// get fetches a page as a browser would.
func (r *run) get(t *testing.T, u string) (int, string) {
	t.Helper()
	return r.do(t, http.MethodGet, u, "", map[string]string{"Accept": "text/html, application/json"})
}

// getJSON fetches u from the JSON API and decodes the answer into v.
func (r *run) getJSON(t *testing.T, u string, v any) {
	t.Helper()
	status, body := r.do(t, http.MethodGet, u, "", map[string]string{"Accept": "application/json"})
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, status, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v in %s", u, err, body)
	}
}

// send writes JSON to the API with the given Authorization header.
func (r *run) send(t *testing.T, method, u, body, authorization string) (int, string) {
	t.Helper()
	return r.do(t, method, u, body, map[string]string{
		"Content-Type": "application/json", "Accept": "application/json", "Authorization": authorization,
	})
}

// waitHub polls cond for up to the federation budget.
func waitHub(t *testing.T, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > federationBudget {
			t.Fatalf("%s did not reach the hub within %s", what, federationBudget)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%s reached the hub in %s", what, time.Since(start).Round(time.Millisecond))
}

// nodeContent is what a node's API lists: commitment ids, and update ids
// per commitment (sorted).
type nodeContent struct {
	Commitments []string
	UpdateIDs   map[string][]string
}

func (n nodeContent) Updates() int {
	total := 0
	for _, ids := range n.UpdateIDs {
		total += len(ids)
	}
	return total
}

// nodeContent reads every node's commitments and progress updates through
// its public API.
func (r *run) nodeContent(t *testing.T) map[string]nodeContent {
	t.Helper()
	out := map[string]nodeContent{}
	for _, p := range r.d.Pilots {
		base := r.d.URL(p.Slug) + "/api/v1/commitments"
		var list struct {
			Commitments []struct {
				ID string `json:"id"`
			} `json:"commitments"`
		}
		r.getJSON(t, base, &list)
		nc := nodeContent{UpdateIDs: map[string][]string{}}
		for _, c := range list.Commitments {
			nc.Commitments = append(nc.Commitments, c.ID)
			var ups struct {
				Updates []struct {
					ID string `json:"id"`
				} `json:"updates"`
			}
			r.getJSON(t, base+"/"+url.PathEscape(c.ID)+"/updates", &ups)
			ids := []string{}
			for _, u := range ups.Updates {
				ids = append(ids, u.ID)
			}
			slices.Sort(ids)
			nc.UpdateIDs[c.ID] = ids
		}
		slices.Sort(nc.Commitments)
		out[p.Slug] = nc
	}
	return out
}

func equalUpdates(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// counts is a pilot's commitments and progress updates.
type counts struct{ Commitments, Updates int }

// readSample counts each pilot's commitments and updates in the sample
// files beside this test (the ones the demo embeds).
func readSample(t *testing.T, d *demo.Demo) map[string]counts {
	t.Helper()
	out := map[string]counts{}
	for _, p := range d.Pilots {
		raw, err := os.ReadFile(filepath.Join("data", p.Slug+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Commitments     []json.RawMessage `json:"commitments"`
			ProgressUpdates []json.RawMessage `json:"progressUpdates"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("data/%s.json: %v", p.Slug, err)
		}
		out[p.Slug] = counts{len(s.Commitments), len(s.ProgressUpdates)}
	}
	if len(out) != 15 {
		t.Fatalf("the demo has %d pilots, want 15", len(out))
	}
	return out
}

// hubCounts is what the hub's read model holds per pilot, by actor IRI.
func hubCounts(d *demo.Demo) map[string]counts {
	out := map[string]counts{}
	for _, p := range d.Hub.ReadModel().Pilots() {
		out[p.Actor] = counts{p.Summary.Commitments, p.Summary.Updates}
	}
	return out
}

func mapsEqual(a, b map[string]counts) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// waitForSample waits until the hub lists the 15 pilots and then holds
// every pilot's whole sample (commitments and updates), logging how long
// each took since start.
func waitForSample(t *testing.T, d *demo.Demo, want map[string]counts, start time.Time) {
	t.Helper()
	actors := map[string]string{} // actor IRI → slug
	for _, p := range d.Pilots {
		actors[d.Nodes[p.Slug].Federation().ActorID()] = p.Slug
	}
	deadline := start.Add(sampleDeadline)
	var allPilots time.Duration
	for {
		pilots := d.Hub.ReadModel().Pilots()
		complete := 0
		for _, p := range pilots {
			if slug, ok := actors[p.Actor]; ok && (counts{p.Summary.Commitments, p.Summary.Updates}) == want[slug] {
				complete++
			}
		}
		if allPilots == 0 && len(pilots) >= len(want) {
			allPilots = time.Since(start)
			t.Logf("the hub shows %d pilots %s after start", len(pilots), allPilots.Round(time.Millisecond))
		}
		if len(pilots) == len(want) && complete == len(want) {
			t.Logf("the hub holds every pilot's whole sample %s after start", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			got := map[string]counts{}
			for _, p := range pilots {
				got[actors[p.Actor]] = counts{p.Summary.Commitments, p.Summary.Updates}
			}
			t.Fatalf("after %s the hub shows %d pilots (%d complete): %v, want %v", sampleDeadline, len(pilots), complete, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hubHasUpdate reports whether the hub's model shows text in the timeline
// of the pilot's commitment with identifier id.
func hubHasUpdate(d *demo.Demo, actor, id, text string) bool {
	found := false
	d.Hub.ReadModel().Each(func(c readmodel.Commitment) bool {
		if c.Pilot != actor || c.Identifier != id {
			return true
		}
		for _, u := range d.Hub.ReadModel().Timeline(c.ID) {
			if strings.Contains(string(u.ContentHTML.In("en")), text) {
				found = true
			}
		}
		return false
	})
	return found
}

func slugOf(t *testing.T, d *demo.Demo, actor string) string {
	t.Helper()
	for slug, n := range d.Nodes {
		if n.Federation().ActorID() == actor {
			return slug
		}
	}
	t.Fatalf("no demo node has actor %s", actor)
	return ""
}

// browser wraps a chromedp context with test failures.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.rawLocation())
	}
}

func (b *browser) eval(js string, v any) {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[json.RawMessage](js))
	if err != nil {
		b.t.Fatalf("browser: evaluating %.60q: %v", js, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		b.t.Fatalf("browser: result of %.60q: %v", js, err)
	}
}

func (b *browser) strings(js string) []string {
	b.t.Helper()
	var out []string
	b.eval(js, &out)
	return out
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(sel))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v (at %s)", sel, err, b.rawLocation())
	}
	return strings.TrimSpace(s)
}

func (b *browser) rawLocation() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

func (b *browser) location() *url.URL {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// submit clicks sel (a submit button or link) and waits until the next
// document has loaded: the current one is marked first, so the wait cannot
// be satisfied by the page being left.
func (b *browser) submit(sel string) {
	b.t.Helper()
	b.eval(`document.documentElement.dataset.stale = "1"; true`, new(bool))
	b.do(chromedp.Click(sel))
	for {
		done, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!document.documentElement.dataset.stale && document.readyState === "complete"`))
		if err == nil && done {
			return
		}
		if b.ctx.Err() != nil {
			b.t.Fatalf("browser: waiting for the page after clicking %s: %v", sel, b.ctx.Err())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
