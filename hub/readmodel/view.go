package readmodel

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

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
	byUpdate    []*Commitment
	byName      []*Commitment
	plans       map[string]Plan
	// timelines holds each visible commitment's updates, oldest first, as
	// numbers of records in recs (compact.go: the model's table when the
	// view was built, whose records do not change).
	recs      recTable
	timelines map[string][]recID
	byActor   map[string][]*Commitment
	// recent is the newest recentSize updates, built on first use.
	recentOnce sync.Once
	recent     []Update
	themes     []ThemeCount
	totals     Totals
	// cthemes[cthemeAt[i]:cthemeAt[i+1]] lists the indexes in themes of
	// byPilot[i]'s policy areas (one array, not a slice per commitment).
	cthemes    []int32
	cthemeAt   []int32
	matrixOnce sync.Once
	matrixAll  Matrix
	// swaps are the model's commitments (0) this view replaced by a copy
	// with new derived fields (1); Model.adopt hands them to the model.
	swaps [][2]*Commitment
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
	m.adopt(v)
	v.built, v.cost = time.Now(), time.Since(start)
	m.view.Store(v)
	return v
}

// build derives a view; callers hold mu for reading. It runs in named
// steps: pilots, their plans, the commitments (which also tally policy
// areas), then the orders and indexes queries use.
func (m *Model) build(day ogp.Date) *view {
	v := &view{
		version:     m.version,
		day:         day,
		pilotByID:   map[string]int{},
		commitments: map[string]*Commitment{},
		plans:       map[string]Plan{},
		recs:        m.recs,
		timelines:   map[string][]recID{},
		byActor:     map[string][]*Commitment{},
	}
	accs := m.pilotAccs()
	m.addPlans(v, accs)
	themes := newThemeTally()
	m.addCommitments(v, accs, themes, day)
	v.addPilots(accs)
	v.totals.LastIngest = m.lastIngest
	v.themes = themes.counts()
	v.index()
	return v
}

// pilotAcc gathers one pilot's summary while the view is built.
type pilotAcc struct {
	p      Pilot
	key    string // folded name, for sorting
	themes map[string]bool
}

// pilotAccs starts a summary for every pilot, every completion level at 0.
func (m *Model) pilotAccs() map[string]*pilotAcc {
	accs := make(map[string]*pilotAcc, len(m.pilots))
	for id, info := range m.pilots {
		a := &pilotAcc{p: Pilot{PilotInfo: *info}, key: fold(info.Name), themes: map[string]bool{}}
		a.p.Summary.ByCompletion = map[ogp.Completion]int{}
		for _, c := range ogp.Completions {
			a.p.Summary.ByCompletion[c] = 0
		}
		accs[id] = a
	}
	return accs
}

// addPlans gives each pilot its plans, newest first, and takes the process
// fields of its summary from the current one; visible plans go in the view.
func (m *Model) addPlans(v *view, accs map[string]*pilotAcc) {
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
}

// addCommitments derives each commitment's view fields, adds it to its
// pilot's summary, and, when the pilot is visible, to the view and the
// policy-area tally. A commitment whose derived fields are unchanged is
// shared with the model, not copied; a changed one is a new copy that the
// model takes in after the build (swap), so the model and its view hold
// one struct per commitment once they agree.
func (m *Model) addCommitments(v *view, accs map[string]*pilotAcc, themes *themeTally, day ogp.Date) {
	for _, c := range m.commitments {
		a := accs[c.Pilot]
		var tl []recID
		if t := m.timelines[tlKey(c.Pilot, c.ID)]; t != nil {
			tl = t.ups
		}
		cc := m.derived(c, a, day)
		ptr := c
		if !sameDerived(&cc, c) {
			ptr = &cc
			v.swaps = append(v.swaps, [2]*Commitment{c, ptr})
		}
		a.add(ptr)
		if a.p.Hidden() {
			continue
		}
		v.commitments[ptr.ID] = ptr
		v.timelines[ptr.ID] = tl
		v.byActor[ptr.Pilot] = append(v.byActor[ptr.Pilot], ptr)
		v.totals.Commitments++
		v.totals.Updates += len(tl)
		themes.add(ptr)
	}
}

// sameDerived reports whether a and b agree on every field derived.
func sameDerived(a, b *Commitment) bool {
	return a.PilotName == b.PilotName && a.pilotKey == b.pilotKey && a.PlanName == b.PlanName &&
		a.Period == b.Period && a.Jurisdiction == b.Jurisdiction && a.jurisdictionFromPilot == b.jurisdictionFromPilot &&
		a.MilestoneCounts == b.MilestoneCounts && a.Updates == b.Updates && a.LastUpdate == b.LastUpdate
}

// adopt makes the model hold the view's copies of the commitments whose
// derived fields changed, unless a newer version arrived meanwhile.
func (m *Model) adopt(v *view) {
	if len(v.swaps) == 0 {
		return
	}
	m.mu.Lock()
	for _, s := range v.swaps {
		if m.commitments[s[0].ID] == s[0] {
			m.commitments[s[0].ID] = s[1]
		}
	}
	m.mu.Unlock()
	v.swaps = nil
}

