package federation

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

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

// followerSet is the followers collection kept in memory (it is read on
// every publish) and written through to the store.
type followerSet struct {
	coll *mongo.Collection
	// mark holds one document whose token every write of a follower changes
	// (after the write), so that reload reads the followers only when one
	// changed: an idle server reads one document by _id per refresh, however
	// many followers it has (issue 11; the hub's members use the same rule).
	mark *mongo.Collection
	mu   sync.RWMutex
	byID map[string]Follower
	// seenMark is the mark's token when the followers were last read.
	seenMark string
}

// followersMarkCollection is the collection of the followers' mark.
const followersMarkCollection = "followers_mark"

const followersMarkID = "followers"

func loadFollowers(ctx context.Context, coll, mark *mongo.Collection) (*followerSet, error) {
	fs := &followerSet{coll: coll, mark: mark, byID: map[string]Follower{}}
	if err := fs.readAll(ctx); err != nil {
		return nil, err
	}
	return fs, nil
}

// reload takes in what other replicas changed: it replaces the in-memory
// set with the store's when the mark says a follower was written since the
// last read, and reads one document otherwise.
func (fs *followerSet) reload(ctx context.Context) error {
	token, err := fs.readMark(ctx)
	if err != nil {
		return err
	}
	fs.mu.RLock()
	same := token == fs.seenMark
	fs.mu.RUnlock()
	if same {
		return nil
	}
	return fs.readAll(ctx)
}

// readAll reads every follower, after the mark (a write that lands in
// between changes the mark again, so the next reload reads once more).
func (fs *followerSet) readAll(ctx context.Context) error {
	token, err := fs.readMark(ctx)
	if err != nil {
		return err
	}
	cur, err := fs.coll.Find(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("federation: load followers: %w", err)
	}
	var all []Follower
	if err := cur.All(ctx, &all); err != nil {
		return fmt.Errorf("federation: load followers: %w", err)
	}
	byID := make(map[string]Follower, len(all))
	for _, f := range all {
		byID[f.Actor] = f
	}
	fs.mu.Lock()
	fs.byID = byID
	fs.seenMark = token
	fs.mu.Unlock()
	return nil
}

// touch changes the mark's token after a write of a follower, telling every
// replica's reload to read the followers again. A fresh random token, not a
// counter: FerretDB's $inc is read-then-write.
func (fs *followerSet) touch(ctx context.Context) error {
	_, err := fs.mark.UpdateOne(ctx, bson.M{"_id": followersMarkID},
		bson.M{"$set": bson.M{"token": rand.Text()}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("federation: followers mark: %w", err)
	}
	return nil
}

// readMark reads the mark's token ("" before any write).
func (fs *followerSet) readMark(ctx context.Context) (string, error) {
	var d struct {
		Token string `bson:"token"`
	}
	err := fs.mark.FindOne(ctx, bson.M{"_id": followersMarkID}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("federation: followers mark: %w", err)
	}
	return d.Token, nil
}

func (fs *followerSet) add(ctx context.Context, f Follower) error {
	_, err := fs.coll.ReplaceOne(ctx, bson.M{"_id": f.Actor}, f, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("federation: store follower: %w", err)
	}
	fs.mu.Lock()
	fs.byID[f.Actor] = f
	fs.mu.Unlock()
	return fs.touch(ctx)
}

func (fs *followerSet) remove(ctx context.Context, actor string) error {
	if _, err := fs.coll.DeleteOne(ctx, bson.M{"_id": actor}); err != nil {
		return fmt.Errorf("federation: remove follower: %w", err)
	}
	fs.mu.Lock()
	delete(fs.byID, actor)
	fs.mu.Unlock()
	return fs.touch(ctx)
}

// sorted returns followers ordered by actor IRI (the collection's cursor).
func (fs *followerSet) sorted() []Follower {
	fs.mu.RLock()
	out := make([]Follower, 0, len(fs.byID))
	for _, f := range fs.byID {
		out = append(out, f)
	}
	fs.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Actor < out[j].Actor })
	return out
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
	if err := s.followers.add(ctx, Follower{
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
	s.followers.mu.RLock()
	f, isFollower := s.followers.byID[in.Actor]
	s.followers.mu.RUnlock()
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
	return true, s.following.answer(ctx, f)
}
