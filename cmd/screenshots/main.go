// Command screenshots starts a fresh demo on a free port, waits until the
// hub shows every pilot, and saves PNGs of the main pages for README.md
// (make screenshots):
//
//	go run ./cmd/screenshots --out docs/img
//
// It is a command of its own so that the production binary (./cmd/ogpnet)
// does not link the browser driver.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ogpnet/ogpnet/cmd/ogpnet/demo"
	"github.com/ogpnet/ogpnet/internal/browsertest"
)

// version is shown in the pages' footers; set it like ogpnet's
// (-ldflags -X main.version=…).
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

// shot is one page to capture: a file name in the output folder and a URL.
type shot struct{ name, url string }

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("screenshots", flag.ContinueOnError)
	out := fs.String("out", "docs/img", "output folder")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ogpnet-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := demo.Start(ctx, demo.Options{Addr: "127.0.0.1:0", DataDir: dir, Version: version, Logger: logger, Out: os.Stderr})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() { _ = d.Run(ctx) }()
	defer d.Close() // after cancel: deferred calls run last-in first-out
	defer cancel()
	if err := waitForPilots(ctx, d, len(d.Pilots), 90*time.Second); err != nil {
		return err
	}
	waitSettled(d)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	bctx, stopBrowser, err := browsertest.Start(ctx)
	if err != nil {
		return err
	}
	defer stopBrowser()
	for _, s := range shots(d, os.Getenv("OGPNET_SCREENSHOT_EXTRA")) {
		if err := browsertest.ScreenshotViewport(bctx, s.url, filepath.Join(*out, s.name), 1280, 1400); err != nil {
			return err
		}
		fmt.Println("wrote", filepath.Join(*out, s.name))
	}
	return nil
}

// shots are the README's pages, plus ad-hoc pages for a look during
// development given as "name=path@host,…" in extra.
func shots(d *demo.Demo, extra string) []shot {
	jal := d.URL("jalisco") + "/commitments/JAL0001"
	out := []shot{
		{"hub-compare.png", d.URL("hub") + "/compare"},
		{"hub-home.png", d.URL("hub") + "/"},
		{"hub-commitment.png", d.URL("hub") + "/commitment?id=" + url.QueryEscape(jal)},
		{"node-commitment.png", jal},
	}
	if extra == "" {
		return out
	}
	for _, e := range strings.Split(extra, ",") {
		name, rest, _ := strings.Cut(e, "=")
		path, host, _ := strings.Cut(rest, "@")
		out = append(out, shot{name, d.URL(host) + path})
	}
	return out
}

// waitForPilots waits until the hub shows data of want pilots.
func waitForPilots(ctx context.Context, d *demo.Demo, want int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if d.PilotsWithData() >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("the hub shows data of %d of %d pilots after %s", d.PilotsWithData(), want, limit)
}

// waitSettled lets backfill finish: it returns once the hub's read model
// has not changed for two seconds, so every page shows the whole sample.
func waitSettled(d *demo.Demo) {
	for v := d.Hub.ReadModel().Version(); ; {
		time.Sleep(2 * time.Second)
		nv := d.Hub.ReadModel().Version()
		if nv == v {
			return
		}
		v = nv
	}
}
