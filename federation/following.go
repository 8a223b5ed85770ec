package federation

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// followingSet is the following collection (the actors we follow, a hub's
// members) kept in memory and written through to the store, as the
// followers are: the hub's backfill asks for every follow's state on each
// Accept and every poll, and the /following collection lists them, so
// neither reads the collection (a scan on the embedded store, issue 11).
// Other replicas' writes come in through the mark, like the followers'.
type followingSet struct {
	coll *mongo.Collection
	mark *mongo.Collection // followingMarkID's token changes after each write
	mu   sync.RWMutex
	byID map[string]Following
	// seenMark is the mark's token when the follows were last read.
	seenMark string
}

// followingMarkCollection is the collection of the following's mark.
const followingMarkCollection = "following_mark"

const followingMarkID = "following"

func loadFollowing(ctx context.Context, coll, mark *mongo.Collection) (*followingSet, error) {
	fs := &followingSet{coll: coll, mark: mark, byID: map[string]Following{}}
	if err := fs.readAll(ctx); err != nil {
		return nil, err
	}
	return fs, nil
}

// reload reads the follows again when another replica wrote one since the
// last read (one document by _id otherwise).
func (fs *followingSet) reload(ctx context.Context) error {
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

// readAll reads every follow, after the mark (a write landing in between
// changes the mark again, so the next reload reads once more).
func (fs *followingSet) readAll(ctx context.Context) error {
	token, err := fs.readMark(ctx)
	if err != nil {
		return err
	}
	cur, err := fs.coll.Find(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("federation: load following: %w", err)
	}
	var all []Following
	if err := cur.All(ctx, &all); err != nil {
		return fmt.Errorf("federation: load following: %w", err)
	}
	byID := make(map[string]Following, len(all))
	for _, f := range all {
		byID[f.Actor] = f
	}
	fs.mu.Lock()
	fs.byID, fs.seenMark = byID, token
	fs.mu.Unlock()
	return nil
}

func (fs *followingSet) readMark(ctx context.Context) (string, error) {
	var d struct {
		Token string `bson:"token"`
	}
	err := fs.mark.FindOne(ctx, bson.M{"_id": followingMarkID}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("federation: following mark: %w", err)
	}
	return d.Token, nil
}

// touch changes the mark after a write (a random token: FerretDB's $inc is
// read-then-write).
func (fs *followingSet) touch(ctx context.Context) error {
	_, err := fs.mark.UpdateOne(ctx, bson.M{"_id": followingMarkID},
		bson.M{"$set": bson.M{"token": rand.Text()}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("federation: following mark: %w", err)
	}
	return nil
}

// put stores f (replacing our earlier follow of the actor), then memory.
func (fs *followingSet) put(ctx context.Context, f Following) error {
	if _, err := fs.coll.ReplaceOne(ctx, bson.M{"_id": f.Actor}, f, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("federation: store follow: %w", err)
	}
	fs.mu.Lock()
	fs.byID[f.Actor] = f
	fs.mu.Unlock()
	return fs.touch(ctx)
}

// answer records the state of our follow of f.Actor that the store holds
// as f (read by the caller by _id), then memory.
func (fs *followingSet) answer(ctx context.Context, f Following) error {
	if _, err := fs.coll.UpdateOne(ctx, bson.M{"_id": f.Actor},
		bson.M{"$set": bson.M{"state": f.State, "answered": f.Answered}}); err != nil {
		return fmt.Errorf("federation: store follow answer: %w", err)
	}
	fs.mu.Lock()
	fs.byID[f.Actor] = f
	fs.mu.Unlock()
	return fs.touch(ctx)
}

func (fs *followingSet) remove(ctx context.Context, actor string) error {
	if _, err := fs.coll.DeleteOne(ctx, bson.M{"_id": actor}); err != nil {
		return fmt.Errorf("federation: forget follow: %w", err)
	}
	fs.mu.Lock()
	delete(fs.byID, actor)
	fs.mu.Unlock()
	return fs.touch(ctx)
}

// sorted returns the follows ordered by actor IRI.
func (fs *followingSet) sorted() []Following {
	fs.mu.RLock()
	out := make([]Following, 0, len(fs.byID))
	for _, f := range fs.byID {
		out = append(out, f)
	}
	fs.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Actor < out[j].Actor })
	return out
}
