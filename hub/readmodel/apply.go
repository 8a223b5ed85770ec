package readmodel

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// Model is the materialised view. The zero value is not usable; call New.
// Writers (ingest, members, the start-up rebuild) call the Apply methods;
// readers call the query methods. A RWMutex guards the maps; derived views
// (sorted lists, summaries, matrix) are rebuilt lazily once per change and
// once per day (overdue milestones depend on the date).
type Model struct {
	now func() time.Time

	mu          sync.RWMutex
	pilots      map[string]*PilotInfo
	plans       map[string]*Plan
	commitments map[string]*Commitment
	// recs stores the progress updates (compact.go); updates finds
	// each by IRI.
	recs    recTable
	updates *updIndex
	// timelines maps tlKey(pilot, commitment IRI) to its updates, so a
	// pilot's updates can only extend its own commitments. Updates may
	// arrive before their commitment; they wait here for it.
	timelines  map[tlID]*timeline
	strs       interner
	version    uint64
	changed    chan struct{}
	lastIngest time.Time

	viewMu   sync.Mutex           // one rebuild at a time
	view     atomic.Pointer[view] // derived; stale when version/day moved on
	maxStale atomic.Int64         // see SetMaxStale

	hookMu      sync.Mutex // serialises hook calls so they arrive in ingest order
	hooks       []func(c Commitment, removed bool)
	updateHooks []func(pilot, commitment string)
}

// OnCommitment registers fn to run after every commitment put or delete.
// Register before ingest starts (hub.New does); fn must not call Apply*.
func (m *Model) OnCommitment(fn func(c Commitment, removed bool)) {
	m.hookMu.Lock()
	defer m.hookMu.Unlock()
	m.hooks = append(m.hooks, fn)
}

// OnUpdate registers fn to run after every progress update put or removed,
// with the pilot and the IRI of the commitment whose timeline changed
// (hub/search re-reads that timeline). Same rules as OnCommitment.
func (m *Model) OnUpdate(fn func(pilot, commitment string)) {
	m.hookMu.Lock()
	defer m.hookMu.Unlock()
	m.updateHooks = append(m.updateHooks, fn)
}

func (m *Model) notifyUpdate(pilot, commitment string) {
	m.hookMu.Lock()
	defer m.hookMu.Unlock()
	for _, fn := range m.updateHooks {
		fn(pilot, commitment)
	}
}

func (m *Model) notify(c Commitment, removed bool) {
	m.hookMu.Lock()
	defer m.hookMu.Unlock()
	for _, fn := range m.hooks {
		fn(c, removed)
	}
}

// New returns an empty model. now is the clock (nil: time.Now).
func New(now func() time.Time) *Model {
	if now == nil {
		now = time.Now
	}
	return &Model{
		now:         now,
		pilots:      map[string]*PilotInfo{},
		plans:       map[string]*Plan{},
		commitments: map[string]*Commitment{},
		updates:     newUpdIndex(),
		timelines:   map[tlID]*timeline{},
		changed:     make(chan struct{}),
	}
}

// bump records a mutation; callers hold mu.
func (m *Model) bump() {
	m.version++
	m.lastIngest = m.now().UTC()
	close(m.changed)
	m.changed = make(chan struct{})
}

// SetPilot records or changes a pilot's membership data. Its objects stay in
// the model whatever the state; hidden pilots are left out of queries.
func (m *Model) SetPilot(p PilotInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.State == "" {
		p.State = StateActive
	}
	p.Name = plainText(p.Name)
	p.URL = SafeLink(p.URL)
	cp := p
	m.pilots[p.Actor] = &cp
	m.bump()
}

// ensurePilot makes sure objects have a pilot entry; callers hold mu.
func (m *Model) ensurePilot(actor string) *PilotInfo {
	p, ok := m.pilots[actor]
	if !ok {
		p = &PilotInfo{Actor: actor, Name: actor, State: StateActive}
		m.pilots[actor] = p
	}
	return p
}

// newer reports whether an object with updated/published b should replace
// one with a. Equal stamps replace (a re-delivery of the same version is
// harmless and lets a correction without a new stamp through).
func newer(aUpdated, aPublished, bUpdated, bPublished time.Time) bool {
	a, b := aUpdated, bUpdated
	if a.IsZero() {
		a = aPublished
	}
	if b.IsZero() {
		b = bPublished
	}
	return !b.Before(a)
}

