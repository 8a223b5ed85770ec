package conversation

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Storage: four collections, every one read whole at start into memory and
// written by _id afterwards (the embedded store pushes down only an _id
// equality). A node has a few thousand replies at most.
const (
	collReplies = "conversation_replies" // _id: the reply's IRI
	collBlocks  = "conversation_blocks"  // _id: "actor <IRI>" or "domain <host>"
	collReports = "conversation_reports" // _id: the Flag activity's IRI
	collAudit   = "conversation_audit"   // _id: a time-ordered id
)

// Status is where a reply stands in moderation.
type Status string

// The statuses of a reply.
const (
	Held     Status = "held"
	Approved Status = "approved"
	Hidden   Status = "hidden"
)

// ValidStatus reports whether s is one of the statuses.
func ValidStatus(s string) bool {
	return s == string(Held) || s == string(Approved) || s == string(Hidden)
}

// Reply is one post in a node's threads: a reply received from any
// fediverse actor, or a Note of the node itself (an answer or a question).
type Reply struct {
	ID        string `bson:"_id"`
	Actor     string `bson:"actor"`
	Handle    string `bson:"handle"` // @user@host, as well as it is known
	InReplyTo string `bson:"inReplyTo"`
	// Root is the node object the thread hangs from (commitment, update,
	// plan), or the peer's object a question of the node is about; empty
	// for a post that only mentions the node.
	Root string `bson:"root"`
	// Context is the thread's conversation collection (FEP-171b).
	Context   string    `bson:"context"`
	Status    Status    `bson:"status"`
	Published time.Time `bson:"published"`
	Updated   time.Time `bson:"updated,omitzero"`
	Received  time.Time `bson:"received"`
	// Content is the sanitised HTML shown on pages; Raw the activity (or,
	// for the node's own Notes, the Note) exactly as received or sent.
	Content   string    `bson:"content"`
	Summary   string    `bson:"summary,omitempty"` // content warning
	Sensitive bool      `bson:"sensitive,omitempty"`
	Hashtags  []string  `bson:"hashtags,omitempty"`
	Mentions  []Mention `bson:"mentions,omitempty"`
	URL       string    `bson:"url,omitempty"`
	Raw       string    `bson:"raw"`
	// Local is true for the node's own Notes; Question for those asking a
	// peer (the rest are answers).
	Local    bool `bson:"local,omitempty"`
	Question bool `bson:"question,omitempty"`
	// Read is set once an operator has seen the reply in Conversations.
	Read bool `bson:"read,omitempty"`
}

// Block refuses an actor or a whole domain.
type Block struct {
	ID     string    `bson:"_id"`
	Kind   string    `bson:"kind"` // "actor" or "domain"
	Target string    `bson:"target"`
	By     string    `bson:"by"`
	At     time.Time `bson:"at"`
}

// Report is a Flag received from a fediverse actor.
type Report struct {
	ID      string    `bson:"_id"`
	Actor   string    `bson:"actor"`
	Objects []string  `bson:"objects"`
	Content string    `bson:"content"` // plain text
	At      time.Time `bson:"at"`
	Raw     string    `bson:"raw"`
}

// AuditEntry is one moderation action: who did what to what, when.
type AuditEntry struct {
	ID     string    `bson:"_id"`
	Who    string    `bson:"who"`
	Action string    `bson:"action"`
	Target string    `bson:"target"`
	At     time.Time `bson:"at"`
}

type store struct{ db *mongo.Database }

func (s store) saveReply(ctx context.Context, r *Reply) error {
	_, err := s.db.Collection(collReplies).ReplaceOne(ctx, bson.M{"_id": r.ID}, r, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("conversation: save reply: %w", err)
	}
	return nil
}

func (s store) deleteReply(ctx context.Context, id string) error {
	if _, err := s.db.Collection(collReplies).DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return fmt.Errorf("conversation: delete reply: %w", err)
	}
	return nil
}

func (s store) saveBlock(ctx context.Context, b Block) error {
	_, err := s.db.Collection(collBlocks).ReplaceOne(ctx, bson.M{"_id": b.ID}, b, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("conversation: save block: %w", err)
	}
	return nil
}

func (s store) deleteBlock(ctx context.Context, id string) error {
	if _, err := s.db.Collection(collBlocks).DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return fmt.Errorf("conversation: delete block: %w", err)
	}
	return nil
}

func (s store) insert(ctx context.Context, coll string, doc any) error {
	_, err := s.db.Collection(coll).InsertOne(ctx, doc)
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("conversation: %s: %w", coll, err)
	}
	return nil
}

// loadAll reads a whole collection into out (a pointer to a slice).
func loadAll[T any](ctx context.Context, db *mongo.Database, coll string) ([]T, error) {
	cur, err := db.Collection(coll).Find(ctx, bson.M{})
	if err != nil {
		return nil, fmt.Errorf("conversation: load %s: %w", coll, err)
	}
	var out []T
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("conversation: load %s: %w", coll, err)
	}
	return out, nil
}
