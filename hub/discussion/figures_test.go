package discussion

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/hub/readmodel/readmodeltest"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
)

type noMembers struct{}

func (noMembers) Accepting(string) bool { return false }

func open(t testing.TB) *Service {
	t.Helper()
	s, err := Open(context.Background(), Config{DB: storetest.DB(t), Model: readmodeltest.Fill(t), Members: noMembers{}, Now: readmodeltest.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLearningFigures: a question is a top-level post by someone other
// than the commitment's owner; it is answered by the owner's first post
// anywhere below it; the median wait is over answered questions only.
func TestLearningFigures(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	t0 := readmodeltest.Today.Add(-72 * time.Hour)
	post := func(id, actor, parent, commitment string, at time.Duration, st Status) {
		t.Helper()
		if err := s.put(ctx, Post{ID: "http://x.localhost/" + id, Actor: actor, InReplyTo: parent, Commitment: commitment,
			Published: t0.Add(at), Status: st, Content: "<p>" + id + "</p>"}); err != nil {
			t.Fatal(err)
		}
	}
	const ana, bob = "http://social.localhost/users/ana", "http://social.localhost/users/bob"
	mad, par := readmodeltest.MadridActor, readmodeltest.ParisActor
	q := func(id string) string { return "http://x.localhost/" + id }
	// Madrid's budget: two questions, the first answered after 2 h (below
	// a follow-up), the second not; a held question does not count.
	post("q1", ana, readmodeltest.MadBudget, readmodeltest.MadBudget, 0, Approved)
	post("f1", bob, q("q1"), readmodeltest.MadBudget, time.Hour, Approved)
	post("a1", mad, q("f1"), readmodeltest.MadBudget, 2*time.Hour, Approved)
	post("a1b", mad, q("q1"), readmodeltest.MadBudget, 5*time.Hour, Approved)
	post("q2", bob, readmodeltest.MadBudget, readmodeltest.MadBudget, 3*time.Hour, Approved)
	post("q3", bob, readmodeltest.MadBudget, readmodeltest.MadBudget, 4*time.Hour, Held)
	// Paris's budget: Madrid asks, Paris answers after 10 h.
	post("q4", mad, readmodeltest.ParBudget, readmodeltest.ParBudget, 0, Approved)
	post("a4", par, q("q4"), readmodeltest.ParBudget, 10*time.Hour, Approved)

	all := s.FiguresOf(nil)
	if all.Questions != 3 || all.Answered != 2 || all.Posts != 7 || all.MedianFirstAnswer != 6*time.Hour {
		t.Errorf("network figures %+v, want 3 questions, 2 answered, 7 posts, median 6h", all)
	}
	by := s.FiguresByPilot()
	if m := by[mad]; m.Questions != 2 || m.Answered != 1 || m.MedianFirstAnswer != 2*time.Hour || m.AnsweredPercent() != 50 {
		t.Errorf("Madrid %+v", m)
	}
	if p := by[par]; p.Questions != 1 || p.Answered != 1 || p.MedianFirstAnswer != 10*time.Hour {
		t.Errorf("Paris %+v", p)
	}
	top := s.MostDiscussed(nil, 1)
	if len(top) != 1 || top[0].Commitment != readmodeltest.MadBudget || top[0].Posts != 5 || top[0].Answered != 1 {
		t.Errorf("most discussed %+v", top)
	}
	// A change is seen at once (the analysis is cached per change).
	if err := s.Hide(ctx, q("q2"), "staff"); err != nil {
		t.Fatal(err)
	}
	if f := s.FiguresOf(nil); f.Questions != 2 {
		t.Errorf("after hiding a question: %+v", f)
	}
	// Thread nesting: q1 → f1 → a1, q1 → a1b.
	nodes := Nest(s.Thread(readmodeltest.MadBudget), 4)
	if len(nodes) != 1 || nodes[0].ID != q("q1") || len(nodes[0].Replies) != 2 || nodes[0].Replies[0].Replies[0].ID != q("a1") {
		t.Errorf("nesting %+v", nodes)
	}
	// Beyond the depth limit replies line up under the deepest level.
	flat := Nest(s.Thread(readmodeltest.MadBudget), 1)
	var got []string
	for _, r := range flat[0].Replies {
		got = append(got, r.ID)
	}
	if !slices.Equal(got, []string{q("f1"), q("a1"), q("a1b")}) {
		t.Errorf("flattened %v", got)
	}
}

// TestParseNote: identity checks and limits on what a post may carry.
func TestParseNote(t *testing.T) {
	for _, c := range []struct {
		name, raw, want string
		ok              bool
	}{
		{"reply", `{"id":"http://a.localhost/n/1","type":"Note","attributedTo":"http://a.localhost/u/ana","inReplyTo":"http://b.localhost/c/1","content":"hi"}`, "", true},
		{"progress update", `{"id":"http://a.localhost/n/1","type":"Note","attributedTo":"http://a.localhost/u/ana","ogp:date":"2026-01-01"}`, "not a conversation Note", false},
		{"other id", `{"id":"http://a.localhost/n/2","type":"Note","attributedTo":"http://a.localhost/u/ana"}`, "is not", false},
		{"author elsewhere", `{"id":"http://a.localhost/n/1","type":"Note","attributedTo":"http://evil.localhost/u/x"}`, "not attributed to an actor on its own host", false},
	} {
		_, _, err := parseNote([]byte(c.raw), "http://a.localhost/n/1")
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	long := `{"id":"http://a.localhost/n/1","type":"Note","attributedTo":"http://a.localhost/u/ana","content":"` + string(make([]byte, 0)) + strings.Repeat("a", MaxContentBytes+1) + `"}`
	if _, _, err := parseNote([]byte(long), "http://a.localhost/n/1"); err == nil || !strings.Contains(err.Error(), "content longer than") {
		t.Errorf("long content: %v", err)
	}
}
