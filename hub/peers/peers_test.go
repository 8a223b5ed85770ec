package peers_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/hub/peers"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/search"
)

func commitmentIRI(slug, id string) string {
	return "http://" + slug + ".localhost:8080/commitments/" + id
}

func ids(ms []peers.Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID[strings.LastIndex(m.ID, "/")+1:])
	}
	return out
}

// TestPayGapHasNoUnrelatedPeers is the case: Jalisco's gender
// pay-gap commitment was offered a farm market (it shares "labor") and a
// water project.
func TestPayGapHasNoUnrelatedPeers(t *testing.T) {
	p := peers.NewModelIndex(search.NewModelIndex(loadSample(t)))
	got := ids(p.Similar(commitmentIRI("jalisco", "JAL0002"), 6))
	for _, unrelated := range []string{"LAL0003", "ELG0004", "KIG0004", "LAL0002", "SEK0002"} {
		if slices.Contains(got, unrelated) {
			t.Errorf("peers of the pay-gap commitment = %q: %s is unrelated", got, unrelated)
		}
	}
}

// TestEveryPeerSaysWhy: every peer of every demo commitment is from
// another pilot, qualifies by the rule, and names its reasons: shared
// areas, or the words that matched.
func TestEveryPeerSaysWhy(t *testing.T) {
	m := loadSample(t)
	p := peers.NewModelIndex(search.NewModelIndex(m))
	withPeers := 0
	m.Each(func(c readmodel.Commitment) bool {
		ms := p.Similar(c.ID, 6)
		if len(ms) > 0 {
			withPeers++
		}
		for i, x := range ms {
			if x.Jurisdiction == c.Pilot || x.ID == c.ID {
				t.Errorf("%s: peer %s is from the same pilot", c.Identifier, x.ID)
			}
			if len(x.SharedAreas) == 0 && len(x.Words) == 0 {
				t.Errorf("%s: peer %s gives no reason", c.Identifier, x.ID)
			}
			if len(x.SharedAreas) == 0 && x.Text < peers.MinTextAlone ||
				len(x.SharedAreas) > 0 && (x.Text < peers.MinText || x.Score < peers.MinScore) {
				t.Errorf("%s: peer %s below the thresholds: %+v", c.Identifier, x.ID, x)
			}
			if i > 0 && ms[i-1].Score < x.Score {
				t.Errorf("%s: peers not best first: %v", c.Identifier, ids(ms))
			}
		}
		return true
	})
	if withPeers < 35 {
		t.Errorf("only %d of 70 commitments have peers", withPeers)
	}
	// The budgeting commitments meet across languages and words.
	got := p.Similar(commitmentIRI("madrid", "MAD0003"), 6)
	if len(got) == 0 || !slices.Contains(got[0].Words, "participatory") && !slices.Contains(got[0].Words, "budget") {
		t.Errorf("peers of Madrid's participatory budgeting: %+v", got)
	}
}

// TestPeersFollowTheModel: hidden pilots' and deleted commitments stop
// being offered; an unknown commitment has none.
func TestPeersFollowTheModel(t *testing.T) {
	m := loadSample(t)
	p := peers.NewModelIndex(search.NewModelIndex(m))
	mad := commitmentIRI("madrid", "MAD0003")
	sco := commitmentIRI("scotland", "SCO0004")
	if !slices.Contains(ids(p.Similar(mad, 6)), "SCO0004") {
		t.Fatalf("peers of MAD0003 = %q, want SCO0004 among them", ids(p.Similar(mad, 6)))
	}
	scot, _ := m.Commitment(sco)
	m.SetPilot(readmodel.PilotInfo{Actor: scot.Pilot, Name: "Scotland", State: readmodel.StateSuspended})
	if slices.Contains(ids(p.Similar(mad, 6)), "SCO0004") {
		t.Errorf("a suspended pilot's commitment is offered")
	}
	if got := p.Similar(sco, 6); len(got) != 0 {
		t.Errorf("a suspended pilot's commitment has peers: %q", ids(got))
	}
	m.SetPilot(readmodel.PilotInfo{Actor: scot.Pilot, Name: "Scotland", State: readmodel.StateActive})
	m.Remove(sco)
	if slices.Contains(ids(p.Similar(mad, 6)), "SCO0004") {
		t.Errorf("a deleted commitment is offered")
	}
	if got := p.Similar("http://nowhere.localhost/commitments/1", 6); len(got) != 0 {
		t.Errorf("peers of an unknown commitment = %q", ids(got))
	}
}
