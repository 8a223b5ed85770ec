package search

import (
	"cmp"
	"math"
	"slices"
)

// Related is another document that shares words or policy areas with the
// one asked about.
type Related struct {
	ID    string
	Pilot string
	// Text is the cosine of the two documents' TF-IDF vectors over their
	// own words (title, lead, description, problem, objective, milestones,
	// in every language), in [0, 1].
	Text float64
	// SharedAreas are the policy areas both carry.
	SharedAreas []string
	// Areas is the IDF-weighted Jaccard similarity of the two documents'
	// policy areas, in [0, 1]: sharing a rare area weighs more than
	// sharing one half the commitments carry.
	Areas float64
}

// MaxWordsWhy is how many matched words Words gives.
const MaxWordsWhy = 5

// minWhyIDF is the IDF of a term in about one document in three
// (ln(1 + 2.5/1.5) ≈ 0.98): commoner words are not named as reasons.
const minWhyIDF = 0.98

// idf is the BM25 inverse document frequency: near 0 for a term in every
// document, so boilerplate ("based on the published commitment") weighs
// nothing in a comparison.
func idf(n, df int) float64 {
	return math.Log(1 + (float64(max(n, df))-float64(df)+0.5)/(float64(df)+0.5))
}

// termIDF weighs a term against the documents that have text in its
// language, not all of them: a word every Spanish commitment uses is
// boilerplate even when only a third of the commitments are in Spanish.
func (x *Index) termIDF(term uint32) float64 {
	df := int(x.coreDF[term])
	if df == 0 {
		return 0
	}
	return idf(x.langDocs[x.termLang[term]], df)
}

// termWeights returns the IDF of every term over the core fields.
func (x *Index) termWeights() []float64 {
	w := make([]float64, len(x.terms))
	for id := range x.terms {
		w[id] = x.termIDF(uint32(id))
	}
	return w
}

func coreWeight(core uint16, idf float64) float64 {
	if core == 0 {
		return 0
	}
	return (1 + math.Log(float64(core))) * idf
}

// computeNorms sets every document's vector length; callers hold the
// write lock.
func (x *Index) computeNorms(idfs []float64) {
	for i := range x.docs {
		e := &x.docs[i]
		if !e.live {
			continue
		}
		var s float64
		for _, dt := range e.terms {
			w := coreWeight(dt.core, idfs[dt.term])
			s += w * w
		}
		e.norm = float32(math.Sqrt(s))
	}
	x.normsValid = true
}

// ensureNorms computes the vectors' lengths when a change made them
// stale, and returns with the read lock held.
func (x *Index) ensureNorms() {
	x.mu.RLock()
	if !x.normsValid {
		x.mu.RUnlock()
		x.mu.Lock()
		if !x.normsValid {
			x.computeNorms(x.termWeights())
		}
		x.mu.Unlock()
		x.mu.RLock()
	}
}

// Words names the shared words that weigh most in the text similarity of
// documents a and b, as written (one spelling per stem), at most
// MaxWordsWhy; none when either is unknown.
func (x *Index) Words(a, b string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	an, ok1 := x.byID[a]
	bn, ok2 := x.byID[b]
	if !ok1 || !ok2 {
		return nil
	}
	return x.topWords(&x.docs[an], &x.docs[bn])
}

// Related lists every other document that shares a weighted word or a
// policy area with the document id, by Text then ID; nil for an unknown id.
func (x *Index) Related(id string) []Related {
	x.ensureNorms()
	defer x.mu.RUnlock()
	qn, ok := x.byID[id]
	if !ok {
		return nil
	}
	q := &x.docs[qn]
	dots := make([]float64, len(x.docs))
	for _, dt := range q.terms {
		if dt.core == 0 {
			continue
		}
		w := x.termIDF(dt.term)
		wq := coreWeight(dt.core, w)
		if wq == 0 {
			continue
		}
		for _, p := range x.postings[dt.term] {
			if p.doc != qn && p.core > 0 {
				dots[p.doc] += wq * coreWeight(p.core, w)
			}
		}
	}
	areaIDF := func(a uint16) float64 { return idf(x.live, x.areaDF[a]) }
	var out []Related
	for n := range x.docs {
		d := &x.docs[n]
		if !d.live || uint32(n) == qn {
			continue
		}
		dot := dots[n]
		hasText := dot > 0
		shared := intersect(q.areas, d.areas)
		if !hasText && len(shared) == 0 {
			continue
		}
		r := Related{ID: d.id, Pilot: x.pilotIRI[d.pilot]}
		if hasText && q.norm > 0 && d.norm > 0 {
			r.Text = min(dot/(float64(q.norm)*float64(d.norm)), 1)
		}
		var inter, union float64
		for _, a := range shared {
			r.SharedAreas = append(r.SharedAreas, x.areaName[a])
			inter += areaIDF(a)
		}
		for _, a := range unionOf(q.areas, d.areas) {
			union += areaIDF(a)
		}
		if union > 0 {
			r.Areas = inter / union
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Related) int {
		return cmp.Or(cmp.Compare(b.Text, a.Text), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// topWords names the shared terms that add most to the two documents'
// dot product; both term lists are sorted by id, so one merge finds them.
func (x *Index) topWords(q, d *docEntry) []string {
	type tw struct {
		term uint32
		w    float64
	}
	var ws []tw
	i, j := 0, 0
	for i < len(q.terms) && j < len(d.terms) {
		a, b := q.terms[i], d.terms[j]
		switch {
		case a.term < b.term:
			i++
		case a.term > b.term:
			j++
		default:
			// Only words rarer than one document in three in their
			// language explain a match; the rest weigh little anyway.
			idf := x.termIDF(a.term)
			if w := coreWeight(a.core, idf) * coreWeight(b.core, idf); w > 0 && idf >= minWhyIDF {
				ws = append(ws, tw{a.term, w})
			}
			i++
			j++
		}
	}
	slices.SortFunc(ws, func(a, b tw) int {
		return cmp.Or(cmp.Compare(b.w, a.w), cmp.Compare(x.surface[a.term], x.surface[b.term]))
	})
	var out []string
	for _, w := range ws {
		if len(out) == MaxWordsWhy {
			break
		}
		if s := x.surface[w.term]; !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func intersect(a, b []uint16) []uint16 {
	var out []uint16
	for _, v := range a {
		if _, ok := slices.BinarySearch(b, v); ok {
			out = append(out, v)
		}
	}
	return out
}

func unionOf(a, b []uint16) []uint16 {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}
