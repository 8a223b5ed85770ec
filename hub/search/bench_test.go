package search_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/search"
	"github.com/ogpnet/ogpnet/internal/benchfig"
)

// sampleDocs are the demo's 70 commitments as the index sees them.
func sampleDocs(b testing.TB) []search.Doc {
	m := loadSample(b)
	var docs []search.Doc
	m.Each(func(c readmodel.Commitment) bool {
		docs = append(docs, search.DocOf(c, m.Timeline(c.ID)))
		return true
	})
	return docs
}

// scaledIndex holds copies of docs times times, each copy its own pilots
// (so 150 copies are 2,250 pilots' worth of commitments).
func scaledIndex(docs []search.Doc, times int) *search.Index {
	x := search.New()
	for k := range times {
		for _, d := range docs {
			d.ID = fmt.Sprintf("%s#%d", d.ID, k)
			d.Pilot = fmt.Sprintf("%s#%d", d.Pilot, k)
			x.Put(d)
		}
	}
	return x
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

var searchQueries = []string{"participatory budget", "pay gap", "transparencia", "water", "지하철", "open data portal"}

// BenchmarkSearch measures one ranked search (a page of 20 hits) at about
// 10,000 commitments (the demo's 70 × 150), against the same queries over
// the demo's 70 (figure "search"), and the index's memory per commitment
// (figure "search-memory").
func BenchmarkSearch(b *testing.B) {
	docs := sampleDocs(b)
	const times = 150
	before := heapInUse()
	big := scaledIndex(docs, times)
	perDoc := float64(heapInUse()-before) / float64(big.Len())
	small := scaledIndex(docs, 1)
	run := func(x *search.Index, n int) time.Duration {
		start := time.Now()
		for i := range n {
			if _, err := x.Search(search.Query{Text: searchQueries[i%len(searchQueries)]}); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start) / time.Duration(n)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := big.Search(search.Query{Text: searchQueries[i%len(searchQueries)]}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportOnce.Do(func() {
		value, base := run(big, 300), run(small, 3000)
		benchfig.Report(b, benchfig.Row{Figure: "search", Value: float64(value.Microseconds()), Unit: "µs",
			Baseline: float64(base.Microseconds()), Scale: fmt.Sprintf("%d commitments (demo × %d), page of 20; baseline the demo's 70", big.Len(), times)})
		benchfig.Report(b, benchfig.Row{Figure: "search-memory", Value: perDoc, Unit: "bytes/commitment",
			Scale: fmt.Sprintf("%d commitments, %d terms", big.Len(), big.Terms())})
	})
}

var reportOnce sync.Once

// BenchmarkRelated measures the peers' work for one commitment at about
// 10,000 commitments.
func BenchmarkRelated(b *testing.B) {
	docs := sampleDocs(b)
	big := scaledIndex(docs, 150)
	big.Related(docs[0].ID + "#0") // norms
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		big.Related(docs[i%len(docs)].ID + "#0")
	}
}
