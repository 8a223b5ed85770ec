package node

import (
	"context"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/node/plan"
)

// TestReconcilePublishesWhatNeverWentOut: a commitment and a progress
// update stored without their activities (as after a crash between the
// write and the publish) are published by Reconcile, once; a second
// Reconcile publishes nothing.
func TestReconcilePublishesWhatNeverWentOut(t *testing.T) {
	ctx := context.Background()
	tn, f := startFollowed(t, "seoul")
	svc := tn.Service()
	p := plan.NewActionPlan("2017")
	p.Title = plan.NewText("ko", "서울 실행계획")
	p.Jurisdiction = "Seoul"
	p.Period = plan.Period{Start: "2017-01-01", End: "2017-12-31"}
	p.Status = "implementation"
	if _, _, err := svc.SavePlan(ctx, p); err != nil {
		t.Fatal(err)
	}
	f.nextOf(t, "Create", tn.base+"/plans/2017")

	// Straight into the store: no activity.
	c := plan.Commitment{ID: "SEO0009", PlanID: "2017", Title: plan.NewText("ko", "열린 데이터"),
		StartDate: "2017-01-01", EndDate: "2017-12-31", LeadInstitution: "Seoul", Completion: "limited"}
	stored, _, err := svc.Store().UpsertCommitment(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Store().AddUpdate(ctx, plan.ProgressUpdate{CommitmentID: stored.ID, Date: "2017-06-01",
		Text: plan.NewText("ko", "진행 중")}); err != nil {
		t.Fatal(err)
	}
	n, err := svc.Reconcile(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Reconcile published %d (%v), want 2 (the commitment and its update)", n, err)
	}
	f.nextOf(t, "Create", tn.base+"/commitments/SEO0009")
	f.nextOf(t, "Create", tn.base+"/commitments/SEO0009/updates/")
	if n, err := svc.Reconcile(ctx); err != nil || n != 0 {
		t.Errorf("a second Reconcile published %d (%v), want 0", n, err)
	}

	// A change stored after the last activity goes out as an Update.
	time.Sleep(5 * time.Millisecond)
	stored.Completion = "substantial"
	if _, _, err := svc.Store().UpsertCommitment(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.Reconcile(ctx); err != nil || n != 1 {
		t.Errorf("Reconcile after an unpublished edit published %d (%v), want 1", n, err)
	}
	f.nextOf(t, "Update", tn.base+"/commitments/SEO0009")
}
