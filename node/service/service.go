package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/planstore"
)

// Errors of the service that the HTTP layer maps to statuses.
var (
	// ErrNotFound: no such plan, commitment or update (404).
	ErrNotFound = store.ErrNotFound
	// ErrExists: creating something whose id is taken (409).
	ErrExists = errors.New("already exists")
	// ErrGone: the object was withdrawn (410, with a Tombstone).
	ErrGone = errors.New("withdrawn")
)

// Service is the node's domain operations: every write validates, stores,
// and publishes the matching activity (Create, Update with a newer
// "updated", or Delete with a Tombstone). It knows nothing of HTTP, so the
// operator forms, the JSON API and the import all go through it, and a
// write that changes nothing publishes nothing.
type Service struct {
	store *planstore.Store
	fed   *federation.Server
	wire  plan.Wire
	log   *slog.Logger
	now   func() time.Time

	// mu serialises writes: a node has a handful of operators, and one
	// writer at a time keeps read-modify-write sequences (exists? → save →
	// publish) consistent without transactions, which the embedded store
	// lacks.
	mu sync.Mutex
	// unpublished is set when a publish failed after its write was stored,
	// and cleared by a Reconcile that succeeded.
	unpublished atomic.Bool
	// jobs are the import jobs waiting to run (import.go).
	jobs jobQueue
}

// New wires a Service: st stores, fed publishes, wire maps the domain
// onto the ogp vocabulary.
func New(st *planstore.Store, fed *federation.Server, wire plan.Wire, log *slog.Logger) *Service {
	return &Service{store: st, fed: fed, wire: wire, log: log, now: fed.Now, jobs: jobQueue{wake: make(chan struct{}, 1)}}
}

// Store returns the domain store, for reads.
func (s *Service) Store() *planstore.Store { return s.store }

// Wire returns the mapping onto the ogp vocabulary.
func (s *Service) Wire() plan.Wire { return s.wire }

// publish wraps object in an activity of typ and hands it to federation,
// which stores it in the outbox and queues delivery to every follower.
func (s *Service) publish(ctx context.Context, typ string, object any) error {
	body, err := ogp.NewActivity(typ, s.fed.NewActivityID(), s.fed.ActorID(), object,
		[]string{ogp.Public}, []string{s.fed.FollowersID()}, s.now().UTC())
	if err != nil {
		return fmt.Errorf("node: build %s: %w", typ, err)
	}
	// The write this announces is already stored: finish publishing even
	// if the operator's request ends now (a closed tab must not leave a
	// change that followers never hear of).
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := s.fed.Publish(pctx, body); err != nil {
		// Stored but not announced (the store may have gone away between
		// the two): Reconcile, run again by the node until it succeeds,
		// publishes it once the store is back, without a restart.
		s.unpublished.Store(true)
		return fmt.Errorf("node: publish %s: %w", typ, err)
	}
	return nil
}

// Unpublished reports whether a write was stored but its activity could not
// be published since the last successful Reconcile.
func (s *Service) Unpublished() bool { return s.unpublished.Load() }

// publishTimeout bounds recording one activity in the outbox and queue.
const publishTimeout = 30 * time.Second

// PlanObject returns the wire form of a plan with its live commitments and
// its effective "updated": the later of its own and the last change of its
// list of commitments (planstore.Store.TouchPlan), since followers keep the
// newest by "updated" and must take a plan whose list changed.
func (s *Service) PlanObject(ctx context.Context, p plan.ActionPlan, cs []plan.Commitment) ogp.ActionPlan {
	if at, err := s.store.PlanTouched(ctx, p.ID); err == nil && at.After(p.Updated) {
		p.Updated = at
	}
	return s.wire.ActionPlan(p, cs)
}

// SavePlan creates or replaces an action plan and publishes Create or
// Update (nothing when it did not change).
func (s *Service) SavePlan(ctx context.Context, p plan.ActionPlan) (plan.ActionPlan, planstore.ChangeKind, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.savePlan(ctx, p)
}

func (s *Service) savePlan(ctx context.Context, p plan.ActionPlan) (plan.ActionPlan, planstore.ChangeKind, error) {
	kind, err := s.store.PutPlan(ctx, p)
	if err != nil || kind == planstore.Unchanged {
		return p, kind, err
	}
	saved, err := s.store.GetPlan(ctx, p.ID)
	if err != nil {
		return p, kind, err
	}
	return saved, kind, s.publishPlan(ctx, saved, kind == planstore.Created)
}

