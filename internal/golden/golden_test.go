package golden

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestCheckWritesThenCompares: -update writes the file (and its folder),
// and a later run passes on the same output.
func TestCheckWritesThenCompares(t *testing.T) {
	path := filepath.Join(t.TempDir(), "golden", "doc.json")
	*update = true
	Check(t, path, []byte("{}\n"))
	*update = false
	if b, err := os.ReadFile(path); err != nil || string(b) != "{}\n" {
		t.Fatalf("written file = %q, %v", b, err)
	}
	Check(t, path, []byte("{}\n"))
}

// TestCheckFailsOnDifferenceAndMissingFile: a changed output and a missing
// file both fail the test, and neither writes anything.
func TestCheckFailsOnDifferenceAndMissingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "doc.json")
	if err := os.WriteFile(path, []byte("{\"a\":1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{"differs": path, "missing": filepath.Join(dir, "none.json")} {
		rec := &recorder{TB: t}
		done := make(chan struct{})
		go func() { defer close(done); Check(rec, p, []byte("{\"a\":2}\n")) }()
		<-done
		if !rec.failed {
			t.Errorf("%s: Check passed", name)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "{\"a\":1}\n" {
		t.Errorf("the golden file was changed to %q", b)
	}
}

// recorder notes a failure instead of failing the real test; Fatal ends
// only the goroutine Check runs in, as it would end a test.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; runtime.Goexit() }
func (r *recorder) Fatal(...any)          { r.failed = true; runtime.Goexit() }
