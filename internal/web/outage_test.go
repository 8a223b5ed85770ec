package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/internal/store"
)

// TestStoreUnavailableIs503: an error that wraps store.ErrUnavailable (or a
// driver error Unavailable recognises) answers 503 with Retry-After, and
// says that nothing was saved: JSON for the API, the error page for forms.
func TestStoreUnavailableIs503(t *testing.T) {
	e, _ := newTestServer(t)
	fail := func(echo.Context) error { return fmt.Errorf("save plan: %w", store.ErrUnavailable) }
	e.POST("/admin/form", fail)
	e.POST("/api/v1/things", fail)
	e.GET("/api/v1/things", fail)

	w := do(e, "POST", "/admin/form", browserAccept)
	body := w.Body.String()
	if w.Code != 503 || w.Header().Get("Retry-After") != fmt.Sprint(store.RetryAfter) ||
		!strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "nothing was saved") {
		t.Errorf("form: %d Retry-After %q type %q\n%s", w.Code, w.Header().Get("Retry-After"), w.Header().Get("Content-Type"), body)
	}
	w = do(e, "POST", "/api/v1/things", "application/json")
	if w.Code != 503 || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), storeWriteMessage) {
		t.Errorf("API write: %d Retry-After %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	w = do(e, "GET", "/api/v1/things", "application/json")
	if w.Code != 503 || !strings.Contains(w.Body.String(), storeReadMessage) {
		t.Errorf("API read: %d %s", w.Code, w.Body)
	}
}
