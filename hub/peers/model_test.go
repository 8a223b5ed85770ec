package peers_test

import (
	"slices"
	"testing"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/peers"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	rt "github.com/ogpnet/ogpnet/hub/readmodel/readmodeltest"
)

func matchIDs(ms []peers.Match) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// TestModelIndexFollowsTheModel: the index reads the model's visible
// commitments on first use and again after every change: new commitments
// become peers, hidden pilots' and deleted ones stop being offered.
func TestModelIndexFollowsTheModel(t *testing.T) {
	m := rt.Fill(t)
	x := peers.NewModelIndex(m)
	got := x.Similar(rt.MadLobby, 6)
	if len(got) == 0 || got[0].ID != rt.JalLobby || !slices.Equal(got[0].SharedAreas, []string{"Anti-Corruption"}) {
		t.Fatalf("peers of the lobby register = %+v", got)
	}
	// HTML fields count as text: Paris's budget shares words with Madrid's.
	if !slices.Contains(matchIDs(x.Similar(rt.MadBudget, 6)), rt.ParBudget) {
		t.Errorf("peers of the budget = %q", matchIDs(x.Similar(rt.MadBudget, 6)))
	}

	// A new commitment elsewhere with the same policy area.
	const other = "http://paris.localhost:8080/commitments/PAR0002"
	m.ApplyCommitment(rt.ParisActor, ogp.Commitment{Post: ogp.Post{ID: other, Type: ogp.TypeCommitment, AttributedTo: rt.ParisActor, Name: "Registre des lobbies"},
		PolicyAreas: []string{"Lobbying"}, Completion: ogp.CompletionLimited}, rt.Today)
	if !slices.Contains(matchIDs(x.Similar(rt.MadLobby, 6)), other) {
		t.Errorf("the new commitment is not a peer: %q", matchIDs(x.Similar(rt.MadLobby, 6)))
	}
	m.SetPilot(readmodel.PilotInfo{Actor: rt.JaliscoActor, Name: "Jalisco", State: readmodel.StateSuspended})
	if ids := matchIDs(x.Similar(rt.MadLobby, 6)); slices.Contains(ids, rt.JalLobby) {
		t.Errorf("a suspended pilot's commitment is offered: %q", ids)
	}
	m.Remove(other)
	if ids := matchIDs(x.Similar(rt.MadLobby, 6)); slices.Contains(ids, other) {
		t.Errorf("a deleted commitment is offered: %q", ids)
	}
	if got := x.Similar("http://nowhere.localhost/commitments/1", 6); len(got) != 0 {
		t.Errorf("peers of an unknown commitment = %+v", got)
	}
}
