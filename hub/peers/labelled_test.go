package peers_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/hub/peers"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/search"
)

type labelledPair struct {
	a, b string // identifiers, e.g. JAL0002
	peer bool
	why  string
}

func readLabelled(t *testing.T) []labelledPair {
	t.Helper()
	f, err := os.Open("testdata/labelled.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelledPair
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if strings.HasPrefix(s, "#") || strings.TrimSpace(s) == "" {
			continue
		}
		cols := strings.Split(s, "\t")
		if len(cols) != 4 || (cols[2] != "peer" && cols[2] != "not") {
			t.Fatalf("labelled.tsv:%d: want first, second, peer|not, why; got %q", line, s)
		}
		out = append(out, labelledPair{a: cols[0], b: cols[1], peer: cols[2] == "peer", why: cols[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Floors the peers must keep on the labelled pairs.
const (
	minPrecision = 0.9
	minRecall    = 0.75
)

// TestLabelledPrecision scores the peers rule on hand-labelled pairs of the
// demo's sample: of the pairs it shows as peers, at least 90 % must be
// labelled peers (precision), and it must find at least 75 % of the
// labelled peers (recall). Every pair counts in both directions: the pair
// is shown when either commitment lists the other among its peers.
func TestLabelledPrecision(t *testing.T) {
	m := loadSample(t)
	x := search.NewModelIndex(m)
	p := peers.NewModelIndex(x)
	byIdent := map[string]string{}
	m.Each(func(c readmodel.Commitment) bool { byIdent[c.Identifier] = c.ID; return true })
	var tp, fp, fn, tn int
	for _, pair := range readLabelled(t) {
		a, b := byIdent[pair.a], byIdent[pair.b]
		if a == "" || b == "" {
			t.Fatalf("labelled pair %s–%s: not in the sample", pair.a, pair.b)
		}
		shown := listed(p.Similar(a, 1000), b) || listed(p.Similar(b, 1000), a)
		var rel search.Related
		for _, r := range x.Related(a) {
			if r.ID == b {
				rel = r
			}
		}
		if os.Getenv("PEERS_DUMP") != "" {
			t.Logf("%v %s–%s: text %.3f, areas %.2f %v", pair.peer, pair.a, pair.b, rel.Text, rel.Areas, rel.SharedAreas)
		}
		switch {
		case shown && pair.peer:
			tp++
		case shown && !pair.peer:
			fp++
			t.Logf("shown but not a peer: %s–%s (%s): text %.3f, areas %.2f %v %v", pair.a, pair.b, pair.why, rel.Text, rel.Areas, rel.SharedAreas, x.Index().Words(a, b))
		case !shown && pair.peer:
			fn++
			t.Logf("a peer not shown: %s–%s (%s): text %.3f, areas %.2f %v %v", pair.a, pair.b, pair.why, rel.Text, rel.Areas, rel.SharedAreas, x.Index().Words(a, b))
		default:
			tn++
		}
	}
	precision := float64(tp) / float64(max(1, tp+fp))
	recall := float64(tp) / float64(max(1, tp+fn))
	t.Logf("precision %.2f (%d of %d shown), recall %.2f (%d of %d peers); %d non-peers kept out", precision, tp, tp+fp, recall, tp, tp+fn, tn)
	if precision < minPrecision {
		t.Errorf("precision %.2f, want at least %.2f", precision, minPrecision)
	}
	if recall < minRecall {
		t.Errorf("recall %.2f, want at least %.2f", recall, minRecall)
	}
}

func listed(ms []peers.Match, id string) bool {
	for _, m := range ms {
		if m.ID == id {
			return true
		}
	}
	return false
}
