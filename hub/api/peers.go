package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Peers per answer: the commitment page's panel shows 6; more are rarely
// similar enough to help.
const (
	defaultPeers = 6
	maxPeers     = 50
)

// PeerJSON is one similar commitment in another jurisdiction, in
// GET /api/v1/commitment/peers.
type PeerJSON struct {
	Commitment CommitmentJSON `json:"commitment"`
	// SharedAreas are the policy areas both commitments carry, as the peer
	// spells them; peers that share areas come first.
	SharedAreas []string `json:"sharedAreas"`
	// Score is the text similarity, 0 to 1.
	Score float64 `json:"score"`
}

// commitmentPeers serves the peers the commitment page shows: commitments
// of other pilots that share policy areas or text (hub/peers).
func (h *handlers) commitmentPeers(c echo.Context) error {
	id := c.QueryParam("id")
	if _, ok := h.Model.Commitment(id); !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no such commitment")
	}
	limit, err := limitOf(c.QueryParams(), defaultPeers, maxPeers)
	if err != nil {
		return err
	}
	items := []PeerJSON{}
	for _, m := range h.Peers.Similar(id, limit) {
		// Hidden since the index last synced: not offered.
		pc, ok := h.Model.Commitment(m.ID)
		if !ok {
			continue
		}
		items = append(items, PeerJSON{Commitment: ToCommitment(pc), SharedAreas: nonNil(m.SharedAreas), Score: m.Score})
	}
	return c.JSON(http.StatusOK, map[string]any{"commitment": id, "items": items})
}
