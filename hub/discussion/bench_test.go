package discussion

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/hub/readmodel/readmodeltest"
)

// BenchmarkFigures: the learning figures and the most discussed list over
// 10,000 approved posts in the fixture's commitments, after a change (so
// the analysis runs, not its cache), as a page after a new post pays it.
func BenchmarkFigures(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	commitments := []string{readmodeltest.MadLobby, readmodeltest.MadBudget, readmodeltest.JalLobby, readmodeltest.JalTeacher, readmodeltest.ParBudget}
	t0 := readmodeltest.Today.Add(-30 * 24 * time.Hour)
	for i := range 10_000 {
		c := commitments[i%len(commitments)]
		parent := c
		if i >= len(commitments)*10 && i%3 != 0 {
			parent = fmt.Sprintf("http://x.localhost/p/%d", i-len(commitments)*7)
		}
		actor := fmt.Sprintf("http://social.localhost/users/u%d", i%97)
		if i%4 == 1 {
			actor = readmodeltest.MadridActor
		}
		p := Post{ID: fmt.Sprintf("http://x.localhost/p/%d", i), Actor: actor, InReplyTo: parent, Commitment: c,
			Published: t0.Add(time.Duration(i) * time.Minute), Status: Approved}
		s.mu.Lock()
		s.byID[p.ID] = &p
		s.mu.Unlock()
	}
	_ = ctx
	b.ResetTimer()
	for b.Loop() {
		s.mu.Lock()
		s.version++ // a change: the analysis runs again
		s.mu.Unlock()
		f := s.FiguresOf(nil)
		if f.Posts != 10_000 {
			b.Fatalf("posts %d", f.Posts)
		}
		_ = s.MostDiscussed(nil, 5)
	}
}

// BenchmarkThread: one commitment's thread of 2,000 posts, nested, as the
// commitment page and the API read it.
func BenchmarkThread(b *testing.B) {
	s := open(b)
	t0 := readmodeltest.Today.Add(-30 * 24 * time.Hour)
	for i := range 2_000 {
		parent := readmodeltest.MadBudget
		if i > 0 {
			parent = fmt.Sprintf("http://x.localhost/p/%d", i/3)
		}
		p := Post{ID: fmt.Sprintf("http://x.localhost/p/%d", i), Actor: "http://social.localhost/users/a", InReplyTo: parent,
			Commitment: readmodeltest.MadBudget, Published: t0.Add(time.Duration(i) * time.Minute), Status: Approved}
		s.byID[p.ID] = &p
	}
	b.ResetTimer()
	for b.Loop() {
		if n := Nest(s.Thread(readmodeltest.MadBudget), 4); len(n) != 1 {
			b.Fatalf("roots %d", len(n))
		}
	}
}
