// Package ingest turns member nodes' activities into stored objects and
// read-model updates: what the hub's Inbox receives from members (Create,
// Update, Announce, Delete) and the one path that backfill and the
// start-up rebuild share. Refusals are federation's domain errors; the
// inbox turns them into statuses.
//
// Trust: federation has already verified the signature, that the key owner
// is the actor, and that Update/Delete targets are on the actor's host.
// Here the hub adds its own policy: only active members are heard, only
// objects on the member's own host are stored, and only valid ogp
// documents (ogp.Parse, bounded and strict) get past.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/members"
	"github.com/ogpnet/ogpnet/hub/objects"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/reshare"
)

// Source says how an object reached the hub.
type Source int

// Sources.
const (
	Live     Source = iota // delivered to the inbox
	Backfill               // found by paging a member's outbox
)

// ErrRejected wraps reasons an object is refused (not from the member's
// host, wrong attribution, invalid document). It is a
// federation.ErrRejected, so a live delivery refused for it is answered
// 422.
var ErrRejected = fmt.Errorf("ingest: %w", federation.ErrRejected)

// Service ingests objects. The read model follows the store: give
// Applier(Model) to Objects.HandTo before the first write.
type Service struct {
	Objects *objects.Store
	Model   *readmodel.Model
	Members *members.Service
	Reshare *reshare.Resharer // nil: no re-sharing
	Log     *slog.Logger
	Now     func() time.Time

	metrics *metrics
}

type metrics struct {
	objects *prometheus.CounterVec // result × source
}

// Instrument registers the ingest counters on reg.
func (s *Service) Instrument(reg *prometheus.Registry) {
	m := &metrics{objects: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ogpnet_hub_ingest_objects_total",
		Help: "Objects offered to the hub's ingest, by outcome and source.",
	}, []string{"result", "source"})}
	if reg != nil {
		reg.MustRegister(m.objects)
	}
	s.metrics = m
}

