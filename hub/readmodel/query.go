package readmodel

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// ErrBadCursor is returned for a cursor this model did not produce.
var ErrBadCursor = errors.New("readmodel: invalid cursor")

// MaxLimit caps a page.
const MaxLimit = 500

// view is everything derived from the maps, built once per version and day.
// It holds copies, so readers use it without the model's lock.
type view struct {
	version uint64
	day     ogp.Date
	built   time.Time
	cost    time.Duration

	pilots      []Pilot // visible, by name
	allPilots   []Pilot
	pilotByID   map[string]int // index into pilots
	commitments map[string]*Commitment
	byPilot     []*Commitment // visible, SortPilot order
	keysPilot   []string
	byUpdate    []*Commitment
	keysUpdate  []string
	byName      []*Commitment
	keysName    []string
	plans       map[string]Plan
	// timelines holds each visible commitment's updates (shared, read-only
	// pointers), oldest first.
	timelines map[string][]*Update
	byActor   map[string][]*Commitment
	// recent is the newest recentSize updates, built on first use.
	recentOnce sync.Once
	recent     []Update
	themes     []ThemeCount
	totals     Totals
	// cthemes[i] lists the indexes in themes of byPilot[i]'s policy areas.
	cthemes    [][]int
	matrixOnce sync.Once
	matrixAll  Matrix
}

// Version identifies what queries currently answer from: it changes after
// every mutation (at most SetMaxStale later), so pages use it as an ETag and
// derived indexes (peers) know when to resync from Each.
func (m *Model) Version() uint64 { return m.current().version }

// Changed returns a channel closed at the next mutation (tests and
// long-polling wait on it).
func (m *Model) Changed() <-chan struct{} {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.changed
}

// expensiveBuild is the view-build cost above which SetMaxStale applies.
const expensiveBuild = 20 * time.Millisecond

// SetMaxStale bounds staleness for large models: when building a view costs
// more than 20 ms, a new one is built at most every d, and readers that
// arrive during a build keep the previous view. A hub with tens of thousands
// of commitments then answers at most d behind its ingest instead of
// rebuilding on every query during a backfill. The default, 0, always
// answers from the latest write (tests rely on it).
func (m *Model) SetMaxStale(d time.Duration) { m.maxStale.Store(int64(d)) }

// current returns the view to answer from, rebuilding it when needed.
func (m *Model) current() *view {
	day := ogp.DateOf(m.now().UTC())
	m.mu.RLock()
	ver := m.version
	m.mu.RUnlock()
	v := m.view.Load()
	if v != nil && v.version == ver && v.day == day {
		return v
	}
	maxStale := time.Duration(m.maxStale.Load())
	tolerable := maxStale > 0 && v != nil && v.day == day && v.cost > expensiveBuild
	if tolerable && time.Since(v.built) < maxStale {
		return v
	}
	if !m.viewMu.TryLock() {
		if tolerable {
			return v
		}
		m.viewMu.Lock()
	}
	defer m.viewMu.Unlock()
	m.mu.RLock()
	ver = m.version
	if v := m.view.Load(); v != nil && v.version == ver && v.day == day {
		m.mu.RUnlock()
		return v
	}
	start := time.Now()
	v = m.build(day)
	m.mu.RUnlock()
	v.built, v.cost = time.Now(), time.Since(start)
	m.view.Store(v)
	return v
}

