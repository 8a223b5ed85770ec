package main

import (
	"slices"
	"testing"

	"github.com/ogpnet/ogpnet/cmd/ogpnet/demo"
)

// TestShots: the README's four pages, then each "name=path@host" of
// OGPNET_SCREENSHOT_EXTRA on the demo's host names.
func TestShots(t *testing.T) {
	d := &demo.Demo{Port: "8080"}
	got := shots(d, "")
	var names []string
	for _, s := range got {
		names = append(names, s.name)
	}
	if want := []string{"hub-compare.png", "hub-home.png", "hub-commitment.png", "node-commitment.png"}; !slices.Equal(names, want) {
		t.Errorf("default shots %q, want %q", names, want)
	}
	if got[2].url != "http://hub.localhost:8080/commitment?id=http%3A%2F%2Fjalisco.localhost%3A8080%2Fcommitments%2FJAL0001" {
		t.Errorf("the hub's commitment shot is of %s", got[2].url)
	}
	extra := shots(d, "search.png=/search?q=water@hub,seoul.png=/@seoul")[4:]
	want := []shot{{"search.png", "http://hub.localhost:8080/search?q=water"}, {"seoul.png", "http://seoul.localhost:8080/"}}
	if !slices.Equal(extra, want) {
		t.Errorf("extra shots %+v, want %+v", extra, want)
	}
}
