// Package browsertest drives Debian's headless Chromium through chromedp for
// end-to-end tests and screenshots. It never downloads a browser: install
// Chromium with .ci/install-chromium (apt, /usr/bin/chromium).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultChromium is where Debian's package installs the browser.
const DefaultChromium = "/usr/bin/chromium"

// DefaultTimeout bounds one test's browser work, so a hung page fails the
// test instead of the whole CI run.
const DefaultTimeout = 60 * time.Second

// ChromiumPath returns the browser to run: $OGPNET_CHROMIUM if set, else
// /usr/bin/chromium.
func ChromiumPath() string {
	if p := os.Getenv("OGPNET_CHROMIUM"); p != "" {
		return p
	}
	return DefaultChromium
}

// Available reports why Chromium cannot be started, or nil.
func Available() error {
	p := ChromiumPath()
	if _, err := exec.LookPath(p); err != nil {
		return fmt.Errorf("chromium not found at %s (run .ci/install-chromium): %w", p, err)
	}
	return nil
}

// allocatorOptions are the flags every run uses. As root in a container
// Chromium needs --no-sandbox; the network flags stop it from calling
// Google's services, which this machine's closed network refuses; a fresh
// profile per run keeps runs independent.
func allocatorOptions(userDataDir string) []chromedp.ExecAllocatorOption {
	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	return append(opts,
		chromedp.ExecPath(ChromiumPath()),
		chromedp.UserDataDir(userDataDir),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		// Tests talk to loopback only: never route through a proxy from the
		// environment.
		chromedp.Flag("no-proxy-server", true),
		chromedp.WindowSize(1280, 900),
	)
}

// Start launches a headless Chromium with a temporary profile and returns a
// chromedp context for it and a stop function that ends the browser and
// removes the profile. The browser is started before Start returns, so
// launch failures surface here.
func Start(parent context.Context) (context.Context, func(), error) {
	if err := Available(); err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "ogpnet-chromium-")
	if err != nil {
		return nil, nil, err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, allocatorOptions(dir)...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	stop := func() {
		cancelCtx()
		cancelAlloc() // waits for the browser process to exit
		_ = os.RemoveAll(dir)
	}
	// The first Run starts the browser; it must not carry a deadline, which
	// would kill the browser when it expires (see chromedp.Run).
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, nil, fmt.Errorf("starting chromium: %w", err)
	}
	return ctx, stop, nil
}

// Option changes New's defaults.
type Option func(*config)

type config struct{ timeout time.Duration }

// WithTimeout sets the test's browser deadline (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// New starts a headless Chromium for the test and returns a chromedp
// context with the test's deadline; the browser stops when the test ends.
// A missing Chromium fails the test ("run .ci/install-chromium") so CI can
// never pass by skipping; set OGPNET_SKIP_BROWSER=1 to skip locally.
func New(t testing.TB, opts ...Option) context.Context {
	t.Helper()
	if os.Getenv("OGPNET_SKIP_BROWSER") == "1" {
		t.Skip("OGPNET_SKIP_BROWSER=1: browser tests skipped")
	}
	cfg := config{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if err := Available(); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	ctx, stop, err := Start(context.Background())
	if err != nil {
		t.Fatalf("browsertest: %v (run .ci/install-chromium)", err)
	}
	t.Cleanup(stop)
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	t.Cleanup(cancel)
	return ctx
}

// Screenshot saves a full-page PNG of url to path. ctx may be a context from
// New or Start (the page opens in that browser's tab); any other context
// starts a browser for this one call (for `make screenshots`).
func Screenshot(ctx context.Context, url, path string) error {
	return screenshot(ctx, url, path, nil, chromedp.FullScreenshot(100))
}

// ScreenshotViewport saves a PNG of the first width×height pixels of url:
// what a visitor sees first (README pictures), rather than the whole page.
func ScreenshotViewport(ctx context.Context, url, path string, width, height int64) error {
	return screenshot(ctx, url, path, []chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(width, height)}, chromedp.CaptureScreenshot())
}

// screenshot runs setup, opens url and saves the PNG capture takes to path,
// in ctx's browser or, when ctx has none, in one started for this call.
func screenshot(ctx context.Context, url, path string, setup []chromedp.Action[chromedp.Void], capture chromedp.Action[[]byte]) error {
	if chromedp.FromContext(ctx) == nil {
		bctx, stop, err := Start(ctx)
		if err != nil {
			return err
		}
		defer stop()
		ctx = bctx
	}
	if err := chromedp.Do(ctx, append(setup, chromedp.Navigate(url))...); err != nil {
		return fmt.Errorf("screenshot %s: %w", url, err)
	}
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", url, err)
	}
	if len(png) == 0 {
		return errors.New("screenshot: empty image")
	}
	return os.WriteFile(path, png, 0o644)
}
