package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/ogpnet/ogpnet/internal/store/migrate"
)

// buildDate may be set at build time (-ldflags -X main.buildDate=…); the
// Makefile sets it. Without it, the commit's time stands in.
var buildDate = ""

// commit may be set at build time (-ldflags -X main.commit=…), for builds
// without the toolchain's VCS stamp (-buildvcs=false, or a source tree
// without .git); the stamp's vcs.revision wins when present.
var commit = ""

// build is what `ogpnet version` reports.
type build struct {
	Version, Commit, CommitTime, Date, Go string
	Modified                              bool // built from a tree with uncommitted changes
}

// readBuild merges the ldflags values with the build info the Go toolchain
// stamps into every binary built from a git checkout (vcs.*).
func readBuild(info *debug.BuildInfo, ok bool) build {
	b := build{Version: version, Date: buildDate, Commit: commit}
	if !ok {
		return b
	}
	b.Go = info.GoVersion
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.CommitTime = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	if b.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version // go install …@v1.2.3
	}
	return b
}

func (b build) write(w io.Writer) {
	fmt.Fprintf(w, "ogpnet %s\n", b.Version)
	c := b.Commit
	switch {
	case c == "":
		c = "unknown (built outside a git checkout)"
	case b.Modified:
		c += " (modified: uncommitted changes)"
	}
	fmt.Fprintf(w, "commit:      %s\n", c)
	if b.CommitTime != "" {
		fmt.Fprintf(w, "commit date: %s\n", b.CommitTime)
	}
	date := b.Date
	if date == "" {
		date = "unknown"
	}
	fmt.Fprintf(w, "build date:  %s\n", date)
	fmt.Fprintf(w, "go:          %s\n", b.Go)
	fmt.Fprintf(w, "data schema: %d\n", migrate.Latest())
}

// readBuildInfo is this binary's build.
func readBuildInfo() build { return readBuild(debug.ReadBuildInfo()) }

func runVersion(w io.Writer) { readBuildInfo().write(w) }
