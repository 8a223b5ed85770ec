package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/ogpnet/ogpnet/node/plan"
)

// CheckCommitment validates c as saving it would, against its plan, without
// storing anything: the API and the forms call it so that one 422 lists
// every invalid field, the plan-dependent ones (period, prefix, a missing
// plan) with the rest. It returns a *plan.ValidationError, nil, or a store
// error.
func (s *Service) CheckCommitment(ctx context.Context, c plan.Commitment) error {
	c.StripBidi() // as saving does, before the checks against the plan
	p, err := s.store.GetPlan(ctx, c.PlanID)
	switch {
	case err == nil:
		return c.ValidateFor(p)
	case !errors.Is(err, ErrNotFound):
		return err
	}
	ve := &plan.ValidationError{}
	if c.PlanID != "" {
		ve.Add("planId", "there is no action plan %q on this node", c.PlanID)
	}
	var own *plan.ValidationError
	if errors.As(c.Validate(), &own) {
		ve.Fields = append(ve.Fields, own.Fields...)
	}
	return ve.Err()
}

// CheckUpdate validates u as posting it would, against its commitment
// (milestone changes must name the commitment's milestones), without
// storing anything. A commitment that is missing or withdrawn is reported
// as such (ErrNotFound, ErrGone), as posting would.
func (s *Service) CheckUpdate(ctx context.Context, u plan.ProgressUpdate) error {
	c, err := s.LiveCommitment(ctx, u.CommitmentID)
	if err != nil {
		return fmt.Errorf("checking a progress update: %w", err)
	}
	u.StripBidi()
	return u.ValidateFor(c)
}
