// Package members is the hub's membership: which nodes it follows, in what
// state (active, suspended, removed), and how healthy each is (last delivery
// received, delivery lag, last backfill). The list is small (one entry per
// government) and kept in memory, written through to the store.
//
// Several hub replicas may share the store: each writes only the fields it
// changed ($set, never a whole-document replace, so one replica's health
// flush cannot undo another's suspension), and each re-reads the list every
// few seconds (Refresh), so a change made by staff on one replica reaches
// the others.
package members

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/store"
)

// Collection holds the members.
const Collection = "hub_members"

// MarkCollection holds one document whose token every write of a member
// changes (after the write), so that Refresh reads the members only when
// one changed: an idle hub reads one document by _id a second, whatever
// the number of members (issue 11).
const MarkCollection = "hub_members_mark"

const markID = "members"

// Membership states (the hub's decision; FollowState is the node's answer).
const (
	StateActive    = readmodel.StateActive
	StateSuspended = readmodel.StateSuspended
	StateRemoved   = readmodel.StateRemoved
)

// Follow states as reported by federation, plus "none" after an unfollow.
const (
	FollowPending  = federation.FollowPending
	FollowAccepted = federation.FollowAccepted
	FollowRejected = federation.FollowRejected
	FollowNone     = "none"
)

// ErrNotMember is returned for an actor that is not a member.
var ErrNotMember = errors.New("members: not a member")

// Member is one member node.
type Member struct {
	Actor  string    `bson:"_id" json:"actor"`
	Handle string    `bson:"handle" json:"handle"`
	Name   string    `bson:"name" json:"name"`
	URL    string    `bson:"url,omitempty" json:"url,omitempty"`
	Inbox  string    `bson:"inbox" json:"inbox"`
	Outbox string    `bson:"outbox" json:"outbox"`
	State  string    `bson:"state" json:"state"`
	Added  time.Time `bson:"added" json:"added"`

	// Health.
	LastDelivery  time.Time     `bson:"lastDelivery,omitzero" json:"lastDelivery,omitzero"` // last activity received in the inbox
	Lag           time.Duration `bson:"lag,omitempty" json:"-"`                             // receipt minus publication of the last delivered object (JSON: lagSeconds)
	LastBackfill  time.Time     `bson:"lastBackfill,omitzero" json:"lastBackfill,omitzero"`
	BackfillError string        `bson:"backfillError,omitempty" json:"backfillError,omitempty"`
	// BackfillMark is the newest outbox activity id processed by the last
	// complete backfill; the next one stops when it reaches it.
	BackfillMark string `bson:"backfillMark,omitempty" json:"-"`

	// FollowState is read from federation on List (not stored here).
	FollowState string `bson:"-" json:"followState"`
}

// MarshalJSON writes Lag as lagSeconds and adds health (docs/api-hub.md).
func (m Member) MarshalJSON() ([]byte, error) {
	type plain Member
	return json.Marshal(struct {
		plain
		LagSeconds float64 `json:"lagSeconds"`
		Health     string  `json:"health"`
	}{plain(m), m.Lag.Seconds(), m.Health(time.Now())})
}

// Health summarises a member for the member list.
func (m Member) Health(now time.Time) string {
	switch {
	case m.State != StateActive:
		return m.State
	case m.FollowState != FollowAccepted:
		return "follow-" + m.FollowState
	case m.BackfillError != "":
		return "backfill-failing"
	case !m.LastDelivery.IsZero() && now.Sub(m.LastDelivery) > 30*24*time.Hour:
		return "quiet"
	}
	return "ok"
}

// Service manages members.
type Service struct {
	fed   *federation.Server
	coll  *mongo.Collection
	mark  *mongo.Collection // MarkCollection
	model *readmodel.Model
	log   *slog.Logger

	mu       sync.RWMutex
	byActor  map[string]*Member
	dirty    map[string]bool // health changes not yet written
	accepted map[string]bool // follow accepted, as last seen by Watch
	// changed notes when this replica last changed a member's state, so a
	// Refresh that read the store before that change does not undo it.
	changed map[string]time.Time
	// seenMark is the mark's token when the members were last read.
	seenMark string
}

// New loads the members and registers them as pilots in the read model.
func New(ctx context.Context, db *mongo.Database, fed *federation.Server, model *readmodel.Model, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{fed: fed, coll: db.Collection(Collection), mark: db.Collection(MarkCollection), model: model, log: log,
		byActor: map[string]*Member{}, dirty: map[string]bool{}, accepted: map[string]bool{}, changed: map[string]time.Time{}}
	var err error
	if s.seenMark, err = s.readMark(ctx); err != nil {
		return nil, fmt.Errorf("members: load: %w", err)
	}
	cur, err := s.coll.Find(ctx, bson.M{})
	if err != nil {
		return nil, fmt.Errorf("members: load: %w", err)
	}
	var all []Member
	if err := cur.All(ctx, &all); err != nil {
		return nil, fmt.Errorf("members: load: %w", err)
	}
	for i := range all {
		m := all[i]
		s.byActor[m.Actor] = &m
		s.publish(m)
	}
	return s, nil
}

