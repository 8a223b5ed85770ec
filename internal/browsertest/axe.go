package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// AxeVersion is the axe-core release the tests run; .ci/install-axe pins
// the same version and its npm integrity hash.
const AxeVersion = "4.14.1"

// AxeTags are the rule sets every page must pass: WCAG 2.0, 2.1 and 2.2,
// levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// Viewport is a window size pages are checked at.
type Viewport struct{ Width, Height int64 }

// Desktop and Phone are the two sizes every page kind is checked at.
var (
	Desktop = Viewport{1280, 900}
	Phone   = Viewport{390, 844}
)

// AxePath returns where axe.min.js is: $OGPNET_AXE if set, else the copy
// .ci/install-axe puts in ~/.cache/ogpnet-ci.
func AxePath() string {
	if p := os.Getenv("OGPNET_AXE"); p != "" {
		return p
	}
	cache := os.Getenv("OGPNET_CI_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "ogpnet-ci")
	}
	return filepath.Join(cache, "axe-core-"+AxeVersion, "axe.min.js")
}

var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(AxePath())
	if err != nil {
		return "", fmt.Errorf("axe-core %s not found (run .ci/install-axe): %w", AxeVersion, err)
	}
	return string(b), nil
})

// AxeViolation is one rule a page breaks, with the elements that break it.
type AxeViolation struct {
	ID     string    `json:"id"`
	Impact string    `json:"impact"`
	Help   string    `json:"help"`
	Nodes  []AxeNode `json:"nodes"`
}

// AxeNode is one offending element: its CSS selector path and axe's
// explanation of what to fix.
type AxeNode struct {
	Target  []any  `json:"target"`
	HTML    string `json:"html"`
	Summary string `json:"failureSummary"`
}

// String formats the violation for a test failure: the rule, then each
// element on its own line.
func (v AxeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		html := n.HTML
		if len(html) > 160 {
			html = html[:160] + "…"
		}
		fmt.Fprintf(&b, "\n      %v %s — %s", n.Target, html, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// axeRun is the script run in the page once axe is loaded.
func axeRun() string {
	tags, _ := json.Marshal(AxeTags)
	return `axe.run(document, {runOnly: {type: "tag", values: ` + string(tags) + `}, resultTypes: ["violations"]})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary || ""}))})))`
}

// Axe opens url in ctx's tab at the viewport vp, injects axe-core and
// returns the WCAG 2.2 A/AA violations it finds.
func Axe(ctx context.Context, url string, vp Viewport) ([]AxeViolation, error) {
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(vp.Width, vp.Height),
		chromedp.Navigate(url),
		chromedp.WaitReady("body"),
	); err != nil {
		return nil, fmt.Errorf("axe %s: %w", url, err)
	}
	return AxeCurrent(ctx)
}

// AxeCurrent runs axe-core on the page ctx's tab shows now, e.g. a form a
// test reached by clicking. Injecting through the DevTools protocol is not
// subject to the page's Content-Security-Policy, so pages keep their strict
// policy.
func AxeCurrent(ctx context.Context) ([]AxeViolation, error) {
	src, err := axeSource()
	if err != nil {
		return nil, err
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]AxeViolation](
		`(() => { if (!window.axe) { `+src+`
		} return `+axeRun()+`; })()`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("axe: %w", err)
	}
	return vs, nil
}

// FormatViolations lists violations one rule a line, each offending element
// below it, for a test failure.
func FormatViolations(vs []AxeViolation) string {
	var lines []string
	for _, v := range vs {
		lines = append(lines, "  - "+v.String())
	}
	return strings.Join(lines, "\n")
}

// CheckAccessibility runs axe on every url at every viewport (Desktop and
// Phone when none is given) in ctx's one tab, and fails t once per page
// that breaks a rule, listing each rule and element. It also fails a page
// wider than the viewport (a phone reader would scroll sideways). Call it
// with the pages a test has reached, e.g. after an operator signed in so the
// forms render:
//
//	browsertest.CheckAccessibility(t, ctx, []string{base + "/", base + "/admin"})
func CheckAccessibility(t testing.TB, ctx context.Context, urls []string, vps ...Viewport) {
	t.Helper()
	if len(vps) == 0 {
		vps = []Viewport{Desktop, Phone}
	}
	for _, vp := range vps {
		for _, u := range urls {
			vs, err := Axe(ctx, u, vp)
			if err != nil {
				t.Errorf("%v", err)
				continue
			}
			if len(vs) > 0 {
				t.Errorf("axe-core %s at %d px: %s has %d WCAG 2.2 A/AA violations:\n%s",
					AxeVersion, vp.Width, u, len(vs), FormatViolations(vs))
			}
			if w, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)); err == nil && w > vp.Width {
				t.Errorf("at %d px, %s is %d px wide: readers scroll sideways", vp.Width, u, w)
			}
		}
	}
}
