// Package golden compares a test's output with a file kept under testdata,
// and rewrites that file instead when the test runs with -update. It is for
// tests only: a golden file is reviewed by a person when it changes.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is the one -update flag of every test binary that uses golden files.
var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Check fails t when got differs from the file at path, showing got; with
// -update it writes got to path (creating its folder) and passes.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (review the output, then run the test with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (review, then -update):\n%s", path, got)
	}
}