func (s *Service) publishPlan(ctx context.Context, p plan.ActionPlan, isNew bool) error {
	cs, err := s.store.ListCommitments(ctx, p.ID)
	if err != nil {
		return err
	}
	typ := ogp.ActivityUpdate
	if isNew {
		typ = ogp.ActivityCreate
	}
	return s.publish(ctx, typ, s.PlanObject(ctx, p, cs))
}

// touchPlan republishes a plan whose list of commitments changed, as an
// Update with a newer "updated".
func (s *Service) touchPlan(ctx context.Context, planID string) error {
	p, err := s.store.GetPlan(ctx, planID)
	if err != nil {
		return err
	}
	if _, err := s.store.TouchPlan(ctx, planID, p.Updated); err != nil {
		return err
	}
	return s.publishPlan(ctx, p, false)
}

// CreateCommitment stores a new commitment and publishes Create (and an
// Update of its plan, whose list grew). A withdrawn commitment's id may be
// reused: it is published anew.
func (s *Service) CreateCommitment(ctx context.Context, c plan.Commitment) (plan.Commitment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, err := s.store.GetCommitment(ctx, c.ID); err == nil && !old.Deleted {
		return c, fmt.Errorf("commitment %s: %w", c.ID, ErrExists)
	}
	c, _, err := s.saveCommitment(ctx, c, true)
	return c, err
}

// UpdateCommitment replaces an existing commitment and publishes Update.
func (s *Service) UpdateCommitment(ctx context.Context, c plan.Commitment) (plan.Commitment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.LiveCommitment(ctx, c.ID); err != nil {
		return c, err
	}
	c, _, err := s.saveCommitment(ctx, c, true)
	return c, err
}

// saveCommitment validates c against its plan, stores it and publishes
// Create or Update (or nothing when unchanged). touch republishes the plans
// whose list of commitments changed; the import passes false and touches
// each plan once at the end.
func (s *Service) saveCommitment(ctx context.Context, c plan.Commitment, touch bool) (plan.Commitment, planstore.ChangeKind, error) {
	p, err := s.store.GetPlan(ctx, c.PlanID)
	if errors.Is(err, ErrNotFound) {
		return c, "", s.CheckCommitment(ctx, c) // the missing plan and every other invalid field
	} else if err != nil {
		return c, "", err
	}
	c.StripBidi() // as the store does, before the checks against the plan
	if err := c.ValidateFor(p); err != nil {
		return c, "", err
	}
	old, oldErr := s.store.GetCommitment(ctx, c.ID)
	saved, kind, err := s.store.UpsertCommitment(ctx, c)
	if err != nil {
		return c, "", err
	}
	switch kind {
	case planstore.Created:
		if err := s.publish(ctx, ogp.ActivityCreate, s.wire.Commitment(saved)); err != nil {
			return saved, kind, err
		}
	case planstore.Updated:
		if err := s.publish(ctx, ogp.ActivityUpdate, s.wire.Commitment(saved)); err != nil {
			return saved, kind, err
		}
	default:
		return saved, kind, nil
	}
	if !touch {
		return saved, kind, nil
	}
	if oldErr == nil && !old.Deleted && old.PlanID != saved.PlanID {
		// Moved between plans: the old plan's list shrank.
		if err := s.touchPlan(ctx, old.PlanID); err != nil {
			return saved, kind, err
		}
	}
	if kind == planstore.Created || (oldErr == nil && old.PlanID != saved.PlanID) {
		return saved, kind, s.touchPlan(ctx, saved.PlanID)
	}
	return saved, kind, nil
}

// DeleteCommitment withdraws a commitment: it stays stored, marked deleted,
// so its IRI (and its updates' IRIs) answer 410 with a Tombstone; followers
// get Delete{Tombstone} for it and for each of its progress updates (so
// their timelines drop the thread), and the plan's list shrinks.
func (s *Service) DeleteCommitment(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.LiveCommitment(ctx, id)
	if err != nil {
		return err
	}
	ups, err := s.store.ListUpdates(ctx, id, 0)
	if err != nil {
		return err
	}
	if c, err = s.store.DeleteCommitment(ctx, id); err != nil {
		return err
	}
	for _, u := range ups {
		t := ogp.Tombstone{ID: s.wire.IRIs.Update(id, u.ID), Type: ogp.TypeTombstone, FormerType: ogp.TypeProgressUpdate, Deleted: c.DeletedAt}
		if err := s.publish(ctx, ogp.ActivityDelete, t); err != nil {
			return err
		}
	}
	t := ogp.Tombstone{ID: s.wire.IRIs.Commitment(id), Type: ogp.TypeTombstone, FormerType: ogp.TypeCommitment, Deleted: c.DeletedAt}
	if err := s.publish(ctx, ogp.ActivityDelete, t); err != nil {
		return err
	}
	return s.touchPlan(ctx, c.PlanID)
}

