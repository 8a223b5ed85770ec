// Package conversation is a node's side of the discussion about its
// commitments (docs/discussion.md): replies received from any fediverse
// actor, their moderation (approve, hide, block an actor or a domain, a
// per-actor rate limit, reports, an audit log), the government's answers,
// its questions to peers, the public threads and the FEP-171b Add/Remove
// announcements of the node's conversation collections.
//
// It knows nothing of HTTP. Everything lives in memory, rebuilt from the
// store at start and kept current on every write; the store is written by
// _id only.
package conversation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ogpnet/ogpnet/federation"
)

// Mode is the node's --replies setting.
type Mode string

// The reply modes: open approves every reply, review holds them for an
// operator, off refuses replies from anyone the node does not trust.
const (
	Open   Mode = "open"
	Review Mode = "review"
	Off    Mode = "off"
)

// ParseMode reads a --replies value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Open, Review, Off:
		return m, nil
	}
	return "", fmt.Errorf("must be open, review or off, not %q", s)
}

// Defaults of the limits (Config).
const (
	DefaultRatePerHour = 30
	DefaultTrustTTL    = 10 * time.Minute
	MaxAnswerBytes     = 5000
)

// Errors the HTTP layer maps to statuses.
var (
	ErrNotFound = errors.New("no such reply")                 // 404
	ErrInvalid  = errors.New("invalid conversation input")    // 422
	ErrPeer     = errors.New("the peer could not be reached") // 502
)

// Thread says where a node object's conversation lives: the object the
// thread hangs from and its conversation collection.
type Thread struct{ Root, Context string }

// Config configures the service.
type Config struct {
	DB   *mongo.Database
	Fed  *federation.Server
	Mode Mode
	// Lookup finds the node object an IRI names (plan, commitment,
	// progress update) and its thread; ok is false for anything else.
	Lookup func(ctx context.Context, iri string) (t Thread, ok bool, err error)
	// Lang is the language of the node's own Notes.
	Lang string
	// RatePerHour is how many replies one actor may send in an hour
	// (default DefaultRatePerHour); more are refused with 429.
	RatePerHour int
	// TrustTTL is how long the hub's members list is cached.
	TrustTTL time.Duration
	Log      *slog.Logger
}

// Service holds a node's conversations.
type Service struct {
	cfg Config
	fed *federation.Server
	st  store
	log *slog.Logger

	// mu guards everything below; writes are serialised by wmu so that a
	// record and its announcement go out in the order they were made.
	wmu      sync.Mutex
	mu       sync.RWMutex
	replies  map[string]*Reply
	children map[string][]string // inReplyTo → reply ids
	blocks   map[string]Block    // by _id
	reports  []Report
	audit    []AuditEntry
	recent   map[string][]time.Time // actor → receipt times in the last hour

	trust trustCache
}

// New loads the node's conversations.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.RatePerHour <= 0 {
		cfg.RatePerHour = DefaultRatePerHour
	}
	if cfg.TrustTTL <= 0 {
		cfg.TrustTTL = DefaultTrustTTL
	}
	if cfg.Mode == "" {
		cfg.Mode = Review
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Lang == "" {
		cfg.Lang = "en"
	}
	s := &Service{cfg: cfg, fed: cfg.Fed, st: store{db: cfg.DB}, log: cfg.Log,
		replies: map[string]*Reply{}, children: map[string][]string{}, blocks: map[string]Block{},
		recent: map[string][]time.Time{}}
	s.trust.ttl = cfg.TrustTTL
	rs, err := loadAll[Reply](ctx, cfg.DB, collReplies)
	if err != nil {
		return nil, err
	}
	hourAgo := s.now().Add(-time.Hour)
	for i := range rs {
		r := rs[i]
		s.index(&r)
		if !r.Local && r.Received.After(hourAgo) {
			s.recent[r.Actor] = append(s.recent[r.Actor], r.Received)
		}
	}
	bs, err := loadAll[Block](ctx, cfg.DB, collBlocks)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		s.blocks[b.ID] = b
	}
	if s.reports, err = loadAll[Report](ctx, cfg.DB, collReports); err != nil {
		return nil, err
	}
	slices.SortFunc(s.reports, func(a, b Report) int { return b.At.Compare(a.At) })
	if s.audit, err = loadAll[AuditEntry](ctx, cfg.DB, collAudit); err != nil {
		return nil, err
	}
	slices.SortFunc(s.audit, func(a, b AuditEntry) int { return cmp.Compare(b.ID, a.ID) })
	return s, nil
}

// Mode is the node's reply setting.
func (s *Service) Mode() Mode { return s.cfg.Mode }

// RatePerHour is the per-actor limit of replies in an hour.
func (s *Service) RatePerHour() int { return s.cfg.RatePerHour }

func (s *Service) now() time.Time {
	if s.fed != nil {
		return s.fed.Now()
	}
	return time.Now()
}

// index puts r in the in-memory maps (mu held or not yet shared).
func (s *Service) index(r *Reply) {
	if old, ok := s.replies[r.ID]; ok && old.InReplyTo != r.InReplyTo {
		s.unlinkChild(old)
	}
	if _, ok := s.replies[r.ID]; !ok || !slices.Contains(s.children[r.InReplyTo], r.ID) {
		s.children[r.InReplyTo] = append(s.children[r.InReplyTo], r.ID)
	}
	s.replies[r.ID] = r
}

