package search

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Limits of a query.
const (
	// MaxQueryBytes bounds what a reader may type.
	MaxQueryBytes = 500
	// MaxWords bounds the words (and Korean bigrams) a query requires.
	MaxWords = 16
	// DefaultLimit and MaxLimit bound a page of hits.
	DefaultLimit = 20
	MaxLimit     = 100
)

// ErrQuery is wrapped by every refusal of a query (too long, too many
// words, a bad page); its message says which limit.
var ErrQuery = errors.New("search: bad query")

// BM25 parameters: the usual ones.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// Query is a search.
type Query struct {
	Text   string
	Pilots []string // pilot actor IRIs, any of; none: all
	Area   string   // policy area (case- and accent-insensitive); "": all
	Offset int      // hits to skip (paging)
	Limit  int      // hits per page: 1..MaxLimit, 0 = DefaultLimit
}

// Hit is one matching commitment.
type Hit struct {
	ID    string
	Score float64
	// Terms are the index terms of the query that this commitment
	// contains: Highlight marks the words that give them.
	Terms []string
}

// Result is a page of hits, best first.
type Result struct {
	Total int   // matches across all pages
	Hits  []Hit // this page
	// Words are the query's words as searched (folded, function words
	// dropped); empty when nothing in the query can be searched.
	Words []string
}

// Search ranks the documents that contain every word of q.Text (in any
// form its stemmed languages give it) with BM25, best first, then by ID.
func (x *Index) Search(q Query) (Result, error) {
	if len(q.Text) > MaxQueryBytes {
		return Result{}, fmt.Errorf("%w: the query is %d bytes long, the limit is %d", ErrQuery, len(q.Text), MaxQueryBytes)
	}
	if q.Offset < 0 {
		return Result{}, fmt.Errorf("%w: the offset must not be negative", ErrQuery)
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return Result{}, fmt.Errorf("%w: the limit must be between 1 and %d", ErrQuery, MaxLimit)
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	clauses := parseQuery(q.Text)
	if len(clauses) > MaxWords {
		return Result{}, fmt.Errorf("%w: the query has %d words, the limit is %d", ErrQuery, len(clauses), MaxWords)
	}
	res := Result{Hits: []Hit{}}
	for _, c := range clauses {
		res.Words = append(res.Words, c.word)
	}
	if len(clauses) == 0 {
		return res, nil
	}

	x.mu.RLock()
	defer x.mu.RUnlock()
	pilotOK := x.pilotFilter(q.Pilots)
	area, areaOK := -1, true
	if q.Area != "" {
		id, ok := x.areas[normArea(q.Area)]
		area, areaOK = int(id), ok
	}
	if !areaOK || pilotOK == nil {
		return res, nil
	}
	avg := x.totalLen / float64(max(1, x.live))
	// Per-document accumulators indexed by document number: no map, and a
	// document out after a word it lacks costs nothing more.
	score := make([]float64, len(x.docs))
	matched := make([]uint8, len(x.docs)) // clauses satisfied so far
	best := make([]float64, len(x.docs))  // this clause's best form
	var touched, next []uint32
	for ci, c := range clauses {
		next = next[:0]
		for _, id := range x.clauseTerms(c) {
			ps := x.postings[id]
			w := idf(x.live, len(ps))
			for _, p := range ps {
				if int(matched[p.doc]) != ci {
					continue // missed an earlier word: out
				}
				e := &x.docs[p.doc]
				tf := float64(p.tf) / 2
				s := w * tf * (bm25K1 + 1) / (tf + bm25K1*(1-bm25B+bm25B*float64(e.length)/avg))
				if best[p.doc] == 0 {
					next = append(next, p.doc)
				}
				best[p.doc] = max(best[p.doc], s, 1e-12)
			}
		}
		for _, d := range next {
			score[d] += best[d]
			best[d] = 0
			matched[d] = uint8(ci + 1)
		}
		touched = append(touched[:0], next...)
	}
	var hits []Hit
	var docs []uint32
	for _, d := range touched {
		e := &x.docs[d]
		if !pilotOK(e.pilot) || area >= 0 && !slices.Contains(e.areas, uint16(area)) {
			continue
		}
		hits = append(hits, Hit{ID: e.id, Score: score[d]})
		docs = append(docs, d)
	}
	res.Total = len(hits)
	order := make([]int, len(hits))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		return cmp.Or(cmp.Compare(hits[j].Score, hits[i].Score), strings.Compare(hits[i].ID, hits[j].ID))
	})
	for _, i := range order[min(q.Offset, len(order)):min(q.Offset+q.Limit, len(order))] {
		h := hits[i]
		e := &x.docs[docs[i]]
		for _, c := range clauses {
			for _, id := range x.clauseTerms(c) {
				if _, ok := slices.BinarySearchFunc(e.terms, id, func(dt docTerm, id uint32) int { return cmp.Compare(dt.term, id) }); ok {
					h.Terms = append(h.Terms, x.terms[id])
				}
			}
		}
		slices.Sort(h.Terms)
		h.Terms = slices.Compact(h.Terms)
		res.Hits = append(res.Hits, h)
	}
	return res, nil
}

// clauseTerms are the ids of a clause's terms that the index holds.
func (x *Index) clauseTerms(c clause) []uint32 {
	var ids []uint32
	for _, t := range c.terms {
		if id, ok := x.dict[t]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// pilotFilter returns a test of pilot ids for the pilots named; nil when
// none of them is known (nothing can match).
func (x *Index) pilotFilter(pilots []string) func(uint32) bool {
	if len(pilots) == 0 {
		return func(uint32) bool { return true }
	}
	var ids []uint32
	for _, p := range pilots {
		if id, ok := x.pilots[p]; ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return func(id uint32) bool { return slices.Contains(ids, id) }
}
