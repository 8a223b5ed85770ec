package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/ingest"
	"github.com/ogpnet/ogpnet/hub/objects"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

const pilot = "http://a.localhost/users/a"

func commitmentJSON(t testing.TB, id, attributed string, updated time.Time) []byte {
	t.Helper()
	iris := ogp.NewIRIs("http://a.localhost", "a")
	c := ogp.Commitment{
		Post: ogp.Post{
			ID:           id,
			Type:         ogp.TypeCommitment,
			AttributedTo: attributed,
			URL:          id,
			Name:         "Open data " + id,
			Summary:      "A summary that is about two hundred characters long, as real ones are, so the benchmark moves realistic documents.",
			Content:      "<p>" + string(make([]byte, 0)) + "Body text of the commitment with <em>some</em> markup.</p>",
			Published:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			Updated:      updated,
			To:           []string{ogp.Public},
		},
		Identifier: "AAA0001", ActionPlan: iris.Plan("p"), Completion: ogp.CompletionLimited,
		PolicyAreas: []string{"open-data"}, Taxonomy: "ogpnet-2026.1",
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The membership check needs a members.Service (federation); these tests
// call Accept directly, which trusts its caller to have checked membership.
func newService(t testing.TB) *ingest.Service {
	t.Helper()
	st := objects.Open(storetest.DB(t))
	if err := st.Load(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return newReplica(st)
}

// newReplica is an ingest service over st whose read model follows st.
func newReplica(st *objects.Store) *ingest.Service {
	model := readmodel.New(nil)
	st.HandTo(ingest.Applier(model))
	return &ingest.Service{Objects: st, Model: model}
}

func TestAcceptRules(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	id := "http://a.localhost/commitments/AAA0001"
	t1 := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		wantID  string
		raw     []byte
		want    objects.Result
		wantErr error
	}{
		{"valid", id, commitmentJSON(t, id, pilot, t1), objects.Created, nil},
		{"redelivery", id, commitmentJSON(t, id, pilot, t1), objects.Stale, nil},
		{"older update", id, commitmentJSON(t, id, pilot, t1.Add(-time.Hour)), objects.Stale, nil},
		{"newer update", id, commitmentJSON(t, id, pilot, t1.Add(time.Hour)), objects.Replaced, nil},
		{"id mismatch", id + "x", commitmentJSON(t, id, pilot, t1.Add(2*time.Hour)), objects.Stale, ingest.ErrRejected},
		{"attributed to someone else", "", commitmentJSON(t, "http://a.localhost/commitments/AAA0002", "http://a.localhost/users/b", t1), objects.Stale, ingest.ErrRejected},
		{"unsupported type", "", []byte(`{"id":"http://a.localhost/x","type":"Question","attributedTo":"` + pilot + `"}`), objects.Stale, ingest.ErrUnsupported},
		{"not JSON", "", []byte(`<html>`), objects.Stale, ingest.ErrRejected},
	}
	for _, c := range cases {
		got, err := s.Accept(ctx, pilot, c.wantID, c.raw, ingest.Backfill)
		if got != c.want || !errors.Is(err, c.wantErr) {
			t.Errorf("%s: %v, %v; want %v, %v", c.name, got, err, c.want, c.wantErr)
		}
	}
	// A commitment on another host than the member is refused even when
	// "attributed" to the member (parse rejects the cross-origin id).
	foreign := commitmentJSON(t, "http://b.localhost/commitments/AAA0001", pilot, t1)
	if _, err := s.Accept(ctx, pilot, "", foreign, ingest.Backfill); !errors.Is(err, ingest.ErrRejected) {
		t.Errorf("foreign host: %v", err)
	}
	if err := s.Delete(ctx, pilot, id, time.Time{}, ingest.Backfill); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Accept(ctx, pilot, id, commitmentJSON(t, id, pilot, t1.Add(5*time.Hour)), ingest.Backfill); got != objects.Gone {
		t.Errorf("after delete: %v", got)
	}
	if s.Model.Totals().Commitments != 0 {
		t.Error("deleted commitment still in the read model")
	}
}

// BenchmarkIngest compares the hub's ingest path (parse + validate +
// versioned store write + read-model update) with its bounds: a raw insert of
// the same document into the same store, and parsing alone (design §5).
// The signed-delivery figure over loopback is in the federation benchmarks;
// this isolates what the hub adds on top of them.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	docs := func(n int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = commitmentJSON(b, fmt.Sprintf("http://a.localhost/commitments/AAA%04d", i), pilot, time.Time{})
		}
		return out
	}
	b.Run("hub-accept", func(b *testing.B) {
		s := newService(b)
		ds := docs(b.N)
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.Accept(ctx, pilot, "", ds[i], ingest.Live); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	})
	b.Run("raw-insert", func(b *testing.B) {
		coll := storetest.DB(b).Collection("raw")
		ds := docs(b.N)
		b.ResetTimer()
		for i := range b.N {
			if _, err := coll.InsertOne(ctx, bson.M{"_id": fmt.Sprint(i), "raw": string(ds[i])}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	})
	b.Run("parse-only", func(b *testing.B) {
		d := docs(1)[0]
		for b.Loop() {
			if _, _, err := ogp.Parse(d); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	})
}

// Replicas decide by version, not by sequence number: a newer version can
// land with a lower number than an older one (numbers are taken before the
// write, the store guards by version). A takes number 1 for v2, B stores v1
// with number 2, then A's guarded replace lands v2 under number 1. C's
// tailer, which read 2 (v1) first, must still apply v2 when it finds 1; and
// B, offered v2 again by the node, must apply what the store holds.
func TestNewerVersionUnderLowerNumber(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	replica := func() *ingest.Service {
		st := objects.Open(db)
		if err := st.Load(ctx, nil); err != nil {
			t.Fatal(err)
		}
		return newReplica(st)
	}
	b, c := replica(), replica()
	tc := c.Objects.Tailer()
	id := "http://a.localhost/commitments/AAA0001"
	t1 := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	modelAt := func(s *ingest.Service) time.Time {
		cm, ok := s.Model.Commitment(id)
		if !ok {
			return time.Time{}
		}
		return cm.Updated
	}

	// A's Put(v2) takes number 1 (as objects.Store does: an insert into
	// the sequence collection), then stalls before its write.
	if _, err := db.Collection(objects.SeqCollection).InsertOne(ctx, bson.M{"_id": int64(1), "iri": id, "at": time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	// B stores v1, under number 2.
	if res, err := b.Accept(ctx, pilot, id, commitmentJSON(t, id, pilot, t1), ingest.Live); res != objects.Created || err != nil {
		t.Fatalf("v1 on B: %v %v", res, err)
	}
	// C's tailer reads number 2: v1.
	if _, err := tc.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if got := modelAt(c); !got.Equal(t1) {
		t.Fatalf("C's model at %v after v1, want %v", got, t1)
	}
	// A's guarded replace lands: v2 under number 1.
	v2 := objects.Object{ID: id, Kind: ogp.KindCommitment, Pilot: pilot, Raw: string(commitmentJSON(t, id, pilot, t2)),
		Published: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Updated: t2, Received: time.Now().UTC(), Seq: 1}
	if r, err := db.Collection(objects.Collection).ReplaceOne(ctx, bson.M{"_id": id}, v2); err != nil || r.MatchedCount != 1 {
		t.Fatalf("A's replace: %+v %v", r, err)
	}
	// C's tailer finds the missing number 1: v2 is newer than C's v1.
	if _, err := tc.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if got := modelAt(c); !got.Equal(t2) {
		t.Errorf("C's model at %v after the late v2, want %v", got, t2)
	}
	// The node re-delivers v2 to B, whose tailer has not run: the store
	// refuses the write (it holds v2) and B applies what the store holds.
	if res, err := b.Accept(ctx, pilot, id, commitmentJSON(t, id, pilot, t2), ingest.Live); res != objects.Stale || err != nil {
		t.Fatalf("v2 again on B: %v %v", res, err)
	}
	if got := modelAt(b); !got.Equal(t2) {
		t.Errorf("B's model at %v after v2 was re-delivered, want %v", got, t2)
	}
	// B's tailer then reads both numbers: nothing older goes back in.
	if _, err := b.Objects.Tailer().Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if got := modelAt(b); !got.Equal(t2) {
		t.Errorf("B's model at %v after tailing, want %v", got, t2)
	}
}
