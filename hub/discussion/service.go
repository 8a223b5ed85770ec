package discussion

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// Collections of the hub's discussion.
const (
	PostsCollection  = "hub_discussion"        // _id: post IRI
	BlocksCollection = "hub_discussion_blocks" // _id: "actor <IRI>" or "domain <host>"
	AuditCollection  = "hub_discussion_audit"  // _id: time-ordered id; append only
	// MetaCollection holds one document, _id "changed", whose token every
	// write renews: replicas compare it (an _id lookup) to know when to
	// reload what another replica wrote.
	MetaCollection = "hub_discussion_meta"
)

// auditInMemory is how many of the latest audit entries the staff page
// shows (all are kept in the store).
const auditInMemory = 500

// Members is what discussion needs of membership: whether an actor is an
// active member node (*members.Service).
type Members interface {
	Accepting(actor string) bool
}

// Announcer boosts an approved post to the Group's followers, once
// (*reshare.Resharer).
type Announcer interface {
	Announce(ctx context.Context, objectID string) error
}

// GroupPosts is what the hub does with posts addressed to its Group by
// anyone who is not a member.
type GroupPosts string

// Policies for posts addressed to the Group.
const (
	GroupReview GroupPosts = "review" // held for staff (the default)
	GroupOpen   GroupPosts = "open"   // approved (and announced) at once
	GroupOff    GroupPosts = "off"    // refused (403)
)

// ParseGroupPosts reads a GroupPosts policy ("" is review).
func ParseGroupPosts(s string) (GroupPosts, error) {
	switch g := GroupPosts(s); g {
	case "":
		return GroupReview, nil
	case GroupReview, GroupOpen, GroupOff:
		return g, nil
	}
	return "", errors.New("must be review, open or off")
}

// Config are a Service's dependencies.
type Config struct {
	DB      *mongo.Database
	Model   *readmodel.Model
	Members Members
	// Fetch gets a document from its origin with a signed GET
	// (federation's fetcher: SSRF-guarded, id must equal the URL).
	Fetch func(ctx context.Context, iri string) ([]byte, error)
	// Actor reads a remote actor, for its handle (federation's cache).
	Actor func(ctx context.Context, iri string) (federation.RemoteActor, error)
	// Announce boosts approved posts addressed to the Group (nil: none).
	Announce Announcer
	// Group is the hub's Group actor IRI.
	Group string
	// GroupPosts is the policy for non-members' posts addressed to the
	// Group ("": review).
	GroupPosts GroupPosts
	Log        *slog.Logger
	Now        func() time.Time
}

// Service keeps the hub's discussion.
type Service struct {
	cfg    Config
	posts  *mongo.Collection
	blocks *mongo.Collection
	audit  *mongo.Collection
	meta   *mongo.Collection

	// loaded is the change token of the state in memory ("" before the
	// first write anywhere).
	loaded   string
	reloadMu sync.Mutex

	mu       sync.RWMutex
	byID     map[string]*Post
	blocked  map[string]Block // key: "actor <IRI>" / "domain <host>"
	log      []AuditEntry     // newest last, at most auditInMemory
	version  uint64           // bumped on every change (figure caches)
	figCache figuresCache
}

// Block is one blocked actor or domain.
type Block struct {
	Key   string    `bson:"_id"`
	Kind  string    `bson:"kind"` // "actor" or "domain"
	Value string    `bson:"value"`
	By    string    `bson:"by"`
	At    time.Time `bson:"at"`
}

// AuditEntry is one moderation action: who did what to which post, actor
// or domain, and when.
type AuditEntry struct {
	ID     string    `bson:"_id"`
	At     time.Time `bson:"at"`
	By     string    `bson:"by"`     // staff subject, or the owner/author actor
	Action string    `bson:"action"` // approve, hide, block-actor, block-domain, owner-add, owner-remove, author-delete
	Target string    `bson:"target"`
}

