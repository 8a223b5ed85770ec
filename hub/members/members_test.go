package members

import (
	"context"
	"encoding/json"
	"errors"
	"go.mongodb.org/mongo-driver/v2/bson"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// TestAddFollowsAndShows: adding a handle resolves it, stores an active
// member, shows it as a pilot and follows it; the node's Accept turns the
// follow state to accepted, reported once by NewlyAccepted.
func TestAddFollowsAndShows(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	m, err := s.svc.Add(ctx, s.handle())
	if err != nil {
		t.Fatal(err)
	}
	actor := s.node.ActorID()
	if m.Actor != actor || m.Handle != s.handle() || m.Name != "node" || m.State != StateActive ||
		m.FollowState != FollowPending || m.Outbox != s.node.OutboxID() || m.Added.IsZero() {
		t.Fatalf("added = %+v", m)
	}
	if st := s.stored(t, actor); st.State != StateActive || st.Handle != m.Handle || st.Inbox != m.Inbox {
		t.Errorf("stored = %+v", st)
	}
	if p, ok := s.model.Pilot(actor); !ok || p.Name != "node" || p.State != StateActive {
		t.Errorf("pilot in the read model = %+v %v", p, ok)
	}
	if !s.svc.Accepting(actor) {
		t.Error("an active member's objects are not accepted")
	}
	eventually(t, "the node's Accept", func() bool {
		list, err := s.svc.List(ctx)
		return err == nil && len(list) == 1 && list[0].FollowState == FollowAccepted
	})
	got, err := s.svc.NewlyAccepted(ctx)
	if err != nil || len(got) != 1 || got[0].Actor != actor {
		t.Fatalf("newly accepted = %+v %v", got, err)
	}
	if again, _ := s.svc.NewlyAccepted(ctx); len(again) != 0 {
		t.Errorf("reported twice: %+v", again)
	}
	// RetryAccepted reports it again (its first backfill could not run).
	s.svc.RetryAccepted(actor)
	if again, _ := s.svc.NewlyAccepted(ctx); len(again) != 1 {
		t.Errorf("after RetryAccepted: %+v", again)
	}
	// Adding by actor URL is the same member, with its history kept.
	again, err := s.svc.Add(ctx, actor)
	if err != nil || again.Actor != actor || !again.Added.Equal(m.Added) {
		t.Errorf("re-add = %+v %v", again, err)
	}
	if len(s.svc.Active()) != 1 {
		t.Errorf("active = %+v", s.svc.Active())
	}
}

// TestAddRefusesWhatItCannotFollow: an unknown handle or a malformed one is
// an error naming it, and nothing is stored.
func TestAddRefusesWhatItCannotFollow(t *testing.T) {
	s := newSetup(t)
	for _, h := range []string{"@nobody@" + s.node.Host(), "not a handle"} {
		if _, err := s.svc.Add(context.Background(), h); err == nil {
			t.Errorf("Add(%q) succeeded", h)
		}
	}
	if n, _ := s.db.Collection(Collection).CountDocuments(context.Background(), map[string]any{}); n != 0 {
		t.Errorf("%d members stored", n)
	}
}

// TestSuspendRemoveResume: suspending and removing unfollow and hide the
// pilot (history kept); resuming follows and shows it again; an actor that
// is not a member is ErrNotMember.
func TestSuspendRemoveResume(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	actor := s.add(t)
	eventually(t, "the node's Accept", func() bool {
		got, _ := s.svc.NewlyAccepted(ctx)
		return len(got) == 1
	})
	for _, tc := range []struct {
		op    func(context.Context, string) (Member, error)
		state string
	}{{s.svc.Suspend, StateSuspended}, {s.svc.Remove, StateRemoved}} {
		m, err := tc.op(ctx, actor)
		if err != nil {
			t.Fatal(err)
		}
		if m.State != tc.state || m.FollowState != FollowNone || s.svc.Accepting(actor) {
			t.Errorf("%s: %+v, accepting %v", tc.state, m, s.svc.Accepting(actor))
		}
		if st := s.stored(t, actor); st.State != tc.state {
			t.Errorf("%s: stored %q", tc.state, st.State)
		}
		if _, ok := s.model.Pilot(actor); ok {
			t.Errorf("%s: still a visible pilot", tc.state)
		}
		if list, _ := s.svc.List(ctx); len(list) != 1 || list[0].FollowState != FollowNone || list[0].Health(time.Now()) != tc.state {
			t.Errorf("%s: list %+v", tc.state, list)
		}
		if len(s.svc.Active()) != 0 {
			t.Errorf("%s: still active", tc.state)
		}
	}
	m, err := s.svc.Resume(ctx, actor)
	if err != nil || m.State != StateActive || !s.svc.Accepting(actor) {
		t.Fatalf("resume = %+v %v", m, err)
	}
	if _, ok := s.model.Pilot(actor); !ok {
		t.Error("resumed pilot not shown")
	}
	// A resume is a new follow: its acceptance is reported again (backfill).
	eventually(t, "the Accept of the new follow", func() bool {
		got, _ := s.svc.NewlyAccepted(ctx)
		return len(got) == 1
	})
	const stranger = "http://stranger.localhost/users/x"
	for name, op := range map[string]func(context.Context, string) (Member, error){
		"suspend": s.svc.Suspend, "remove": s.svc.Remove, "resume": s.svc.Resume,
	} {
		if _, err := op(ctx, stranger); !errors.Is(err, ErrNotMember) {
			t.Errorf("%s of a stranger: %v, want ErrNotMember", name, err)
		}
	}
	if s.svc.Accepting(stranger) {
		t.Error("a stranger's objects are accepted")
	}
}

// TestHealthRecording: deliveries are kept in memory until Flush writes
// them; backfills are written at once; a restart reads both back.
func TestHealthRecording(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	actor := s.add(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.svc.RecordDelivery(actor, at, at.Add(-1500*time.Millisecond))
	s.svc.RecordDelivery("http://stranger.localhost/users/x", at, at) // ignored
	if m, _ := s.svc.Get(actor); !m.LastDelivery.Equal(at) || m.Lag != 1500*time.Millisecond {
		t.Errorf("in memory: %+v", m)
	}
	if st := s.stored(t, actor); !st.LastDelivery.IsZero() {
		t.Errorf("written before Flush: %+v", st)
	}
	if err := s.svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := s.stored(t, actor); !st.LastDelivery.Equal(at) || st.Lag != 1500*time.Millisecond {
		t.Errorf("after Flush: %+v", st)
	}
	// A failed backfill keeps the previous mark and makes health say so.
	if err := s.svc.RecordBackfill(ctx, actor, "mark-1", at, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.svc.RecordBackfill(ctx, actor, "mark-2", at.Add(time.Hour), errors.New("outbox: status 500")); err != nil {
		t.Fatal(err)
	}
	st := s.stored(t, actor)
	if st.BackfillMark != "mark-1" || st.BackfillError != "outbox: status 500" || !st.LastBackfill.Equal(at.Add(time.Hour)) {
		t.Errorf("backfill record = %+v", st)
	}
	if err := s.svc.RecordBackfill(ctx, "http://stranger.localhost/users/x", "", at, nil); !errors.Is(err, ErrNotMember) {
		t.Errorf("backfill of a stranger: %v", err)
	}
	// After a restart.
	restarted := s.replica(t, readmodel.New(time.Now))
	m, ok := restarted.Get(actor)
	if !ok || !m.LastDelivery.Equal(at) || m.Lag != 1500*time.Millisecond || m.BackfillMark != "mark-1" || m.State != StateActive {
		t.Errorf("after restart: %+v", m)
	}
}

// TestRefreshFollowsOtherReplicas: a replica takes in another's state
// change and newer health on Refresh, and publishes the change to its own
// read model; its own newer change is not undone by an older read.
func TestRefreshFollowsOtherReplicas(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	actor := s.add(t)
	otherModel := readmodel.New(time.Now)
	other := s.replica(t, otherModel)
	if !other.Accepting(actor) {
		t.Fatal("the other replica did not load the member")
	}
	if _, err := s.svc.Suspend(ctx, actor); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	s.svc.RecordDelivery(actor, at, time.Time{})
	if err := s.svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if !other.Accepting(actor) {
		t.Fatal("changed before Refresh")
	}
	if err := other.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	m, _ := other.Get(actor)
	if other.Accepting(actor) || m.State != StateSuspended || !m.LastDelivery.Equal(at) {
		t.Errorf("after Refresh: %+v", m)
	}
	if _, ok := otherModel.Pilot(actor); ok {
		t.Error("the other replica still shows the suspended pilot")
	}
	// Reload reads one member the same way.
	if m, err := other.Reload(ctx, actor); err != nil || m.State != StateSuspended {
		t.Errorf("reload = %+v %v", m, err)
	}
	if _, err := other.Reload(ctx, "http://stranger.localhost/users/x"); !errors.Is(err, ErrNotMember) {
		t.Errorf("reload of a stranger: %v", err)
	}
	// A read that began before this replica's own change does not undo it.
	if _, err := other.Resume(ctx, actor); err != nil {
		t.Fatal(err)
	}
	stale := s.stored(t, actor)
	stale.State = StateSuspended
	if m := other.merge(stale, time.Now().Add(-time.Minute)); m.State != StateActive || !other.Accepting(actor) {
		t.Errorf("an older read undid a newer change: %+v", m)
	}
}

// TestRefreshReadsOnlyAfterAChange: Refresh reads the members only when
// the mark says one was written, so an idle hub does not re-read them every
// second. A change written without the mark (as by hand in the store) is
// not seen until the next marked write, which brings both.
func TestRefreshReadsOnlyAfterAChange(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	actor := s.add(t)
	other := s.replica(t, readmodel.New(time.Now))
	if _, err := s.svc.coll.UpdateOne(ctx, bson.M{"_id": actor}, bson.M{"$set": bson.M{"name": "Renamed by hand"}}); err != nil {
		t.Fatal(err)
	}
	if err := other.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := other.Get(actor); m.Name == "Renamed by hand" {
		t.Fatal("Refresh read the members although no write marked a change")
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	s.svc.RecordDelivery(actor, at, time.Time{})
	if err := s.svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := other.Get(actor); m.Name != "Renamed by hand" || !m.LastDelivery.Equal(at) {
		t.Errorf("after a marked write: %+v", m)
	}
}

// TestHealth: the member list's health, in order of precedence.
func TestHealth(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		m    Member
		want string
	}{
		{Member{State: StateSuspended, FollowState: FollowNone}, "suspended"},
		{Member{State: StateRemoved, FollowState: FollowNone}, "removed"},
		{Member{State: StateActive, FollowState: FollowPending}, "follow-pending"},
		{Member{State: StateActive, FollowState: FollowRejected}, "follow-rejected"},
		{Member{State: StateActive, FollowState: FollowAccepted, BackfillError: "x", LastDelivery: now.AddDate(0, -2, 0)}, "backfill-failing"},
		{Member{State: StateActive, FollowState: FollowAccepted, LastDelivery: now.AddDate(0, 0, -31)}, "quiet"},
		{Member{State: StateActive, FollowState: FollowAccepted, LastDelivery: now.AddDate(0, 0, -29)}, "ok"},
		{Member{State: StateActive, FollowState: FollowAccepted}, "ok"},
	} {
		if got := tc.m.Health(now); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.m, got, tc.want)
		}
	}
	b, _ := json.Marshal(Member{Actor: "a", State: StateActive, FollowState: FollowAccepted, Lag: 2500 * time.Millisecond})
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	if out["lagSeconds"] != 2.5 || out["health"] != "ok" || out["followState"] != FollowAccepted || out["lag"] != nil {
		t.Errorf("JSON = %s", b)
	}
}
