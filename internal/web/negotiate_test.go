package web

import (
	"net/http/httptest"
	"testing"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

// The negotiation rules are tested in internal/accept; these check that the
// wrappers read the request's Accept header.
func TestNegotiationReadsAcceptHeader(t *testing.T) {
	for _, tc := range []struct {
		accept               string
		activity, json, html bool
	}{
		{"application/activity+json", true, true, false},
		{"application/json", false, true, false},
		{browserAccept, false, false, true},
		{"", false, false, false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", tc.accept)
		if got := WantsActivityJSON(r); got != tc.activity {
			t.Errorf("WantsActivityJSON(%q) = %v, want %v", tc.accept, got, tc.activity)
		}
		if got := WantsJSON(r); got != tc.json {
			t.Errorf("WantsJSON(%q) = %v, want %v", tc.accept, got, tc.json)
		}
		if got := WantsHTML(r); got != tc.html {
			t.Errorf("WantsHTML(%q) = %v, want %v", tc.accept, got, tc.html)
		}
	}
	if !IsAPContentType("application/activity+json; charset=utf-8") || IsAPContentType("application/json") {
		t.Error("IsAPContentType does not follow accept.IsAPContentType")
	}
}

func TestSetVaryAcceptOnce(t *testing.T) {
	e := NewEcho(Options{})
	c := e.NewContext(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder())
	c.Response().Header().Add("Vary", "Accept-Encoding")
	SetVaryAccept(c)
	SetVaryAccept(c)
	if got := c.Response().Header().Values("Vary"); len(got) != 2 || got[1] != "Accept" {
		t.Fatalf("Vary = %q, want [Accept-Encoding Accept]", got)
	}
}
