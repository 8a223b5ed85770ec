package node

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/node/planstore"
)

// TestCSRFOnPathsEndingInInbox: a plan whose id is "inbox" puts operator
// routes at paths ending in /inbox, which the CSRF check once skipped by
// their text. With only the operator's session cookie, a form POST and an
// API PUT are refused over HTTP: with a foreign Origin by the Origin check,
// without one by the token check; each answer says which, and no plan is
// created.
func TestCSRFOnPathsEndingInInbox(t *testing.T) {
	tn := startNode(t, "csrfnode")
	ana := tn.login(t, operatorUser)
	form := url.Values{"title_es": {"Plan"}, "jurisdiction": {"Jalisco"}, "periodStart": {"2024-01-01"},
		"periodEnd": {"2026-12-31"}, "status": {"implementation"}}
	foreign := map[string]string{"Origin": "http://evil.example", "Accept": "application/json"}
	cases := []struct {
		name, method, path string
		body               any
		hdr                map[string]string
		reason             string
	}{
		{"form, foreign Origin", http.MethodPost, "/admin/plans/inbox", form, foreign, "cross-origin request refused: Origin http://evil.example"},
		{"API, foreign Origin", http.MethodPut, "/api/v1/plans/inbox", samplePlan(), foreign, "cross-origin request refused: Origin http://evil.example"},
		{"form, cross-site fetch", http.MethodPost, "/admin/plans/inbox", form, map[string]string{"Sec-Fetch-Site": "cross-site"}, "cross-site request refused"},
		{"form, no token", http.MethodPost, "/admin/plans/inbox", form, nil, "missing or invalid CSRF token"},
		{"API, no token", http.MethodPut, "/api/v1/plans/inbox", samplePlan(), nil, "missing or invalid CSRF token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, ana, c.method, tn.base+c.path, c.body, c.hdr)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, c.reason) {
				t.Errorf("%d %s, want 403 saying %q", resp.StatusCode, body, c.reason)
			}
		})
	}
	if _, err := tn.svc.Store().GetPlan(context.Background(), "inbox"); !errors.Is(err, planstore.ErrNotFound) {
		t.Errorf("a refused request created the plan: %v", err)
	}
}
