package readmodel

import (
	"bytes"
	"hash/maphash"
	"html/template"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// The model holds a million progress updates at design §5's scale (1,000
// pilots × 50 commitments × 20 updates), so they are kept where the
// garbage collector does not look (issue 11: the read model within 250 MB,
// and the comparison's p99 flat as the hub grows; while requests run, the
// collector's marking of the model took the tail). A record is a 48-byte
// struct without pointers in a chunk of 4,096 (recChunk): its timeline is
// an index in the table's timelines, its IRI (the part after the
// commitment's IRI when it starts with it) and its content are offsets
// into large byte chunks, its date a day number, its times nanoseconds,
// and the rare fields (translations, links, milestone changes, a URL other
// than the IRI) an index into a small side table. Timelines and the IRI
// index hold record numbers (uint32), not pointers. Chunks of memory
// without pointers are never scanned: marking the model costs its few
// thousand chunks, not its million records.
//
// Records and text are written once and never changed: a replaced or
// removed update's record stays until the table is compacted (when dead
// records outnumber live ones), so a view, which keeps a copy of the
// table's slice headers, reads what it was built from without the model's
// lock. Queries hand out the exported Update, built (copied) on the way
// out.

// recID numbers a record in its recTable.
type recID uint32

// updRec is the stored form of one progress update. It holds no pointers.
type updRec struct {
	tl         uint32 // index in recTable.tls
	x          uint32 // 0: no rare fields, else 1 + index in recTable.extras
	id         strRef // the IRI, or (flagTail) what follows tl.commitment+"/"
	content    strRef // sanitised HTML
	published  int64  // Unix nanoseconds (flagPublishedX: in the extras instead)
	date       int32  // days since 1970-01-01, noDate when none
	flags      uint8
	completion uint8 // 0: none, i+1: ogp.Completions[i]
}

// strRef is a string stored in a recTable's text chunks.
type strRef struct{ chunk, off, n uint32 }

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
	flagPublishedX             // published is in the extras
)

const noDate = math.MinInt32

const (
	recChunkLen = 4096
	// textChunkSize is the size of a text chunk; a string longer than
	// textOwnChunk gets a chunk of its own, so little is left unused at
	// the end of a chunk.
	textChunkSize = 256 << 10
	textOwnChunk  = textChunkSize / 8
	// compactMinDead: a table is compacted when it holds at least this
	// many dead records and more dead records than live ones.
	compactMinDead = 4096
)

type recChunk [recChunkLen]updRec

// timeline is one pilot's progress updates on one commitment.
type timeline struct {
	pilot, commitment string
	// idx is the timeline's index in the model's recTable.tls (written
	// under the model's lock; views read only pilot and commitment).
	idx uint32
	// ups is oldest first. It is replaced, never edited in place, because
	// views share it.
	ups  []recID
	last time.Time // newest updateTime of ups
}

// recTable stores update records and their text, append-only. The model
// holds one; each view holds a copy (slice headers), valid for the
// records written before it was taken.
type recTable struct {
	recs   []*recChunk
	n      int // records written
	dead   int // records no timeline holds any more
	text   [][]byte
	fill   int // 1 + index in text of the chunk being filled, 0 none
	used   int // bytes used of that chunk
	tls    []*timeline
	extras []updExtra
}

func (t *recTable) rec(id recID) *updRec { return &t.recs[id/recChunkLen][id%recChunkLen] }

func (t *recTable) timelineOf(id recID) *timeline { return t.tls[t.rec(id).tl] }

func (t *recTable) bytes(s strRef) []byte {
	if s.n == 0 {
		return nil
	}
	return t.text[s.chunk][s.off : s.off+s.n]
}

func (t *recTable) str(s strRef) string { return string(t.bytes(s)) }

// putText stores s, which no one will change.
func (t *recTable) putText(s string) strRef {
	n := len(s)
	switch {
	case n == 0:
		return strRef{}
	case n > textOwnChunk:
		t.text = append(t.text, []byte(s))
		return strRef{chunk: uint32(len(t.text) - 1), n: uint32(n)}
	case t.fill == 0 || t.used+n > textChunkSize:
		t.text = append(t.text, make([]byte, textChunkSize))
		t.fill, t.used = len(t.text), 0
	}
	copy(t.text[t.fill-1][t.used:], s)
	r := strRef{chunk: uint32(t.fill - 1), off: uint32(t.used), n: uint32(n)}
	t.used += n
	return r
}

// addTimeline gives tl its index in the table.
func (t *recTable) addTimeline(tl *timeline) {
	tl.idx = uint32(len(t.tls))
	t.tls = append(t.tls, tl)
}

