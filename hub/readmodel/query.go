package readmodel

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// ErrBadCursor is returned for a cursor this model did not produce.
var ErrBadCursor = errors.New("readmodel: invalid cursor")

// MaxLimit caps a page.
const MaxLimit = 500

// Pilots returns the visible pilots, by name.
func (m *Model) Pilots() []Pilot { return slices.Clone(m.current().pilots) }

// AllPilots returns every pilot, hidden ones included (staff pages).
func (m *Model) AllPilots() []Pilot { return slices.Clone(m.current().allPilots) }

// Pilot returns a visible pilot by actor IRI.
func (m *Model) Pilot(actor string) (Pilot, bool) {
	v := m.current()
	i, ok := v.pilotByID[actor]
	if !ok {
		return Pilot{}, false
	}
	return v.pilots[i], true
}

// Plan returns a visible pilot's action plan.
func (m *Model) Plan(id string) (Plan, bool) {
	p, ok := m.current().plans[id]
	return p, ok
}

// Commitment returns a visible commitment.
func (m *Model) Commitment(id string) (Commitment, bool) {
	c, ok := m.current().commitments[id]
	if !ok {
		return Commitment{}, false
	}
	return *c, true
}

// Each calls fn with every visible commitment in SortPilot order until fn
// returns false.
func (m *Model) Each(fn func(Commitment) bool) {
	for _, c := range m.current().byPilot {
		if !fn(*c) {
			return
		}
	}
}

// Timeline returns a visible commitment's progress updates, oldest first.
func (m *Model) Timeline(commitmentID string) []Update {
	v := m.current()
	return v.recs.exportAll(v.timelines[commitmentID])
}

// newestFirst orders updates newest first.
func (t *recTable) newestFirst(a, b recID) int { return -t.compareUpdates(a, b) }

// PilotTimeline returns a visible pilot's updates, newest first (limit <= 0:
// all of them).
func (m *Model) PilotTimeline(actor string, limit int) []Update {
	v := m.current()
	var all []recID
	for _, c := range v.byActor[actor] {
		all = append(all, v.timelines[c.ID]...)
	}
	slices.SortFunc(all, v.recs.newestFirst)
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	return v.recs.exportAll(all)
}

// recentSize is how many of the newest updates a view keeps ready.
const recentSize = 200

// Latest returns the newest updates of all visible pilots (limit <= 0 or
// above 200: 200).
func (m *Model) Latest(limit int) []Update {
	v := m.current()
	v.recentOnce.Do(func() { v.recent = v.newest(recentSize) })
	if limit <= 0 || limit > len(v.recent) {
		limit = len(v.recent)
	}
	return slices.Clone(v.recent[:limit])
}

// newest selects the n newest updates. Each timeline is sorted oldest
// first, so it is read from its end and left as soon as an update is older
// than the n-th best so far: the cost is about one look per commitment.
func (v *view) newest(n int) []Update {
	t := &v.recs
	var best []recID // newest first, at most n
	for _, tl := range v.timelines {
		for i := len(tl) - 1; i >= 0; i-- {
			u := tl[i]
			if len(best) == n && t.newestFirst(u, best[n-1]) >= 0 {
				break
			}
			at, _ := slices.BinarySearchFunc(best, u, t.newestFirst)
			best = slices.Insert(best, at, u)
			if len(best) > n {
				best = best[:n]
			}
		}
	}
	return t.exportAll(best)
}

// Themes lists policy areas by how many pilots share them.
func (m *Model) Themes() []ThemeCount { return slices.Clone(m.current().themes) }

// Totals counts what the visible part of the model holds.
func (m *Model) Totals() Totals { return m.current().totals }

