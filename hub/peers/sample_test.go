package peers_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/node/importer"
	"github.com/ogpnet/ogpnet/node/plan"
)

// sampleDir is the demo's sample data: 15 pilots in their own languages.
var sampleDir = filepath.Join("..", "..", "cmd", "ogpnet", "demo", "data")

var sampleNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// samplePilot is the slug, actor and base of each demo node.
func sampleActor(slug string) string { return "http://" + slug + ".localhost:8080/users/" + slug }

// loadSample reads the demo's sample data the way the demo does (the
// node's importer, its wire mapping to the ogp vocabulary) and applies it
// to a read model the way the hub's ingest does.
func loadSample(t testing.TB) *readmodel.Model {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(sampleDir, "pilots.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pilots []struct {
		Slug, Name, Lang string
	}
	if err := json.Unmarshal(raw, &pilots); err != nil {
		t.Fatal(err)
	}
	m := readmodel.New(func() time.Time { return sampleNow })
	for _, p := range pilots {
		f, err := os.Open(filepath.Join(sampleDir, p.Slug+".json"))
		if err != nil {
			t.Fatal(err)
		}
		batch, errs := importer.ParseJSON(f, importer.Limits{Lang: p.Lang})
		f.Close()
		if len(errs) > 0 {
			t.Fatalf("%s: %v", p.Slug, errs)
		}
		actor := sampleActor(p.Slug)
		m.SetPilot(readmodel.PilotInfo{Actor: actor, Name: p.Name, State: readmodel.StateActive})
		w := plan.Wire{IRIs: ogp.NewIRIs("http://"+p.Slug+".localhost:8080", p.Slug), Lang: p.Lang, Jurisdiction: p.Name}
		byID := map[string]plan.Commitment{}
		for _, r := range batch.Rows {
			c := r.Commitment
			c.Created = sampleNow.Add(-time.Hour)
			byID[c.ID] = c
			m.ApplyCommitment(actor, w.Commitment(c), sampleNow)
		}
		for i, r := range batch.Updates {
			u := r.Update
			u.ID = fmt.Sprintf("u%03d", i)
			u.Created = sampleNow.Add(-time.Hour)
			m.ApplyUpdate(actor, w.ProgressUpdate(u, byID[u.CommitmentID]))
		}
	}
	return m
}