// append stores a record and returns its number.
func (t *recTable) append(r updRec) recID {
	if t.n == len(t.recs)*recChunkLen {
		t.recs = append(t.recs, new(recChunk))
	}
	id := recID(t.n)
	*t.rec(id) = r
	t.n++
	return id
}

// add stores u as an update of tl (which the table holds).
func (t *recTable) add(tl *timeline, u Update) recID {
	r := updRec{tl: tl.idx, content: t.putText(string(u.ContentHTML.Default)), date: dayOf(u.Date)}
	if c := tl.commitment; len(u.ID) > len(c)+1 && u.ID[len(c)] == '/' && strings.HasPrefix(u.ID, c) {
		r.id, r.flags = t.putText(u.ID[len(c)+1:]), flagTail
	} else {
		r.id = t.putText(u.ID)
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
		t.extras = append(t.extras, x)
		r.x = uint32(len(t.extras))
	}
	return t.append(r)
}

// copyFrom stores record id of table src, as an update of tl, in t.
func (t *recTable) copyFrom(src *recTable, id recID, tl *timeline) recID {
	r := *src.rec(id)
	r.tl = tl.idx
	r.id = t.putText(string(src.bytes(r.id)))
	r.content = t.putText(string(src.bytes(r.content)))
	if r.x != 0 {
		t.extras = append(t.extras, src.extras[r.x-1])
		r.x = uint32(len(t.extras))
	}
	return t.append(r)
}

func (t *recTable) extra(r *updRec) *updExtra {
	if r.x == 0 {
		return nil
	}
	return &t.extras[r.x-1]
}

// fullID is the update's IRI.
func (t *recTable) fullID(id recID) string {
	r := t.rec(id)
	if r.flags&flagTail == 0 {
		return t.str(r.id)
	}
	return t.tls[r.tl].commitment + "/" + string(t.bytes(r.id))
}

// hasID reports whether the update's IRI is iri, without building it.
func (t *recTable) hasID(id recID, iri string) bool {
	r := t.rec(id)
	own := t.bytes(r.id)
	if r.flags&flagTail == 0 {
		return string(own) == iri
	}
	c := t.tls[r.tl].commitment
	return len(iri) == len(c)+1+len(own) && iri[len(c)] == '/' && iri[:len(c)] == c && iri[len(c)+1:] == string(own)
}

func (t *recTable) hash(seed maphash.Seed, id recID) uint64 {
	r := t.rec(id)
	if r.flags&flagTail == 0 {
		return maphash.Bytes(seed, t.bytes(r.id))
	}
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(t.tls[r.tl].commitment)
	h.WriteByte('/')
	h.Write(t.bytes(r.id))
	return h.Sum64()
}

func (t *recTable) publishedTime(r *updRec) time.Time {
	if r.flags&flagPublishedX != 0 {
		return t.extra(r).published
	}
	return time.Unix(0, r.published).UTC()
}

func (t *recTable) updatedTime(r *updRec) time.Time {
	if x := t.extra(r); x != nil {
		return x.updated
	}
	return time.Time{}
}

func (r *updRec) dateTime() time.Time {
	if r.date == noDate {
		return time.Time{}
	}
	return time.Unix(int64(r.date)*86400, 0).UTC()
}

