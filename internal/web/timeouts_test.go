package web_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/internal/web/webtest"
)

// TestDeadlines: over a real listener from NewHTTPServer, a body trickled
// in slower than the read deadline is cut off with a 408 that says so,
// while a long route (an import) takes the same body for longer than the
// default deadline but within its own.
func TestDeadlines(t *testing.T) {
	tm := web.Timeouts{Read: 300 * time.Millisecond, Write: 2 * time.Second, LongRead: 3 * time.Second, LongWrite: 5 * time.Second}
	e := web.NewEcho(web.Options{Logger: slog.New(slog.DiscardHandler), Timeouts: tm, LongRoutes: []string{"/import"}})
	read := func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, "read "+strconv.Itoa(len(b)))
	}
	e.POST("/plain", read)
	e.POST("/import", read)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewHTTPServer("", e, tm)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := ln.Addr().String()
	body := []byte(strings.Repeat("x", 10)) // 10 bytes at one per 100 ms: about 1 s

	got := webtest.Trickle(t, addr, "x", "POST", "/plain", nil, body, 100*time.Millisecond, 10*time.Second)
	if got.Status != http.StatusRequestTimeout || !strings.Contains(got.Body, "did not arrive within 300ms") {
		t.Errorf("slow body on a default route: %d %q, want 408 naming the 300ms allowance", got.Status, got.Body)
	}
	if got.Sent >= len(body) || got.Elapsed > 900*time.Millisecond {
		t.Errorf("slow body on a default route answered after %s and %d of %d bytes: not cut off", got.Elapsed, got.Sent, len(body))
	}

	got = webtest.Trickle(t, addr, "x", "POST", "/import", nil, body, 100*time.Millisecond, 10*time.Second)
	if got.Status != http.StatusOK || got.Body != "read 10" {
		t.Errorf("slow body on the long route: %d %q after %s, want 200 \"read 10\"", got.Status, got.Body, got.Elapsed)
	}

	// The same deadlines hold behind Deadlines alone (the demo's listener
	// answers hosts it does not know without any Echo).
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusRequestTimeout)
		}
	})
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv2 := web.NewHTTPServer("", plain, tm)
	go func() { _ = srv2.Serve(ln2) }()
	t.Cleanup(func() { _ = srv2.Close() })
	got = webtest.Trickle(t, ln2.Addr().String(), "x", "POST", "/", nil, body, 100*time.Millisecond, 10*time.Second)
	if got.Status != http.StatusRequestTimeout || !strings.Contains(got.Body, "i/o timeout") || got.Sent >= len(body) {
		t.Errorf("slow body behind NewHTTPServer: %d %q after %d bytes", got.Status, got.Body, got.Sent)
	}
}
