package planstore

import (
	"context"
	"testing"

	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"github.com/ogpnet/ogpnet/node/plan"
)

// TestReadsAreCopies: what a read returns can be changed freely without
// changing what the next read returns.
func TestReadsAreCopies(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, err := s.PutPlan(ctx, actionPlan("2016-2018", "2016-12-01")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpsertCommitment(ctx, commitment("JAL0001", "2016-2018")); err != nil {
		t.Fatal(err)
	}
	c, _ := s.GetCommitment(ctx, "JAL0001")
	c.Title.Map["es"] = "cambiado"
	c.Milestones[0].Status = "complete"
	c.PolicyAreas[0] = "x"
	again, _ := s.GetCommitment(ctx, "JAL0001")
	if again.Title.Map["es"] != "Compromiso JAL0001" || again.Milestones[0].Status == "complete" || again.PolicyAreas[0] != "open-data" {
		t.Errorf("a change to a read reached memory: %+v", again)
	}
}

// TestRefreshSeesAnotherProcess: two stores on one database (two node
// processes): each one's writes reach the other's memory through Refresh,
// and a store alone never reloads.
func TestRefreshSeesAnotherProcess(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	a, b := New(db), New(db)
	for _, s := range []*Store{a, b} {
		if _, err := s.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.PutPlan(ctx, actionPlan("2016-2018", "2016-12-01")); err != nil {
		t.Fatal(err)
	}
	if reloaded, err := a.Refresh(ctx); err != nil || reloaded {
		t.Fatalf("the writer reloaded its own write: %v %v", reloaded, err)
	}
	if _, err := b.GetPlan(ctx, "2016-2018"); err == nil {
		t.Fatal("b saw a's write before refreshing (the test proves nothing)")
	}
	if reloaded, err := b.Refresh(ctx); err != nil || !reloaded {
		t.Fatalf("b did not reload: %v %v", reloaded, err)
	}
	if _, err := b.GetPlan(ctx, "2016-2018"); err != nil {
		t.Fatalf("b after refresh: %v", err)
	}
	// Both write before either refreshes: each sees the other's.
	if _, _, err := b.UpsertCommitment(ctx, commitment("JAL0001", "2016-2018")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.UpsertCommitment(ctx, commitment("JAL0002", "2016-2018")); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{b, a, b} {
		if _, err := s.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for name, s := range map[string]*Store{"a": a, "b": b} {
		cs, _ := s.ListCommitments(ctx, "")
		if len(cs) != 2 {
			t.Errorf("%s lists %d commitments, want 2", name, len(cs))
		}
	}
	if reloaded, _ := a.Refresh(ctx); reloaded {
		t.Error("a reloaded with nothing new")
	}
	_ = plan.Commitment{}
}
