package hub

import (
	"context"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/hub/ingest"
)

// inbox is the hub's one contract with federation: members' objects and
// deletions go to ingest, and an accepted follow wakes the backfill, which
// pages the new member's outbox at once. Everything else (a Like, a Flag, a
// reply from a fediverse account) is not data for the hub and is ignored.
type inbox struct {
	// ingest is set once New has built it (it needs the federation server
	// this inbox is given to, through members); nothing is delivered
	// before New returns.
	ingest *ingest.Service
	// accepted wakes the backfill loop; a wake-up already pending is enough.
	accepted chan struct{}
}

var _ federation.Inbox = (*inbox)(nil)

func newInbox() *inbox { return &inbox{accepted: make(chan struct{}, 1)} }

// Object routes members' objects to ingest.
func (in *inbox) Object(ctx context.Context, a *federation.Activity) error {
	switch a.Type {
	case "Create", "Update", "Announce":
		return in.ingest.Object(ctx, a)
	}
	return nil
}

// Delete routes deletions to ingest.
func (in *inbox) Delete(ctx context.Context, a *federation.Activity) error {
	return in.ingest.Deleted(ctx, a)
}

// FollowAnswered wakes the backfill when a node accepts the hub's follow.
func (in *inbox) FollowAnswered(_ context.Context, _ *federation.Activity, accepted bool) error {
	if !accepted {
		return nil
	}
	select {
	case in.accepted <- struct{}{}:
	default: // a wake-up is already pending
	}
	return nil
}
