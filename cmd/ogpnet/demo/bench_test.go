package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/cmd/ogpnet/demo"
	"github.com/ogpnet/ogpnet/federation/fetch"
	"github.com/ogpnet/ogpnet/internal/store"
)

// BenchmarkDemoStartup measures design §5's "demo start-up time to a
// browsable hub" on a fresh data folder: until the hub's home page answers
// 200, and until it shows data of all 15 pilots (seeding through each node's
// import, federation, backfill), next to the baseline of the same run:
// starting the embedded store alone.
func BenchmarkDemoStartup(b *testing.B) {
	client := fetch.NewClient(fetch.Guard{DevLocalhost: true}, 10*time.Second)
	quiet := slog.New(slog.DiscardHandler)
	var storeT, browsableT, pilotsT time.Duration
	for range b.N {
		t0 := time.Now()
		st, err := store.Open(context.Background(), store.Options{DataDir: b.TempDir(), Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		storeT += time.Since(t0)
		_ = st.Close(context.Background())

		ctx, cancel := context.WithCancel(context.Background())
		t0 = time.Now()
		d, err := demo.Start(ctx, demo.Options{Addr: "127.0.0.1:0", DataDir: b.TempDir(), Logger: quiet, Out: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		go func() { _ = d.Run(ctx) }()
		for {
			res, err := client.Get(d.URL("hub") + "/")
			if err == nil {
				_ = res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		browsableT += time.Since(t0)
		for d.PilotsWithData() < len(d.Pilots) {
			if time.Since(t0) > 2*time.Minute {
				b.Fatalf("only %d pilots after 2 minutes", d.PilotsWithData())
			}
			time.Sleep(50 * time.Millisecond)
		}
		pilotsT += time.Since(t0)
		cancel()
		d.Close()
	}
	n := float64(b.N)
	b.ReportMetric(storeT.Seconds()/n, "s-store-baseline")
	b.ReportMetric(browsableT.Seconds()/n, "s-to-browsable")
	b.ReportMetric(pilotsT.Seconds()/n, "s-to-15-pilots")
	b.ReportMetric(browsableT.Seconds()/storeT.Seconds(), "browsable/store")
}
