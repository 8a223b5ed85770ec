package browsertest

import (
	"bytes"
	"context"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/internal/web"
)

// TestLocalhostSubdomain checks what the demo relies on: Chromium resolves
// any *.localhost name to loopback by itself, with no /etc/hosts entry.
func TestLocalhostSubdomain(t *testing.T) {
	var gotHost string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotHost = r.Host
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>hello ` + r.Host + `</title><p>hi</p>`))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	ctx := New(t)
	url := "http://jalisco.localhost:" + port + "/"
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	want := "hello jalisco.localhost:" + port
	if title != want {
		t.Errorf("title = %q, want %q", title, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if gotHost != "jalisco.localhost:"+port {
		t.Errorf("server saw Host %q", gotHost)
	}
}

// TestWebLayerInBrowser renders a page of the shared web layer (layout,
// stylesheet, SVG chart) under its real CSP and checks, in Chromium, that the
// stylesheet applied, the chart has a size, the page raised no console
// errors (a CSP violation is one), and the language switcher works without
// JavaScript.
func TestWebLayerInBrowser(t *testing.T) {
	rend, err := web.NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := web.NewEcho(web.Options{Renderer: rend})
	e.GET("/", func(c echo.Context) error {
		// The error page is the one page web ships: a 422 renders it in the
		// full layout, with a field list.
		return web.Invalid(web.FieldError{Field: "title", Message: "required"})
	})
	e.GET("/chart", func(c echo.Context) error {
		html := string(web.StackedBar("Completion", []web.StackedRow{
			{Label: "Jalisco", Segments: []web.Segment{{Label: "Complete", Class: "c-complete", Value: 3}, {Label: "Limited", Class: "c-limited", Value: 1}}},
		}))
		return c.HTML(200, `<!doctype html><html lang="en"><head><title>chart</title><link rel="stylesheet" href="`+
			web.StaticURL("style.css")+`"></head><body>`+html+`</body></html>`)
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	base := "http://hub.localhost:" + port

	ctx := New(t)
	cctx, stopConsole := context.WithCancel(ctx)
	defer stopConsole()
	var mu sync.Mutex
	var console []string
	msgs := chromedp.Console(cctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m.String())
			mu.Unlock()
		}
	}()

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	h1, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("h1").textContent`))
	if err != nil || h1 != "Invalid input" {
		t.Errorf("h1 = %q, %v", h1, err)
	}
	// The stylesheet applied: the header has the accent background.
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".site-header")).backgroundColor`))
	if err != nil || bg != "rgb(11, 92, 173)" {
		t.Errorf("header background = %q, %v: style.css not applied", bg, err)
	}
	// Switch language by link (no JS involved), then the cookie keeps it.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/?lang=es")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	h1, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("h1").textContent`))
	lang, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	if h1 != "Datos no válidos" || lang != "es" {
		t.Errorf("after ?lang=es: h1 %q, lang %q", h1, lang)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/chart")); err != nil {
		t.Fatal(err)
	}
	w, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("svg.chart").getBoundingClientRect().width`))
	if err != nil || w < 100 {
		t.Errorf("chart width %v, %v", w, err)
	}
	fill, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("svg .c-complete")).fill`))
	if fill != "rgb(17, 122, 75)" {
		t.Errorf("completion colour = %q: chart CSS not applied", fill)
	}

	shot := filepath.Join(t.TempDir(), "chart.png")
	if err := Screenshot(ctx, base+"/chart", shot); err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("OGPNET_SCREENSHOT_DIR"); out != "" {
		_ = Screenshot(ctx, base+"/?lang=en", filepath.Join(out, "web-error-page.png"))
		_ = Screenshot(ctx, base+"/chart", filepath.Join(out, "web-chart.png"))
	}

	stopConsole()
	mu.Lock()
	defer mu.Unlock()
	for _, m := range console {
		// The 422 itself is reported as a failed resource load; anything
		// else (CSP violations, script errors) is a bug.
		if strings.Contains(m, "422") {
			continue
		}
		t.Errorf("console: %s", m)
	}
}

// TestScreenshotStartsItsOwnBrowser covers the `make screenshots` path: a
// plain context, no browser from New; a full page and a first viewport.
func TestScreenshotStartsItsOwnBrowser(t *testing.T) {
	if os.Getenv("OGPNET_SKIP_BROWSER") == "1" {
		t.Skip("OGPNET_SKIP_BROWSER=1")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!doctype html><title>x</title><div style="height:2000px">tall</div>`))
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	if err := Screenshot(ctx, srv.URL, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if h := img.Bounds().Dy(); h < 2000 {
		t.Errorf("full-page screenshot is %d px tall, want ≥ 2000", h)
	}

	// The viewport picture is what a visitor sees first: exactly the size asked.
	if err := ScreenshotViewport(ctx, srv.URL, path, 800, 600); err != nil {
		t.Fatal(err)
	}
	if b, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if img, err = png.Decode(bytes.NewReader(b)); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got.X != 800 || got.Y != 600 {
		t.Errorf("viewport screenshot is %v, want 800×600", got)
	}
}
