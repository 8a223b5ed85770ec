package readmodel

import (
	"fmt"
	"hash/maphash"
	"html/template"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// A progress update comes back from every query exactly as ingest gave it,
// whatever its compact form stores apart: an IRI under its commitment's or
// elsewhere, a URL other than the IRI, translations, evidence, milestone
// changes, an edit time, a publication time outside int64 nanoseconds.
func TestUpdatesRoundTrip(t *testing.T) {
	m, a, _ := seeded(t)
	c := a + "/commitments/A0001"
	pub := time.Date(2025, 5, 2, 10, 30, 0, 123, time.UTC)
	in := []ogp.ProgressUpdate{
		{ID: c + "/updates/1", InReplyTo: c, Date: "2025-05-01", Content: "<p>one</p>", Published: pub},
		{ID: "http://a.localhost/notes/77", InReplyTo: c, Date: "2025-05-03", Content: "<p>elsewhere</p>", Published: pub,
			URL: "http://a.localhost/reports/77", ContentMap: map[string]string{"es": "<p>otro</p>"},
			Evidence: []string{"https://a.example/doc.pdf", "javascript:alert(1)"}, Completion: ogp.CompletionSubstantial,
			MilestoneChanges: []ogp.MilestoneChange{{Milestone: "m3", Status: ogp.MilestoneComplete}}, Updated: pub.Add(time.Hour)},
		{ID: c + "/updates/old", InReplyTo: c, Date: "1500-01-01", Content: "<p>old</p>", Published: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: c + "/updates/undated", InReplyTo: c, Content: "<p>undated</p>"},
	}
	for _, u := range in {
		if !m.ApplyUpdate(a, u) {
			t.Fatalf("update %s not applied", u.ID)
		}
	}
	want := map[string]Update{
		in[0].ID: {ID: in[0].ID, Commitment: c, Pilot: a, URL: in[0].ID, Date: "2025-05-01", ContentHTML: HTML{Default: "<p>one</p>"}, Published: pub},
		in[1].ID: {ID: in[1].ID, Commitment: c, Pilot: a, URL: "http://a.localhost/reports/77", Date: "2025-05-03",
			ContentHTML: HTML{Default: "<p>elsewhere</p>", Map: map[string]template.HTML{"es": "<p>otro</p>"}},
			Completion:  ogp.CompletionSubstantial, MilestoneChanges: in[1].MilestoneChanges,
			Evidence: []string{"https://a.example/doc.pdf"}, Published: pub, Updated: pub.Add(time.Hour)},
		in[2].ID: {ID: in[2].ID, Commitment: c, Pilot: a, URL: in[2].ID, Date: "1500-01-01", ContentHTML: HTML{Default: "<p>old</p>"}, Published: in[2].Published},
		in[3].ID: {ID: in[3].ID, Commitment: c, Pilot: a, URL: in[3].ID, ContentHTML: HTML{Default: "<p>undated</p>"}},
	}
	tl := m.Timeline(c)
	if len(tl) != len(in) {
		t.Fatalf("timeline has %d updates, want %d", len(tl), len(in))
	}
	for _, got := range tl {
		if w := want[got.ID]; !reflect.DeepEqual(got, w) {
			t.Errorf("update %s:\n got %+v\nwant %+v", got.ID, got, w)
		}
	}
	// Oldest first: undated, 1500, then by date.
	if tl[0].ID != in[3].ID || tl[1].ID != in[2].ID || tl[2].ID != in[0].ID || tl[3].ID != in[1].ID {
		t.Errorf("order %s, %s, %s, %s", tl[0].ID, tl[1].ID, tl[2].ID, tl[3].ID)
	}
	if got := m.PilotTimeline(a, 1); len(got) != 1 || !reflect.DeepEqual(got[0], want[in[1].ID]) {
		t.Errorf("pilot timeline newest = %+v", got)
	}
	if got := m.Latest(0); len(got) == 0 || got[0].ID != in[1].ID {
		t.Errorf("latest = %+v", got)
	}
	// The commitment counts its updates, and its last update is the
	// newest dated one.
	if got, _ := m.Commitment(c); got.Updates != 4 || !got.LastUpdate.Equal(time.Date(2025, 5, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("commitment: %d updates, last %s", got.Updates, got.LastUpdate)
	}
}

// An update moved to another commitment (a newer version naming another
// inReplyTo) leaves the first timeline; a deleted one leaves both the
// timeline and the index; an older version changes nothing.
func TestUpdateMovesAndGoes(t *testing.T) {
	m, a, _ := seeded(t)
	c1, c2 := a+"/commitments/A0001", a+"/commitments/A0002"
	u := ogp.ProgressUpdate{ID: c1 + "/updates/1", InReplyTo: c1, Date: "2025-05-01", Content: "x", Published: day}
	m.ApplyUpdate(a, u)
	before := m.Timeline(c1)
	moved := u
	moved.InReplyTo, moved.Updated = c2, day.Add(time.Hour)
	if !m.ApplyUpdate(a, moved) {
		t.Fatal("newer version not applied")
	}
	if len(m.Timeline(c1)) != 0 || len(m.Timeline(c2)) != 1 || m.Timeline(c2)[0].ID != u.ID {
		t.Fatalf("after the move: %d on %s, %d on %s", len(m.Timeline(c1)), c1, len(m.Timeline(c2)), c2)
	}
	if len(before) != 1 {
		t.Error("a timeline handed out earlier changed")
	}
	if m.ApplyUpdate(a, u) {
		t.Error("an older version was applied")
	}
	if !m.Remove(u.ID) || len(m.Timeline(c2)) != 0 || m.Remove(u.ID) {
		t.Error("the update was not removed once")
	}
	if got := m.Totals().Updates; got != 0 {
		t.Errorf("totals count %d updates", got)
	}
}

// The index finds every record among many, through growth and deletions
// (tombstones), with IRIs stored whole or as a tail of their commitment's.
func TestUpdIndex(t *testing.T) {
	var tab recTable
	x := newUpdIndex()
	tl := &timeline{pilot: "p", commitment: "http://a.localhost/commitments/C1"}
	tab.addTimeline(tl)
	var all []recID
	for i := range 2000 {
		id := fmt.Sprintf("%s/updates/%d", tl.commitment, i)
		if i%3 == 0 {
			id = fmt.Sprintf("http://a.localhost/notes/%d", i)
		}
		r := tab.add(tl, Update{ID: id, URL: id})
		if (i%3 == 0) == (tab.rec(r).flags&flagTail != 0) {
			t.Fatalf("%s: tail flag %v", id, tab.rec(r).flags&flagTail != 0)
		}
		if got := tab.fullID(r); got != id {
			t.Fatalf("record %d has IRI %q, want %q", r, got, id)
		}
		x.put(&tab, r)
		all = append(all, r)
	}
	for i, r := range all {
		if i%2 == 0 {
			x.del(&tab, r)
		}
	}
	for i, r := range all {
		got, ok := x.get(&tab, tab.fullID(r))
		if (i%2 == 0) == ok || (ok && got != r) {
			t.Fatalf("get(%s) = %d, %v after deleting the even ones", tab.fullID(r), got, ok)
		}
	}
	if x.live != 1000 {
		t.Errorf("live = %d, want 1000", x.live)
	}
	if _, ok := x.get(&tab, tl.commitment+"/updates/"); ok {
		t.Error("found a record under a prefix of its IRI")
	}
	if _, ok := x.get(&tab, tl.commitment); ok {
		t.Error("found a record under its commitment's IRI")
	}
	// A tail's hash is its whole IRI's.
	r := all[1]
	if tab.hash(x.seed, r) != maphash.String(x.seed, tab.fullID(r)) {
		t.Error("the hash of a tail differs from its IRI's")
	}
}

// The records, the timelines' record lists and the index hold no pointers,
// so the garbage collector never scans them (what keeps the comparison's
// tail flat as the hub grows), and a record stays 48 bytes.
func TestRecordsHoldNoPointers(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[recChunk](), reflect.TypeFor[recID](), reflect.TypeFor[strRef]()} {
		if hasPointers(typ) {
			t.Errorf("%s holds pointers", typ)
		}
	}
	if got := reflect.TypeFor[updIndex]().Field(1); got.Name != "slots" || hasPointers(got.Type.Elem()) {
		t.Errorf("the index's slots (%s %s) hold pointers", got.Name, got.Type)
	}
	if got := reflect.TypeFor[updRec]().Size(); got > 48 {
		t.Errorf("a record takes %d bytes, want at most 48", got)
	}
}

func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// Text goes into shared chunks and comes back unchanged: across the end of
// a chunk, empty, and longer than a chunk's share (a chunk of its own),
// and what a table copy read before later writes is unchanged by them.
func TestRecordTextAcrossChunks(t *testing.T) {
	var tab recTable
	var refs []strRef
	var want []string
	put := func(s string) {
		refs = append(refs, tab.putText(s))
		want = append(want, s)
	}
	put("")
	for i := 0; tab.used < textChunkSize-100 || len(tab.text) < 3; i++ {
		put(fmt.Sprintf("<p>update %d: %s</p>", i, strings.Repeat("é", i%50)))
	}
	put(strings.Repeat("long ", textOwnChunk/5+1))
	put("after the long one")
	before := tab // a view's copy
	seen := len(refs)
	for i := range 1000 {
		put(fmt.Sprintf("later %d", i))
	}
	if len(tab.text) < 4 {
		t.Fatalf("only %d text chunks: the test did not cross a chunk boundary", len(tab.text))
	}
	for i, r := range refs {
		if got := tab.str(r); got != want[i] {
			t.Fatalf("string %d: got %q, want %q", i, got, want[i])
		}
		if i < seen {
			if got := before.str(r); got != want[i] {
				t.Fatalf("string %d read from the earlier copy: got %q, want %q", i, got, want[i])
			}
		}
	}
}

// Updates replaced over and over (a member re-sending its history) and
// removed leave dead records that compaction drops: the table stays about
// the size of what is live, every query answers as before, and a view
// taken before the compaction still shows what it showed.
func TestUpdateRecordsCompacted(t *testing.T) {
	m, a, _ := seeded(t)
	cs := []string{a + "/commitments/A0001", a + "/commitments/A0002", a + "/commitments/A0003"}
	const perCommitment = 700
	apply := func(round int) {
		for _, c := range cs {
			for i := range perCommitment {
				u := ogp.ProgressUpdate{ID: fmt.Sprintf("%s/updates/%d", c, i), InReplyTo: c,
					Date: ogp.DateOf(day.AddDate(0, 0, -i)), Content: fmt.Sprintf("<p>round %d, update %d</p>", round, i),
					Published: day.AddDate(0, 0, -i), Updated: day.Add(time.Duration(round) * time.Minute)}
				if round > 0 && i%10 == 0 {
					u.URL = fmt.Sprintf("https://a.example/%d/%d", round, i) // rare fields are copied too
				}
				if !m.ApplyUpdate(a, u) {
					t.Fatalf("round %d: %s not applied", round, u.ID)
				}
			}
		}
	}
	apply(0)
	early := m.Timeline(cs[0])
	v0 := m.current()
	for round := 1; round <= 6; round++ {
		apply(round)
	}
	live := len(cs) * perCommitment
	if m.recs.n > 3*live {
		t.Errorf("the table holds %d records for %d live updates: not compacted", m.recs.n, live)
	}
	if m.recs.dead != m.recs.n-live {
		t.Errorf("dead = %d, want %d", m.recs.dead, m.recs.n-live)
	}
	for _, c := range cs {
		tl := m.Timeline(c)
		if len(tl) != perCommitment {
			t.Fatalf("%s: %d updates, want %d", c, len(tl), perCommitment)
		}
		for j, u := range tl {
			i := perCommitment - 1 - j // oldest first
			if want := fmt.Sprintf("<p>round 6, update %d</p>", i); string(u.ContentHTML.Default) != want || u.ID != fmt.Sprintf("%s/updates/%d", c, i) || u.Commitment != c || u.Pilot != a {
				t.Fatalf("%s[%d] = %s %q (%s, %s)", c, j, u.ID, u.ContentHTML.Default, u.Commitment, u.Pilot)
			}
			if wantURL := fmt.Sprintf("https://a.example/6/%d", i); i%10 == 0 && u.URL != wantURL {
				t.Fatalf("%s: URL %q, want %q", u.ID, u.URL, wantURL)
			}
		}
	}
	if got := v0.recs.exportAll(v0.timelines[cs[0]]); !reflect.DeepEqual(got, early) {
		t.Error("a view built before the compaction changed")
	}
	// Removing every update of one commitment, then another's, leaves
	// the rest findable and counted.
	for i := range perCommitment {
		if !m.Remove(fmt.Sprintf("%s/updates/%d", cs[1], i)) {
			t.Fatalf("update %d of %s not removed", i, cs[1])
		}
	}
	if got := m.Timeline(cs[1]); len(got) != 0 {
		t.Errorf("%s keeps %d updates", cs[1], len(got))
	}
	if got := m.Totals().Updates; got != 2*perCommitment {
		t.Errorf("totals: %d updates, want %d", got, 2*perCommitment)
	}
	if got := m.Timeline(cs[2]); len(got) != perCommitment || got[perCommitment-1].ID != cs[2]+"/updates/0" {
		t.Errorf("%s after removals elsewhere: %d updates", cs[2], len(got))
	}
	m.RemovePilot(a)
	if m.recs.n-m.recs.dead != 0 || m.updates.live != 0 {
		t.Errorf("after removing the pilot: %d live records, %d in the index", m.recs.n-m.recs.dead, m.updates.live)
	}
}

// A view shares the commitments whose derived fields did not change with
// the model; one that changed is a new copy, and an earlier view keeps
// what it showed.
func TestViewSharesCommitments(t *testing.T) {
	m, a, _ := seeded(t)
	id := a + "/commitments/A0001"
	first, _ := m.Commitment(id)
	v1 := m.current()
	m.ApplyUpdate(a, ogp.ProgressUpdate{ID: id + "/updates/9", InReplyTo: id, Date: "2025-05-30", Content: "x", Published: day})
	v2 := m.current()
	if v1.commitments[id] == v2.commitments[id] {
		t.Fatal("the commitment whose timeline grew was not copied")
	}
	if v1.commitments[id].Updates != first.Updates || v2.commitments[id].Updates != first.Updates+1 {
		t.Errorf("updates: earlier view %d, new view %d, first %d", v1.commitments[id].Updates, v2.commitments[id].Updates, first.Updates)
	}
	for cid, c := range v2.commitments {
		if m.commitments[cid] != c {
			t.Errorf("%s: the model and its view hold two structs", cid)
		}
	}
	m.SetPilot(PilotInfo{Actor: a, Name: "Ávila"}) // a bump that changes no derived field
	v3 := m.current()
	if v3.commitments[id] != v2.commitments[id] {
		t.Error("an unchanged commitment was copied again")
	}
}

// A commitment that names no jurisdiction shows its pilot's, and follows
// it when it changes, although the model now keeps the view's copy (with
// the pilot's jurisdiction filled in) as the commitment.
func TestDerivedJurisdictionFollowsThePilot(t *testing.T) {
	m := New(fixedNow)
	a := "http://a.localhost"
	m.SetPilot(PilotInfo{Actor: a, Name: "A"})
	plan := func(j string, updated time.Time) {
		m.ApplyPlan(a, ogp.ActionPlan{Post: ogp.Post{ID: a + "/plans/p1", Type: ogp.TypeActionPlan, Name: "Plan", Published: day.Add(-time.Hour), Updated: updated},
			Jurisdiction: j, Period: ogp.Period{Start: "2024-01-01", End: "2026-12-31"}, Status: ogp.PlanImplementation})
	}
	plan("Jalisco", time.Time{})
	c := commitment(a, "A0001", ogp.CompletionLimited)
	m.ApplyCommitment(a, c, day)
	if got, _ := m.Commitment(c.ID); got.Jurisdiction != "Jalisco" {
		t.Fatalf("jurisdiction %q, want the pilot's", got.Jurisdiction)
	}
	plan("Estado de Jalisco", day)
	if got, _ := m.Commitment(c.ID); got.Jurisdiction != "Estado de Jalisco" {
		t.Fatalf("jurisdiction %q after the plan changed, want the new one", got.Jurisdiction)
	}
	own := c
	own.Jurisdiction, own.Updated = "Guadalajara", day
	m.ApplyCommitment(a, own, day)
	if got, _ := m.Commitment(c.ID); got.Jurisdiction != "Guadalajara" {
		t.Fatalf("jurisdiction %q, want the commitment's own", got.Jurisdiction)
	}
}

// Commitments with the same policy areas (or values) share one list, in
// the order each named them; a list cannot be grown into another's.
func TestCommitmentListsShared(t *testing.T) {
	m := New(fixedNow)
	a := "http://a.localhost"
	m.SetPilot(PilotInfo{Actor: a, Name: "A"})
	for _, c := range []ogp.Commitment{
		commitment(a, "A1", ogp.CompletionLimited, "open-data", "budget"),
		commitment(a, "A2", ogp.CompletionLimited, "open-data", "budget"),
		commitment(a, "A3", ogp.CompletionLimited, "budget", "open-data"),
	} {
		m.ApplyCommitment(a, c, day)
	}
	c1, _ := m.Commitment(a + "/commitments/A1")
	c2, _ := m.Commitment(a + "/commitments/A2")
	c3, _ := m.Commitment(a + "/commitments/A3")
	if &c1.Themes[0] != &c2.Themes[0] || &c1.Values[0] != &c2.Values[0] {
		t.Error("two commitments with the same policy areas and values hold two lists")
	}
	if !reflect.DeepEqual(c3.Themes, []string{"budget", "open-data"}) || !reflect.DeepEqual(c1.Themes, []string{"open-data", "budget"}) {
		t.Errorf("themes %v and %v: order not kept", c1.Themes, c3.Themes)
	}
	if cap(c1.Themes) != len(c1.Themes) || cap(c1.Values) != len(c1.Values) {
		t.Error("a shared list has room to grow into")
	}
}

// Readers keep answering, from whole timelines, while writers add, replace
// (enough to compact the records several times) and remove updates (run
// with -race to look for readers and writers sharing memory; that a view
// keeps what it showed is TestUpdateRecordsCompacted's).
func TestUpdatesReadWhileCompacted(t *testing.T) {
	m, a, _ := seeded(t)
	c := a + "/commitments/A0001"
	const n = 500
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for round := range 30 {
			for i := range n {
				m.ApplyUpdate(a, ogp.ProgressUpdate{ID: fmt.Sprintf("%s/updates/%d", c, i), InReplyTo: c,
					Date: ogp.DateOf(day.AddDate(0, 0, -i)), Content: fmt.Sprintf("<p>round %d</p>", round),
					Published: day.AddDate(0, 0, -i), Updated: day.Add(time.Duration(round) * time.Minute)})
			}
			m.Remove(fmt.Sprintf("%s/updates/%d", c, round))
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				tl := m.Timeline(c)
				for _, u := range tl {
					if u.Commitment != c || !strings.HasPrefix(u.ID, c+"/updates/") || !strings.HasPrefix(string(u.ContentHTML.Default), "<p>round ") {
						t.Errorf("read %+v", u)
						return
					}
				}
				_ = m.Latest(20)
				_ = m.PilotTimeline(a, 10)
			}
		})
	}
	wg.Wait()
	// Each round re-adds the update the previous one removed.
	if got := len(m.Timeline(c)); got != n-1 {
		t.Errorf("%d updates left, want %d", got, n-1)
	}
}
