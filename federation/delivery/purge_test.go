package delivery

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// storedJobs lists the _id of every document in delivery_jobs.
func storedJobs(t *testing.T, q *Queue) []string {
	t.Helper()
	cur, err := q.jobs.Find(context.Background(), bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []job
	if err := cur.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	return ids
}

// Delivered jobs leave delivery_jobs through the purge, and only they: a
// job still being retried stays, with its state.
func TestPurgeRemovesFinishedJobsOnly(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	rc := newReceiver(t, func(_ int, r *http.Request) int {
		if strings.HasPrefix(r.URL.Path, "/down") {
			return http.StatusServiceUnavailable
		}
		return http.StatusAccepted
	})
	o := fastOpts()
	o.Backoff = func(int) time.Duration { return time.Hour } // the failing job waits, pending
	q := newQueue(t, db, testSigner("a"), o)
	inboxes := []string{rc.URL + "/down/inbox"}
	for _, p := range []string{"/a", "/b", "/c", "/d", "/e"} {
		inboxes = append(inboxes, rc.URL+p+"/inbox")
	}
	const activity = "https://node.example/activities/purge"
	if err := q.Enqueue(ctx, activity, []byte(testBody), inboxes); err != nil {
		t.Fatal(err)
	}
	processed := countProcessed(q)
	run(t, q)
	waitFor(t, "every job attempted", 30*time.Second, func() bool { return processed.Load() >= 5 && rc.count() >= 6 })
	failing := JobID(activity, rc.URL+"/down/inbox")
	waitFor(t, "the purge", 30*time.Second, func() bool { return len(storedJobs(t, q)) <= 1 })
	if got := storedJobs(t, q); len(got) != 1 || got[0] != failing {
		t.Fatalf("stored jobs = %v, want only the failing one %s", got, failing)
	}
	var cur job
	if err := q.jobs.FindOne(ctx, bson.M{"_id": failing}).Decode(&cur); err != nil || cur.State != statePending || cur.Attempts != 1 {
		t.Fatalf("failing job = %+v, %v; want pending after 1 attempt", cur, err)
	}
	if s := stats(t, q); s.Pending != 1 || s.Leased != 0 || s.Delivered != 5 {
		t.Fatalf("stats = %+v, want 1 pending, 5 delivered", s)
	}
	if n := rc.count(); n != 6 {
		t.Fatalf("POSTs = %d, want 6", n)
	}
}

// A replica that stops after recording "done" keys but before its purge
// (killed, or its purge failed) leaves the delivered jobs stored. The next
// process on the store reads them at start and must send none of them
// again: it learns from their keys that they are done, and purges them.
// Until then, Stats counts them as neither pending nor leased.
func TestRestartAfterDoneBeforePurgeSendsNothingAgain(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	rc := newReceiver(t, nil)
	clk := newClock(testEpoch)
	o := clockOpts(clk)
	first := newQueue(t, db, testSigner("first"), o)
	var inboxes []string
	for _, p := range []string{"/a", "/b", "/c"} {
		inboxes = append(inboxes, rc.URL+p+"/inbox")
	}
	if err := first.Enqueue(ctx, "https://node.example/activities/restart", []byte(testBody), inboxes); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	got, err := first.claim(ctx, 3)
	if err != nil || len(got) != 3 {
		t.Fatalf("claim = %d, %v", len(got), err)
	}
	for _, j := range got {
		first.process(ctx, j) // delivered and recorded; Run is not running, so no purge
	}
	if rc.count() != 3 {
		t.Fatalf("POSTs = %d, want 3", rc.count())
	}
	if n := len(storedJobs(t, first)); n != 3 {
		t.Fatalf("stored jobs before any purge = %d, want the 3 delivered", n)
	}
	if s := stats(t, first); s.Pending+s.Leased != 0 {
		t.Fatalf("stats = %+v: delivered jobs waiting for the purge count as live", s)
	}
	// The restart: a new process, even long after the leases ran out.
	clk.Add(time.Hour)
	second := newQueue(t, db, testSigner("second"), o)
	run(t, second)
	waitFor(t, "the new process to purge the delivered jobs", 30*time.Second, func() bool { return len(storedJobs(t, second)) == 0 })
	time.Sleep(100 * time.Millisecond) // a POST sent would have arrived
	if n := rc.count(); n != 3 {
		t.Fatalf("POSTs = %d after the restart, want the 3 before it", n)
	}
}

// While Run runs, a finished job's "done" key waits for the next claim and
// goes in the same insert as its lease keys (one write for both).
func TestClaimRecordsFinishedJobsAlong(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	rc := newReceiver(t, nil)
	clk := newClock(testEpoch)
	q := newQueue(t, db, testSigner("a"), clockOpts(clk))
	if err := q.Enqueue(ctx, "https://node.example/activities/along", []byte(testBody), []string{rc.URL + "/a/inbox", rc.URL + "/b/inbox"}); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	first, err := q.claim(ctx, 1)
	if err != nil || len(first) != 1 {
		t.Fatalf("claim = %d, %v", len(first), err)
	}
	q.running.Store(true) // as under Run, without its recorder
	q.process(ctx, first[0])
	doneKey := claimKey(first[0].Nonce, first[0].Gen)
	if n, _ := q.claims.CountDocuments(ctx, bson.M{"_id": doneKey}); n != 0 {
		t.Fatal("the done key was written before the next claim")
	}
	second, err := q.claim(ctx, 1)
	if err != nil || len(second) != 1 || second[0].ID == first[0].ID {
		t.Fatalf("second claim = %+v, %v", second, err)
	}
	var k claimDoc
	if err := q.claims.FindOne(ctx, bson.M{"_id": doneKey}).Decode(&k); err != nil || k.Step != stepDone || k.Owner != q.o.Owner {
		t.Fatalf("done key after the claim = %+v, %v", k, err)
	}
	if s := stats(t, q); s.Delivered != 1 || s.Leased != 1 || s.Pending != 0 {
		t.Fatalf("stats = %+v, want 1 delivered, 1 leased", s)
	}
}

// Both ways a purge deletes (one scan for many, by _id for few) delete
// exactly the jobs named.
func TestDeleteJobsEitherWay(t *testing.T) {
	ctx := context.Background()
	q, _, _ := dueQueue(t, 10)
	all := storedJobs(t, q)
	if len(all) != 10 {
		t.Fatalf("stored %d jobs, want 10", len(all))
	}
	if err := q.deleteJobs(ctx, all[:2], 10); err != nil { // few of many: by _id
		t.Fatal(err)
	}
	if got := storedJobs(t, q); !slices.Equal(got, all[2:]) {
		t.Fatalf("after deleting 2 by _id: %v, want %v", got, all[2:])
	}
	if err := q.deleteJobs(ctx, all[2:7], 8); err != nil { // many: one scan
		t.Fatal(err)
	}
	if got := storedJobs(t, q); !slices.Equal(got, all[7:]) {
		t.Fatalf("after deleting 5 with a scan: %v, want %v", got, all[7:])
	}
}
