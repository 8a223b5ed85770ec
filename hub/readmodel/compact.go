package readmodel

import (
	"hash/maphash"
	"html/template"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// The model holds a million progress updates at design §5's scale (1,000
// pilots × 50 commitments × 20 updates), so each is kept compactly (issue
// 11: the read model within 250 MB there): a 64-byte record that shares its
// pilot and commitment with its timeline, keeps its IRI as the part after
// the commitment's IRI when it starts with it, its date as a day number
// and its times as nanoseconds, with the rare fields (translations, links,
// milestone changes, a URL other than the IRI) behind one pointer. Queries
// hand out the exported Update, built on the way out. An open-addressing
// table of record pointers (updIndex) finds a record by its IRI without
// storing the IRI a second time.

// timeline is one pilot's progress updates on one commitment.
type timeline struct {
	pilot, commitment string
	// ups is oldest first. It is replaced, never edited in place, because
	// views share it.
	ups  []*upd
	last time.Time // newest updateTime of ups
}

// upd is the stored form of one progress update.
type upd struct {
	tl         *timeline
	id         string // the IRI, or (flagTail) what follows tl.commitment+"/"
	content    template.HTML
	published  int64 // Unix nanoseconds (flagPublishedX: in x instead)
	date       int32 // days since 1970-01-01, noDate when none
	flags      uint8
	completion uint8 // 0: none, i+1: ogp.Completions[i]
	x          *updExtra
}

// updExtra holds what few updates have.
type updExtra struct {
	url        string // when not the IRI (flagURLIsID unset)
	contentMap map[string]template.HTML
	changes    []ogp.MilestoneChange
	evidence   []string
	published  time.Time // when zero or beyond int64 nanoseconds
	updated    time.Time
}

const (
	flagTail       = 1 << iota // id is relative to tl.commitment
	flagURLIsID                // the URL is the IRI
	flagPublishedX             // published is in x
)

const noDate = math.MinInt32

// newUpd stores u in compact form; the caller sets tl before anything
// reads the record's IRI.
func newUpd(tl *timeline, u Update) *upd {
	r := &upd{tl: tl, content: u.ContentHTML.Default, date: dayOf(u.Date)}
	if c := tl.commitment; len(u.ID) > len(c)+1 && u.ID[len(c)] == '/' && strings.HasPrefix(u.ID, c) {
		r.id, r.flags = strings.Clone(u.ID[len(c)+1:]), flagTail
	} else {
		r.id = u.ID
	}
	x := updExtra{contentMap: u.ContentHTML.Map, changes: u.MilestoneChanges, evidence: u.Evidence, updated: u.Updated}
	if u.URL == u.ID {
		r.flags |= flagURLIsID
	} else {
		x.url = u.URL
	}
	if p := u.Published; p.Year() > 1678 && p.Year() < 2262 {
		r.published = p.UnixNano()
	} else {
		r.flags |= flagPublishedX
		x.published = p
	}
	for i, c := range ogp.Completions {
		if c == u.Completion {
			r.completion = uint8(i + 1)
		}
	}
	if x.url != "" || x.contentMap != nil || x.changes != nil || x.evidence != nil || !x.updated.IsZero() || r.flags&flagPublishedX != 0 {
		r.x = &x
	}
	return r
}

// fullID is the update's IRI.
func (r *upd) fullID() string {
	if r.flags&flagTail == 0 {
		return r.id
	}
	return r.tl.commitment + "/" + r.id
}

// hasID reports whether the update's IRI is id, without building it.
func (r *upd) hasID(id string) bool {
	if r.flags&flagTail == 0 {
		return r.id == id
	}
	c := r.tl.commitment
	return len(id) == len(c)+1+len(r.id) && id[len(c)] == '/' && id[:len(c)] == c && id[len(c)+1:] == r.id
}

func (r *upd) hash(seed maphash.Seed) uint64 {
	if r.flags&flagTail == 0 {
		return maphash.String(seed, r.id)
	}
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(r.tl.commitment)
	h.WriteByte('/')
	h.WriteString(r.id)
	return h.Sum64()
}

func (r *upd) publishedTime() time.Time {
	if r.flags&flagPublishedX != 0 {
		return r.x.published
	}
	return time.Unix(0, r.published).UTC()
}

func (r *upd) updatedTime() time.Time {
	if r.x == nil {
		return time.Time{}
	}
	return r.x.updated
}

func (r *upd) dateTime() time.Time {
	if r.date == noDate {
		return time.Time{}
	}
	return time.Unix(int64(r.date)*86400, 0).UTC()
}

// export is the record as the API's Update.
func (r *upd) export() Update {
	u := Update{
		ID:          r.fullID(),
		Commitment:  r.tl.commitment,
		Pilot:       r.tl.pilot,
		ContentHTML: HTML{Default: r.content},
		Published:   r.publishedTime(),
		Updated:     r.updatedTime(),
	}
	if r.date != noDate {
		u.Date = ogp.DateOf(r.dateTime())
	}
	if r.completion > 0 {
		u.Completion = ogp.Completions[r.completion-1]
	}
	if r.flags&flagURLIsID != 0 {
		u.URL = u.ID
	}
	if x := r.x; x != nil {
		if r.flags&flagURLIsID == 0 {
			u.URL = x.url
		}
		u.ContentHTML.Map, u.MilestoneChanges, u.Evidence = x.contentMap, x.changes, x.evidence
	}
	return u
}

func exportAll(rs []*upd) []Update {
	out := make([]Update, len(rs))
	for i, r := range rs {
		out[i] = r.export()
	}
	return out
}

// dayOf is a valid date's day number, noDate for "".
func dayOf(d ogp.Date) int32 {
	t := d.Time()
	if t.IsZero() {
		return noDate
	}
	return int32(t.Unix() / 86400)
}

// compareUpdates orders by date, then publication, then IRI.
func compareUpdates(a, b *upd) int {
	if a.date != b.date {
		if a.date < b.date {
			return -1
		}
		return 1
	}
	if c := a.publishedTime().Compare(b.publishedTime()); c != 0 {
		return c
	}
	if a.tl.commitment == b.tl.commitment && a.flags&flagTail != 0 && b.flags&flagTail != 0 {
		return strings.Compare(a.id, b.id)
	}
	return strings.Compare(a.fullID(), b.fullID())
}

// updateTime is when a progress update reports progress: its own date (a
// history imported today still reports 2017), else when it was updated or
// published.
func updateTime(r *upd) time.Time {
	if r.date != noDate {
		return r.dateTime()
	}
	if t := r.updatedTime(); !t.IsZero() {
		return t
	}
	return r.publishedTime()
}

// updIndex finds update records by IRI: open addressing with linear
// probing over record pointers, so the IRI is not stored twice.
type updIndex struct {
	seed  maphash.Seed
	slots []*upd
	live  int // records
	used  int // records and tombstones
}

var tombstone = new(upd)

func newUpdIndex() *updIndex { return &updIndex{seed: maphash.MakeSeed()} }

func (x *updIndex) get(id string) *upd {
	if len(x.slots) == 0 {
		return nil
	}
	mask := uint64(len(x.slots) - 1)
	for i := maphash.String(x.seed, id) & mask; ; i = (i + 1) & mask {
		switch r := x.slots[i]; {
		case r == nil:
			return nil
		case r != tombstone && r.hasID(id):
			return r
		}
	}
}

// put adds r, whose IRI the index does not hold (delete the old one first).
func (x *updIndex) put(r *upd) {
	if (x.used+1)*4 > len(x.slots)*3 {
		x.resize()
	}
	mask := uint64(len(x.slots) - 1)
	for i := r.hash(x.seed) & mask; ; i = (i + 1) & mask {
		switch x.slots[i] {
		case nil:
			x.used++
			fallthrough
		case tombstone:
			x.slots[i] = r
			x.live++
			return
		}
	}
}

func (x *updIndex) del(id string) {
	if len(x.slots) == 0 {
		return
	}
	mask := uint64(len(x.slots) - 1)
	for i := maphash.String(x.seed, id) & mask; ; i = (i + 1) & mask {
		switch r := x.slots[i]; {
		case r == nil:
			return
		case r != tombstone && r.hasID(id):
			x.slots[i] = tombstone
			x.live--
			return
		}
	}
}

// resize rebuilds the table at twice the live records (at least 16 slots),
// dropping tombstones.
func (x *updIndex) resize() {
	n := 16
	for n < 2*(x.live+1) {
		n *= 2
	}
	old := x.slots
	x.slots, x.live, x.used = make([]*upd, n), 0, 0
	for _, r := range old {
		if r != nil && r != tombstone {
			x.put(r)
		}
	}
}

func (x *updIndex) each(fn func(*upd)) {
	for _, r := range x.slots {
		if r != nil && r != tombstone {
			fn(r)
		}
	}
}

// interner shares one copy of the strings many objects repeat (policy
// areas, plan IRIs, institutions, dates). It only grows: what it holds is
// bounded by the distinct values members publish in these fields.
type interner struct {
	mu sync.Mutex
	m  map[string]string
}

func (in *interner) str(s string) string {
	if s == "" {
		return ""
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if v, ok := in.m[s]; ok {
		return v
	}
	if in.m == nil {
		in.m = map[string]string{}
	}
	s = strings.Clone(s)
	in.m[s] = s
	return s
}

func (in *interner) date(d ogp.Date) ogp.Date { return ogp.Date(in.str(string(d))) }
