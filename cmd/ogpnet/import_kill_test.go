package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// nodeProc is `ogpnet node` running as a child process (the test binary
// running main, see childMain).
type nodeProc struct {
	cmd  *exec.Cmd
	done chan error
}

// startNodeProc runs ogpnet node jalisco on data folder dir at base, and
// waits until it answers /healthz.
func startNodeProc(t *testing.T, dir, base string) *nodeProc {
	t.Helper()
	raw, _ := json.Marshal([]string{"node", "--name", "jalisco", "--url", base, "--addr", portOf(base),
		"--data", dir, "--lang", "es"})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+string(raw), "OGPNET_LOG_LEVEL=error", "OGPNET_MONGO_URI=")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &nodeProc{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(p.kill)
	c := devClient()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := c.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("ogpnet node exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("ogpnet node does not answer /healthz")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill ends the node with SIGKILL: no deferred function, no flush, no
// goodbye (idempotent).
func (p *nodeProc) kill() {
	_ = p.cmd.Process.Kill()
	err := <-p.done
	p.done <- err
}

// freeBase returns a dev base URL on a port free right now.
func freeBase(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	_ = l.Close()
	return "http://jalisco.localhost:" + port
}

// childToken runs ogpnet token for the stopped node and returns the token.
func childToken(t *testing.T, dir string) string {
	t.Helper()
	raw, _ := json.Marshal([]string{"token", "--name", "jalisco", "--data", dir})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+string(raw), "OGPNET_LOG_LEVEL=error", "OGPNET_MONGO_URI=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ogpnet token: %v", err)
	}
	return strings.TrimSpace(out.String())
}

// killImportFile is a JSON import of a new plan, n commitments and one
// progress update on each.
func killImportFile(n int) string {
	var b strings.Builder
	b.WriteString(`{"lang":"es","plan":{"id":"2016-2018","title":"Plan 2016-2018","jurisdiction":"Jalisco","prefix":"JAL",` +
		`"period":{"start":"2016-12-01","end":"2018-06-30"},"status":"implementation"},"commitments":[`)
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"JAL%04d","planId":"2016-2018","title":"Compromiso %d","startDate":"2017-01-01","endDate":"2018-06-30",`+
			`"leadInstitution":"Secretaría del Trabajo","completion":"limited"}`, i, i)
	}
	b.WriteString(`],"progressUpdates":[`)
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"commitmentId":"JAL%04d","date":"2017-%02d-15","text":"Avance del compromiso %d."}`, i, 1+i%12, i)
	}
	b.WriteString("]}")
	return b.String()
}

type jobState struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Done   int    `json:"rowsDone"`
	Total  int    `json:"rowsTotal"`
	Result *struct {
		Created, Unchanged int
		UpdatesAdded       int `json:"progressUpdatesAdded"`
	} `json:"result"`
}

func getJSON(t *testing.T, c *http.Client, u, tok string, into any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if strings.Contains(u, "/outbox") {
		req.Header.Set("Accept", "application/activity+json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// TestImportSurvivesKill: a node process killed with SIGKILL while an
// import job is part-way through finishes the job by itself when it starts
// again on the same data: every commitment and progress update of the file
// is stored exactly once and published, and nothing is left half-done.
func TestImportSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node process three times")
	}
	dir, base := t.TempDir(), freeBase(t)
	startNodeProc(t, dir, base).kill() // create the node's data
	tok := childToken(t, dir)
	p := startNodeProc(t, dir, base)
	c := devClient()

	const n = 300 // 1 plan + 300 commitments + 300 updates = 601 steps, batches of 100
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/import?format=json", strings.NewReader(killImportFile(n)))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Location") == "" {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	jobURL := base + resp.Header.Get("Location")

	// Kill as soon as the job has recorded a batch, well before its end.
	var st jobState
	deadline := time.Now().Add(60 * time.Second)
	for {
		getJSON(t, c, jobURL, tok, &st)
		if st.Done > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no batch done after 60 s: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.kill()
	if st.Done >= st.Total || st.State == "done" {
		t.Fatalf("the job was done before the kill (%+v): nothing tested", st)
	}
	t.Logf("killed with %d of %d steps recorded", st.Done, st.Total)

	startNodeProc(t, dir, base)
	deadline = time.Now().Add(120 * time.Second)
	for {
		getJSON(t, c, jobURL, tok, &st)
		if st.State == "done" || st.State == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not finish after the restart: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.State != "done" || st.Done != st.Total || st.Total != 1+2*n || st.Result == nil {
		t.Fatalf("job after restart: %+v", st)
	}
	// Rows applied before the kill but not yet recorded are found unchanged
	// when the job resumes: created + unchanged is every row.
	if st.Result.Created+st.Result.Unchanged != n {
		t.Errorf("result counts %+v, want %d commitments in all", *st.Result, n)
	}

	var cs struct {
		Commitments []struct {
			ID string `json:"id"`
		} `json:"commitments"`
	}
	getJSON(t, c, base+"/api/v1/commitments", "", &cs)
	if len(cs.Commitments) != n {
		t.Fatalf("%d commitments stored, want %d", len(cs.Commitments), n)
	}
	for i := 1; i <= n; i++ {
		var ups struct {
			Updates []json.RawMessage `json:"updates"`
		}
		getJSON(t, c, fmt.Sprintf("%s/api/v1/commitments/JAL%04d/updates", base, i), "", &ups)
		if len(ups.Updates) != 1 {
			t.Fatalf("JAL%04d has %d progress updates, want exactly 1", i, len(ups.Updates))
		}
	}

	// Published: the outbox has a Create for the plan, each commitment and
	// each progress update (the node's reconcile at start publishes what
	// the killed batch stored but had not published).
	created := map[string]int{}
	var page struct {
		OrderedItems []struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		} `json:"orderedItems"`
		Next string `json:"next"`
	}
	outbox := base + "/users/jalisco/outbox?page=true"
	for u := outbox; u != ""; {
		page.OrderedItems, page.Next = nil, ""
		getJSON(t, c, u, "", &page)
		for _, it := range page.OrderedItems {
			var obj struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(it.Object, &obj)
			if it.Type == "Create" {
				created[obj.ID]++
			}
		}
		u = page.Next
	}
	if created[base+"/plans/2016-2018"] == 0 {
		t.Error("the plan's Create is not in the outbox")
	}
	notes := 0
	for id := range created {
		if strings.Contains(id, "/updates/") {
			notes++
		}
	}
	for i := 1; i <= n; i++ {
		if created[fmt.Sprintf("%s/commitments/JAL%04d", base, i)] == 0 {
			t.Fatalf("no Create of JAL%04d in the outbox", i)
		}
	}
	if notes != n {
		t.Errorf("%d progress updates published, want %d", notes, n)
	}
	_ = context.Background
}
