package ogp

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestLinkIRI(t *testing.T) {
	for raw, want := range map[string]string{
		`"https://a.example/1"`:                        "https://a.example/1",
		`{"id":"https://a.example/1"}`:                 "https://a.example/1",
		`{"type":"Link","href":"https://a.example/1"}`: "https://a.example/1",
		`[{"href":"https://a.example/1"},"https://b"]`: "https://a.example/1",
		`[]`: "", `null`: "", `42`: "",
	} {
		if got := LinkIRI(json.RawMessage(raw)); got != want {
			t.Errorf("LinkIRI(%s) = %q, want %q", raw, got, want)
		}
	}
	if got := LinkIRI(nil); got != "" {
		t.Errorf("LinkIRI(nil) = %q", got)
	}
}

func TestLinkIRIs(t *testing.T) {
	for raw, want := range map[string][]string{
		`"https://a.example/1"`:                         {"https://a.example/1"},
		`["https://a.example/1",{"id":"https://b"},""]`: {"https://a.example/1", "https://b"},
		`{"id":"https://b"}`:                            {"https://b"},
		`[]`:                                            nil,
	} {
		if got := LinkIRIs(json.RawMessage(raw)); !slices.Equal(got, want) {
			t.Errorf("LinkIRIs(%s) = %q, want %q", raw, got, want)
		}
	}
}