func (s *Service) count(result string, src Source) {
	if s.metrics == nil {
		return
	}
	name := "live"
	if src == Backfill {
		name = "backfill"
	}
	s.metrics.objects.WithLabelValues(result, name).Inc()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Object ingests the object of a member's live Create, Update or
// Announce (the hub's Inbox routes them here). Activities of non-members
// and objects on other hosts are ignored, not refused: a 4xx would make
// polite senders retry. An invalid object is refused (ErrRejected, which
// the inbox answers 422).
func (s *Service) Object(ctx context.Context, a *federation.Activity) error {
	if !s.Members.Accepting(a.Actor) {
		// Anyone may follow the Group and talk to it; only members' objects
		// are data.
		s.log().DebugContext(ctx, "ingest: ignoring activity from a non-member", "actor", a.Actor, "type", a.Type)
		s.count("not-member", Live)
		return nil
	}
	if !sameHost(a.ObjectID, a.Actor) {
		s.count("foreign-host", Live)
		return nil // e.g. a member boosting someone else's post
	}
	raw, err := a.Object(ctx)
	if err != nil {
		return err
	}
	var update []byte
	if a.Type == "Update" {
		update = a.Raw
	}
	_, err = s.accept(ctx, a.Actor, a.ObjectID, raw, update, Live)
	if errors.Is(err, ErrUnsupported) {
		return nil
	}
	return err
}

// Deleted records a member's live Delete of one of its objects. The
// deletion of the member's own actor keeps its history for staff to
// decide.
func (s *Service) Deleted(ctx context.Context, a *federation.Activity) error {
	if !s.Members.Accepting(a.Actor) {
		s.count("not-member", Live)
		return nil
	}
	if a.ObjectID == a.Actor {
		s.log().WarnContext(ctx, "ingest: member deleted its actor", "actor", a.Actor)
		return nil
	}
	s.Members.RecordDelivery(a.Actor, s.now(), time.Time{})
	return s.DeleteActivity(ctx, a.Actor, a.ObjectID, a.Raw, Live)
}

// DeletedAt reads the Tombstone's "deleted" time from a Delete activity
// (zero when absent), so deletions order correctly against re-creations.
func DeletedAt(activity []byte) time.Time {
	var a struct {
		Object struct {
			Deleted time.Time `json:"deleted"`
		} `json:"object"`
	}
	_ = json.Unmarshal(activity, &a)
	return a.Object.Deleted
}

// ErrUnsupported is returned for documents that are not ogp objects (ignored).
var ErrUnsupported = errors.New("ingest: not an ogp object")

// Accept stores one object that pilot published, given as trusted bytes
// (embedded in pilot's signed activity, fetched from its origin, or read
// from its outbox), and updates the read model. wantID is the IRI the
// object must carry. New objects are re-shared when they arrive live, or by
// backfill when published after the member joined (the hub was down, not
// the node's old history).
func (s *Service) Accept(ctx context.Context, pilot, wantID string, raw []byte, src Source) (objects.Result, error) {
	return s.accept(ctx, pilot, wantID, raw, nil, src)
}

// AcceptUpdate is Accept for the object of pilot's Update activity, given
// as received (update): when the object is one the hub announced and this
// write replaced an older version, the Update is relayed to the hub's
// followers (reshare.Relay). A stale or repeated Update replaces nothing
// and is not relayed.
func (s *Service) AcceptUpdate(ctx context.Context, pilot, wantID string, raw, update []byte, src Source) (objects.Result, error) {
	return s.accept(ctx, pilot, wantID, raw, update, src)
}

func (s *Service) accept(ctx context.Context, pilot, wantID string, raw, update []byte, src Source) (objects.Result, error) {
	kind, obj, err := ogp.Parse(raw)
	switch {
	case errors.Is(err, ogp.ErrUnsupported):
		s.count("unsupported", src)
		return objects.Stale, ErrUnsupported
	case err != nil:
		s.count("invalid", src)
		return objects.Stale, fmt.Errorf("%w: %v", ErrRejected, err)
	}
	var id, attributed string
	var published, updated time.Time
	switch o := obj.(type) {
	case ogp.Commitment:
		id, attributed, published, updated = o.ID, o.AttributedTo, o.Published, o.Updated
	case ogp.ProgressUpdate:
		id, attributed, published, updated = o.ID, o.AttributedTo, o.Published, o.Updated
		if !sameHost(o.InReplyTo, pilot) {
			s.count("foreign-host", src)
			return objects.Stale, fmt.Errorf("%w: progress update %s replies to %s on another host", ErrRejected, o.ID, o.InReplyTo)
		}
	case ogp.ActionPlan:
		id, attributed, published, updated = o.ID, o.AttributedTo, o.Published, o.Updated
	default:
		s.count("unsupported", src)
		return objects.Stale, ErrUnsupported // a bare Tombstone or an activity is not an object to store
	}
	switch {
	case wantID != "" && id != wantID:
		s.count("invalid", src)
		return objects.Stale, fmt.Errorf("%w: object id %s, expected %s", ErrRejected, id, wantID)
	case attributed != pilot || !sameHost(id, pilot):
		s.count("foreign-host", src)
		return objects.Stale, fmt.Errorf("%w: %s is attributed to %s, not the member %s on its host", ErrRejected, id, attributed, pilot)
	}
	now := s.now().UTC()
	if src == Live && s.Members != nil {
		s.Members.RecordDelivery(pilot, now, latest(published, updated))
	}
	// The store hands what it stores (or finds stored) to the read model.
	res, err := s.Objects.Put(ctx, objects.Object{ID: id, Kind: kind, Pilot: pilot, Raw: string(raw),
		Published: published, Updated: updated, Received: now})
	if err != nil {
		return res, err
	}
	switch res {
	case objects.Stale:
		s.count("stale", src)
		return res, nil
	case objects.Gone:
		s.count("deleted", src)
		return res, nil
	}
	s.count(map[objects.Result]string{objects.Created: "created", objects.Replaced: "replaced"}[res], src)
	if res == objects.Created && s.Reshare != nil && s.shouldAnnounce(pilot, published, src) {
		if err := s.Reshare.Announce(ctx, id); err != nil {
			// The object is stored; losing one boost is better than
			// failing the delivery (which would be retried and be Stale).
			s.log().ErrorContext(ctx, "ingest: re-share failed", "object", id, "err", err)
		}
	}
	if res == objects.Replaced && update != nil && s.Reshare != nil {
		// Only the write that replaced an older version relays: a stale or
		// repeated Update is Stale above, and another replica's write of the
		// same version is stopped by the relay record.
		if err := s.Reshare.Relay(ctx, reshare.UpdateKey(id, versionOf(published, updated)), id, update); err != nil {
			s.log().ErrorContext(ctx, "ingest: relaying an update failed", "object", id, "err", err)
		}
	}
	return res, nil
}

// versionOf is an object's version as the objects store orders them:
// updated, else published.
func versionOf(published, updated time.Time) time.Time {
	if !updated.IsZero() {
		return updated
	}
	return published
}

func (s *Service) shouldAnnounce(pilot string, published time.Time, src Source) bool {
	if src == Live {
		return true
	}
	m, ok := s.Members.Get(pilot)
	return ok && !published.IsZero() && !published.Before(m.Added)
}

// Delete records pilot's deletion of iri (which must be on pilot's host)
// made at deleted (zero: now). A version of the object made after that time
// is kept.
func (s *Service) Delete(ctx context.Context, pilot, iri string, deleted time.Time, src Source) error {
	_, err := s.remove(ctx, pilot, iri, deleted, src)
	return err
}

// DeleteActivity records pilot's Delete activity of iri, given as received
// (its Tombstone's "deleted" time orders it against re-creations). When it
// removed a live object the hub had announced, the Delete is relayed to
// the hub's followers and the hub's boost is withdrawn, each once
// (reshare.Relay, reshare.Unboost).
func (s *Service) DeleteActivity(ctx context.Context, pilot, iri string, activity []byte, src Source) error {
	removed, err := s.remove(ctx, pilot, iri, DeletedAt(activity), src)
	if err != nil || !removed || s.Reshare == nil {
		return err
	}
	if err := s.Reshare.Relay(ctx, reshare.DeleteKey(iri), iri, activity); err != nil {
		s.log().ErrorContext(ctx, "ingest: relaying a deletion failed", "object", iri, "err", err)
	}
	// Servers that ignore the relayed Delete still drop a withdrawn boost.
	if err := s.Reshare.Unboost(ctx, iri); err != nil {
		s.log().ErrorContext(ctx, "ingest: withdrawing a boost failed", "object", iri, "err", err)
	}
	return nil
}

// remove tombstones iri and reports whether that removed a live object.
func (s *Service) remove(ctx context.Context, pilot, iri string, deleted time.Time, src Source) (bool, error) {
	if !sameHost(iri, pilot) {
		s.count("foreign-host", src)
		return false, nil
	}
	if deleted.IsZero() || deleted.After(s.now()) {
		deleted = s.now()
	}
	removed, err := s.Objects.Delete(ctx, iri, pilot, deleted)
	if err != nil {
		return false, err
	}
	s.count("tombstoned", src)
	return removed, nil
}

// Applier returns what applies the objects the store hands on
// (objects.Store.HandTo) to model: this replica's writes, what the store
// holds when it refused one, and other replicas' writes the tailer reads.
func Applier(model *readmodel.Model) func(objects.Object) {
	return func(o objects.Object) { _ = Rebuild(model, o) }
}

// Rebuild applies one stored object to the read model: the start-up pass,
// and every write handed on by the store afterwards (Applier).
func Rebuild(model *readmodel.Model, o objects.Object) error {
	if o.Kind == ogp.KindTombstone {
		model.Remove(o.ID) // nothing to remove at start; another replica's deletion later
		return nil
	}
	_, obj, err := ogp.Parse([]byte(o.Raw))
	if err != nil {
		// Stored objects passed Parse when they arrived; a stricter parser
		// since then hides them instead of failing the start.
		return nil
	}
	applyObject(model, o.Pilot, obj, o.Received)
	return nil
}

func applyObject(model *readmodel.Model, pilot string, obj any, received time.Time) {
	switch o := obj.(type) {
	case ogp.Commitment:
		model.ApplyCommitment(pilot, o, received)
	case ogp.ProgressUpdate:
		model.ApplyUpdate(pilot, o)
	case ogp.ActionPlan:
		model.ApplyPlan(pilot, o)
	}
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host != "" && strings.EqualFold(ua.Host, ub.Host) && ua.Scheme == ub.Scheme
}