func (s *Service) publish(m Member) {
	if s.model != nil {
		s.model.SetPilot(readmodel.PilotInfo{Actor: m.Actor, Name: m.Name, Handle: m.Handle, URL: m.URL, State: m.State})
	}
}

// saveState writes who the member is and the hub's decision about it; the
// first save also sets when it was added. Health fields are not touched.
func (s *Service) saveState(ctx context.Context, m Member) error {
	_, err := s.coll.UpdateOne(ctx, bson.M{"_id": m.Actor}, bson.M{
		"$set": bson.M{"handle": m.Handle, "name": m.Name, "url": m.URL, "inbox": m.Inbox,
			"outbox": m.Outbox, "state": m.State},
		"$setOnInsert": bson.M{"added": m.Added},
	}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("members: save %s: %w", m.Actor, err)
	}
	return s.touch(ctx)
}

// saveDelivery writes delivery health. Every replica receives deliveries,
// so the latest one wins ($max) whichever replica flushes last.
func (s *Service) saveDelivery(ctx context.Context, m Member) error {
	_, err := s.coll.UpdateOne(ctx, bson.M{"_id": m.Actor}, bson.M{
		"$max": bson.M{"lastDelivery": m.LastDelivery},
		"$set": bson.M{"lag": m.Lag},
	})
	if err != nil {
		return fmt.Errorf("members: save %s: %w", m.Actor, err)
	}
	return nil
}

// saveBackfill writes the outcome of a backfill.
func (s *Service) saveBackfill(ctx context.Context, m Member) error {
	_, err := s.coll.UpdateOne(ctx, bson.M{"_id": m.Actor}, bson.M{
		"$set": bson.M{"lastBackfill": m.LastBackfill, "backfillError": m.BackfillError, "backfillMark": m.BackfillMark},
	})
	if err != nil {
		return fmt.Errorf("members: save %s: %w", m.Actor, err)
	}
	return s.touch(ctx)
}

// touch changes the mark's token after a write of a member, telling every
// replica's Refresh to read the members again. A fresh random token (not a
// counter: FerretDB's $inc is read-then-write, and two replicas could
// write the same next value) differs from every token read before.
func (s *Service) touch(ctx context.Context) error {
	token := rand.Text()
	_, err := s.mark.UpdateOne(ctx, bson.M{"_id": markID}, bson.M{"$set": bson.M{"token": token}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("members: mark: %w", err)
	}
	return nil
}

// readMark reads the mark's token ("" before any write).
func (s *Service) readMark(ctx context.Context) (string, error) {
	var d struct {
		Token string `bson:"token"`
	}
	err := s.mark.FindOne(ctx, bson.M{"_id": markID}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("members: mark: %w", err)
	}
	return d.Token, nil
}

// Refresh re-reads every member from the store (one small collection) and
// takes in what other replicas changed: membership and identity (unless
// this replica changed them since the read began), and the newer of the
// backfill and delivery records. The hub calls it every second; it reads
// the members only when the mark says one was written since the last read,
// so an idle hub reads one document, however many members it has.
func (s *Service) Refresh(ctx context.Context) error {
	began := time.Now()
	token, err := s.readMark(ctx)
	if err != nil {
		return fmt.Errorf("members: refresh: %w", err)
	}
	s.mu.RLock()
	same := token == s.seenMark
	s.mu.RUnlock()
	if same {
		return nil
	}
	cur, err := s.coll.Find(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("members: refresh: %w", err)
	}
	var all []Member
	if err := cur.All(ctx, &all); err != nil {
		return fmt.Errorf("members: refresh: %w", err)
	}
	for _, m := range all {
		s.merge(m, began)
	}
	s.mu.Lock()
	s.seenMark = token // read after the mark: a later write changes it again
	s.mu.Unlock()
	return nil
}

// Reload reads one member from the store, merges it as Refresh does, and
// returns the result (the backfill reads the latest mark before a walk).
func (s *Service) Reload(ctx context.Context, actor string) (Member, error) {
	began := time.Now()
	var m Member
	if err := s.coll.FindOne(ctx, bson.M{"_id": actor}).Decode(&m); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return Member{}, ErrNotMember
		}
		return Member{}, fmt.Errorf("members: reload %s: %w", actor, err)
	}
	return s.merge(m, began), nil
}

