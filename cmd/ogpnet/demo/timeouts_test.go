package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/cmd/ogpnet/demo"
	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/internal/web/webtest"
)

// TestDemoDeadlines: the demo's one listener has the standalone servers'
// deadlines (shortened here): a body trickled slower than the read deadline
// is cut off with a 408, on a node and on the hub; a node's import route takes a body that arrives over longer
// than the default deadline but within its own.
func TestDemoDeadlines(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo's servers: skipped with -short")
	}
	tm := web.Timeouts{Read: 700 * time.Millisecond, Write: 10 * time.Second, LongRead: 8 * time.Second, LongWrite: 20 * time.Second}
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Options{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Out: io.Discard,
		Logger: slog.New(slog.DiscardHandler), Timeouts: tm})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	addr := net.JoinHostPort("127.0.0.1", d.Port)
	slug := d.Pilots[0].Slug
	ap := http.Header{"Content-Type": {"application/activity+json"}}
	slow := []byte(strings.Repeat(" ", 20) + `{}`) // 22 bytes at one per 100 ms: about 2.2 s
	for _, host := range []string{slug, "hub"} {
		got := webtest.Trickle(t, addr, host+".localhost:"+d.Port, "POST", "/inbox", ap, slow, 100*time.Millisecond, 30*time.Second)
		if got.Status != http.StatusRequestTimeout || !strings.Contains(got.Body, "did not arrive within 700ms") || got.Sent >= len(slow) {
			t.Errorf("slow body to %s's inbox: %d %q after %s and %d of %d bytes; want a 408 naming 700ms before the body ended",
				host, got.Status, got.Body, got.Elapsed, got.Sent, len(slow))
		}
	}
	tok, err := d.Nodes[slug].CreateAPIToken(ctx, "deadline test")
	if err != nil {
		t.Fatal(err)
	}
	hdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + tok}}
	got := webtest.Trickle(t, addr, slug+".localhost:"+d.Port, "POST", "/api/v1/import?dryRun=true", hdr, slow, 100*time.Millisecond, 30*time.Second)
	if got.Status == http.StatusRequestTimeout || got.Sent != len(slow) || got.Elapsed < tm.Read {
		t.Errorf("slow import: %d %q after %s and %d of %d bytes; want it read in full past the %s default", got.Status, got.Body, got.Elapsed, got.Sent, len(slow), tm.Read)
	}
	t.Logf("slow import answered %d after %s: %.200s", got.Status, got.Elapsed, got.Body)
}
