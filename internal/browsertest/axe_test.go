package browsertest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// TestAxeFindsViolations: the helper really runs axe-core's WCAG rules in
// the page, under a CSP that forbids inline scripts, and reports what a
// broken page breaks (an image without text, an unlabelled input) while a
// sound page passes.
func TestAxeFindsViolations(t *testing.T) {
	pages := map[string]string{
		"/bad":  `<!doctype html><html lang="en"><title>bad</title><main><h1>x</h1><img src="/x.png"><input name="q"></main>`,
		"/good": `<!doctype html><html lang="en"><title>good</title><main><h1>x</h1><img src="/x.png" alt="a chart"><label for="q">Search</label><input id="q" name="q"></main>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(pages[r.URL.Path]))
	}))
	defer srv.Close()
	ctx := New(t)

	bad, err := Axe(ctx, srv.URL+"/bad", Phone)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range bad {
		ids = append(ids, v.ID)
		if len(v.Nodes) == 0 {
			t.Errorf("violation %s names no element", v.ID)
		}
	}
	for _, want := range []string{"image-alt", "label"} {
		if !slices.Contains(ids, want) {
			t.Errorf("axe on a page with an unlabelled image and input reports %q, want %s among them", ids, want)
		}
	}
	good, err := Axe(ctx, srv.URL+"/good", Desktop)
	if err != nil {
		t.Fatal(err)
	}
	if len(good) > 0 {
		t.Errorf("a sound page has violations: %v", good)
	}
}
