package plan

import (
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// TestSummaryEscapesPlainText: summary is HTML on the wire, so a title or
// description containing markup must arrive as text, never as tags.
func TestSummaryEscapesPlainText(t *testing.T) {
	w := Wire{IRIs: ogp.NewIRIs("https://node.example", "node"), Lang: "en", Jurisdiction: "X"}
	c := Commitment{ID: "XX0001", PlanID: "p1", Title: NewText("en", `<script>alert(1)</script>`),
		Description: NewText("en", `<img src=x onerror=alert(2)>`), Completion: ogp.CompletionLimited}
	got := w.Commitment(c).Summary
	if strings.Contains(got, "<script") || strings.Contains(got, "<img") || !strings.Contains(got, "&lt;script&gt;") {
		t.Errorf("summary not escaped: %q", got)
	}
	p := ActionPlan{ID: "p1", Title: NewText("en", "Plan"), Summary: NewText("en", `<b onclick=x>bold</b>`)}
	if s := w.ActionPlan(p, nil).Summary; strings.Contains(s, "<b") {
		t.Errorf("plan summary not escaped: %q", s)
	}
}
