// Package benchfig records the figures of `make bench` (issue 11): each
// figure benchmark measures its value and a baseline in the same run and
// calls Report; `make bench` collects the rows into bench/results.json.
//
// Rows are appended as JSON lines to the file named by $OGPNET_BENCH_RESULTS
// (set by `make bench`), so benchmarks in several packages, run by one
// `go test` invocation, add to one list. Without the variable only the
// benchmark's own metrics are printed.
package benchfig

import (
	"encoding/json"
	"os"
	"sync"
	"testing"
)

// EnvResults names the JSON-lines file rows are appended to.
const EnvResults = "OGPNET_BENCH_RESULTS"

// Row is one figure of bench/results.json.
type Row struct {
	// Figure is the figure's name as issue 11 spells it: "ingest",
	// "fan-out", "node-page", "node-page-10x", "import", "hub-memory",
	// "compare", "compare-15", "queue-claim", "queue-claim-100k",
	// "idle-cpu", "idle-cpu-10x"; others may be added.
	Figure string `json:"figure"`
	// Value is what was measured, in Unit.
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Baseline is the reference measured in the same run (0 when the figure
	// has none) and Ratio what the goal is stated in (Value/Baseline unless
	// the figure defines it otherwise, e.g. rate / raw insert rate).
	Baseline float64 `json:"baseline"`
	Ratio    float64 `json:"ratio"`
	// Scale says at what data size it was measured, e.g.
	// "1,500 commitments, 100 updates on the page".
	Scale string `json:"scale"`
}

// Expected lists the figures issue 11 asks `make bench` to write; the
// report lists any of them that no benchmark reported.
var Expected = []string{
	"ingest", "fan-out", "node-page", "node-page-10x", "import", "hub-memory",
	"compare", "compare-15", "queue-claim", "queue-claim-100k", "idle-cpu", "idle-cpu-10x",
}

var mu sync.Mutex

// Report prints the row as the benchmark's metrics and appends it to
// $OGPNET_BENCH_RESULTS when set. A benchmark function runs several times
// (b.N grows): call Report once, from the run that measured, e.g. guard with
// a sync.Once or report only when b.N is final (outside the b.N loop in a
// benchmark that ignores b.N after its first round).
func Report(b testing.TB, r Row) {
	b.Helper()
	if r.Ratio == 0 && r.Baseline != 0 {
		r.Ratio = r.Value / r.Baseline
	}
	if bb, ok := b.(*testing.B); ok {
		bb.ReportMetric(r.Value, r.Figure+"_"+r.Unit)
		if r.Ratio != 0 {
			bb.ReportMetric(r.Ratio, r.Figure+"_ratio")
		}
	}
	b.Logf("figure %s: %.4g %s (baseline %.4g, ratio %.3g; %s)", r.Figure, r.Value, r.Unit, r.Baseline, r.Ratio, r.Scale)
	path := os.Getenv(EnvResults)
	if path == "" {
		return
	}
	line, err := json.Marshal(r)
	if err != nil {
		b.Fatalf("benchfig: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		b.Fatalf("benchfig: %v", err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		b.Fatalf("benchfig: %v", err)
	}
}

// measured holds each figure measured by this test binary: a benchmark
// function runs again with a larger b.N when its first run was short, and
// a figure is measured and reported once.
var measured sync.Map // figure name → Row

// Once measures the figure name with measure on the benchmark's first run
// and reports it (Report); later runs of the same benchmark only repeat its
// metric, so b.N's growth never measures a figure twice.
func Once(b *testing.B, name string, measure func() Row) {
	b.Helper()
	if v, ok := measured.Load(name); ok {
		r := v.(Row)
		b.ReportMetric(r.Value, r.Figure+"_"+r.Unit)
		return
	}
	r := measure()
	measured.Store(name, r)
	Report(b, r)
}