// merge takes a stored member into memory; read is when the read began.
func (s *Service) merge(st Member, read time.Time) Member {
	s.mu.Lock()
	m, ok := s.byActor[st.Actor]
	if !ok {
		cp := st
		s.byActor[st.Actor] = &cp
		s.mu.Unlock()
		s.publish(st)
		return st
	}
	publish := false
	if s.changed[st.Actor].Before(read) {
		if m.State != st.State {
			delete(s.accepted, st.Actor) // as setState does: a resume is a new acceptance
		}
		publish = m.State != st.State || m.Name != st.Name || m.Handle != st.Handle || m.URL != st.URL
		m.Handle, m.Name, m.URL, m.Inbox, m.Outbox, m.State = st.Handle, st.Name, st.URL, st.Inbox, st.Outbox, st.State
		if !st.Added.IsZero() {
			m.Added = st.Added
		}
	}
	if !st.LastBackfill.Before(m.LastBackfill) {
		m.LastBackfill, m.BackfillError, m.BackfillMark = st.LastBackfill, st.BackfillError, st.BackfillMark
	}
	if st.LastDelivery.After(m.LastDelivery) {
		m.LastDelivery, m.Lag = st.LastDelivery, st.Lag
	}
	cp := *m
	s.mu.Unlock()
	if publish {
		s.publish(cp)
	}
	return cp
}

// Add resolves a handle (@name@host) or actor URL, records the node as an
// active member and follows it. Adding an existing member (in any state)
// re-activates it and re-sends the follow.
func (s *Service) Add(ctx context.Context, handleOrURL string) (Member, error) {
	ra, err := s.fed.Resolve(ctx, handleOrURL)
	if err != nil {
		return Member{}, fmt.Errorf("members: resolve %q: %w", handleOrURL, err)
	}
	if ra.Outbox == "" {
		return Member{}, fmt.Errorf("members: %s has no outbox", ra.ID)
	}
	m := Member{Actor: ra.ID, Name: ra.Name, URL: ra.URL, Inbox: ra.Inbox, Outbox: ra.Outbox,
		Handle: handleOf(ra), State: StateActive, Added: s.fed.Now().UTC()}
	if m.Name == "" {
		m.Name = ra.PreferredUsername
	}
	s.mu.Lock()
	if old, ok := s.byActor[m.Actor]; ok {
		m.Added, m.LastDelivery, m.Lag, m.LastBackfill, m.BackfillMark = old.Added, old.LastDelivery, old.Lag, old.LastBackfill, old.BackfillMark
	}
	s.mu.Unlock()
	if err := s.saveState(ctx, m); err != nil {
		return Member{}, err
	}
	s.mu.Lock()
	stored := m // the map's copy is updated in place (RecordDelivery, merge); m is returned
	s.byActor[m.Actor] = &stored
	delete(s.accepted, m.Actor)
	s.changed[m.Actor] = time.Now()
	s.mu.Unlock()
	s.publish(m)
	f, err := s.fed.Follow(ctx, m.Actor)
	if err != nil {
		return m, fmt.Errorf("members: follow %s: %w", m.Actor, err)
	}
	m.FollowState = f.State
	return m, nil
}

func handleOf(ra federation.RemoteActor) string {
	u, err := url.Parse(ra.ID)
	if err != nil || ra.PreferredUsername == "" {
		return ra.ID
	}
	return "@" + ra.PreferredUsername + "@" + u.Host
}

// Suspend unfollows a member and hides its data; history is kept and
// Resume (or Add) brings it back.
func (s *Service) Suspend(ctx context.Context, actor string) (Member, error) {
	return s.setState(ctx, actor, StateSuspended)
}

// Remove unfollows a member and hides it for good; its history is kept in
// the store (an operator may purge it with the admin tools).
func (s *Service) Remove(ctx context.Context, actor string) (Member, error) {
	return s.setState(ctx, actor, StateRemoved)
}

// Resume re-follows a suspended or removed member.
func (s *Service) Resume(ctx context.Context, actor string) (Member, error) {
	m, ok := s.Get(actor)
	if !ok {
		return Member{}, ErrNotMember
	}
	return s.Add(ctx, m.Actor)
}

