package planstore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TouchedCollection holds, per plan, the last time its list of commitments
// changed.
const TouchedCollection = "node_plan_touched"

// planTouch is the last time a plan's list of commitments changed. The
// plan's own "updated" only moves when its fields change, but followers
// (and the hub, which keeps the newest by "updated") must see a newer
// "updated" whenever the list changes, so the published and served value is
// the later of the two.
type planTouch struct {
	PlanID string    `bson:"_id"`
	At     time.Time `bson:"at"`
}

func (s *Store) touchedColl() *mongo.Collection {
	return s.plans.Database().Collection(TouchedCollection)
}

// PlanTouched returns when plan id's list of commitments last changed, the
// zero time when it never did.
func (s *Store) PlanTouched(ctx context.Context, id string) (time.Time, error) {
	m, err := s.memory(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("planstore: plan %s touched: %w", id, err)
	}
	return m.touch(id), nil
}

// TouchPlan records that plan id's list of commitments changed now and
// returns the time recorded: strictly after both the previous touch and
// notBefore (the plan's own "updated"), so a follower that keeps the newest
// "updated" always takes the republished plan.
func (s *Store) TouchPlan(ctx context.Context, id string, notBefore time.Time) (time.Time, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	prev, err := s.PlanTouched(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	at := later(s.stamp(), prev, notBefore)
	if _, err := s.touchedColl().ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, planTouch{PlanID: id, At: at},
		options.Replace().SetUpsert(true)); err != nil {
		return time.Time{}, fmt.Errorf("planstore: touch plan %s: %w", id, err)
	}
	s.mem.Load().putTouch(id, at)
	return at, nil
}
