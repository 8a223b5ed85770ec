package service

import (
	"context"
	"errors"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// Reconcile publishes what is stored but never went out, or changed after
// its last activity: without transactions (the embedded store has none) a
// crash between a write and its publishing would leave followers behind for
// good. It runs when the node starts; it compares each live plan,
// commitment and progress update with the newest activity about it in the
// outbox, and returns how many activities it published. Withdrawals are
// not re-checked: their Delete is published before anything else.
func (s *Service) Reconcile(ctx context.Context) (n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Writes hold s.mu too: nothing is stored between this and the end.
	s.unpublished.Store(false)
	defer func() {
		if err != nil {
			s.unpublished.Store(true) // run again later (node.Run)
		}
	}()
	last, err := s.fed.LastPublished(ctx)
	if err != nil {
		return 0, err
	}
	// behind reports whether an object changed at changed was never
	// published (new=true) or changed after its newest activity.
	behind := func(iri string, changed time.Time) (stale, isNew bool) {
		at, ok := last[iri]
		return !ok || changed.After(at), !ok
	}
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		} else {
			n++
		}
	}
	plans, err := s.store.ListPlans(ctx)
	if err != nil {
		return 0, err
	}
	for _, p := range plans {
		if stale, isNew := behind(s.wire.IRIs.Plan(p.ID), p.Updated); stale {
			note(s.publishPlan(ctx, p, isNew))
		}
	}
	commitments, err := s.store.ListCommitments(ctx, "")
	if err != nil {
		return n, errors.Join(append(errs, err)...)
	}
	for _, c := range commitments {
		if stale, isNew := behind(s.wire.IRIs.Commitment(c.ID), c.Updated); stale {
			note(s.publish(ctx, activityFor(isNew), s.wire.Commitment(c)))
		}
		updates, err := s.store.ListUpdates(ctx, c.ID, 0)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, u := range updates {
			changed := u.Created
			if u.Updated.After(changed) {
				changed = u.Updated
			}
			if stale, isNew := behind(s.wire.IRIs.Update(c.ID, u.ID), changed); stale {
				note(s.publish(ctx, activityFor(isNew), s.wire.ProgressUpdate(u, c)))
			}
		}
	}
	return n, errors.Join(errs...)
}

func activityFor(isNew bool) string {
	if isNew {
		return ogp.ActivityCreate
	}
	return ogp.ActivityUpdate
}