// ApplyCommitment inserts or replaces a commitment published by pilot,
// keeping the newest by `updated`. It reports whether the model changed.
func (m *Model) ApplyCommitment(pilot string, c ogp.Commitment, received time.Time) bool {
	// The lead and description are ogp:lead and ogp:description; older
	// producers sent them as summary and content (LeadText, DescriptionText).
	lead, leadMap := c.LeadText()
	desc, descMap := c.DescriptionText()
	rc := &Commitment{
		ID:              c.ID,
		Pilot:           pilot,
		URL:             SafeLink(c.URL),
		Identifier:      plainText(c.Identifier),
		Name:            textOf(c.Name, c.NameMap),
		SummaryHTML:     sanitizeMap(lead, leadMap),
		ContentHTML:     sanitizeMap(desc, descMap),
		Problem:         textOf(c.Problem, c.ProblemMap),
		Objective:       textOf(c.Objective, c.ObjectiveMap),
		ActionPlan:      c.ActionPlan,
		Jurisdiction:    plainText(c.Jurisdiction),
		StartDate:       validDate(c.StartDate),
		EndDate:         validDate(c.EndDate),
		LeadInstitution: plainText(c.LeadInstitution),
		Values:          slices.DeleteFunc(slices.Clone(c.Values), func(v ogp.Value) bool { return !v.Valid() }),
		Taxonomy:        plainText(c.Taxonomy),
		Completion:      c.Completion,
		IRM:             c.IRM,
		Published:       c.Published.UTC(),
		Updated:         c.Updated.UTC(),
		Received:        received.UTC(),
	}
	if rc.URL == "" {
		rc.URL = SafeLink(c.ID)
	}
	if !rc.Completion.Valid() {
		rc.Completion = ogp.CompletionNoEvidence
	}
	if c.OtherActors != nil {
		rc.OtherActors = ogp.OtherActors{Government: plainList(c.OtherActors.Government), CivilSociety: plainList(c.OtherActors.CivilSociety)}
	}
	seen := map[string]bool{}
	for _, t := range c.PolicyAreas {
		t = strings.TrimSpace(plainText(t))
		if k := strings.ToLower(t); t != "" && !seen[k] {
			seen[k] = true
			rc.Themes = append(rc.Themes, t)
		}
	}
	for _, t := range c.Tag {
		rc.Tags = append(rc.Tags, ogp.Tag{Type: t.Type, Href: SafeLink(t.Href), Name: plainText(t.Name)})
	}
	for _, ms := range c.Milestones {
		ms.Name = plainText(ms.Name)
		ms.NameMap = textOf("", ms.NameMap).Map
		ms.Deliverable = plainText(ms.Deliverable)
		ms.DeliverableMap = textOf("", ms.DeliverableMap).Map
		ms.StartDate, ms.EndDate, ms.CompletedDate = validDate(ms.StartDate), validDate(ms.EndDate), validDate(ms.CompletedDate)
		rc.Milestones = append(rc.Milestones, ms)
	}
	rc.Starred = c.IRM != nil && c.IRM.Starred == ogp.Yes
	m.share(rc)
	rc.nameKey, rc.idKey = fold(rc.Name.Default), naturalKey(rc.Identifier)
	rc.text = searchText(rc.Identifier, rc.Name.Default, mapValues(rc.Name.Map), string(rc.SummaryHTML.Default),
		string(rc.ContentHTML.Default), rc.Problem.Default, rc.Objective.Default, rc.LeadInstitution, strings.Join(rc.Themes, " "))

	m.mu.Lock()
	if old, ok := m.commitments[c.ID]; ok {
		if !newer(old.Updated, old.Published, rc.Updated, rc.Published) {
			m.mu.Unlock()
			return false
		}
		rc.Received = old.Received
	}
	rc.Pilot = m.ensurePilot(pilot).Actor
	m.commitments[c.ID] = rc
	m.bump()
	m.mu.Unlock()
	m.notify(*rc, false)
	return true
}

