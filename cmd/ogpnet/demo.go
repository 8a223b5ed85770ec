package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ogpnet/ogpnet/cmd/ogpnet/demo"
	"github.com/ogpnet/ogpnet/internal/browsertest"
)

func runDemo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (every server is reached through it by host name)")
	data := fs.String("data", "./data/demo", "data folder; a second run resumes from it")
	reset := fs.Bool("reset", false, "delete the data folder first and start over")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	if err := parse(fs, args); err != nil {
		return err
	}
	c := common{logLevel: *logLevel, logFormat: "text"}
	started := time.Now()
	d, err := demo.Start(ctx, demo.Options{Addr: *addr, DataDir: *data, Reset: *reset, Version: version, Logger: c.logger()})
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Printf("servers up in %s; seeding and federating…\n", time.Since(started).Round(time.Millisecond))
	return d.Run(ctx)
}

// runScreenshots starts a fresh demo on a free port, waits until the hub
// shows every pilot, and saves PNGs of the main pages (make screenshots).
func runScreenshots(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("screenshots", flag.ContinueOnError)
	out := fs.String("out", "docs/img", "output folder")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ogpnet-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c := common{logLevel: "warn", logFormat: "text"}
	d, err := demo.Start(ctx, demo.Options{Addr: "127.0.0.1:0", DataDir: dir, Version: version, Logger: c.logger(), Out: os.Stderr})
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
	// Let backfill settle: no read-model change for two seconds.
	for v := d.Hub.ReadModel().Version(); ; {
		time.Sleep(2 * time.Second)
		if nv := d.Hub.ReadModel().Version(); nv == v {
			break
		} else {
			v = nv
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	bctx, stop, err := browsertest.Start(ctx)
	if err != nil {
		return err
	}
	defer stop()
	jal := d.URL("jalisco") + "/commitments/JAL0001"
	shots := []struct{ name, url string }{
		{"hub-compare.png", d.URL("hub") + "/compare"},
		{"hub-home.png", d.URL("hub") + "/"},
		{"hub-commitment.png", d.URL("hub") + "/commitment?id=" + url.QueryEscape(jal)},
		{"node-commitment.png", jal},
	}
	if extra := os.Getenv("OGPNET_SCREENSHOT_EXTRA"); extra != "" {
		// Ad-hoc pages for a look during development: "name=path@host,…".
		for _, e := range strings.Split(extra, ",") {
			name, rest, _ := strings.Cut(e, "=")
			path, host, _ := strings.Cut(rest, "@")
			shots = append(shots, struct{ name, url string }{name, d.URL(host) + path})
		}
	}
	for _, s := range shots {
		if err := browsertest.ScreenshotViewport(bctx, s.url, filepath.Join(*out, s.name), 1280, 1400); err != nil {
			return err
		}
		fmt.Println("wrote", filepath.Join(*out, s.name))
	}
	return nil
}

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