// Commitments lists visible commitments matching f, limit per page (1 to
// MaxLimit, default 50), continuing after cursor ("" for the first page).
func (m *Model) Commitments(f Filter, cursor string, limit int) (Page[Commitment], error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxLimit)
	v := m.current()
	list, order := v.byPilot, SortPilot
	switch f.Sort {
	case "", SortPilot:
	case SortLastUpdate:
		list, order = v.byUpdate, SortLastUpdate
	case SortName:
		list, order = v.byName, SortName
	default:
		return Page[Commitment]{}, fmt.Errorf("readmodel: unknown sort %q", f.Sort)
	}
	// The lists are sorted by sortKey, which the view does not keep (it
	// would be a string per commitment per order): a cursor's place is
	// found by computing the keys a binary search looks at.
	start := 0
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(raw) == 0 {
			return Page[Commitment]{}, ErrBadCursor
		}
		after := string(raw)
		start = sort.Search(len(list), func(i int) bool { return sortKey(list[i], order) > after })
	}
	page := Page[Commitment]{Items: []Commitment{}}
	last := -1 // index of the page's last item when the page is full
	// Total counts every match; the page takes the first limit after cursor.
	for i, c := range list {
		if !f.Match(c) {
			continue
		}
		page.Total++
		if i < start {
			continue
		}
		if len(page.Items) < limit {
			page.Items = append(page.Items, *c)
			if len(page.Items) == limit {
				last = i
			}
		}
	}
	if last >= 0 {
		// Only give a cursor when something matches after it.
		for j := last + 1; j < len(list); j++ {
			if f.Match(list[j]) {
				page.Next = base64.RawURLEncoding.EncodeToString([]byte(sortKey(list[last], order)))
				break
			}
		}
	}
	return page, nil
}

// Matrix returns the pilots × policy-area matrix over the visible
// commitments that match f (its Sort is ignored). Columns are the themes
// with at least one match, by how many pilots share them. The unfiltered
// matrix is computed once per view.
func (m *Model) Matrix(f Filter) Matrix {
	v := m.current()
	if !f.Narrows() {
		v.matrixOnce.Do(func() { v.matrixAll = v.matrix(f) })
		return v.matrixAll.clone()
	}
	return v.matrix(f)
}

func (mx Matrix) clone() Matrix {
	out := Matrix{Themes: slices.Clone(mx.Themes), Rows: slices.Clone(mx.Rows)}
	for i := range out.Rows {
		out.Rows[i].Cells = slices.Clone(out.Rows[i].Cells)
	}
	return out
}

type cellAcc struct {
	n, high int
	by      [5]int // index in ogp.Completions
}

func completionIndex(c ogp.Completion) int {
	for i, x := range ogp.Completions {
		if x == c {
			return i
		}
	}
	return 0
}

func (v *view) matrix(f Filter) Matrix {
	nt := len(v.themes)
	cells := make([]cellAcc, len(v.pilots)*nt)
	themePilots := make([]int, nt)
	seen := make([]bool, len(v.pilots)*nt)
	for i, c := range v.byPilot {
		if !f.Match(c) {
			continue
		}
		pi := v.pilotByID[c.Pilot]
		ci := completionIndex(c.Completion)
		for _, t := range v.cthemes[v.cthemeAt[i]:v.cthemeAt[i+1]] {
			ti := int(t)
			k := pi*nt + ti
			acc := &cells[k]
			acc.n++
			acc.by[ci]++
			if c.Completion.High() {
				acc.high++
			}
			if !seen[k] {
				seen[k] = true
				themePilots[ti]++
			}
		}
	}
	var cols []int
	for ti := range nt {
		if themePilots[ti] > 0 {
			cols = append(cols, ti)
		}
	}
	slices.SortStableFunc(cols, func(a, b int) int {
		return cmp.Or(themePilots[b]-themePilots[a], strings.Compare(strings.ToLower(v.themes[a].Theme), strings.ToLower(v.themes[b].Theme)))
	})
	mx := Matrix{Themes: make([]string, len(cols)), Rows: []MatrixRow{}}
	for i, ti := range cols {
		mx.Themes[i] = v.themes[ti].Theme
	}
	for pi, p := range v.pilots {
		if len(f.Pilots) > 0 && !slices.Contains(f.Pilots, p.Actor) {
			continue
		}
		row := MatrixRow{Pilot: p.Actor, Name: p.Name, Cells: make([]MatrixCell, len(cols))}
		for i, ti := range cols {
			acc := cells[pi*nt+ti]
			if acc.n == 0 {
				continue
			}
			mc := MatrixCell{Commitments: acc.n, High: acc.high, ByCompletion: map[ogp.Completion]int{}}
			for ci, n := range acc.by {
				if n > 0 {
					mc.ByCompletion[ogp.Completions[ci]] = n
				}
			}
			row.Cells[i] = mc
		}
		mx.Rows = append(mx.Rows, row)
	}
	return mx
}
