package readmodel

import (
	"fmt"
	"hash/maphash"
	"html/template"
	"reflect"
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
	x := newUpdIndex()
	tl := &timeline{pilot: "p", commitment: "http://a.localhost/commitments/C1"}
	var all []*upd
	for i := range 2000 {
		id := fmt.Sprintf("%s/updates/%d", tl.commitment, i)
		if i%3 == 0 {
			id = fmt.Sprintf("http://a.localhost/notes/%d", i)
		}
		r := newUpd(tl, Update{ID: id, URL: id})
		if (i%3 == 0) == (r.flags&flagTail != 0) {
			t.Fatalf("%s: tail flag %v", id, r.flags&flagTail != 0)
		}
		x.put(r)
		all = append(all, r)
	}
	for i, r := range all {
		if i%2 == 0 {
			x.del(r.fullID())
		}
	}
	for i, r := range all {
		got := x.get(r.fullID())
		if (i%2 == 0) != (got == nil) || (got != nil && got != r) {
			t.Fatalf("get(%s) = %v after deleting the even ones", r.fullID(), got)
		}
	}
	if x.live != 1000 {
		t.Errorf("live = %d, want 1000", x.live)
	}
	if x.get(tl.commitment+"/updates/") != nil || x.get(tl.commitment) != nil {
		t.Error("found a record under a prefix of its IRI")
	}
	// A tail's hash is its whole IRI's.
	r := all[1]
	if r.hash(x.seed) != maphash.String(x.seed, r.fullID()) {
		t.Error("the hash of a tail differs from its IRI's")
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
