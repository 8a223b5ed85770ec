package hub_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// TestDiscussionAcrossReplicas: two hub replicas share one store; the
// inbox lands on A, and B's thread (API, in memory) shows what A kept,
// then what staff hid on B reaches A, within seconds.
func TestDiscussionAcrossReplicas(t *testing.T) {
	town := startOwner(t, "town")
	peer := startOwner(t, "peer")
	cIRI := town.publishCommitment(t, "TOW0001", "Open budget portal", "fiscal-openness")

	db := storetest.DB(t)
	ln, base := listen(t, "hub", "")
	a, b := newReplica(t, base, db), newReplica(t, base, db)
	rs := &replicaSet{hs: []http.Handler{a.Handler(), b.Handler()}}
	serve(t, ln, rs, func(ctx context.Context) error { <-ctx.Done(); return nil })
	runReplica(t, a)
	runReplica(t, b)
	th := &testHub{Hub: a, db: db}
	th.base = base
	joinOwner(t, th, town, cIRI)
	joinOwner(t, th, peer, "")
	eventually(t, 20*time.Second, "B holds the commitment", func() bool {
		_, ok := b.ReadModel().Commitment(cIRI)
		return ok
	})

	q := peer.note("q1", cIRI, "<p>Which tool do you use?</p>", a.Federation().ActorID())
	peer.send(t, a.Federation().InboxID(), "Create", q, "")
	id := q["id"].(string)
	eventually(t, 20*time.Second, "the question on both replicas", func() bool {
		return len(a.Discussion().Thread(cIRI)) == 1 && len(b.Discussion().Thread(cIRI)) == 1
	})
	if err := b.Discussion().Hide(context.Background(), id, "staff@b"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "A sees the post B's staff hid", func() bool {
		p, ok := a.Discussion().Get(id)
		return ok && p.Status == "hidden" && len(a.Discussion().Thread(cIRI)) == 0
	})
	if audit := a.Discussion().Audit(1); len(audit) != 1 || audit[0].By != "staff@b" {
		t.Errorf("A's audit log: %+v", audit)
	}
}
