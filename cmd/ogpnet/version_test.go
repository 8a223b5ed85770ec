package main

import (
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionCommand: the binary reports the ldflags version and build
// date, the commit it was built from (vcs.revision), and its Go version.
func TestVersionCommand(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("no git here to compare the commit with: %v", err)
	}
	for _, want := range []string{
		"ogpnet v1.2.3-test\n", "commit:      " + strings.TrimSpace(string(head)),
		"build date:  2026-01-02T03:04:05Z", "go:          " + runtime.Version(), "data schema: 2",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
}

func TestReadBuild(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.0", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-05-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	var b strings.Builder
	readBuild(info, true).write(&b)
	for _, want := range []string{"commit:      abc123 (modified: uncommitted changes)", "commit date: 2026-05-01T10:00:00Z", "build date:  unknown", "go:          go1.26.0"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	readBuild(nil, false).write(&b)
	if !strings.Contains(b.String(), "commit:      unknown") {
		t.Errorf("without build info:\n%s", b.String())
	}
}