// export is the record as the API's Update.
func (t *recTable) export(id recID) Update {
	r := t.rec(id)
	tl := t.tls[r.tl]
	u := Update{
		ID:          t.fullID(id),
		Commitment:  tl.commitment,
		Pilot:       tl.pilot,
		ContentHTML: HTML{Default: template.HTML(t.str(r.content))}, //nolint:gosec // sanitised when ingested
		Published:   t.publishedTime(r),
		Updated:     t.updatedTime(r),
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
	if x := t.extra(r); x != nil {
		if r.flags&flagURLIsID == 0 {
			u.URL = x.url
		}
		u.ContentHTML.Map, u.MilestoneChanges, u.Evidence = x.contentMap, x.changes, x.evidence
	}
	return u
}

func (t *recTable) exportAll(ids []recID) []Update {
	out := make([]Update, len(ids))
	for i, id := range ids {
		out[i] = t.export(id)
	}
	return out
}

// dayOf is a valid date's day number, noDate for "".
func dayOf(d ogp.Date) int32 {
	tm := d.Time()
	if tm.IsZero() {
		return noDate
	}
	return int32(tm.Unix() / 86400)
}

// compareUpdates orders by date, then publication, then IRI.
func (t *recTable) compareUpdates(a, b recID) int {
	ra, rb := t.rec(a), t.rec(b)
	if ra.date != rb.date {
		if ra.date < rb.date {
			return -1
		}
		return 1
	}
	if c := t.publishedTime(ra).Compare(t.publishedTime(rb)); c != 0 {
		return c
	}
	if ra.tl == rb.tl && ra.flags&flagTail != 0 && rb.flags&flagTail != 0 {
		return bytes.Compare(t.bytes(ra.id), t.bytes(rb.id))
	}
	return strings.Compare(t.fullID(a), t.fullID(b))
}

// updateTime is when a progress update reports progress: its own date (a
// history imported today still reports 2017), else when it was updated or
// published.
func (t *recTable) updateTime(id recID) time.Time {
	r := t.rec(id)
	if r.date != noDate {
		return r.dateTime()
	}
	if u := t.updatedTime(r); !u.IsZero() {
		return u
	}
	return t.publishedTime(r)
}

// updIndex finds update records by IRI: open addressing with linear
// probing over record numbers, so the IRI is not stored twice and the
// slots hold no pointers.
type updIndex struct {
	seed  maphash.Seed
	slots []uint32 // slotEmpty, slotGone, or a record's number + slotFirst
	live  int      // records
	used  int      // records and tombstones
}

const (
	slotEmpty = 0
	slotGone  = 1 // a tombstone
	slotFirst = 2
)

func newUpdIndex() *updIndex { return &updIndex{seed: maphash.MakeSeed()} }

func (x *updIndex) get(t *recTable, iri string) (recID, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	for i := maphash.String(x.seed, iri) & mask; ; i = (i + 1) & mask {
		switch s := x.slots[i]; {
		case s == slotEmpty:
			return 0, false
		case s != slotGone && t.hasID(recID(s-slotFirst), iri):
			return recID(s - slotFirst), true
		}
	}
}

// put adds record r, whose IRI the index does not hold (delete the old
// one first).
func (x *updIndex) put(t *recTable, r recID) {
	if (x.used+1)*4 > len(x.slots)*3 {
		x.resize(t)
	}
	mask := uint64(len(x.slots) - 1)
	for i := t.hash(x.seed, r) & mask; ; i = (i + 1) & mask {
		switch x.slots[i] {
		case slotEmpty:
			x.used++
			fallthrough
		case slotGone:
			x.slots[i] = uint32(r) + slotFirst
			x.live++
			return
		}
	}
}

// del removes record r.
func (x *updIndex) del(t *recTable, r recID) {
	if len(x.slots) == 0 {
		return
	}
	mask := uint64(len(x.slots) - 1)
	for i := t.hash(x.seed, r) & mask; ; i = (i + 1) & mask {
		switch x.slots[i] {
		case slotEmpty:
			return
		case uint32(r) + slotFirst:
			x.slots[i] = slotGone
			x.live--
			return
		}
	}
}

// resize rebuilds the table at twice the live records (at least 16 slots),
// dropping tombstones.
func (x *updIndex) resize(t *recTable) {
	n := 16
	for n < 2*(x.live+1) {
		n *= 2
	}
	old := x.slots
	x.slots, x.live, x.used = make([]uint32, n), 0, 0
	for _, s := range old {
		if s >= slotFirst {
			x.put(t, recID(s-slotFirst))
		}
	}
}

func (x *updIndex) each(fn func(recID)) {
	for _, s := range x.slots {
		if s >= slotFirst {
			fn(recID(s - slotFirst))
		}
	}
}

// interner shares one copy of the strings many objects repeat (policy
// areas, plan IRIs, institutions, dates). It only grows: what it holds is
// bounded by the distinct values members publish in these fields.
type interner struct {
	mu    sync.Mutex
	m     map[string]string
	lists map[string]any // shared lists (internList), by kind and items
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

// internList shares one copy of a list many objects repeat (a
// commitment's policy areas, its values): one object fewer per commitment
// for the garbage collector to mark. kind keeps lists of different types
// apart. The list returned is shared: no one may change it (the model's
// rule for what queries return), and its capacity is its length, so an
// append copies.
func internList[T ~string](in *interner, kind byte, xs []T) []T {
	if len(xs) == 0 {
		return xs
	}
	var b strings.Builder
	b.WriteByte(kind)
	for _, x := range xs {
		b.WriteString(string(x))
		b.WriteByte(0)
	}
	k := b.String()
	in.mu.Lock()
	defer in.mu.Unlock()
	if v, ok := in.lists[k].([]T); ok {
		return v
	}
	if in.lists == nil {
		in.lists = map[string]any{}
	}
	xs = slices.Clip(xs)
	in.lists[k] = xs
	return xs
}
