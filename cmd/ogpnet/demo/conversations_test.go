package demo

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSampleConversations: every sample thread is between two different
// pilots of the demo, about a commitment the owner's sample data holds,
// with a question and an answer in plain text, each labelled illustrative
// like the rest of the sample.
func TestSampleConversations(t *testing.T) {
	cs, err := conversations()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) < 3 {
		t.Fatalf("%d sample conversations, want a few", len(cs))
	}
	pilots, err := Pilots()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, p := range pilots {
		known[p.Slug] = true
	}
	for _, c := range cs {
		if !known[c.Asker] || !known[c.Owner] || c.Asker == c.Owner {
			t.Errorf("%s → %s: two different demo pilots needed", c.Asker, c.Owner)
			continue
		}
		raw, err := sampleData.ReadFile("data/" + c.Owner + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var sample struct {
			Commitments []struct {
				ID string `json:"id"`
			} `json:"commitments"`
		}
		if err := json.Unmarshal(raw, &sample); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, sc := range sample.Commitments {
			found = found || sc.ID == c.Commitment
		}
		if !found {
			t.Errorf("%s has no sample commitment %s", c.Owner, c.Commitment)
		}
		for _, text := range []string{c.Question, c.Answer} {
			if strings.TrimSpace(text) == "" || strings.ContainsAny(text, "<>") {
				t.Errorf("%s → %s %s: question and answer must be plain, non-empty text", c.Asker, c.Owner, c.Commitment)
			}
			if !strings.HasSuffix(text, "(illustrative)") && !strings.HasSuffix(text, "(ilustrativo)") {
				t.Errorf("%s → %s %s: %q is not labelled illustrative", c.Asker, c.Owner, c.Commitment, text)
			}
		}
	}
}
