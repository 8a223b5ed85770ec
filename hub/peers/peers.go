// Package peers finds, for a commitment, similar commitments in other
// jurisdictions: the hub's peer-learning panel and its JSON API. A peer
// must share a policy area with the commitment and say something alike,
// or say something clearly alike on its own; each peer comes with why
// (the shared areas, the words that matched), and anything below the
// thresholds is not shown at all.
//
// Text similarity is the cosine of TF-IDF vectors built by hub/search's
// analysis (folded, stemmed per language, every language the node
// published), so a Spanish commitment meets an English one through the
// English translation its node published, and two Spanish ones directly.
// Areas are weighted by their rarity: sharing "gender" says more than
// sharing "citizen-participation", which half the commitments carry.
package peers

import (
	"cmp"
	"slices"

	"github.com/ogpnet/ogpnet/hub/search"
)

// Match is one peer and why it is one.
type Match struct {
	ID           string
	Jurisdiction string // the peer's pilot (actor IRI)
	// SharedAreas are the policy areas both commitments carry.
	SharedAreas []string
	// Words are the shared words that weigh most in the text similarity,
	// as written.
	Words []string
	// Text is the text similarity (cosine), Areas the rarity-weighted
	// overlap of the policy areas, both in [0, 1].
	Text, Areas float64
	// Score ranks peers: TextWeight·Text + AreaWeight·Areas.
	Score float64
}

// The rule and its thresholds, chosen on the labelled pairs of the demo's
// sample (testdata/labelled.tsv, TestLabelledPrecision).
const (
	// TextWeight and AreaWeight combine the two similarities into Score.
	TextWeight = 0.6
	AreaWeight = 0.4
	// MinScore is the Score a commitment sharing a policy area needs:
	// sharing one common area ("citizen-participation") then takes text
	// clearly alike, sharing all of its areas only a little.
	MinScore = 0.18
	// MinText is the text similarity any peer needs: sharing "labor" does
	// not make a farm market a peer of a gender pay-gap study when their
	// texts have nothing in common.
	MinText = 0.02
	// MinTextAlone is the text similarity that makes a peer without a
	// shared policy area: clearly the same subject in other words.
	MinTextAlone = 0.16
)

// score combines text and area similarity.
func score(r search.Related) float64 { return TextWeight*r.Text + AreaWeight*r.Areas }

// Qualifies reports whether a related commitment is shown as a peer.
func Qualifies(r search.Related) bool {
	if len(r.SharedAreas) > 0 && r.Text >= MinText && score(r) >= MinScore {
		return true
	}
	return r.Text >= MinTextAlone
}

// Select keeps the related commitments of other pilots than pilot that
// qualify, best first, at most limit; words, when not nil, names each
// kept one's matched words (search.Index.Words).
func Select(pilot string, related []search.Related, limit int, words func(id string) []string) []Match {
	var out []Match
	for _, r := range related {
		if r.Pilot == pilot && pilot != "" || !Qualifies(r) {
			continue
		}
		out = append(out, Match{
			ID: r.ID, Jurisdiction: r.Pilot, SharedAreas: r.SharedAreas,
			Text: r.Text, Areas: r.Areas, Score: score(r),
		})
	}
	slices.SortFunc(out, func(a, b Match) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID))
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	if words != nil {
		for i := range out {
			out[i].Words = words(out[i].ID)
		}
	}
	return out
}
