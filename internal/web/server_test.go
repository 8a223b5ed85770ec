package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

var errNotFound = errors.New("not found")

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestServer builds the full stack with a few routes that fail in
// different ways.
func newTestServer(t *testing.T) (*echo.Echo, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	e := NewEcho(Options{
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		StatusOf: func(err error) (int, bool) {
			if errors.Is(err, errNotFound) {
				return http.StatusNotFound, true
			}
			return 0, false
		},
	})
	e.GET("/boom", func(c echo.Context) error {
		return fmt.Errorf("db: password=hunter2 at 10.0.0.5: %w", errors.New("connection refused"))
	})
	e.GET("/panic", func(c echo.Context) error { panic("kaboom") })
	e.GET("/missing", func(c echo.Context) error { return fmt.Errorf("GetPlan(%q): %w", "x", errNotFound) })
	e.POST("/api/things", func(c echo.Context) error {
		return Invalid(FieldError{Field: "title", Message: "required"})
	})
	e.GET("/teapot", func(c echo.Context) error { return echo.NewHTTPError(http.StatusTeapot, "short and stout") })
	e.GET("/committed", func(c echo.Context) error {
		_ = c.String(http.StatusOK, "partial")
		return errors.New("late failure")
	})
	return e, logs
}

func do(e *echo.Echo, method, target, accept string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

func decodeError(t *testing.T, w *httptest.ResponseRecorder) errorJSON {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON; body %s", ct, w.Body)
	}
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("decoding %s: %v", w.Body, err)
	}
	return body.Error
}

func TestErrorHandlerJSON(t *testing.T) {
	e, logs := newTestServer(t)

	w := do(e, "GET", "/missing", "application/activity+json")
	if w.Code != 404 {
		t.Fatalf("status %d, want 404", w.Code)
	}
	if got := decodeError(t, w); got.Status != 404 || got.Message != "Not Found" || got.RequestID == "" {
		t.Errorf("error = %+v", got)
	}
	if !strings.Contains(w.Header().Get("Vary"), "Accept") {
		t.Errorf("Vary = %q, want Accept", w.Header().Get("Vary"))
	}

	// /api/ gets JSON even from a browser; validation fields are listed.
	w = do(e, "POST", "/api/things", browserAccept)
	got := decodeError(t, w)
	if w.Code != 422 || len(got.Fields) != 1 || got.Fields[0].Field != "title" {
		t.Errorf("status %d, error %+v", w.Code, got)
	}

	// An AP delivery (by Content-Type) with Accept */* gets JSON.
	w = do(e, "GET", "/nowhere", "*/*", "Content-Type", "application/activity+json")
	if decodeError(t, w).Status != 404 {
		t.Errorf("unmatched route: %s", w.Body)
	}

	w = do(e, "GET", "/teapot", "application/json")
	if got := decodeError(t, w); got.Status != 418 || got.Message != "short and stout" {
		t.Errorf("HTTPError: %+v", got)
	}

	// 5xx: the internal text never reaches the client, and is logged once.
	w = do(e, "GET", "/boom", "application/json")
	got = decodeError(t, w)
	if w.Code != 500 || got.Message != "Internal Server Error" {
		t.Errorf("status %d, error %+v", w.Code, got)
	}
	if strings.Contains(w.Body.String(), "hunter2") {
		t.Errorf("internal error leaked: %s", w.Body)
	}
	if n := strings.Count(logs.String(), `"msg":"request failed"`); n != 1 {
		t.Errorf("5xx logged %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "hunter2") || !strings.Contains(logs.String(), got.RequestID) {
		t.Errorf("log lacks the internal error or the request id %q:\n%s", got.RequestID, logs)
	}
}

func TestErrorHandlerHTML(t *testing.T) {
	e, _ := newTestServer(t)

	w := do(e, "GET", "/missing", browserAccept)
	if w.Code != 404 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	for _, want := range []string{"<h1>Page not found</h1>", `<html lang="en">`, "ogpnet"} {
		if !strings.Contains(body, want) {
			t.Errorf("HTML error page lacks %q:\n%s", want, body)
		}
	}

	// Translated by Accept-Language.
	w = do(e, "GET", "/missing", browserAccept, "Accept-Language", "es-MX,es;q=0.9,en;q=0.5")
	if !strings.Contains(w.Body.String(), "<h1>Página no encontrada</h1>") || !strings.Contains(w.Body.String(), `lang="es"`) {
		t.Errorf("Spanish error page expected:\n%s", w.Body)
	}

	w = do(e, "GET", "/boom", browserAccept)
	if w.Code != 500 || strings.Contains(w.Body.String(), "hunter2") || !strings.Contains(w.Body.String(), "Internal server error") {
		t.Errorf("status %d body:\n%s", w.Code, w.Body)
	}
}

func TestPanicIsA500LoggedOnceWithStack(t *testing.T) {
	e, logs := newTestServer(t)
	w := do(e, "GET", "/panic", "application/json")
	if w.Code != 500 || strings.Contains(w.Body.String(), "kaboom") {
		t.Fatalf("status %d body %s", w.Code, w.Body)
	}
	if n := strings.Count(logs.String(), `"msg":"request failed"`); n != 1 {
		t.Errorf("panic logged %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("panic log lacks message or stack:\n%s", logs)
	}
}

func TestCommittedResponseIsLeftAlone(t *testing.T) {
	e, _ := newTestServer(t)
	w := do(e, "GET", "/committed", "application/json")
	if w.Code != 200 || w.Body.String() != "partial" {
		t.Errorf("status %d body %q: the handler's response must stand", w.Code, w.Body)
	}
}

func TestSecureHeadersAndBodyLimit(t *testing.T) {
	e := NewEcho(Options{BodyLimit: "1K"})
	e.POST("/echo", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(200, fmt.Sprint(len(b)))
	})
	w := do(e, "GET", HealthPath, "")
	h := w.Header()
	if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") ||
		h.Get("X-Frame-Options") != "DENY" || h.Get("X-Request-Id") == "" {
		t.Errorf("security headers missing: %v", h)
	}
	if strings.Contains(h.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Errorf("CSP allows inline code: %s", h.Get("Content-Security-Policy"))
	}

	r := httptest.NewRequest("POST", "/echo", strings.NewReader(strings.Repeat("x", 4096)))
	r.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: status %d, want 413", rec.Code)
	}
}

func TestHealthReadyAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	var ready error
	e := NewEcho(Options{Registry: reg, Ready: func(context.Context) error { return ready }})
	e.GET("/plans/:id", func(c echo.Context) error { return c.String(200, "plan") })

	if w := do(e, "GET", HealthPath, ""); w.Code != 200 || w.Body.String() != "ok" {
		t.Errorf("healthz: %d %q", w.Code, w.Body)
	}
	if w := do(e, "GET", ReadyPath, ""); w.Code != 200 {
		t.Errorf("readyz: %d", w.Code)
	}
	ready = errors.New("store down")
	if w := do(e, "GET", ReadyPath, ""); w.Code != 503 {
		t.Errorf("readyz when not ready: %d, want 503", w.Code)
	}

	for _, id := range []string{"a", "b", "c"} {
		do(e, "GET", "/plans/"+id, "")
	}
	do(e, "GET", "/no/such/route", "")

	w := do(e, "GET", MetricsPath, "", "Accept-Encoding", "gzip")
	if w.Code != 200 {
		t.Fatalf("metrics: %d", w.Code)
	}
	// promhttp compresses by itself; the gzip middleware must not wrap it again.
	if w.Header().Get("Content-Encoding") == "gzip" {
		w = do(e, "GET", MetricsPath, "")
	}
	body := w.Body.String()
	for _, want := range []string{
		`ogpnet_http_requests_total{method="GET",route="/plans/:id",status="200"} 3`,
		`ogpnet_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`ogpnet_http_requests_total{method="GET",route="/readyz",status="503"} 1`,
		`ogpnet_http_request_duration_seconds_count{method="GET",route="/plans/:id"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "go_goroutines") {
		t.Errorf("a caller-supplied registry must not get collectors added")
	}

	// A second server in the same process, with its own registry, does not
	// collide; one sharing the registry reuses the collectors.
	_ = NewEcho(Options{})
	_ = NewEcho(Options{Registry: reg})
}

func TestGzip(t *testing.T) {
	e := NewEcho(Options{})
	e.GET("/big", func(c echo.Context) error { return c.String(200, strings.Repeat("open government ", 200)) })
	w := do(e, "GET", "/big", "", "Accept-Encoding", "gzip")
	if w.Header().Get("Content-Encoding") != "gzip" {
		t.Errorf("large response not gzipped: %v", w.Header())
	}
}
