package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/internal/web/webtest"
)

// TestStandaloneDeadlines: a standalone `ogpnet node` cuts off a request
// body trickled in slower than its read deadline (shortened here) with a
// 408 that says so.
func TestStandaloneDeadlines(t *testing.T) {
	serverTimeouts = web.Timeouts{Read: 500 * time.Millisecond, Write: 5 * time.Second}
	addrc := make(chan net.Addr, 1)
	onListen = func(a net.Addr) { addrc <- a }
	t.Cleanup(func() { serverTimeouts, onListen = web.Timeouts{}, nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"node", "--name", "jalisco", "--url", "http://jalisco.localhost",
			"--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"), "--log-level", "error"}, io.Discard)
	}()
	t.Cleanup(func() { cancel(); <-done })
	var addr string
	select {
	case a := <-addrc:
		addr = a.String()
	case code := <-done:
		t.Fatalf("node exited with %d", code)
	}
	// Wait until the node serves (its store starts after the bind).
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node not serving: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	body := []byte(`{"type":"Follow","id":"x"}`)
	hdr := http.Header{"Content-Type": {"application/activity+json"}}
	got := webtest.Trickle(t, addr, "jalisco.localhost", "POST", "/inbox", hdr, body, 100*time.Millisecond, 20*time.Second)
	if got.Status != http.StatusRequestTimeout || !strings.Contains(got.Body, "did not arrive within 500ms") || got.Sent >= len(body) {
		t.Errorf("slow body to the node's inbox: %d %q after %s and %d of %d bytes; want a 408 naming 500ms before the body ended",
			got.Status, got.Body, got.Elapsed, got.Sent, len(body))
	}
}
