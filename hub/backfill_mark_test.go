package hub_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// TestBackfillRetriesWhatItCouldNotFetch: a node whose outbox lists items
// by reference (as GoToSocial does) and cannot serve them for a while (a
// restart): the walk that misses them must not move its mark past them,
// so the next walk brings them in.
func TestBackfillRetriesWhatItCouldNotFetch(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	n := startNodeWith(t, "kigoma", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasPrefix(r.URL.Path, "/activities/") && down.Load():
				http.Error(w, "restarting", http.StatusServiceUnavailable)
			case strings.HasSuffix(r.URL.Path, "/outbox") && r.URL.Query().Get("page") != "":
				// Serve the page with its items as IRIs.
				rec := httptest.NewRecorder()
				r.Header.Del("Accept-Encoding") // a plain body to rewrite
				next.ServeHTTP(rec, r)
				var page map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
					t.Errorf("outbox page: %v", err)
					return
				}
				items, _ := page["orderedItems"].([]any)
				for i, it := range items {
					items[i] = it.(map[string]any)["id"]
				}
				body, _ := json.Marshal(page)
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.Header().Del("Content-Length")
				w.WriteHeader(rec.Code)
				_, _ = w.Write(body)
			default:
				next.ServeHTTP(w, r)
			}
		})
	})
	n.seedPlan(t)
	n.create(t, 1, "Open budgets", "budget")
	h := startHub(t, storetest.DB(t), "")
	join(t, h, n)
	time.Sleep(500 * time.Millisecond) // the first walk, on accept, meets the outage
	if err := h.Backfill(context.Background()); err != nil {
		t.Logf("backfill during the outage: %v", err)
	}
	if got := allCommitments(t, h.base, ""); len(got) != 0 {
		t.Fatalf("during the outage the hub has %d commitments", len(got))
	}
	down.Store(false)
	if err := h.Backfill(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := allCommitments(t, h.base, "")
	if len(got) != 1 || got[0].ID != n.commitmentIRI(1) {
		t.Fatalf("after the outage the hub has %+v, want the commitment", got)
	}
}
