package plan

import (
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// TestSummaryEscapesPlainText: content and ogp:lead are HTML on the wire,
// so a title or description containing markup must arrive as text, never
// as tags.
func TestSummaryEscapesPlainText(t *testing.T) {
	w := Wire{IRIs: ogp.NewIRIs("https://node.example", "node"), Lang: "en", Jurisdiction: "X"}
	c := Commitment{ID: "XX0001", PlanID: "p1", Title: NewText("en", `<script>alert(1)</script>`),
		Description: NewText("en", `<img src=x onerror=alert(2)>`), Completion: ogp.CompletionLimited}
	wc := w.Commitment(c)
	if got := wc.Lead; strings.Contains(got, "<img") || !strings.Contains(got, "&lt;img") {
		t.Errorf("lead not escaped: %q", got)
	}
	if got := wc.Content; strings.Contains(got, "<script") || strings.Contains(got, "<img") || !strings.Contains(got, "&lt;script&gt;") {
		t.Errorf("content not escaped: %q", got)
	}
	p := ActionPlan{ID: "p1", Title: NewText("en", "Plan <i>x</i>"), Summary: NewText("en", `<b onclick=x>bold</b>`)}
	wp := w.ActionPlan(p, nil)
	if strings.Contains(wp.Lead, "<b") || strings.Contains(wp.Content, "<b") || strings.Contains(wp.Content, "<i>") {
		t.Errorf("plan lead or content not escaped: %q / %q", wp.Lead, wp.Content)
	}
}