// build derives a view; callers hold mu for reading.
func (m *Model) build(day ogp.Date) *view {
	v := &view{
		version:     m.version,
		day:         day,
		pilotByID:   map[string]int{},
		commitments: map[string]*Commitment{},
		plans:       map[string]Plan{},
		timelines:   map[string][]*Update{},
		byActor:     map[string][]*Commitment{},
	}
	type acc struct {
		p      Pilot
		key    string // folded name, for sorting
		themes map[string]bool
	}
	accs := map[string]*acc{}
	for id, info := range m.pilots {
		a := &acc{p: Pilot{PilotInfo: *info}, key: fold(info.Name), themes: map[string]bool{}}
		a.p.Summary.ByCompletion = map[ogp.Completion]int{}
		for _, c := range ogp.Completions {
			a.p.Summary.ByCompletion[c] = 0
		}
		accs[id] = a
	}
	for _, p := range m.plans {
		a := accs[p.Pilot]
		a.p.Plans = append(a.p.Plans, *p)
		if !a.p.Hidden() {
			v.plans[p.ID] = *p
		}
	}
	for _, a := range accs {
		slices.SortFunc(a.p.Plans, func(x, y Plan) int {
			if c := strings.Compare(string(y.Period.Start), string(x.Period.Start)); c != 0 {
				return c
			}
			return strings.Compare(x.ID, y.ID)
		})
		if cur := currentPlan(a.p.Plans); cur != nil {
			a.p.CurrentPlan = cur.ID
			a.p.Summary.Guidelines = cur.Score
			a.p.Summary.Participation = cur.Participation
			a.p.Jurisdiction = cur.Jurisdiction
		} else {
			a.p.Summary.Guidelines = scoreGuidelines(nil)
		}
	}
	themePilots := map[string]map[string]bool{}
	themeCount := map[string]int{}
	themeName := map[string]string{}
	for _, c := range m.commitments {
		a := accs[c.Pilot]
		cc := *c
		cc.PilotName = a.p.Name
		cc.pilotKey = a.key
		if plan, ok := m.plans[c.ActionPlan]; ok && plan.Pilot == c.Pilot {
			cc.PlanName = plan.Name.Default
			cc.Period = plan.Period
		}
		if cc.Jurisdiction == "" {
			cc.Jurisdiction = a.p.Jurisdiction
		}
		cc.MilestoneCounts = countMilestones(cc.Milestones, day)
		k := tlKey(c.Pilot, c.ID)
		tl := m.timelines[k]
		cc.Updates = len(tl)
		// The last progress report when there is one; an edit of the
		// commitment itself is not progress.
		cc.LastUpdate = m.tlLast[k]
		if cc.LastUpdate.IsZero() {
			cc.LastUpdate = cc.Updated
		}
		if cc.LastUpdate.IsZero() {
			cc.LastUpdate = cc.Published
		}
		s := &a.p.Summary
		s.Commitments++
		s.ByCompletion[cc.Completion]++
		if cc.Starred {
			s.Starred++
		}
		addMilestones(&s.Milestones, cc.MilestoneCounts)
		s.Updates += cc.Updates
		if cc.LastUpdate.After(s.LastUpdate) {
			s.LastUpdate = cc.LastUpdate
		}
		for _, t := range cc.Themes {
			a.themes[t] = true
		}
		if a.p.Jurisdiction == "" {
			a.p.Jurisdiction = cc.Jurisdiction
		}
		if a.p.Hidden() {
			continue
		}
		ptr := &cc
		v.commitments[cc.ID] = ptr
		v.timelines[cc.ID] = tl
		v.byActor[cc.Pilot] = append(v.byActor[cc.Pilot], ptr)
		v.totals.Commitments++
		v.totals.Updates += len(tl)
		for _, t := range cc.Themes {
			k := strings.ToLower(t)
			if themePilots[k] == nil {
				themePilots[k] = map[string]bool{}
				themeName[k] = t
			}
			themePilots[k][cc.Pilot] = true
			themeCount[k]++
		}
	}
	for _, a := range accs {
		for t := range a.themes {
			a.p.Themes = append(a.p.Themes, t)
		}
		sort.Strings(a.p.Themes)
		v.allPilots = append(v.allPilots, a.p)
	}
	slices.SortFunc(v.allPilots, func(x, y Pilot) int {
		return cmp.Or(strings.Compare(accs[x.Actor].key, accs[y.Actor].key), strings.Compare(x.Actor, y.Actor))
	})
	for _, p := range v.allPilots {
		if !p.Hidden() {
			v.pilotByID[p.Actor] = len(v.pilots)
			v.pilots = append(v.pilots, p)
			v.totals.Plans += len(p.Plans)
		}
	}
	v.totals.Pilots = len(v.pilots)
	v.totals.LastIngest = m.lastIngest
	for k, n := range themeCount {
		v.themes = append(v.themes, ThemeCount{Theme: themeName[k], Commitments: n, Pilots: len(themePilots[k])})
	}
	slices.SortFunc(v.themes, func(x, y ThemeCount) int {
		return cmp.Or(y.Pilots-x.Pilots, y.Commitments-x.Commitments, strings.Compare(x.Theme, y.Theme))
	})

	all := make([]*Commitment, 0, len(v.commitments))
	for _, c := range v.commitments {
		all = append(all, c)
	}
	v.byPilot, v.keysPilot = sortedBy(all, SortPilot)
	themeIdx := make(map[string]int, len(v.themes))
	for i, t := range v.themes {
		themeIdx[strings.ToLower(t.Theme)] = i
	}
	v.cthemes = make([][]int, len(v.byPilot))
	for i, c := range v.byPilot {
		for _, t := range c.Themes {
			if ti, ok := themeIdx[strings.ToLower(t)]; ok && !slices.Contains(v.cthemes[i], ti) {
				v.cthemes[i] = append(v.cthemes[i], ti)
			}
		}
	}
	v.byUpdate, v.keysUpdate = sortedBy(all, SortLastUpdate)
	v.byName, v.keysName = sortedBy(all, SortName)
	return v
}

// updateTime is when a progress update reports progress: its own date (a
// history imported today still reports 2017), else when it was published.
func updateTime(u *Update) time.Time {
	if t := u.Date.Time(); !t.IsZero() {
		return t
	}
	if !u.Updated.IsZero() {
		return u.Updated
	}
	return u.Published
}

// currentPlan is the plan in implementation with the latest start, else the
// latest plan (plans are sorted newest first).
func currentPlan(plans []Plan) *Plan {
	for i := range plans {
		if plans[i].Status == ogp.PlanImplementation {
			return &plans[i]
		}
	}
	if len(plans) > 0 {
		return &plans[0]
	}
	return nil
}

