package conversation

import (
	"strings"
	"testing"
)

// TestSanitize: what a reply may carry onto a page, and what never does.
func TestSanitize(t *testing.T) {
	in := `<p><span class="h-card"><a href="https://m.example/@a" class="u-url mention">@<span>a</span></a></span> hi ` +
		`<script>alert(1)</script><a href="javascript:alert(2)" onclick="x()">j</a><img src=x onerror=alert(3)>` +
		`<span style="color:red" onmouseover="y()">s</span><iframe src="https://evil.example"></iframe><form><input></form></p>`
	out := Sanitize(in)
	for _, bad := range []string{"<script", "javascript:", "onclick", "onerror", "onmouseover", "style=", "<img", "<iframe", "<form", "<input"} {
		if strings.Contains(out, bad) {
			t.Errorf("sanitised HTML keeps %q: %s", bad, out)
		}
	}
	for _, keep := range []string{`class="u-url mention"`, `href="https://m.example/@a"`, `<span>a</span>`, "hi"} {
		if !strings.Contains(out, keep) {
			t.Errorf("sanitised HTML lost %q: %s", keep, out)
		}
	}
}

// TestParseNote reads the shapes Mastodon and GoToSocial send and refuses
// what is not a reply, naming the field.
func TestParseNote(t *testing.T) {
	p, err := parseNote([]byte(`{"id":"https://g.example/users/k/statuses/1","type":"Note",
		"attributedTo":"https://g.example/users/k","inReplyTo":{"id":"https://n.example/commitments/A0001"},
		"contentMap":{"en":"<p>hi</p>"},"summary":"cw","sensitive":true,"to":"https://n.example/users/n",
		"cc":["https://www.w3.org/ns/activitystreams#Public"],
		"tag":{"type":"Mention","href":"https://n.example/users/n","name":"@n@n.example"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Actor != "https://g.example/users/k" || p.InReplyTo != "https://n.example/commitments/A0001" || p.Content != "<p>hi</p>" ||
		p.Summary != "cw" || !p.Sensitive || len(p.Addressed) != 2 || len(p.Mentions) != 1 || p.Mentions[0].Name != "@n@n.example" {
		t.Fatalf("parsed: %+v", p)
	}
	for raw, want := range map[string]string{
		`{"id":"https://g.example/1","type":"Person"}`: `type "Person"`,
		`{"type":"Note","content":"x"}`:                "id",
		`{"id":"https://g.example/1","type":"Note","summary":"` + strings.Repeat("x", MaxSummaryBytes+1) + `"}`: "summary: longer than",
	} {
		if _, err := parseNote([]byte(raw)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.60s: err %v, want %q", raw, err, want)
		}
	}
}

func TestParseMode(t *testing.T) {
	for _, ok := range []string{"open", "review", "off"} {
		if m, err := ParseMode(ok); err != nil || string(m) != ok {
			t.Errorf("ParseMode(%q) = %q, %v", ok, m, err)
		}
	}
	if _, err := ParseMode("Review"); err == nil || !strings.Contains(err.Error(), "must be open, review or off") {
		t.Errorf("ParseMode(Review): %v", err)
	}
}
