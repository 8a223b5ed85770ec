package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/internal/benchfig"
)

// A figure reported by every b.N round keeps its last row, in the place it
// first appeared, and the figures nobody reported are listed, not fatal.
func TestReportKeepsLastRowAndListsMissing(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "results.jsonl"), filepath.Join(dir, "results.json")
	lines := `{"figure":"hub-memory","value":300,"unit":"MB","baseline":0,"ratio":0,"scale":"1M updates"}
{"figure":"idle-cpu","value":0.5,"unit":"cpu-s/min","baseline":0,"ratio":0,"scale":"15 members"}
{"figure":"hub-memory","value":210,"unit":"MB","baseline":0,"ratio":0,"scale":"1M updates"}
`
	if err := os.WriteFile(in, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	var printed bytes.Buffer
	if err := run(in, out, &printed); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rows []benchfig.Row
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatalf("results.json is not a list of rows: %v\n%s", err, data)
	}
	if len(rows) != 2 || rows[0].Figure != "hub-memory" || rows[0].Value != 210 || rows[1].Figure != "idle-cpu" {
		t.Fatalf("rows = %+v, want hub-memory 210 (the last report) then idle-cpu", rows)
	}
	for _, key := range []string{`"figure"`, `"value"`, `"unit"`, `"baseline"`, `"ratio"`, `"scale"`} {
		if !bytes.Contains(data, []byte(key)) {
			t.Errorf("results.json lacks the key %s", key)
		}
	}
	if !strings.Contains(printed.String(), "hub-memory") || !strings.Contains(printed.String(), "210") {
		t.Errorf("table lacks the hub-memory row:\n%s", printed.String())
	}
	missing := Missing(rows)
	if slices.Contains(missing, "hub-memory") || !slices.Contains(missing, "ingest") || !slices.Contains(missing, "idle-cpu-10x") {
		t.Errorf("missing = %v, want every expected figure but hub-memory and idle-cpu", missing)
	}
	if !strings.Contains(printed.String(), "missing figures") {
		t.Errorf("the table does not list the missing figures:\n%s", printed.String())
	}
}

// No benchmark ran (or none wrote a row): an empty list, every figure missing.
func TestReportWithoutRows(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results.json")
	var printed bytes.Buffer
	if err := run(filepath.Join(dir, "absent.jsonl"), out, &printed); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	if strings.TrimSpace(string(data)) != "[]" {
		t.Fatalf("results.json = %s, want []", data)
	}
	if len(Missing(nil)) != len(benchfig.Expected) {
		t.Fatal("every expected figure should be missing")
	}
}

// A broken line names its number.
func TestReportRefusesBrokenLine(t *testing.T) {
	_, err := Merge(strings.NewReader("{\"figure\":\"a\"}\nnot json\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want one naming line 2", err)
	}
}
