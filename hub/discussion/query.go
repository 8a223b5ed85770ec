package discussion

import (
	"slices"
	"strings"
	"time"
)

// comparePosts orders posts oldest first (IRI breaks ties, so the order
// is stable).
func comparePosts(a, b *Post) int {
	if c := a.Published.Compare(b.Published); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// selectPosts returns copies of the posts match keeps, oldest first.
func (s *Service) selectPosts(match func(*Post) bool) []Post {
	ptrs := s.selectPtrs(match)
	out := make([]Post, len(ptrs))
	for i, p := range ptrs {
		out[i] = *p
	}
	return out
}

// selectPtrs returns the posts match keeps, oldest first, as shared
// pointers: a stored *Post is never modified (put stores a new one), so
// readers may keep them.
func (s *Service) selectPtrs(match func(*Post) bool) []*Post {
	s.mu.RLock()
	var out []*Post
	for _, p := range s.byID {
		if match(p) {
			out = append(out, p)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, comparePosts)
	return out
}

// Thread returns the approved posts of commitment's whole thread, oldest
// first.
func (s *Service) Thread(commitment string) []Post {
	if commitment == "" {
		return nil
	}
	return s.selectPosts(func(p *Post) bool { return p.Status == Approved && p.Commitment == commitment })
}

// WithStatus returns the posts in one moderation state, oldest first.
func (s *Service) WithStatus(st Status) []Post {
	return s.selectPosts(func(p *Post) bool { return p.Status == st })
}

// Recent returns the newest approved posts that keep (nil: all) allows,
// newest first, at most limit (<= 0: all).
func (s *Service) Recent(keep func(Post) bool, limit int) []Post {
	ptrs := s.selectPtrs(func(p *Post) bool { return p.Status == Approved })
	var out []Post
	for i := len(ptrs) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		if keep == nil || keep(*ptrs[i]) {
			out = append(out, *ptrs[i])
		}
	}
	return out
}

// Node is a post with its replies, for nested display.
type Node struct {
	Post
	Replies []Node
}

// Nest arranges posts (oldest first) as trees by inReplyTo: a post whose
// parent is not among them is a root. Depth beyond maxDepth is flattened
// into the deepest level, so a long exchange stays readable on a phone.
func Nest(posts []Post, maxDepth int) []Node {
	index := make(map[string]int, len(posts))
	for i, p := range posts {
		index[p.ID] = i
	}
	children := make(map[int][]int, len(posts))
	var roots []int
	for i, p := range posts {
		if j, ok := index[p.InReplyTo]; ok && p.InReplyTo != p.ID {
			children[j] = append(children[j], i)
		} else {
			roots = append(roots, i)
		}
	}
	seen := make([]bool, len(posts))
	var flatten func(i int, out []Node) []Node
	flatten = func(i int, out []Node) []Node {
		for _, c := range children[i] {
			if seen[c] {
				continue
			}
			seen[c] = true
			out = append(out, Node{Post: posts[c]})
			out = flatten(c, out)
		}
		return out
	}
	var build func(i, depth int) Node
	build = func(i, depth int) Node {
		seen[i] = true
		n := Node{Post: posts[i]}
		if depth >= maxDepth {
			n.Replies = flatten(i, nil)
			return n
		}
		for _, c := range children[i] {
			if !seen[c] {
				n.Replies = append(n.Replies, build(c, depth+1))
			}
		}
		return n
	}
	out := make([]Node, 0, len(roots))
	for _, r := range roots {
		out = append(out, build(r, 1))
	}
	return out
}

// Figures are the learning figures of the network, a pilot or a policy
// area: questions asked about commitments, how many their owners answered,
// and how fast.
type Figures struct {
	Posts     int // approved posts in commitment threads
	Questions int // top-level posts by someone other than the owner
	Answered  int // questions the owner replied to (anywhere below them)
	// MedianFirstAnswer is the median time from a question to the owner's
	// first reply below it (0 when nothing was answered).
	MedianFirstAnswer time.Duration
}

// AnsweredPercent is Answered as a share of Questions, 0..100.
func (f Figures) AnsweredPercent() int {
	if f.Questions == 0 {
		return 0
	}
	return f.Answered * 100 / f.Questions
}

// Discussed is a commitment and how many approved posts its thread has.
type Discussed struct {
	Commitment string
	Posts      int
	Questions  int
	Answered   int
	Last       time.Time
}

// question is one question and when its first answer came.
type question struct {
	post        *Post
	owner       string
	firstAnswer time.Time
}

type figuresCache struct {
	version   uint64
	model     uint64
	questions []question
	threads   map[string]*Discussed
	byPilot   map[string]Figures // FiguresByPilot, computed on first use
}

// analyse classifies every approved post once per change of the posts or
// the read model: questions, their first answers, thread sizes.
func (s *Service) analyse() ([]question, map[string]*Discussed) {
	s.mu.RLock()
	c := s.figCache
	ver := s.version
	s.mu.RUnlock()
	mv := s.cfg.Model.Version()
	if c.threads != nil && c.version == ver && c.model == mv {
		return c.questions, c.threads
	}
	posts := s.selectPtrs(func(p *Post) bool { return p.Status == Approved && p.Commitment != "" })
	byID := make(map[string]*Post, len(posts))
	for _, p := range posts {
		byID[p.ID] = p
	}
	owners := map[string]string{}
	ownerOf := func(commitment string) string {
		o, ok := owners[commitment]
		if !ok {
			o = s.owner(commitment)
			owners[commitment] = o
		}
		return o
	}
	threads := map[string]*Discussed{}
	qIndex := map[string]int{}
	var qs []question
	for _, p := range posts {
		t := threads[p.Commitment]
		if t == nil {
			t = &Discussed{Commitment: p.Commitment}
			threads[p.Commitment] = t
		}
		t.Posts++
		if p.Published.After(t.Last) {
			t.Last = p.Published
		}
		owner := ownerOf(p.Commitment)
		_, parentIsPost := byID[p.InReplyTo]
		if !parentIsPost && p.Actor != owner {
			qIndex[p.ID] = len(qs)
			qs = append(qs, question{post: p, owner: owner})
			t.Questions++
		}
	}
	// An owner's post answers the question at the top of its branch.
	for _, p := range posts {
		if p.Actor != ownerOf(p.Commitment) {
			continue
		}
		cur, hops := p.InReplyTo, 0
		for hops < 64 {
			if i, ok := qIndex[cur]; ok {
				if q := &qs[i]; q.firstAnswer.IsZero() || p.Published.Before(q.firstAnswer) {
					q.firstAnswer = p.Published
				}
				break
			}
			parent, ok := byID[cur]
			if !ok {
				break
			}
			cur, hops = parent.InReplyTo, hops+1
		}
	}
	for _, q := range qs {
		if !q.firstAnswer.IsZero() {
			threads[q.post.Commitment].Answered++
		}
	}
	s.mu.Lock()
	s.figCache = figuresCache{version: ver, model: mv, questions: qs, threads: threads}
	s.mu.Unlock()
	return qs, threads
}

// FiguresOf returns the learning figures of the commitments keep allows
// (nil: every commitment).
func (s *Service) FiguresOf(keep func(commitment string) bool) Figures {
	qs, threads := s.analyse()
	var f Figures
	for c, t := range threads {
		if keep == nil || keep(c) {
			f.Posts += t.Posts
		}
	}
	var waits []time.Duration
	for _, q := range qs {
		if keep != nil && !keep(q.post.Commitment) {
			continue
		}
		f.Questions++
		if !q.firstAnswer.IsZero() {
			f.Answered++
			w := q.firstAnswer.Sub(q.post.Published)
			if w < 0 {
				w = 0
			}
			waits = append(waits, w)
		}
	}
	f.MedianFirstAnswer = median(waits)
	return f
}

// FiguresByPilot returns the learning figures of every pilot with
// discussion, keyed by the pilot's actor (questions received on its
// commitments and how it answered them).
func (s *Service) FiguresByPilot() map[string]Figures {
	qs, threads := s.analyse()
	out := map[string]Figures{}
	waits := map[string][]time.Duration{}
	owner := map[string]string{}
	for c, t := range threads {
		o := s.owner(c)
		owner[c] = o
		f := out[o]
		f.Posts += t.Posts
		out[o] = f
	}
	for _, q := range qs {
		o := owner[q.post.Commitment]
		f := out[o]
		f.Questions++
		if !q.firstAnswer.IsZero() {
			f.Answered++
			waits[o] = append(waits[o], max(0, q.firstAnswer.Sub(q.post.Published)))
		}
		out[o] = f
	}
	for o, w := range waits {
		f := out[o]
		f.MedianFirstAnswer = median(w)
		out[o] = f
	}
	delete(out, "")
	return out
}

// FiguresOfPilot returns one pilot's figures (FiguresByPilot, computed
// once per change and kept): cheap enough to ask per row of a table.
func (s *Service) FiguresOfPilot(actor string) (Figures, bool) {
	s.analyse()
	s.mu.RLock()
	by := s.figCache.byPilot
	s.mu.RUnlock()
	if by == nil {
		by = s.FiguresByPilot()
		s.mu.Lock()
		s.figCache.byPilot = by
		s.mu.Unlock()
	}
	f, ok := by[actor]
	return f, ok
}

// MostDiscussed returns the commitments with the most approved posts
// among those keep allows (nil: all), most first, at most limit.
func (s *Service) MostDiscussed(keep func(commitment string) bool, limit int) []Discussed {
	_, threads := s.analyse()
	var out []Discussed
	for c, t := range threads {
		if keep == nil || keep(c) {
			out = append(out, *t)
		}
	}
	slices.SortFunc(out, func(a, b Discussed) int {
		if a.Posts != b.Posts {
			return b.Posts - a.Posts
		}
		if c := b.Last.Compare(a.Last); c != 0 {
			return c
		}
		return strings.Compare(a.Commitment, b.Commitment)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}