// ApplyUpdate inserts or replaces a progress update, keeping the newest.
func (m *Model) ApplyUpdate(pilot string, u ogp.ProgressUpdate) bool {
	ru := Update{
		ID:               u.ID,
		URL:              SafeLink(u.URL),
		Date:             validDate(u.Date),
		ContentHTML:      sanitizeMap(u.Content, u.ContentMap),
		MilestoneChanges: u.MilestoneChanges,
		Published:        u.Published.UTC(),
		Updated:          u.Updated.UTC(),
	}
	if ru.URL == "" {
		ru.URL = SafeLink(u.ID)
	}
	if u.Completion.Valid() {
		ru.Completion = u.Completion
	}
	if ru.Date == "" && !ru.Published.IsZero() {
		ru.Date = ogp.DateOf(ru.Published)
	}
	for _, e := range u.Evidence {
		if l := SafeLink(e); l != "" {
			ru.Evidence = append(ru.Evidence, l)
		}
	}
	m.mu.Lock()
	t := &m.recs
	// The pilot and commitment an older version extended, when another.
	var movedPilot, moved string
	if old, ok := m.updates.get(t, u.ID); ok {
		r := t.rec(old)
		if !newer(t.updatedTime(r), t.publishedTime(r), ru.Updated, ru.Published) {
			m.mu.Unlock()
			return false
		}
		if otl := t.timelineOf(old); otl.commitment != u.InReplyTo || otl.pilot != pilot {
			movedPilot, moved = otl.pilot, otl.commitment
		}
		m.unlinkUpdate(old)
	}
	p := m.ensurePilot(pilot)
	k := tlKey(pilot, u.InReplyTo)
	tl := m.timelines[k]
	if tl == nil {
		tl = &timeline{pilot: p.Actor, commitment: u.InReplyTo}
		if c, ok := m.commitments[u.InReplyTo]; ok {
			tl.commitment = c.ID // one copy of the IRI
		}
		t.addTimeline(tl)
		m.timelines[tlID{tl.pilot, tl.commitment}] = tl // the key shares the timeline's strings
	}
	r := t.add(tl, ru)
	m.updates.put(t, r)
	ups := append(make([]recID, 0, len(tl.ups)+1), tl.ups...) // views hold the old slice
	ups = append(ups, r)
	slices.SortStableFunc(ups, t.compareUpdates)
	tl.ups, tl.last = ups, t.lastTime(ups)
	m.compactIfWasteful()
	m.bump()
	m.mu.Unlock()
	if moved != "" {
		m.notifyUpdate(movedPilot, moved)
	}
	m.notifyUpdate(pilot, u.InReplyTo)
	return true
}

// tlID names a timeline: a pilot's updates can only extend its own
// commitments.
type tlID struct{ pilot, commitment string }

func tlKey(pilot, commitment string) tlID { return tlID{pilot, commitment} }

func (t *recTable) lastTime(ups []recID) time.Time {
	var last time.Time
	for _, u := range ups {
		if ut := t.updateTime(u); ut.After(last) {
			last = ut
		}
	}
	return last
}

// unlinkUpdate removes record u from the index and its timeline; callers
// hold mu. The timeline's slice is rebuilt, not edited in place, because
// views hold the old one. The record stays (dead) until the table is
// compacted.
func (m *Model) unlinkUpdate(u recID) {
	t := &m.recs
	m.updates.del(t, u)
	t.dead++
	tl := t.timelineOf(u)
	ups := slices.DeleteFunc(slices.Clone(tl.ups), func(x recID) bool { return x == u })
	if len(ups) == 0 {
		delete(m.timelines, tlKey(tl.pilot, tl.commitment))
		tl.ups, tl.last = nil, time.Time{}
		return
	}
	tl.ups, tl.last = ups, t.lastTime(ups)
}

// compactIfWasteful rewrites the update records when replaced and removed
// ones outnumber the live ones (and are at least compactMinDead), so a
// hub whose members re-send or edit their updates does not keep every
// version; callers hold mu for writing. The live records are copied into
// a new table; views keep the old one, which holds what they show.
func (m *Model) compactIfWasteful() {
	old := &m.recs
	if old.dead < compactMinDead || old.dead <= old.n-old.dead {
		return
	}
	var t recTable
	for _, tl := range m.timelines {
		t.addTimeline(tl)
		ups := make([]recID, len(tl.ups))
		for i, u := range tl.ups {
			ups[i] = t.copyFrom(old, u, tl)
		}
		tl.ups = ups
	}
	x := newUpdIndex()
	for _, tl := range t.tls {
		for _, u := range tl.ups {
			x.put(&t, u)
		}
	}
	m.recs, m.updates = t, x
}

