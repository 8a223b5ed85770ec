package hub

import (
	"context"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/hub/discussion"
	"github.com/ogpnet/ogpnet/hub/ingest"
)

// inbox is the hub's one contract with federation: members' objects and
// deletions go to ingest, conversation traffic (replies, questions,
// answers, owners' Add/Remove of thread posts, posts to the Group) goes to
// discussion, and an accepted follow wakes the backfill, which pages the
// new member's outbox at once. Everything else (a Like, a Flag) is
// ignored.
type inbox struct {
	// ingest is set once New has built it (it needs the federation server
	// this inbox is given to, through members); nothing is delivered
	// before New returns.
	ingest     *ingest.Service
	discussion *discussion.Service
	// accepted wakes the backfill loop; a wake-up already pending is enough.
	accepted chan struct{}
}

var _ federation.Inbox = (*inbox)(nil)

func newInbox() *inbox { return &inbox{accepted: make(chan struct{}, 1)} }

// Object routes members' objects to ingest and conversation Notes, Add
// and Remove to discussion.
func (in *inbox) Object(ctx context.Context, a *federation.Activity) error {
	switch a.Type {
	case "Create":
		if in.discussion.Wants(a) {
			return in.discussion.Create(ctx, a)
		}
		return in.ingest.Object(ctx, a)
	case "Update":
		if in.discussion.Wants(a) {
			return in.discussion.Update(ctx, a)
		}
		return in.ingest.Object(ctx, a)
	case "Announce":
		return in.ingest.Object(ctx, a)
	case "Add":
		return in.discussion.Add(ctx, a)
	case "Remove":
		return in.discussion.Remove(ctx, a)
	}
	return nil
}

// Delete routes deletions of discussion posts to discussion and the rest
// to ingest; an account deletion goes to both.
func (in *inbox) Delete(ctx context.Context, a *federation.Activity) error {
	handled, err := in.discussion.Delete(ctx, a)
	if err != nil || (handled && a.ObjectID != a.Actor) {
		return err
	}
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