func countMilestones(ms []ogp.Milestone, day ogp.Date) MilestoneCounts {
	var n MilestoneCounts
	for _, m := range ms {
		n.Total++
		switch m.Status {
		case ogp.MilestoneCancelled:
			n.Cancelled++
		case ogp.MilestoneComplete:
			if m.EndDate != "" && m.CompletedDate != "" && m.EndDate.Before(m.CompletedDate) {
				n.CompleteLate++
			} else {
				n.Complete++
			}
		default:
			if m.EndDate != "" && m.EndDate.Before(day) {
				n.Overdue++
			} else {
				n.OnTrack++
			}
		}
	}
	return n
}

func addMilestones(dst *MilestoneCounts, n MilestoneCounts) {
	dst.Total += n.Total
	dst.Complete += n.Complete
	dst.CompleteLate += n.CompleteLate
	dst.OnTrack += n.OnTrack
	dst.Overdue += n.Overdue
	dst.Cancelled += n.Cancelled
}

// sortKey makes a string that sorts commitments in the given order; it is
// also the page cursor, so paging is stable while the model changes.
func sortKey(c *Commitment, order string) string {
	switch order {
	case SortLastUpdate:
		// Newest first. Undated (or out-of-range) times count as oldest:
		// UnixNano overflows outside 1678–2262 and would sort first.
		var age int64 = math.MaxInt64
		if t := c.LastUpdate; t.Year() > 1678 && t.Year() < 2262 {
			age = math.MaxInt64 - t.UnixNano()
		}
		return fmt.Sprintf("%020d\x00%s", age, c.ID)
	case SortName:
		return c.nameKey + "\x00" + c.ID
	default:
		return c.pilotKey + "\x00" + c.Pilot + "\x00" + c.idKey + "\x00" + c.ID
	}
}

// naturalKey pads digit runs so "JAL2" sorts before "JAL10".
func naturalKey(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] >= '0' && s[i] <= '9' {
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			fmt.Fprintf(&b, "%012s", s[i:j])
			i = j
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func sortedBy(all []*Commitment, order string) ([]*Commitment, []string) {
	type kc struct {
		k string
		c *Commitment
	}
	tmp := make([]kc, len(all))
	for i, c := range all {
		tmp[i] = kc{sortKey(c, order), c}
	}
	slices.SortFunc(tmp, func(a, b kc) int { return strings.Compare(a.k, b.k) })
	cs, ks := make([]*Commitment, len(tmp)), make([]string, len(tmp))
	for i, x := range tmp {
		cs[i], ks[i] = x.c, x.k
	}
	return cs, ks
}

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
	tl := m.current().timelines[commitmentID]
	out := make([]Update, len(tl))
	for i, u := range tl {
		out[i] = *u
	}
	return out
}

// newestFirst orders updates newest first.
func newestFirst(a, b *Update) int { return -compareUpdates(a, b) }

// PilotTimeline returns a visible pilot's updates, newest first (limit <= 0:
// all of them).
func (m *Model) PilotTimeline(actor string, limit int) []Update {
	v := m.current()
	var all []*Update
	for _, c := range v.byActor[actor] {
		all = append(all, v.timelines[c.ID]...)
	}
	slices.SortFunc(all, newestFirst)
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	out := make([]Update, len(all))
	for i, u := range all {
		out[i] = *u
	}
	return out
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
	var best []*Update // newest first, at most n
	for _, tl := range v.timelines {
		for i := len(tl) - 1; i >= 0; i-- {
			u := tl[i]
			if len(best) == n && newestFirst(u, best[n-1]) >= 0 {
				break
			}
			at, _ := slices.BinarySearchFunc(best, u, newestFirst)
			best = slices.Insert(best, at, u)
			if len(best) > n {
				best = best[:n]
			}
		}
	}
	out := make([]Update, len(best))
	for i, u := range best {
		out[i] = *u
	}
	return out
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
	list, keys := v.byPilot, v.keysPilot
	switch f.Sort {
	case "", SortPilot:
	case SortLastUpdate:
		list, keys = v.byUpdate, v.keysUpdate
	case SortName:
		list, keys = v.byName, v.keysName
	default:
		return Page[Commitment]{}, fmt.Errorf("readmodel: unknown sort %q", f.Sort)
	}
	start := 0
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(raw) == 0 {
			return Page[Commitment]{}, ErrBadCursor
		}
		after := string(raw)
		start = sort.SearchStrings(keys, after)
		if start < len(keys) && keys[start] == after {
			start++
		}
	}
	page := Page[Commitment]{Items: []Commitment{}}
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
				page.Next = base64.RawURLEncoding.EncodeToString([]byte(keys[i]))
			}
		} else if page.Next == "" {
			break
		}
	}
	if page.Next != "" {
		// Only keep a cursor when something matches after it.
		more := false
		lastKey, _ := base64.RawURLEncoding.DecodeString(page.Next)
		for j := sort.SearchStrings(keys, string(lastKey)) + 1; j < len(list); j++ {
			if f.Match(list[j]) {
				more = true
				break
			}
		}
		if !more {
			page.Next = ""
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
		for _, ti := range v.cthemes[i] {
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
