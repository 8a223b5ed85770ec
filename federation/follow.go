package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/internal/store"
)

// Follower is a remote actor following our main actor.
type Follower struct {
	Actor       string    `bson:"_id" json:"actor"`
	Inbox       string    `bson:"inbox" json:"inbox"`
	SharedInbox string    `bson:"sharedInbox,omitempty" json:"sharedInbox,omitempty"`
	FollowID    string    `bson:"followId" json:"followId"`
	Since       time.Time `bson:"since" json:"since"`
}

// followersMarkCollection is the collection of the followers' mark
// (markedSet): the followers are read on every publish, from memory.
const followersMarkCollection = "followers_mark"

func loadFollowers(ctx context.Context, coll, mark *mongo.Collection) (*markedSet[Follower], error) {
	return loadMarkedSet(ctx, "followers", coll, mark, "followers", func(f Follower) string { return f.Actor })
}

// Followers lists our followers, ordered by actor IRI.
func (s *Server) Followers() []Follower { return s.followers.sorted() }

// FollowerInboxes returns the distinct inboxes to reach every follower: one
// shared inbox stands for all followers on its server (one signature each).
func (s *Server) FollowerInboxes() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range s.followers.sorted() {
		inbox := f.SharedInbox
		if inbox == "" {
			inbox = f.Inbox
		}
		if inbox != "" && !seen[inbox] {
			seen[inbox] = true
			out = append(out, inbox)
		}
	}
	return out
}

// onFollow accepts every follow of our main actor (accounts are unlocked)
// and answers with an Accept that embeds the Follow as received.
func (s *Server) onFollow(ctx context.Context, in *Activity) error {
	if in.ObjectID != s.ActorID() {
		return fmt.Errorf("%w: Follow of %s: this server's actor is %s", ErrMalformed, in.ObjectID, s.ActorID())
	}
	remote, err := s.actors.get(ctx, in.Actor, false)
	if err != nil {
		s.log.InfoContext(ctx, "inbox: follower's actor fetch failed", "actor", in.Actor, "err", err)
		return fmt.Errorf("%w: could not fetch the follower's actor", ErrMalformed)
	}
	if err := s.followers.put(ctx, Follower{
		Actor: in.Actor, Inbox: remote.Inbox, SharedInbox: remote.SharedInbox,
		FollowID: in.ID, Since: s.cfg.Now().UTC(),
	}); err != nil {
		return err
	}
	accept := map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       s.NewActivityID(),
		"type":     "Accept",
		"actor":    s.ActorID(),
		"object":   json.RawMessage(in.Raw),
		"to":       []string{in.Actor},
	}
	return s.Send(ctx, accept, []string{remote.Inbox})
}

// onUndo handles Undo{Follow}; other Undos go to the Inbox.
func (s *Server) onUndo(ctx context.Context, in *Activity) (bool, error) {
	var inner struct {
		ID    string `json:"id"`
		Type  string `json:"type"`
		Actor string `json:"actor"`
	}
	_ = json.Unmarshal(in.embedded(), &inner)
	f, isFollower := s.followers.get(in.Actor)
	isFollowUndo := inner.Type == "Follow" || (isFollower && in.ObjectID == f.FollowID)
	if !isFollowUndo {
		return false, nil
	}
	if inner.Actor != "" && inner.Actor != in.Actor {
		return true, fmt.Errorf("%w: Undo of another actor's Follow", ErrForbidden)
	}
	return true, s.followers.remove(ctx, in.Actor)
}

// Following is one actor our server follows, with the state of the follow.
type Following struct {
	Actor     string    `bson:"_id" json:"actor"`
	FollowID  string    `bson:"followId" json:"followId"`
	State     string    `bson:"state" json:"state"` // pending | accepted | rejected
	Inbox     string    `bson:"inbox" json:"inbox"`
	Requested time.Time `bson:"requested" json:"requested"`
	Answered  time.Time `bson:"answered,omitzero" json:"answered,omitzero"`
}

// Follow states.
const (
	FollowPending  = "pending"
	FollowAccepted = "accepted"
	FollowRejected = "rejected"
)

// Follow sends a Follow from our main actor to actorIRI and records it as
// pending until the Accept arrives. Following again re-sends the request.
func (s *Server) Follow(ctx context.Context, actorIRI string) (Following, error) {
	remote, err := s.actors.get(ctx, actorIRI, true)
	if err != nil {
		return Following{}, err
	}
	f := Following{Actor: actorIRI, FollowID: s.NewActivityID(), State: FollowPending, Inbox: remote.Inbox, Requested: s.cfg.Now().UTC()}
	if err := s.following.put(ctx, f); err != nil {
		return Following{}, err
	}
	follow := map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       f.FollowID, "type": "Follow", "actor": s.ActorID(), "object": actorIRI,
		"to": []string{actorIRI},
	}
	return f, s.Send(ctx, follow, []string{remote.Inbox})
}

// Unfollow sends Undo{Follow} and forgets the follow.
func (s *Server) Unfollow(ctx context.Context, actorIRI string) error {
	f, err := s.FollowingOf(ctx, actorIRI)
	if err != nil {
		return err
	}
	undo := map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       s.NewActivityID(), "type": "Undo", "actor": s.ActorID(),
		"object": map[string]any{"id": f.FollowID, "type": "Follow", "actor": s.ActorID(), "object": actorIRI},
		"to":     []string{actorIRI},
	}
	if err := s.Send(ctx, undo, []string{f.Inbox}); err != nil {
		return err
	}
	return s.following.remove(ctx, actorIRI)
}

// FollowingOf returns our follow of actorIRI, or store.ErrNotFound.
func (s *Server) FollowingOf(ctx context.Context, actorIRI string) (Following, error) {
	var f Following
	err := s.cfg.DB.Collection("following").FindOne(ctx, bson.M{"_id": actorIRI}).Decode(&f)
	return f, store.NotFound(err)
}

// FollowingAll lists every actor we follow, any state, ordered by actor
// IRI: from memory, current with this replica's writes and, within
// followersRefresh, with other replicas'.
func (s *Server) FollowingAll(context.Context) ([]Following, error) {
	return s.following.sorted(), nil
}

// onFollowAnswer records Accept/Reject of one of our follows and reports
// whether it was one (an answer to anything else is not).
func (s *Server) onFollowAnswer(ctx context.Context, in *Activity) (bool, error) {
	f, err := s.FollowingOf(ctx, in.Actor)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	if in.ObjectID != f.FollowID {
		return false, nil
	}
	state := FollowAccepted
	if in.Type == "Reject" {
		state = FollowRejected
	}
	f.State, f.Answered = state, s.cfg.Now().UTC()
	return true, s.following.update(ctx, f, bson.M{"state": f.State, "answered": f.Answered})
}
