package readmodel

import (
	"testing"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// TestLeadAndDescription: a node's content is the post fediverse servers
// show (title, lead, link, hashtags); the hub's pages take the lead from
// ogp:lead and the description from ogp:description, and from summary and
// content when an older producer sends those instead.
func TestLeadAndDescription(t *testing.T) {
	m := New(fixedNow)
	a := "http://a.localhost"
	c := commitment(a, "A0001", ogp.CompletionLimited)
	c.Content = "<p><strong>A0001: title</strong></p><p>lead</p><p>link</p>"
	c.Lead, c.LeadMap = "Completion: limited.", ogp.LangMap{"es": "Avance: limitado."}
	c.Description = "<p>The full description.</p>"
	m.ApplyCommitment(a, c, day)
	got, _ := m.Commitment(c.ID)
	if got.SummaryHTML.Default != "Completion: limited." || got.SummaryHTML.In("es") != "Avance: limitado." ||
		got.ContentHTML.Default != "<p>The full description.</p>" {
		t.Errorf("lead %+v, description %+v", got.SummaryHTML, got.ContentHTML)
	}

	old := commitment(a, "A0002", ogp.CompletionLimited)
	old.Summary, old.Content = "An old summary.", "<p>An old description.</p>"
	m.ApplyCommitment(a, old, day)
	got, _ = m.Commitment(old.ID)
	if got.SummaryHTML.Default != "An old summary." || got.ContentHTML.Default != "<p>An old description.</p>" {
		t.Errorf("older producer: lead %+v, description %+v", got.SummaryHTML, got.ContentHTML)
	}
}
