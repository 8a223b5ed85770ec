package accept

import "testing"

// The full negotiation table is in internal/web's tests (through its
// wrappers); these pin the cases federation relies on.
func TestFederationCases(t *testing.T) {
	for _, tc := range []struct {
		accept string
		ap     bool
	}{
		{"application/activity+json", true},
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true},
		{`application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true}, // Mastodon
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},                                // a browser
		{"*/*", false},
		{"", false},
		{"text/html;q=0.5, application/activity+json", true},
	} {
		if got := WantsActivityJSON(tc.accept); got != tc.ap {
			t.Errorf("WantsActivityJSON(%q) = %v", tc.accept, got)
		}
	}
	for ct, want := range map[string]bool{
		"application/activity+json":                                            true,
		"application/activity+json; charset=utf-8":                             true,
		`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`: true,
		"application/json":                                                     false,
		"text/plain":                                                           false,
		"application/activity+json; charset=latin1":                            false,
	} {
		if got := IsAPContentType(ct); got != want {
			t.Errorf("IsAPContentType(%q) = %v", ct, got)
		}
	}
}
