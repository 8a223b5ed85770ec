package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/delivery"
	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub"
	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/node"
	"github.com/ogpnet/ogpnet/node/plan"
)

// storeChildEnv makes the test binary run `ogpnet store` (with its flags
// from OGPNET_* variables) instead of the tests: the outage test's store
// is a real child process that it kills and starts again.
const storeChildEnv = "OGPNET_TEST_STORE_CHILD"

func TestMain(m *testing.M) {
	childMain() // flags_test.go: `ogpnet <args>` as a child process
	if os.Getenv(storeChildEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := runStore(ctx, nil)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "ogpnet store:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// storeProc is `ogpnet store` running as a child process.
type storeProc struct {
	cmd  *exec.Cmd
	done chan error
}

func startStoreProc(t *testing.T, dir, addr string) *storeProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), storeChildEnv+"=1", "OGPNET_ADDR="+addr, "OGPNET_DATA="+dir,
		"OGPNET_LOG_LEVEL=error", "OGPNET_MONGO_URI=")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &storeProc{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return p
		}
		select {
		case err := <-p.done:
			t.Fatalf("ogpnet store exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("ogpnet store does not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the store the hard way (a crash, a lost machine).
func (p *storeProc) kill() {
	_ = p.cmd.Process.Kill() // an error: it has exited already
	err := <-p.done
	p.done <- err
}

// devClient resolves *.localhost to loopback, as the servers' dev mode does.
func devClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if federation.IsDevHost(host) {
				addr = net.JoinHostPort("127.0.0.1", port)
			}
			return d.DialContext(ctx, network, addr)
		}}}
}

type answer struct {
	status int
	header http.Header
	body   string
	took   time.Duration
}

func call(t *testing.T, method, url, token string, body any, accept string) answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	start := time.Now()
	resp, err := devClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b), took: time.Since(start)}
}

// inboxGate holds POSTs to the hub's inboxes while closed, and records what
// the hub answered the held ones (not those already under way).
type inboxGate struct {
	mu      sync.Mutex
	open    chan struct{}
	held    int
	answers []int
	after   []string
}

func (g *inboxGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/inbox") {
			next.ServeHTTP(w, r)
			return
		}
		g.mu.Lock()
		open := g.open
		if open != nil {
			g.held++
		}
		g.mu.Unlock()
		if open != nil {
			<-open
		}
		if open == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		g.mu.Lock()
		g.answers = append(g.answers, rec.status)
		g.after = append(g.after, w.Header().Get("Retry-After"))
		g.mu.Unlock()
	})
}

func (g *inboxGate) close() {
	g.mu.Lock()
	g.open = make(chan struct{})
	g.mu.Unlock()
}

func (g *inboxGate) release() {
	g.mu.Lock()
	close(g.open)
	g.open = nil
	g.mu.Unlock()
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

func listenDev(t *testing.T, name string) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return ln, "http://" + name + ".localhost:" + port
}

// serveBackground serves h on ln and runs run until the test ends.
func serveBackground(t *testing.T, ln net.Listener, h http.Handler, run func(context.Context) error) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = run(ctx) }()
	t.Cleanup(func() {
		cancel()
		_ = srv.Close()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("background work did not stop within 30 s")
		}
	})
}

// outageFor is how long the test keeps the store away (the 30 s,
// shortened to keep make test fast; nothing in the code depends on it).
const outageFor = 5 * time.Second

