package api

import (
	"net/http"
	"slices"
	"testing"

	"github.com/ogpnet/ogpnet/hub/readmodel"
	rt "github.com/ogpnet/ogpnet/hub/readmodel/readmodeltest"
)

type peersAnswer struct {
	Commitment string     `json:"commitment"`
	Items      []PeerJSON `json:"items"`
}

func peerIDs(a peersAnswer) []string {
	out := make([]string, len(a.Items))
	for i, p := range a.Items {
		out[i] = p.Commitment.ID
	}
	return out
}

// TestPeers: the API offers the peers the commitment page shows, from
// other pilots only, and drops a pilot once it is hidden.
func TestPeers(t *testing.T) {
	m, srv := fixture(t)
	var a peersAnswer
	getJSON(t, srv, "/api/v1/commitment/peers"+query("id", rt.MadLobby), http.StatusOK, &a)
	if a.Commitment != rt.MadLobby || len(a.Items) == 0 || a.Items[0].Commitment.ID != rt.JalLobby ||
		!slices.Equal(a.Items[0].SharedAreas, []string{"Anti-Corruption"}) || a.Items[0].Commitment.PilotName != "Jalisco" {
		t.Fatalf("peers of the lobby register = %+v", a)
	}
	for _, p := range a.Items {
		if p.Commitment.Pilot == rt.MadridActor {
			t.Errorf("a peer from the same pilot: %s", p.Commitment.ID)
		}
		if p.Score < 0 || p.Score > 1 || p.SharedAreas == nil || p.Words == nil || p.TextSimilarity <= 0 {
			t.Errorf("peer %s: score %v, text %v, areas %v, words %v", p.Commitment.ID, p.Score, p.TextSimilarity, p.SharedAreas, p.Words)
		}
	}
	// Text-only peers, and the limit.
	getJSON(t, srv, "/api/v1/commitment/peers"+query("id", rt.MadBudget), http.StatusOK, &a)
	if !slices.Contains(peerIDs(a), rt.ParBudget) {
		t.Errorf("peers of the participatory budget = %q", peerIDs(a))
	}
	getJSON(t, srv, "/api/v1/commitment/peers"+query("id", rt.MadBudget, "limit", "1"), http.StatusOK, &a)
	if len(a.Items) != 1 {
		t.Errorf("limit 1 gave %q", peerIDs(a))
	}
	// Suspending Jalisco takes its commitments out of every answer.
	m.SetPilot(readmodel.PilotInfo{Actor: rt.JaliscoActor, Name: "Jalisco", State: readmodel.StateSuspended})
	getJSON(t, srv, "/api/v1/commitment/peers"+query("id", rt.MadLobby), http.StatusOK, &a)
	if slices.Contains(peerIDs(a), rt.JalLobby) || a.Items == nil {
		t.Errorf("after suspending Jalisco: %q", peerIDs(a))
	}
}
