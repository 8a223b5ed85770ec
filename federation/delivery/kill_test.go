package delivery

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store"
)

const (
	helperEnv      = "OGPNET_DELIVERY_HELPER"
	helperDataEnv  = "OGPNET_DELIVERY_HELPER_DATA"
	helperInboxEnv = "OGPNET_DELIVERY_HELPER_INBOX"
	killDB         = "deliverykill"
	killActivity   = "https://node.example/activities/kill9"
)

// TestHelperProcess is not a test: TestKill9 re-executes the test binary to
// run it as a sender process with its own embedded store in a data folder,
// which the parent then kills with SIGKILL.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestKill9")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: os.Getenv(helperDataEnv), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	o := fastOpts()
	o.Lease = 2 * time.Second
	o.Owner = "child"
	q, err := New(ctx, st.DB(killDB), testSigner("child"), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(ctx, killActivity, []byte(testBody), []string{os.Getenv(helperInboxEnv)}); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ENQUEUED\n")
	_ = q.Run(ctx) // until killed
}

// TestKill9 kills a sender mid-delivery and checks that a new process on
// the same data folder delivers the job once its lease has run out.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second embedded store")
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	var mu sync.Mutex
	var hits []hit
	arrived := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits = append(hits, hit{Replica: r.Header.Get("X-Replica"), Body: b, Signature: r.Header.Get("Signature")})
		first := len(hits) == 1
		mu.Unlock()
		if first {
			// The child's delivery: hang until the child dies.
			once.Do(func() { close(arrived) })
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperDataEnv+"="+dataDir, helperInboxEnv+"="+srv.URL+"/inbox")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	enqueued := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "ENQUEUED") {
				close(enqueued)
			}
		}
	}()
	select {
	case <-arrived:
	case <-time.After(3 * time.Minute):
		t.Fatal("child never started delivering")
	}
	select {
	case <-enqueued:
	default:
		t.Fatal("delivery arrived before Enqueue returned")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no drain, no cleanup
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed := time.Now()

	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: dataDir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	o := fastOpts()
	o.Lease = 2 * time.Second
	q := newQueue(t, st.DB(killDB), testSigner("parent"), o)
	if s := stats(t, q); s.Leased != 1 {
		t.Fatalf("after kill -9: %+v, want the job still leased by the dead child", s)
	}
	run(t, q)
	waitFor(t, "redelivery", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(hits) >= 2
	})
	waitFor(t, "queue idle", 10*time.Second, idle(t, q))
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 2 {
		t.Fatalf("POSTs = %d, want 2 (the killed one and the redelivery)", len(hits))
	}
	h := hits[1]
	if h.Replica != "parent" || string(h.Body) != testBody || h.Signature != sigOf([]byte(testBody)) {
		t.Fatalf("redelivery = %+v", h)
	}
	t.Logf("redelivered %v after SIGKILL (lease 2s)", time.Since(killed).Round(time.Millisecond))
}
