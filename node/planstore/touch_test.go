package planstore

import (
	"context"
	"testing"
	"time"
)

// TestTouchPlan: a plan never touched has no touch time; each touch is
// recorded at the clock's time, but always strictly after the previous
// touch and the plan's own "updated", even when the clock has not moved
// (followers keep the newest "updated" and must take the republished plan).
func TestTouchPlan(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	if at, err := s.PlanTouched(ctx, "2016-2018"); err != nil || !at.IsZero() {
		t.Fatalf("untouched plan: %v %v", at, err)
	}
	first, err := s.TouchPlan(ctx, "2016-2018", clk.t.Add(-time.Hour))
	if err != nil || !first.Equal(clk.t) {
		t.Fatalf("first touch at %v (%v), want the clock's %v", first, err, clk.t)
	}
	second, err := s.TouchPlan(ctx, "2016-2018", time.Time{}) // same clock reading
	if err != nil || !second.After(first) {
		t.Fatalf("second touch at %v (%v), not after %v", second, err, first)
	}
	updated := clk.t.Add(time.Minute) // the plan itself changed "later" than the clock says
	third, err := s.TouchPlan(ctx, "2016-2018", updated)
	if err != nil || !third.After(updated) {
		t.Fatalf("third touch at %v (%v), not after the plan's updated %v", third, err, updated)
	}
	if at, err := s.PlanTouched(ctx, "2016-2018"); err != nil || !at.Equal(third) {
		t.Errorf("PlanTouched = %v %v, want %v", at, err, third)
	}
	if at, _ := s.PlanTouched(ctx, "2014-2016"); !at.IsZero() {
		t.Errorf("another plan's touch leaked: %v", at)
	}
}