// PostUpdate records a progress update on a commitment (dated today when
// no date is given), applies its completion and milestone changes to the
// commitment, and publishes Create{Note}, then Update{Article} when the
// commitment changed.
func (s *Service) PostUpdate(ctx context.Context, u plan.ProgressUpdate) (plan.ProgressUpdate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.LiveCommitment(ctx, u.CommitmentID)
	if err != nil {
		return u, err
	}
	if u.Date.IsZero() {
		u.Date = ogp.DateOf(s.now())
	}
	saved, applied, err := s.store.AddUpdate(ctx, u)
	if err != nil {
		if saved.ID != "" {
			// Stored but not applied: publish the update anyway, it is true.
			_ = s.publish(ctx, ogp.ActivityCreate, s.wire.ProgressUpdate(saved, c))
		}
		return saved, err
	}
	if err := s.publish(ctx, ogp.ActivityCreate, s.wire.ProgressUpdate(saved, applied)); err != nil {
		return saved, err
	}
	if applied.SameContent(c) {
		return saved, nil
	}
	return saved, s.publish(ctx, ogp.ActivityUpdate, s.wire.Commitment(applied))
}

// LiveCommitment loads commitment id to show or change it: ErrNotFound
// when there is none, ErrGone when it was withdrawn.
func (s *Service) LiveCommitment(ctx context.Context, id string) (plan.Commitment, error) {
	c, err := s.store.GetCommitment(ctx, id)
	if err == nil && c.Deleted {
		err = fmt.Errorf("commitment %s: %w", id, ErrGone)
	}
	return c, err
}

// LiveUpdate loads update id of commitment cid to show, edit or delete it: the
// commitment must exist and be live (else ErrNotFound / ErrGone), and the
// update must be one of its own (else ErrNotFound) and not deleted (else
// ErrGone).
func (s *Service) LiveUpdate(ctx context.Context, cid, id string) (plan.Commitment, plan.ProgressUpdate, error) {
	c, err := s.LiveCommitment(ctx, cid)
	if err != nil {
		return c, plan.ProgressUpdate{}, err
	}
	u, err := s.store.GetUpdate(ctx, id)
	if err != nil {
		return c, u, err
	}
	if u.CommitmentID != cid {
		return c, u, fmt.Errorf("progress update %s on %s: %w", id, cid, ErrNotFound)
	}
	if u.Deleted {
		return c, u, fmt.Errorf("progress update %s: %w", id, ErrGone)
	}
	return c, u, nil
}

// EditUpdate replaces the content of an existing progress update (u.ID on
// u.CommitmentID): it is validated against its commitment like a new one
// (a missing date keeps the stored one), keeps its id and "published", and
// is published as Update{Note} with a newer "updated"; an edit that changes
// nothing publishes nothing.
//
// Editing an update never changes the commitment: its completion and
// milestones stay as they are (operators edit the commitment for that), so
// the outcome does not depend on which update was the latest.
func (s *Service) EditUpdate(ctx context.Context, u plan.ProgressUpdate) (plan.ProgressUpdate, planstore.ChangeKind, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, old, err := s.LiveUpdate(ctx, u.CommitmentID, u.ID)
	if err != nil {
		return u, "", err
	}
	if u.Date.IsZero() {
		u.Date = old.Date
	}
	saved, kind, err := s.store.UpdateUpdate(ctx, u)
	if errors.Is(err, planstore.ErrDeleted) {
		return u, "", fmt.Errorf("progress update %s: %w", u.ID, ErrGone)
	}
	if err != nil || kind == planstore.Unchanged {
		return saved, kind, err
	}
	return saved, kind, s.publish(ctx, ogp.ActivityUpdate, s.wire.ProgressUpdate(saved, c))
}

// DeleteUpdate removes a progress update: it stays stored, marked deleted,
// so its IRI answers 410 with a Tombstone; followers get Delete{Tombstone}.
// Like an edit, it never changes the commitment's completion or milestones.
func (s *Service) DeleteUpdate(ctx context.Context, commitmentID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, _, err := s.LiveUpdate(ctx, commitmentID, id); err != nil {
		return err
	}
	u, err := s.store.DeleteUpdate(ctx, id)
	if err != nil {
		return err
	}
	t := ogp.Tombstone{ID: s.wire.IRIs.Update(commitmentID, id), Type: ogp.TypeTombstone, FormerType: ogp.TypeProgressUpdate, Deleted: u.DeletedAt.UTC()}
	return s.publish(ctx, ogp.ActivityDelete, t)
}
