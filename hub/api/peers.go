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
	// SharedAreas are the policy areas both commitments carry.
	SharedAreas []string `json:"sharedAreas"`
	// Words are the shared words that weigh most in the text similarity,
	// as written (one spelling per stem): with SharedAreas, why it is a peer.
	Words []string `json:"words"`
	// TextSimilarity is the cosine of the two texts' TF-IDF vectors (every
	// language, stemmed), AreaSimilarity the rarity-weighted overlap of
	// their policy areas, both 0 to 1.
	TextSimilarity float64 `json:"textSimilarity"`
	AreaSimilarity float64 `json:"areaSimilarity"`
	// Score ranks the peers: 0.6 × text + 0.4 × areas (hub/peers).
	Score float64 `json:"score"`
}

// commitmentPeers serves the peers the commitment page shows: commitments
// of other pilots that share a policy area and say something alike, or say
// something clearly alike (hub/peers), each with why.
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
		items = append(items, PeerJSON{
			Commitment: ToCommitment(pc), SharedAreas: nonNil(m.SharedAreas), Words: nonNil(m.Words),
			TextSimilarity: m.Text, AreaSimilarity: m.Areas, Score: m.Score,
		})
	}
	return c.JSON(http.StatusOK, map[string]any{"commitment": id, "items": items})
}
