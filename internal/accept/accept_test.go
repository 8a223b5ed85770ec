package accept

import "testing"

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

// The whole negotiation table lives here, beside the rules; internal/web
// tests only that its wrappers read the request's Accept header.
func TestWantsActivityJSON(t *testing.T) {
	for _, tc := range []struct {
		accept string
		want   bool
	}{
		{"application/activity+json", true},
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true},
		{"application/ld+json", true},
		{`application/ld+json; profile="https://example.org/other"`, false},
		{`application/ld+json; profile="https://example.org/x https://www.w3.org/ns/activitystreams"`, true},
		// What Mastodon sends when it fetches an object.
		{`application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true},
		{browserAccept, false},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false}, // an older browser
		{"text/html, application/activity+json", false},                            // same q: the first listed wins
		{"application/activity+json, text/html", true},                             // same q: the first listed wins
		{"text/html;q=0.5, application/activity+json;q=0.9", true},                 // q decides
		{"text/html;q=0.5, application/activity+json", true},                       // q defaults to 1
		{"text/html, application/activity+json;q=0", false},                        // q=0 means "not acceptable"
		{"application/activity+json;q=0.2, text/*;q=0.5", false},                   // text/* counts as HTML
		{"*/*", false}, // no preference: HTML
		{"", false},
		{"application/json", false},
		{"garbage;;;, application/activity+json", true}, // a malformed element does not spoil the rest
		{"APPLICATION/ACTIVITY+JSON", true},
	} {
		if got := WantsActivityJSON(tc.accept); got != tc.want {
			t.Errorf("WantsActivityJSON(%q) = %v, want %v", tc.accept, got, tc.want)
		}
	}
}

func TestWantsJSONAndHTML(t *testing.T) {
	for _, tc := range []struct {
		accept         string
		json, wantHTML bool
	}{
		{"application/json", true, false},
		{"application/activity+json", true, false},
		{"application/problem+json", true, false},
		{browserAccept, false, true},
		{"text/html", false, true},
		{"*/*", false, false},
		{"", false, false},
		{"application/json, text/html;q=0.9", true, false},
		{"text/html, application/json;q=0.9", false, true},
	} {
		if got := WantsJSON(tc.accept); got != tc.json {
			t.Errorf("WantsJSON(%q) = %v, want %v", tc.accept, got, tc.json)
		}
		if got := WantsHTML(tc.accept); got != tc.wantHTML {
			t.Errorf("WantsHTML(%q) = %v, want %v", tc.accept, got, tc.wantHTML)
		}
	}
}

func TestIsAPContentType(t *testing.T) {
	for _, tc := range []struct {
		ct   string
		want bool
	}{
		{"application/activity+json", true},
		{"application/activity+json; charset=utf-8", true},
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true},
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams"; charset=UTF-8`, true},
		{"application/ld+json", true},
		{`application/ld+json; profile="https://example.org/p"`, false},
		{"application/activity+json; charset=latin1", false},
		{"application/json", false},
		{"text/plain", false},
		{"text/html", false},
		{"", false},
		{"application/activity+json; profile", false}, // malformed parameter
	} {
		if got := IsAPContentType(tc.ct); got != tc.want {
			t.Errorf("IsAPContentType(%q) = %v, want %v", tc.ct, got, tc.want)
		}
	}
}