// ApplyPlan inserts or replaces an action plan, keeping the newest.
func (m *Model) ApplyPlan(pilot string, p ogp.ActionPlan) bool {
	lead, leadMap := p.LeadText() // summary from older producers
	rp := &Plan{
		ID:           p.ID,
		Pilot:        pilot,
		URL:          SafeLink(p.URL),
		Name:         textOf(p.Name, p.NameMap),
		SummaryHTML:  sanitizeMap(lead, leadMap),
		Jurisdiction: plainText(p.Jurisdiction),
		Period:       ogp.Period{Start: validDate(p.Period.Start), End: validDate(p.Period.End)},
		Status:       p.Status,
		Commitments:  slices.Clone(p.Commitments),
		Published:    p.Published.UTC(),
		Updated:      p.Updated.UTC(),
	}
	if rp.URL == "" {
		rp.URL = SafeLink(p.ID)
	}
	for _, g := range p.Guidelines {
		if !g.Key.Valid() || !g.Level.Valid() {
			continue
		}
		var ev []string
		for _, e := range g.Evidence {
			if l := SafeLink(e); l != "" {
				ev = append(ev, l)
			}
		}
		rp.Guidelines = append(rp.Guidelines, ogp.Guideline{Key: g.Key, Level: g.Level, Evidence: ev})
	}
	rp.Score = scoreGuidelines(rp.Guidelines)
	if p.Participation != nil {
		if p.Participation.Development.Valid() {
			rp.Participation.Development = p.Participation.Development
		}
		if p.Participation.Implementation.Valid() {
			rp.Participation.Implementation = p.Participation.Implementation
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.plans[p.ID]; ok && !newer(old.Updated, old.Published, rp.Updated, rp.Published) {
		return false
	}
	m.ensurePilot(pilot)
	m.plans[p.ID] = rp
	m.bump()
	return true
}

func scoreGuidelines(gs []ogp.Guideline) GuidelineScore {
	s := GuidelineScore{MaxPoints: 2 * len(ogp.GuidelineKeys)}
	levels := map[ogp.GuidelineKey]ogp.GuidelineLevel{}
	for _, g := range gs {
		levels[g.Key] = g.Level
	}
	for _, k := range ogp.GuidelineKeys {
		switch levels[k] {
		case ogp.GuidelineMet:
			s.Met++
			s.Points += 2
		case ogp.GuidelinePartly:
			s.Partly++
			s.Points++
		case ogp.GuidelineNotMet:
			s.NotMet++
		default:
			s.Unknown++
		}
	}
	return s
}

// Remove forgets an object (a Delete): commitment, update or plan. A removed
// commitment's updates stay until deleted themselves, but no longer show.
func (m *Model) Remove(iri string) bool {
	m.mu.Lock()
	changed := false
	removed, isCommitment := m.commitments[iri]
	if isCommitment {
		delete(m.commitments, iri)
		changed = true
	}
	removedUpdate, isUpdate := m.updates.get(&m.recs, iri)
	var updatePilot, updateCommitment string
	if isUpdate {
		tl := m.recs.timelineOf(removedUpdate)
		updatePilot, updateCommitment = tl.pilot, tl.commitment
		m.unlinkUpdate(removedUpdate)
		m.compactIfWasteful()
		changed = true
	}
	if _, ok := m.plans[iri]; ok {
		delete(m.plans, iri)
		changed = true
	}
	if changed {
		m.bump()
	}
	m.mu.Unlock()
	if isCommitment {
		m.notify(*removed, true)
	}
	if isUpdate {
		m.notifyUpdate(updatePilot, updateCommitment)
	}
	return changed
}

// RemovePilot forgets a pilot and everything it published (used when a
// member's history is purged; suspension only hides).
func (m *Model) RemovePilot(actor string) {
	m.mu.Lock()
	delete(m.pilots, actor)
	var gone []Commitment
	for id, c := range m.commitments {
		if c.Pilot == actor {
			delete(m.commitments, id)
			gone = append(gone, *c)
		}
	}
	var theirs []recID
	m.updates.each(func(u recID) {
		if m.recs.timelineOf(u).pilot == actor {
			theirs = append(theirs, u)
		}
	})
	for _, u := range theirs {
		m.unlinkUpdate(u)
	}
	m.compactIfWasteful()
	for id, p := range m.plans {
		if p.Pilot == actor {
			delete(m.plans, id)
		}
	}
	m.bump()
	m.mu.Unlock()
	for _, c := range gone {
		m.notify(c, true)
	}
}

// share replaces the strings many commitments repeat by one shared copy,
// and a URL equal to the IRI by the IRI.
func (m *Model) share(c *Commitment) {
	in := &m.strs
	if c.URL == c.ID {
		c.URL = c.ID
	}
	c.ActionPlan, c.Jurisdiction, c.LeadInstitution, c.Taxonomy = in.str(c.ActionPlan), in.str(c.Jurisdiction), in.str(c.LeadInstitution), in.str(c.Taxonomy)
	c.StartDate, c.EndDate = in.date(c.StartDate), in.date(c.EndDate)
	for i, t := range c.Themes {
		c.Themes[i] = in.str(t)
	}
	c.Themes, c.Values = internList(in, 't', c.Themes), internList(in, 'v', c.Values)
	for i := range c.Milestones {
		ms := &c.Milestones[i]
		ms.Type = in.str(ms.Type)
		ms.StartDate, ms.EndDate, ms.CompletedDate = in.date(ms.StartDate), in.date(ms.EndDate), in.date(ms.CompletedDate)
	}
	for i := range c.Tags {
		c.Tags[i].Type = in.str(c.Tags[i].Type)
	}
}

func validDate(d ogp.Date) ogp.Date {
	if d.Valid() {
		return d
	}
	return ""
}

func plainList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, plainText(s))
	}
	return out
}

func mapValues(m map[string]string) string {
	var b strings.Builder
	for _, v := range m {
		b.WriteString(v)
		b.WriteByte(' ')
	}
	return b.String()
}

// searchText folds text for matching: lower case, accents removed, HTML tags
// dropped, so "Participación" matches "participacion".
func searchText(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(fold(HTMLText(p)))
		b.WriteByte(' ')
	}
	return b.String()
}

func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