func (s *Service) setState(ctx context.Context, actor, state string) (Member, error) {
	s.mu.Lock()
	p, ok := s.byActor[actor]
	if !ok {
		s.mu.Unlock()
		return Member{}, ErrNotMember
	}
	m := *p
	s.mu.Unlock()
	if err := s.fed.Unfollow(ctx, actor); err != nil && !isNotFound(err) {
		return Member{}, fmt.Errorf("members: unfollow %s: %w", actor, err)
	}
	m.State = state
	if err := s.saveState(ctx, m); err != nil {
		return Member{}, err
	}
	s.mu.Lock()
	stored := m // the map's copy is updated in place (RecordDelivery, merge); m is returned
	s.byActor[actor] = &stored
	delete(s.accepted, actor)
	s.changed[actor] = time.Now()
	s.mu.Unlock()
	s.publish(m)
	m.FollowState = FollowNone
	return m, nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// Get returns a member by actor IRI, any state.
func (s *Service) Get(actor string) (Member, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.byActor[actor]
	if !ok {
		return Member{}, false
	}
	return *m, true
}

// Accepting reports whether objects from actor are ingested: it must be an
// active member (suspended and removed members are not).
func (s *Service) Accepting(actor string) bool {
	m, ok := s.Get(actor)
	return ok && m.State == StateActive
}

// List returns every member with its follow state, by name.
func (s *Service) List(ctx context.Context) ([]Member, error) {
	follows, err := s.fed.FollowingAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("members: following: %w", err)
	}
	state := map[string]string{}
	for _, f := range follows {
		state[f.Actor] = f.State
	}
	s.mu.RLock()
	out := make([]Member, 0, len(s.byActor))
	for _, m := range s.byActor {
		mm := *m
		mm.FollowState = state[m.Actor]
		if mm.FollowState == "" {
			mm.FollowState = FollowNone
		}
		out = append(out, mm)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Member) int {
		return strings.Compare(strings.ToLower(a.Name)+a.Actor, strings.ToLower(b.Name)+b.Actor)
	})
	return out, nil
}

// Active returns the active members.
func (s *Service) Active() []Member {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Member
	for _, m := range s.byActor {
		if m.State == StateActive {
			out = append(out, *m)
		}
	}
	return out
}

// RecordDelivery notes an activity received from actor whose object was
// published at published (zero if unknown). It is kept in memory and
// written by Flush, so ingest never waits on it.
func (s *Service) RecordDelivery(actor string, at, published time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byActor[actor]
	if !ok {
		return
	}
	m.LastDelivery = at.UTC()
	if !published.IsZero() {
		m.Lag = max(at.Sub(published), 0).Round(time.Millisecond)
	}
	s.dirty[actor] = true
}

// RecordBackfill notes the outcome of a backfill of actor.
func (s *Service) RecordBackfill(ctx context.Context, actor, mark string, at time.Time, backfillErr error) error {
	s.mu.Lock()
	m, ok := s.byActor[actor]
	if !ok {
		s.mu.Unlock()
		return ErrNotMember
	}
	m.LastBackfill = at.UTC()
	m.BackfillError = ""
	if backfillErr != nil {
		m.BackfillError = backfillErr.Error()
	} else if mark != "" {
		m.BackfillMark = mark
	}
	cp := *m
	s.mu.Unlock()
	return s.saveBackfill(ctx, cp)
}

// Flush writes health changes recorded since the last flush.
func (s *Service) Flush(ctx context.Context) error {
	s.mu.Lock()
	var batch []Member
	for a := range s.dirty {
		if m, ok := s.byActor[a]; ok {
			batch = append(batch, *m)
		}
	}
	clear(s.dirty)
	s.mu.Unlock()
	var errs []error
	saved := false
	for _, m := range batch {
		if err := s.saveDelivery(ctx, m); err != nil {
			errs = append(errs, err)
			// Not saved (the store may be away): flush it again next time.
			s.mu.Lock()
			s.dirty[m.Actor] = true
			s.mu.Unlock()
			continue
		}
		saved = true
	}
	if saved {
		errs = append(errs, s.touch(ctx))
	}
	return errors.Join(errs...)
}

// RetryAccepted makes the next NewlyAccepted report actor again (if still
// accepted): its first backfill could not run yet.
func (s *Service) RetryAccepted(actor string) {
	s.mu.Lock()
	delete(s.accepted, actor)
	s.mu.Unlock()
}

// NewlyAccepted compares the follow states in federation with the last call
// and returns the active members whose follow became accepted since (at the
// first call: every accepted one). The hub calls it when an Accept arrives
// and, as a safety net, periodically.
func (s *Service) NewlyAccepted(ctx context.Context) ([]Member, error) {
	follows, err := s.fed.FollowingAll(ctx)
	if err != nil {
		return nil, err
	}
	var out []Member
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range follows {
		m, ok := s.byActor[f.Actor]
		if !ok || m.State != StateActive {
			continue
		}
		if f.State == FollowAccepted && !s.accepted[f.Actor] {
			s.accepted[f.Actor] = true
			out = append(out, *m)
		}
		if f.State != FollowAccepted {
			delete(s.accepted, f.Actor)
		}
	}
	return out, nil
}
