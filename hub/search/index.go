// Package search is the hub's full-text index of commitments: every text
// field (title, lead, description, problem, objective, milestones, progress
// reports) in every language the node published, folded (case, accents),
// stemmed with Snowball for English, Spanish, French and Portuguese, Korean
// and other scripts written without spaces as character bigrams; ranked
// with BM25, filtered by pilot and policy area, highlighted safely. The
// same analysis gives the text vectors hub/peers compares (Related).
//
// The index is in memory and compact: terms are small integer ids, a
// posting is a document number and two small counts. Documents are added,
// replaced and removed one at a time (Put, Remove); ModelIndex keeps one in
// step with the read model. An Index is safe for concurrent use.
package search

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"
)

// Doc is one commitment as the index sees it.
type Doc struct {
	ID     string // the commitment's IRI
	Pilot  string // the publishing pilot's actor IRI
	Areas  []string
	Fields []Field
}

// posting is one document's frequency of one term: tf weighted by field
// (in halves, see weight) for BM25, core the plain count in the fields the
// peers compare.
type posting struct {
	doc  uint32
	tf   uint16
	core uint16
}

// docTerm is a term of a document with its counts (the posting's copy, so
// a document's vector and its removal need no search through postings).
type docTerm struct {
	term uint32
	tf   uint16
	core uint16
}

type docEntry struct {
	id     string
	pilot  uint32
	areas  []uint16 // sorted
	langs  []uint8  // languages of its core text
	terms  []docTerm
	length float32 // tokens per language version, for BM25
	norm   float32 // length of the peers' vector; 0: to compute
	live   bool
}

// Index is the inverted index.
type Index struct {
	mu sync.RWMutex

	dict      map[string]uint32 // term -> id
	terms     []string          // id -> term ("" when free)
	surface   []string          // id -> a word as written that gave the term
	termLang  []uint8           // id -> language of the text that first gave it
	coreDF    []uint32          // id -> live documents with it in their core fields
	postings  [][]posting       // id -> postings
	freeTerms []uint32

	docs     []docEntry
	byID     map[string]uint32
	freeDocs []uint32
	live     int
	totalLen float64

	pilots   map[string]uint32
	pilotIRI []string
	areas    map[string]uint16 // folded area -> id
	areaName []string          // id -> first spelling seen
	areaDF   []int             // id -> live documents carrying it

	langs    map[string]uint8 // base language -> id (the last id is shared by the rest)
	langDocs []int            // id -> live documents with core text in it

	// normsValid is false after any change: every vector's IDF weights
	// moved, so norms are recomputed on the next Related.
	normsValid bool
}

// New returns an empty index.
func New() *Index {
	return &Index{dict: map[string]uint32{}, byID: map[string]uint32{}, pilots: map[string]uint32{}, areas: map[string]uint16{}, langs: map[string]uint8{}}
}

// Len is the number of documents held.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.live
}

// Terms is the size of the vocabulary.
func (x *Index) Terms() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.dict)
}

func sat16(n int) uint16 { return uint16(min(n, math.MaxUint16)) }

// Put adds or replaces a document.
func (x *Index) Put(d Doc) {
	type acc struct {
		tf, core int
		surface  string
		lang     string
	}
	counts := map[string]*acc{}
	tokens := 0
	langs := map[string]bool{}
	for _, f := range d.Fields {
		w := weight[f.Kind]
		toks := Analyze(f.Text, f.Lang)
		if len(toks) > 0 && w.core {
			langs[baseLang(f.Lang)] = true
		}
		for _, t := range toks {
			a := counts[t.Term]
			if a == nil {
				a = &acc{surface: strings.ToLower(f.Text[t.Start:t.End]), lang: baseLang(f.Lang)}
				counts[t.Term] = a
			}
			a.tf += w.halves
			if w.core && !t.Alt {
				a.core++
			}
			tokens++
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(d.ID)
	var n uint32
	if k := len(x.freeDocs); k > 0 {
		n, x.freeDocs = x.freeDocs[k-1], x.freeDocs[:k-1]
	} else {
		n = uint32(len(x.docs))
		x.docs = append(x.docs, docEntry{})
	}
	e := docEntry{id: d.ID, pilot: x.pilotID(d.Pilot), live: true, terms: make([]docTerm, 0, len(counts))}
	e.length = float32(tokens) / float32(max(1, len(langs)))
	for _, a := range d.Areas {
		if id, ok := x.areaID(a); ok && !slices.Contains(e.areas, id) {
			e.areas = append(e.areas, id)
			x.areaDF[id]++
		}
	}
	slices.Sort(e.areas)
	for l := range langs {
		id := x.langID(l)
		if !slices.Contains(e.langs, id) {
			e.langs = append(e.langs, id)
			x.langDocs[id]++
		}
	}
	for term, a := range counts {
		id := x.termID(term, a.surface, x.langID(a.lang))
		dt := docTerm{term: id, tf: sat16(a.tf), core: sat16(a.core)}
		e.terms = append(e.terms, dt)
		x.postings[id] = append(x.postings[id], posting{doc: n, tf: dt.tf, core: dt.core})
		if dt.core > 0 {
			x.coreDF[id]++
		}
	}
	slices.SortFunc(e.terms, func(a, b docTerm) int { return cmp.Compare(a.term, b.term) })
	x.docs[n] = e
	x.byID[d.ID] = n
	x.live++
	x.totalLen += float64(e.length)
	x.normsValid = false
}

// Remove drops a document; an unknown id is ignored.
func (x *Index) Remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id)
}