// TestStoreOutage runs `ogpnet store` as a child process under a node and a
// hub (two databases on it, through --mongo-uri), publishes, kills the
// store for a few seconds and starts it again on the same address and
// folder. While it is away: the hub's pages and API answer from memory, a
// node write answers 503 with Retry-After and says nothing was saved, the
// hub's inbox answers a signed delivery 503 so the sender retries, and
// /readyz is 503 on both. When it returns: both are ready again within
// seconds without a restart, the refused write succeeds when retried, the
// delivery the hub refused arrives from the node's queue, and every write
// acknowledged before the outage is there.
func TestStoreOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a store process and two servers")
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	proc := startStoreProc(t, dir, addr)
	uri := "mongodb://" + addr + "/"
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)

	open := func() *store.Store {
		st, err := store.Open(ctx, store.Options{URI: uri, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeStore(st) })
		return st
	}
	nst, hst := open(), open()

	nln, nbase := listenDev(t, "outnode")
	n, err := node.New(ctx, node.Config{
		BaseURL: nbase, Slug: "outnode", Name: "Outage node", Lang: "es", Languages: []string{"es", "en"},
		DB: nst.DB("ogpnet_outnode"), Logger: quiet, Version: "test",
		// A job whose outcome could not be recorded (the store went away
		// mid-attempt) waits out its lease: a short one keeps the test fast.
		Delivery: delivery.Options{Lease: 4 * time.Second, PollInterval: 100 * time.Millisecond,
			Backoff: func(int) time.Duration { return 500 * time.Millisecond }},
	})
	if err != nil {
		t.Fatal(err)
	}
	serveBackground(t, nln, n.Handler(), n.Run)

	hln, hbase := listenDev(t, "outhub")
	h, err := hub.New(ctx, hub.Config{BaseURL: hbase, Name: "Outage hub", DB: hst.DB("ogpnet_hub"), Logger: quiet, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	gate := &inboxGate{}
	serveBackground(t, hln, gate.wrap(h.Handler()), h.Run)

	token, err := n.CreateAPIToken(ctx, "outage test")
	if err != nil {
		t.Fatal(err)
	}

	// Published and acknowledged before the outage: a plan, two
	// commitments, two progress updates (over the API: 201 = stored).
	p := plan.NewActionPlan("2024-2026")
	p.Title = plan.NewText("es", "Plan de acción")
	p.Jurisdiction = "outnode"
	p.Period = plan.Period{Start: "2024-01-01", End: "2026-12-31"}
	p.Status = ogp.PlanImplementation
	p.Prefix = "OUT"
	if _, _, err := n.Service().SavePlan(ctx, p); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		c := plan.Commitment{
			ID: fmt.Sprintf("OUT%04d", i), PlanID: "2024-2026",
			Title:     plan.NewText("es", fmt.Sprintf("Compromiso %d", i)),
			StartDate: "2024-02-01", EndDate: "2026-06-30", LeadInstitution: "Secretaría",
			Description: plan.NewText("es", "Descripción"), Values: []plan.Value{ogp.ValueAccessToInformation},
			Completion: ogp.CompletionLimited,
		}
		if _, err := n.Service().CreateCommitment(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.AddMember(ctx, n.Federation().ActorID()); err != nil {
		t.Fatal(err)
	}
	commitIRI := nbase + "/commitments/OUT0001"
	waitUntil(t, 30*time.Second, "the hub to backfill both commitments", func() bool {
		_, ok1 := h.ReadModel().Commitment(commitIRI)
		_, ok2 := h.ReadModel().Commitment(nbase + "/commitments/OUT0002")
		return ok1 && ok2
	})
	updates := nbase + "/api/v1/commitments/OUT0001/updates"
	postUpdate := func(day int) answer {
		return call(t, http.MethodPost, updates, token, map[string]any{
			"date": fmt.Sprintf("2025-03-%02d", day), "text": map[string]string{"es": fmt.Sprintf("Avance del día %d", day)},
		}, "application/json")
	}
	for day := 1; day <= 2; day++ {
		if a := postUpdate(day); a.status != http.StatusCreated {
			t.Fatalf("update %d before the outage: %d %s", day, a.status, a.body)
		}
	}
	waitUntil(t, 20*time.Second, "the hub to receive both updates", func() bool {
		return len(h.ReadModel().Timeline(commitIRI)) == 2
	})

	// A third update is acknowledged, and its delivery reaches the hub's
	// inbox just as the store goes away.
	gate.close()
	if a := postUpdate(3); a.status != http.StatusCreated {
		t.Fatalf("update 3: %d %s", a.status, a.body)
	}
	waitUntil(t, 20*time.Second, "the node to deliver update 3", func() bool {
		gate.mu.Lock()
		defer gate.mu.Unlock()
		return gate.held > 0
	})

	proc.kill()
	down := time.Now()
	gate.release()
	waitUntil(t, 15*time.Second, "the hub to answer the held delivery", func() bool {
		gate.mu.Lock()
		defer gate.mu.Unlock()
		return len(gate.answers) > 0
	})
	gate.mu.Lock()
	t.Logf("held deliveries: %d, answers %v", gate.held, gate.answers)
	if gate.answers[0] != http.StatusServiceUnavailable || gate.after[0] == "" {
		t.Errorf("the hub answered a signed delivery during the outage with %d (Retry-After %q); want 503 with Retry-After",
			gate.answers[0], gate.after[0])
	}
	gate.mu.Unlock()

	// Reads from the hub's memory.
	for _, u := range []string{hbase + "/", hbase + "/api/v1/commitments"} {
		if a := call(t, http.MethodGet, u, "", nil, ""); a.status != http.StatusOK {
			t.Errorf("GET %s during the outage: %d %.200s", u, a.status, a.body)
		}
	}
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if a := call(t, http.MethodGet, hbase+"/api/v1/commitments", "", nil, "application/json"); json.Unmarshal([]byte(a.body), &page) != nil || len(page.Items) != 2 {
		t.Errorf("hub API during the outage: %d commitments (%s)", len(page.Items), a.body)
	}

	// A node write: 503, Retry-After, a message that says what happened.
	w := postUpdate(4)
	t.Logf("time to 503 for a node write with the store gone: %v", w.took.Round(time.Millisecond))
	if w.status != http.StatusServiceUnavailable || w.header.Get("Retry-After") == "" ||
		!strings.Contains(w.body, "data store is temporarily unavailable: nothing was saved") {
		t.Errorf("node write during the outage: %d Retry-After %q %s", w.status, w.header.Get("Retry-After"), w.body)
	}
	if w.took > store.DefaultServerSelectionTimeout+3*time.Second {
		t.Errorf("the write took %v to answer; want about the server selection timeout", w.took)
	}
	// A node read is served from memory, like the hub's: it keeps working.
	if a := call(t, http.MethodGet, nbase+"/api/v1/commitments", "", nil, "application/json"); a.status != http.StatusOK ||
		strings.Count(a.body, `"id":"OUT000`) != 2 {
		t.Errorf("node read during the outage: %d %s", a.status, a.body)
	}
	for _, base := range []string{nbase, hbase} {
		a := call(t, http.MethodGet, base+"/readyz", "", nil, "")
		t.Logf("%s/readyz during the outage: %d after %v", base, a.status, a.took.Round(time.Millisecond))
		if a.status != http.StatusServiceUnavailable || a.took > 3*time.Second {
			t.Errorf("%s/readyz during the outage: %d after %v; want 503 within 3 s", base, a.status, a.took)
		}
	}

	time.Sleep(time.Until(down.Add(outageFor)))
	proc = startStoreProc(t, dir, addr)
	back := time.Now()
	for _, base := range []string{nbase, hbase} {
		took := waitUntil(t, 15*time.Second, base+" to be ready again", func() bool {
			return call(t, http.MethodGet, base+"/readyz", "", nil, "").status == http.StatusOK
		})
		t.Logf("%s ready %v after the store returned", base, took.Round(time.Millisecond))
	}
	var retried answer
	waitUntil(t, 15*time.Second, "the refused write to succeed when retried", func() bool {
		retried = postUpdate(4)
		return retried.status == http.StatusCreated
	})
	t.Logf("retried write stored %v after the store returned", time.Since(back).Round(time.Millisecond))
	took := waitUntil(t, 30*time.Second, "the hub to receive updates 3 (refused during the outage) and 4", func() bool {
		return len(h.ReadModel().Timeline(commitIRI)) == 4
	})
	t.Logf("the hub had every update %v later", took.Round(time.Millisecond))

	// Nothing acknowledged is missing, on either side.
	count := func(st *store.Store, db, coll string) int64 {
		n, err := st.DB(db).Collection(coll).CountDocuments(ctx, bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count(nst, "ogpnet_outnode", "progress_updates"); got != 4 {
		t.Errorf("node has %d progress updates; want 4", got)
	}
	if got := count(nst, "ogpnet_outnode", "commitments"); got != 2 {
		t.Errorf("node has %d commitments; want 2", got)
	}
	// The hub keeps every object: the plan, two commitments, four updates.
	if got := count(hst, "ogpnet_hub", "hub_objects"); got != 7 {
		t.Errorf("hub has %d objects; want 7", got)
	}
	if a := call(t, http.MethodGet, hbase+"/api/v1/commitments", "", nil, "application/json"); json.Unmarshal([]byte(a.body), &page) != nil || len(page.Items) != 2 {
		t.Errorf("hub API after the outage: %d commitments", len(page.Items))
	}

	// SIGTERM stops the store gracefully, with clients still connected.
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-proc.done:
		proc.done <- err // for the cleanup
		if err != nil {
			t.Errorf("ogpnet store after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("ogpnet store did not stop within 15 s of SIGTERM")
	}
}
