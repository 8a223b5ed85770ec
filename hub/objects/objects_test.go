package objects_test

import (
	"context"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/objects"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

// Every query shape the store uses runs here on the embedded store.
func TestPutKeepsNewestAndTombstonesAreFinal(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	s := objects.Open(db)
	if err := s.Load(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	obj := func(raw string, updated time.Time) objects.Object {
		return objects.Object{ID: "http://a.localhost/commitments/A0001", Kind: ogp.KindCommitment, Pilot: "http://a.localhost/users/a",
			Raw: raw, Published: t0, Updated: updated, Received: t0}
	}
	steps := []struct {
		o    objects.Object
		want objects.Result
	}{
		{obj("v1", time.Time{}), objects.Created},
		{obj("v1 again", time.Time{}), objects.Stale}, // a redelivery
		{obj("v3", t0.Add(2*time.Hour)), objects.Replaced},
		{obj("v2", t0.Add(time.Hour)), objects.Stale}, // out of order: older
	}
	for i, st := range steps {
		got, err := s.Put(ctx, st.o)
		if err != nil || got != st.want {
			t.Fatalf("step %d: %v %v, want %v", i, got, err, st.want)
		}
	}
	stored, err := s.Get(ctx, steps[0].o.ID)
	if err != nil || stored.Raw != "v3" {
		t.Fatalf("stored %+v %v", stored, err)
	}
	// A second process (a restart) sees the same state through Load.
	s2 := objects.Open(db)
	n := 0
	if err := s2.Load(ctx, func(o objects.Object) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("load: %d %v", n, err)
	}
	if got, _ := s2.Put(ctx, obj("v2", t0.Add(time.Hour))); got != objects.Stale {
		t.Errorf("after reload an older version was %v", got)
	}
	existed, err := s2.Delete(ctx, steps[0].o.ID, steps[0].o.Pilot, t0.Add(3*time.Hour))
	if err != nil || !existed {
		t.Fatalf("delete: %v %v", existed, err)
	}
	if got, _ := s2.Put(ctx, obj("v2", t0.Add(2*time.Hour))); got != objects.Gone {
		t.Errorf("older version after delete: %v", got)
	}
	stored, _ = s2.Get(ctx, steps[0].o.ID)
	if stored.Kind != ogp.KindTombstone || stored.Raw != "" || stored.FormerKind != ogp.KindCommitment {
		t.Errorf("tombstone %+v", stored)
	}
	// A Delete that arrives before its Create still wins.
	early := "http://a.localhost/commitments/A0002"
	if _, err := s2.Delete(ctx, early, steps[0].o.Pilot, t0); err != nil {
		t.Fatal(err)
	}
	o := obj("late create", time.Time{})
	o.ID = early
	if got, _ := s2.Put(ctx, o); got != objects.Gone {
		t.Errorf("create after delete: %v", got)
	}
	if c := s2.Counts()[steps[0].o.Pilot][ogp.KindTombstone]; c != 2 {
		t.Errorf("counts %v", s2.Counts())
	}
	// The node may reuse a withdrawn id: a version made after the deletion
	// brings the object back.
	if got, err := s2.Put(ctx, obj("reborn", t0.Add(9*time.Hour))); got != objects.Created || err != nil {
		t.Errorf("re-created after delete: %v %v", got, err)
	}
	if stored, _ = s2.Get(ctx, steps[0].o.ID); stored.Raw != "reborn" || stored.Kind != ogp.KindCommitment {
		t.Errorf("re-created %+v", stored)
	}
}