// derived is a copy of c with the fields that depend on its pilot, its
// plan, its timeline and the day filled in (c may be an earlier view's
// copy: every derived field is recomputed).
func (m *Model) derived(c *Commitment, a *pilotAcc, day ogp.Date) Commitment {
	cc := *c
	cc.PilotName = a.p.Name
	cc.pilotKey = a.key
	cc.PlanName, cc.Period = "", ogp.Period{}
	if plan, ok := m.plans[c.ActionPlan]; ok && plan.Pilot == c.Pilot {
		cc.PlanName = plan.Name.Default
		cc.Period = plan.Period
		cc.PlanStatus = plan.Status
	}
	if cc.jurisdictionFromPilot {
		cc.Jurisdiction, cc.jurisdictionFromPilot = "", false
	}
	if cc.Jurisdiction == "" && a.p.Jurisdiction != "" {
		cc.Jurisdiction, cc.jurisdictionFromPilot = a.p.Jurisdiction, true
	}
	cc.MilestoneCounts = countMilestones(cc.Milestones, day)
	// The last progress report when there is one; an edit of the
	// commitment itself is not progress.
	cc.Updates, cc.LastUpdate = 0, time.Time{}
	if tl := m.timelines[tlKey(c.Pilot, c.ID)]; tl != nil {
		cc.Updates, cc.LastUpdate = len(tl.ups), tl.last
	}
	if cc.LastUpdate.IsZero() {
		cc.LastUpdate = cc.Updated
	}
	if cc.LastUpdate.IsZero() {
		cc.LastUpdate = cc.Published
	}
	return cc
}

// add counts a commitment in the pilot's summary.
func (a *pilotAcc) add(cc *Commitment) {
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
}

// themeTally counts visible commitments and pilots per policy area,
// case-insensitively, keeping the first spelling seen.
type themeTally struct {
	pilots map[string]map[string]bool
	count  map[string]int
	name   map[string]string
}

func newThemeTally() *themeTally {
	return &themeTally{pilots: map[string]map[string]bool{}, count: map[string]int{}, name: map[string]string{}}
}

func (tt *themeTally) add(c *Commitment) {
	for _, t := range c.Themes {
		k := strings.ToLower(t)
		if tt.pilots[k] == nil {
			tt.pilots[k] = map[string]bool{}
			tt.name[k] = t
		}
		tt.pilots[k][c.Pilot] = true
		tt.count[k]++
	}
}

// counts lists the policy areas by how many pilots, then commitments,
// share them.
func (tt *themeTally) counts() []ThemeCount {
	out := make([]ThemeCount, 0, len(tt.count))
	for k, n := range tt.count {
		out = append(out, ThemeCount{Theme: tt.name[k], Commitments: n, Pilots: len(tt.pilots[k])})
	}
	slices.SortFunc(out, func(x, y ThemeCount) int {
		return cmp.Or(y.Pilots-x.Pilots, y.Commitments-x.Commitments, strings.Compare(x.Theme, y.Theme))
	})
	return out
}

// addPilots finishes the pilots (their policy areas sorted), lists them
// all by name and the visible ones for queries.
func (v *view) addPilots(accs map[string]*pilotAcc) {
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
}

// index sorts the visible commitments in every list order (sortKey; the
// keys are not kept, see Commitments) and notes each one's policy areas as indexes into v.themes,
// for the matrix.
func (v *view) index() {
	all := make([]*Commitment, 0, len(v.commitments))
	for _, c := range v.commitments {
		all = append(all, c)
	}
	v.byPilot = sortedBy(all, SortPilot)
	v.byUpdate = sortedBy(all, SortLastUpdate)
	v.byName = sortedBy(all, SortName)
	themeIdx := make(map[string]int, len(v.themes))
	for i, t := range v.themes {
		themeIdx[strings.ToLower(t.Theme)] = i
	}
	v.cthemeAt = make([]int32, len(v.byPilot)+1)
	for i, c := range v.byPilot {
		start := len(v.cthemes)
		for _, t := range c.Themes {
			if ti, ok := themeIdx[strings.ToLower(t)]; ok && !slices.Contains(v.cthemes[start:], int32(ti)) {
				v.cthemes = append(v.cthemes, int32(ti))
			}
		}
		v.cthemeAt[i+1] = int32(len(v.cthemes))
	}
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

func sortedBy(all []*Commitment, order string) []*Commitment {
	type kc struct {
		k string
		c *Commitment
	}
	tmp := make([]kc, len(all))
	for i, c := range all {
		tmp[i] = kc{sortKey(c, order), c}
	}
	slices.SortFunc(tmp, func(a, b kc) int { return strings.Compare(a.k, b.k) })
	cs := make([]*Commitment, len(tmp))
	for i, x := range tmp {
		cs[i] = x.c
	}
	return cs
}