func (s *Service) unlinkChild(r *Reply) {
	kids := slices.DeleteFunc(s.children[r.InReplyTo], func(id string) bool { return id == r.ID })
	if len(kids) == 0 {
		delete(s.children, r.InReplyTo)
	} else {
		s.children[r.InReplyTo] = kids
	}
}

func (s *Service) unindex(id string) {
	if r, ok := s.replies[id]; ok {
		s.unlinkChild(r)
		delete(s.replies, id)
	}
}

// Get returns a copy of the reply id.
func (s *Service) Get(id string) (Reply, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.replies[id]
	if !ok {
		return Reply{}, false
	}
	return *r, true
}

// List returns the replies with status st (all when st is ""), newest
// first. The node's own Notes are listed too: they are approved.
func (s *Service) List(st Status) []Reply {
	s.mu.RLock()
	out := make([]Reply, 0, len(s.replies))
	for _, r := range s.replies {
		if st == "" || r.Status == st {
			out = append(out, *r)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Reply) int {
		if c := b.Published.Compare(a.Published); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Unread counts received replies no operator has seen yet.
func (s *Service) Unread() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, r := range s.replies {
		if !r.Local && !r.Read {
			n++
		}
	}
	return n
}

// MarkRead records that an operator has seen every reply received so far.
func (s *Service) MarkRead(ctx context.Context) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.RLock()
	var unread []Reply
	for _, r := range s.replies {
		if !r.Local && !r.Read {
			unread = append(unread, *r)
		}
	}
	s.mu.RUnlock()
	for _, r := range unread {
		r.Read = true
		if err := s.st.saveReply(ctx, &r); err != nil {
			return err
		}
		s.mu.Lock()
		s.index(&r)
		s.mu.Unlock()
	}
	return nil
}

// Node is a reply in a nested thread.
type Node struct {
	Reply
	Children []*Node
}

// Thread returns the approved replies under root, nested by inReplyTo,
// oldest first at every level.
func (s *Service) Thread(root string) []*Node {
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{}
	var walk func(parent string, depth int) []*Node
	walk = func(parent string, depth int) []*Node {
		if depth > 50 {
			return nil // a cycle or an absurd depth: stop
		}
		var out []*Node
		for _, id := range s.children[parent] {
			r := s.replies[id]
			if r == nil || r.Status != Approved || seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, &Node{Reply: *r, Children: walk(id, depth+1)})
		}
		slices.SortFunc(out, func(a, b *Node) int { return a.Published.Compare(b.Published) })
		return out
	}
	return walk(root, 0)
}

// ThreadCount counts the approved replies under root.
func (s *Service) ThreadCount(root string) int {
	n := 0
	var count func([]*Node)
	count = func(ns []*Node) {
		for _, x := range ns {
			n++
			count(x.Children)
		}
	}
	count(s.Thread(root))
	return n
}

// RepliesOf lists the IRIs of the approved direct replies to iri, oldest
// first (the object's "replies" collection).
func (s *Service) RepliesOf(iri string) []string {
	s.mu.RLock()
	var rs []*Reply
	for _, id := range s.children[iri] {
		if r := s.replies[id]; r != nil && r.Status == Approved {
			rs = append(rs, r)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(rs, func(a, b *Reply) int { return a.Published.Compare(b.Published) })
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// ContextItems lists the approved replies of a conversation collection,
// oldest first.
func (s *Service) ContextItems(contextIRI string) []string {
	s.mu.RLock()
	var rs []*Reply
	for _, r := range s.replies {
		if r.Context == contextIRI && r.Status == Approved {
			rs = append(rs, r)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(rs, func(a, b *Reply) int { return a.Published.Compare(b.Published) })
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// Blocks lists the blocks, newest first.
func (s *Service) Blocks() []Block {
	s.mu.RLock()
	out := make([]Block, 0, len(s.blocks))
	for _, b := range s.blocks {
		out = append(out, b)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Block) int { return b.At.Compare(a.At) })
	return out
}

// Reports lists the reports received, newest first.
func (s *Service) Reports() []Report {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.reports)
}

// Audit lists the moderation log, newest first.
func (s *Service) Audit() []AuditEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.audit)
}

// blockedBy returns the block that refuses actor, if any.
func (s *Service) blockedBy(actor string) (Block, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if b, ok := s.blocks["actor "+actor]; ok {
		return b, true
	}
	host := hostOf(actor)
	for h := host; h != ""; {
		if b, ok := s.blocks["domain "+h]; ok {
			return b, true
		}
		// A blocked domain covers its subdomains.
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	return Block{}, false
}

// logAction appends to the audit log (wmu held).
func (s *Service) logAction(ctx context.Context, who, action, target string) error {
	// The _id orders the log: nanoseconds, kept increasing by hand since
	// two actions can share a clock reading.
	n := s.now().UnixNano()
	s.mu.RLock()
	if len(s.audit) > 0 {
		var last int64
		if _, err := fmt.Sscan(s.audit[0].ID, &last); err == nil && n <= last {
			n = last + 1
		}
	}
	s.mu.RUnlock()
	e := AuditEntry{ID: fmt.Sprintf("%020d", n), Who: who, Action: action, Target: target, At: s.now().UTC()}
	if err := s.st.insert(ctx, collAudit, e); err != nil {
		return err
	}
	s.mu.Lock()
	s.audit = append([]AuditEntry{e}, s.audit...)
	s.mu.Unlock()
	return nil
}
