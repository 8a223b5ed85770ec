package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// TestFallbackClientRefusesRedirects: a queue built without a Client (the
// fallback of Options) does not follow a 302 from an inbox: the attempt
// counts as failed with status 302, is retried, and the redirect's target
// is never reached.
func TestFallbackClientRefusesRedirects(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		if r.URL.Path == "/inbox" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	o := fastOpts()
	o.Backoff = func(int) time.Duration { return time.Hour } // one attempt, then a scheduled retry
	if o.Client != nil {
		t.Fatal("the test needs the fallback client")
	}
	q := newQueue(t, db, testSigner("a"), o)
	processed := countProcessed(q)
	run(t, q)
	if err := q.Enqueue(ctx, "https://node.example/activities/redirect", []byte(testBody), []string{srv.URL + "/inbox"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one attempt", 10*time.Second, func() bool { return processed.Load() >= 1 })
	mu.Lock()
	inbox, elsewhere := hits["/inbox"], hits["/elsewhere"]
	mu.Unlock()
	if inbox != 1 || elsewhere != 0 {
		t.Errorf("inbox reached %d times, the redirect's target %d times", inbox, elsewhere)
	}
	var j job
	if err := db.Collection("delivery_jobs").FindOne(ctx, bson.M{}).Decode(&j); err != nil {
		t.Fatalf("the job is gone (counted delivered?): %v", err)
	}
	if j.LastStatus != http.StatusFound || j.State != statePending || j.Attempts != 1 {
		t.Errorf("job after a 302: status %d, state %s, attempts %d (error %q)", j.LastStatus, j.State, j.Attempts, j.LastError)
	}
	if st := stats(t, q); st.Delivered != 0 {
		t.Errorf("a redirected delivery counted as delivered: %+v", st)
	}
}