func (x *Index) removeLocked(id string) {
	n, ok := x.byID[id]
	if !ok {
		return
	}
	e := &x.docs[n]
	for _, dt := range e.terms {
		if dt.core > 0 {
			x.coreDF[dt.term]--
		}
		ps := x.postings[dt.term]
		if i := slices.IndexFunc(ps, func(p posting) bool { return p.doc == n }); i >= 0 {
			ps[i] = ps[len(ps)-1]
			ps = ps[:len(ps)-1]
		}
		x.postings[dt.term] = ps
		if len(ps) == 0 {
			delete(x.dict, x.terms[dt.term])
			x.terms[dt.term], x.surface[dt.term], x.postings[dt.term] = "", "", nil
			x.freeTerms = append(x.freeTerms, dt.term)
		}
	}
	for _, a := range e.areas {
		x.areaDF[a]--
	}
	for _, l := range e.langs {
		x.langDocs[l]--
	}
	x.totalLen -= float64(e.length)
	x.live--
	*e = docEntry{}
	delete(x.byID, id)
	x.freeDocs = append(x.freeDocs, n)
	x.normsValid = false
}

func (x *Index) termID(term, surface string, lang uint8) uint32 {
	if id, ok := x.dict[term]; ok {
		return id
	}
	// Terms and surfaces are often substrings of a field's text: cloned,
	// so the index does not keep whole texts alive.
	term, surface = strings.Clone(term), strings.Clone(surface)
	var id uint32
	if k := len(x.freeTerms); k > 0 {
		id, x.freeTerms = x.freeTerms[k-1], x.freeTerms[:k-1]
		x.terms[id], x.surface[id], x.termLang[id] = term, surface, lang
	} else {
		id = uint32(len(x.terms))
		x.terms = append(x.terms, term)
		x.surface = append(x.surface, surface)
		x.termLang = append(x.termLang, lang)
		x.coreDF = append(x.coreDF, 0)
		x.postings = append(x.postings, nil)
	}
	x.dict[term] = id
	return id
}

func (x *Index) pilotID(actor string) uint32 {
	if id, ok := x.pilots[actor]; ok {
		return id
	}
	id := uint32(len(x.pilotIRI))
	x.pilots[actor] = id
	x.pilotIRI = append(x.pilotIRI, actor)
	return id
}

// langID numbers a base language; past 255 languages the rest share one.
func (x *Index) langID(l string) uint8 {
	if id, ok := x.langs[l]; ok {
		return id
	}
	if len(x.langDocs) == math.MaxUint8 {
		return math.MaxUint8 - 1
	}
	id := uint8(len(x.langDocs))
	x.langs[l] = id
	x.langDocs = append(x.langDocs, 0)
	return id
}

// normArea folds a policy area for comparison: case and accents.
func normArea(a string) string { return foldWord(strings.TrimSpace(a)) }

func (x *Index) areaID(a string) (uint16, bool) {
	k := normArea(a)
	if k == "" {
		return 0, false
	}
	if id, ok := x.areas[k]; ok {
		return id, true
	}
	if len(x.areaName) >= math.MaxUint16 {
		return 0, false
	}
	id := uint16(len(x.areaName))
	x.areas[k] = id
	x.areaName = append(x.areaName, strings.TrimSpace(a))
	x.areaDF = append(x.areaDF, 0)
	return id, true
}