// Open loads the discussion (one pass over each collection) and returns a
// Service that keeps it current.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Model == nil || cfg.Members == nil {
		return nil, errors.New("discussion: DB, Model and Members are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var err error
	if cfg.GroupPosts, err = ParseGroupPosts(string(cfg.GroupPosts)); err != nil {
		return nil, fmt.Errorf("discussion: GroupPosts %q: %w", cfg.GroupPosts, err)
	}
	s := &Service{cfg: cfg,
		posts: cfg.DB.Collection(PostsCollection), blocks: cfg.DB.Collection(BlocksCollection), audit: cfg.DB.Collection(AuditCollection),
		meta: cfg.DB.Collection(MetaCollection)}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// changeMarker is the meta document.
type changeMarker struct {
	ID    string `bson:"_id"`
	Token string `bson:"token"`
}

// token reads the current change token ("" when nothing was written yet).
func (s *Service) token(ctx context.Context) (string, error) {
	var m changeMarker
	err := s.meta.FindOne(ctx, bson.M{"_id": "changed"}).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	return m.Token, err
}

// changed renews the change token after a write, so that every replica
// (this one too) reloads at its next Refresh. The token is not taken as
// loaded here: another replica's write may have landed just before it.
func (s *Service) changed(ctx context.Context) {
	tok := federation.NewID(s.cfg.Now())
	if _, err := s.meta.ReplaceOne(ctx, bson.M{"_id": "changed"}, changeMarker{ID: "changed", Token: tok}, options.Replace().SetUpsert(true)); err != nil {
		s.cfg.Log.WarnContext(ctx, "discussion: change marker", "err", err)
	}
}

// Refresh reloads the discussion when another replica (or this one) wrote
// since the last load: one _id lookup when nothing changed. The hub runs
// it beside the objects tailer, every second or so.
func (s *Service) Refresh(ctx context.Context) error {
	tok, err := s.token(ctx)
	if err != nil {
		return fmt.Errorf("discussion: change marker: %w", err)
	}
	s.reloadMu.Lock()
	same := tok == s.loaded
	s.reloadMu.Unlock()
	if same {
		return nil
	}
	return s.reload(ctx)
}

// reload reads posts, blocks and the audit log (one pass each) and swaps
// them in; the token is read first, so a write during the reload makes
// the next Refresh reload again.
func (s *Service) reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	tok, err := s.token(ctx)
	if err != nil {
		return fmt.Errorf("discussion: change marker: %w", err)
	}
	byID, blocked := map[string]*Post{}, map[string]Block{}
	var posts []Post
	if err := loadAll(ctx, s.posts, &posts); err != nil {
		return fmt.Errorf("discussion: load posts: %w", err)
	}
	for i := range posts {
		p := posts[i]
		p.Content = string(readmodel.SanitizeHTML(p.Content)) // the policy may have tightened since
		byID[p.ID] = &p
	}
	var blocks []Block
	if err := loadAll(ctx, s.blocks, &blocks); err != nil {
		return fmt.Errorf("discussion: load blocks: %w", err)
	}
	for _, b := range blocks {
		blocked[b.Key] = b
	}
	var audit []AuditEntry
	if err := loadAll(ctx, s.audit, &audit); err != nil {
		return fmt.Errorf("discussion: load audit log: %w", err)
	}
	slices.SortFunc(audit, func(a, b AuditEntry) int { return strings.Compare(a.ID, b.ID) })
	if len(audit) > auditInMemory {
		audit = audit[len(audit)-auditInMemory:]
	}
	s.mu.Lock()
	s.byID, s.blocked, s.log = byID, blocked, audit
	s.version++
	s.mu.Unlock()
	s.loaded = tok
	return nil
}

func loadAll[T any](ctx context.Context, c *mongo.Collection, out *[]T) error {
	cur, err := c.Find(ctx, bson.M{})
	if err != nil {
		return err
	}
	return cur.All(ctx, out)
}

// Knows reports whether iri is a post the hub keeps (any status).
func (s *Service) Knows(iri string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byID[iri] != nil
}

// Get returns the post iri (any status).
func (s *Service) Get(iri string) (Post, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.byID[iri]
	if p == nil {
		return Post{}, false
	}
	return *p, true
}

// IsBlocked reports whether actor, or its domain, is blocked.
func (s *Service) IsBlocked(actor string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.isBlockedLocked(actor)
}

func (s *Service) isBlockedLocked(actor string) bool {
	if _, ok := s.blocked["actor "+actor]; ok {
		return true
	}
	_, ok := s.blocked["domain "+hostOf(actor)]
	return ok
}

// put writes p to the store, then to memory.
func (s *Service) put(ctx context.Context, p Post) error {
	if _, err := s.posts.ReplaceOne(ctx, bson.M{"_id": p.ID}, p, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("discussion: store %s: %w", p.ID, err)
	}
	s.mu.Lock()
	s.byID[p.ID] = &p
	s.version++
	s.mu.Unlock()
	s.changed(ctx)
	return nil
}

// drop removes posts from the store, then from memory.
func (s *Service) drop(ctx context.Context, ids ...string) error {
	for _, id := range ids {
		if _, err := s.posts.DeleteOne(ctx, bson.M{"_id": id}); err != nil {
			return fmt.Errorf("discussion: remove %s: %w", id, err)
		}
		s.mu.Lock()
		delete(s.byID, id)
		s.version++
		s.mu.Unlock()
	}
	if len(ids) > 0 {
		s.changed(ctx)
	}
	return nil
}

// record appends an audit entry (store first; the in-memory log is what
// the staff page shows).
func (s *Service) record(ctx context.Context, by, action, target string) error {
	e := AuditEntry{ID: federation.NewID(s.cfg.Now()), At: s.cfg.Now().UTC(), By: by, Action: action, Target: target}
	if _, err := s.audit.InsertOne(ctx, e); err != nil && !store.IsDuplicate(err) {
		return fmt.Errorf("discussion: audit log: %w", err)
	}
	s.mu.Lock()
	s.log = append(s.log, e)
	if len(s.log) > auditInMemory {
		s.log = slices.Clone(s.log[len(s.log)-auditInMemory:])
	}
	s.mu.Unlock()
	s.changed(ctx)
	return nil
}

// owner returns the actor of the member node that published commitment.
func (s *Service) owner(commitment string) string {
	c, ok := s.cfg.Model.Commitment(commitment)
	if !ok {
		return ""
	}
	return c.Pilot
}

// handle reads "@user@host" of actor ("" when it cannot be read).
func (s *Service) handle(ctx context.Context, actor string) string {
	if s.cfg.Actor == nil {
		return ""
	}
	a, err := s.cfg.Actor(ctx, actor)
	if err != nil || a.PreferredUsername == "" {
		return ""
	}
	return "@" + a.PreferredUsername + "@" + hostOf(actor)
}
