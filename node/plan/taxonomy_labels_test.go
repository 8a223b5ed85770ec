package plan_test

import (
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/plan"
)

// TestTaxonomyInCatalogue: the hub names policy areas from the shared UI
// catalogue (it cannot import the node), so every area of the taxonomy
// must have a label there in English and Spanish.
func TestTaxonomyInCatalogue(t *testing.T) {
	for _, a := range plan.PolicyAreas() {
		id := "policy_" + strings.ReplaceAll(a.Slug, "-", "_")
		for _, lang := range []string{"en", "es"} {
			if got := web.TLang(lang, id); got == id || got == "" {
				t.Errorf("%s: no %s label (%s) in internal/web/locales", a.Slug, lang, id)
			}
		}
	}
}
