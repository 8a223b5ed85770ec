package web

import (
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/plan"
)

// TestPolicyLabel: English and Spanish keep the taxonomy's own names; the
// other UI languages name every area from the shared catalogue.
func TestPolicyLabel(t *testing.T) {
	water, ok := plan.LookupPolicyArea("water-sanitation")
	if !ok {
		t.Fatal("water-sanitation not in the taxonomy")
	}
	for lang, want := range map[string]string{
		"en": water.En, "es": water.Es, "es-MX": water.Es,
		"fr": "Eau et assainissement", "pt": "Água e saneamento", "ko": "상하수도와 위생",
		"de": water.En,
	} {
		if got := policyLabel(lang, water); got != want {
			t.Errorf("policyLabel(%s) = %q, want %q", lang, got, want)
		}
	}
	for _, lang := range []string{"fr", "pt", "ko"} {
		for _, a := range plan.PolicyAreas() {
			id := "policy_" + strings.ReplaceAll(a.Slug, "-", "_")
			if got, want := policyLabel(lang, a), web.TLang(lang, id); got != want || got == id {
				t.Errorf("%s: area %s = %q, want the catalogue's %q", lang, a.Slug, got, want)
			}
		}
	}
}
