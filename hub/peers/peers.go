// Package peers finds similar commitments in other jurisdictions, for the
// hub's peer-learning panel: commitments that share policy areas come
// first (the Support Unit's tags are the strongest signal of "the same kind
// of reform"), then text similarity (TF-IDF cosine over title and
// description in every language the node published).
//
// An Index is safe for concurrent use. It is fed with Put and Remove as
// commitments are ingested, and answers Similar from an inverted index, so a
// query touches only the commitments that share a term or a policy area,
// not the whole corpus.
package peers

import (
	"math"
	"slices"
	"strings"
	"sync"
)

// Doc is what the index needs to know about one commitment.
type Doc struct {
	// ID is the commitment's IRI.
	ID string
	// Jurisdiction identifies the publishing government (its actor IRI).
	// Peers are always from another jurisdiction: a government knows its
	// own plan.
	Jurisdiction string
	// PolicyAreas are the commitment's policy-area tags. They are compared
	// case-insensitively.
	PolicyAreas []string
	// Texts are the title, summary and description in every language, all
	// of which feed the text vector: a Spanish-only commitment then still
	// meets an English one through the English translation its node
	// published, and two Spanish ones meet directly.
	Texts []string
}

// Match is one similar commitment.
type Match struct {
	ID           string
	Jurisdiction string
	// SharedAreas are the policy areas both commitments carry, as the
	// candidate spells them.
	SharedAreas []string
	// Score is the cosine similarity of the two text vectors, in [0, 1].
	Score float64
}

// MinScore is the text similarity below which a commitment with no shared
// policy area is not offered as a peer: below it, matches are coincidences of
// one or two common words.
const MinScore = 0.08

type entry struct {
	doc   Doc
	areas []string           // normalised, sorted, unique
	tf    map[string]float64 // term -> sublinear term frequency
	vec   map[string]float64 // term -> L2-normalised tf-idf weight (valid when !dirty)
}

// Index holds the commitments to compare.
type Index struct {
	mu      sync.RWMutex
	entries map[string]*entry
	df      map[string]int             // term -> number of docs containing it
	byArea  map[string]map[string]bool // area -> doc ids
	// postings and vec are derived from df, which every Put changes; they are
	// rebuilt lazily, on the first query after a change, because ingest
	// comes in bursts (a backfill) and queries are page views.
	postings map[string][]posting
	dirty    bool
}

type posting struct {
	id string
	w  float64
}

// New returns an empty index.
func New() *Index {
	return &Index{
		entries: map[string]*entry{},
		df:      map[string]int{},
		byArea:  map[string]map[string]bool{},
	}
}

// Len returns the number of commitments held.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.entries)
}

// Put adds or replaces a commitment.
func (x *Index) Put(d Doc) {
	e := &entry{doc: d, areas: normAreas(d.PolicyAreas), tf: map[string]float64{}}
	counts := map[string]int{}
	for _, t := range d.Texts {
		for _, tok := range Tokens(t) {
			counts[tok]++
		}
	}
	for t, n := range counts {
		e.tf[t] = 1 + math.Log(float64(n))
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(d.ID)
	x.entries[d.ID] = e
	for t := range e.tf {
		x.df[t]++
	}
	for _, a := range e.areas {
		if x.byArea[a] == nil {
			x.byArea[a] = map[string]bool{}
		}
		x.byArea[a][d.ID] = true
	}
	x.dirty = true
}

// Remove drops a commitment (deleted, or its node suspended).
func (x *Index) Remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id)
}

func (x *Index) removeLocked(id string) {
	old, ok := x.entries[id]
	if !ok {
		return
	}
	delete(x.entries, id)
	for t := range old.tf {
		if x.df[t]--; x.df[t] <= 0 {
			delete(x.df, t)
		}
	}
	for _, a := range old.areas {
		delete(x.byArea[a], id)
		if len(x.byArea[a]) == 0 {
			delete(x.byArea, a)
		}
	}
	x.dirty = true
}

// rebuild recomputes every vector and the postings from the current
// document frequencies. Caller holds the write lock.
func (x *Index) rebuild() {
	n := float64(len(x.entries))
	idf := make(map[string]float64, len(x.df))
	for t, df := range x.df {
		// Smoothed IDF: a term in every document still weighs a little,
		// so a two-document corpus is not all zeros.
		idf[t] = math.Log((1+n)/(1+float64(df))) + 1
	}
	x.postings = make(map[string][]posting, len(x.df))
	for id, e := range x.entries {
		e.vec = make(map[string]float64, len(e.tf))
		var norm float64
		for t, f := range e.tf {
			w := f * idf[t]
			e.vec[t] = w
			norm += w * w
		}
		norm = math.Sqrt(norm)
		if norm == 0 {
			continue // no terms: matched by policy area only
		}
		for t, w := range e.vec {
			e.vec[t] = w / norm
			x.postings[t] = append(x.postings[t], posting{id: id, w: e.vec[t]})
		}
	}
	x.dirty = false
}

// Similar returns up to limit commitments from other jurisdictions similar
// to the commitment id, best first: more shared policy areas first, then
// higher text similarity, then ID for a stable order. Commitments sharing no
// policy area need a Score of at least MinScore. An unknown id yields nil.
func (x *Index) Similar(id string, limit int) []Match {
	x.mu.RLock()
	if x.dirty {
		x.mu.RUnlock()
		x.mu.Lock()
		if x.dirty {
			x.rebuild()
		}
		x.mu.Unlock()
		x.mu.RLock()
	}
	defer x.mu.RUnlock()
	q, ok := x.entries[id]
	if !ok || limit <= 0 {
		return nil
	}
	scores := map[string]float64{}
	for t, w := range q.vec {
		for _, p := range x.postings[t] {
			scores[p.id] += w * p.w
		}
	}
	shared := map[string][]string{}
	for _, a := range q.areas {
		for other := range x.byArea[a] {
			shared[other] = append(shared[other], a)
		}
	}
	candidates := map[string]bool{}
	for c := range scores {
		candidates[c] = true
	}
	for c := range shared {
		candidates[c] = true
	}
	var out []Match
	for c := range candidates {
		e := x.entries[c]
		if e == nil || c == id || sameJurisdiction(e.doc.Jurisdiction, q.doc.Jurisdiction) {
			continue
		}
		s := min(scores[c], 1) // rounding can push a cosine a hair over 1
		if len(shared[c]) == 0 && s < MinScore {
			continue
		}
		out = append(out, Match{
			ID:           c,
			Jurisdiction: e.doc.Jurisdiction,
			SharedAreas:  spelled(e.doc.PolicyAreas, shared[c]),
			Score:        s,
		})
	}
	slices.SortFunc(out, func(a, b Match) int {
		if d := len(b.SharedAreas) - len(a.SharedAreas); d != 0 {
			return d
		}
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// sameJurisdiction treats an empty jurisdiction as unknown, never as equal:
// a commitment without a publisher must not hide every other such one, but
// must also not be matched with itself (handled by ID).
func sameJurisdiction(a, b string) bool { return a != "" && a == b }

func normArea(a string) string { return strings.ToLower(strings.TrimSpace(a)) }

func normAreas(areas []string) []string {
	var out []string
	for _, a := range areas {
		if n := normArea(a); n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// spelled maps normalised shared areas back to the candidate's own spelling,
// in the candidate's order, for display.
func spelled(areas, shared []string) []string {
	if len(shared) == 0 {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, a := range areas {
		n := normArea(a)
		if slices.Contains(shared, n) && !seen[n] {
			seen[n] = true
			out = append(out, strings.TrimSpace(a))
		}
	}
	return out
}
