package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the project's import path; the layout rules speak of paths
// below it ("hub/ingest", "internal/store").
const module = "github.com/ogpnet/ogpnet"

// listedPackage is what the layout rules need of one `go list -json` entry.
type listedPackage struct {
	ImportPath   string
	Imports      []string // what the package links
	TestImports  []string // its in-package tests' imports
	XTestImports []string // its _test package's imports
}

// TestLayout guards design §2's import rules on the real module, so a
// breach fails the suite with the offending import named: internal knows no
// server, hub and node never meet, federation needs only two internal leaf
// packages, and the production binary links no browser driver.
func TestLayout(t *testing.T) {
	pkgs := goList(t, module+"/...")
	var own []string
	for _, p := range pkgs {
		if rel, ok := strings.CutPrefix(p.ImportPath, module+"/"); ok {
			own = append(own, rel)
		}
	}
	// The rules would pass vacuously on an empty or mistaken listing.
	for _, want := range []string{"federation", "hub", "node", "internal/store", "cmd/ogpnet"} {
		if !slices.Contains(own, want) {
			t.Fatalf("go list did not list %s (got %q)", want, own)
		}
	}
	for _, b := range breaches(pkgs) {
		t.Error(b)
	}
	for _, banned := range []string{"github.com/chromedp/", module + "/internal/browsertest"} {
		if chain := trim(linkChain(pkgs, module+"/cmd/ogpnet", banned)); chain != nil {
			t.Errorf("the ogpnet binary links %s through %s: keep browser code in tests and cmd/screenshots",
				chain[len(chain)-1], strings.Join(chain, " → "))
		}
	}
}

// TestLayoutNamesTheBreach feeds the checks a made-up module with one
// breach of each rule: each is reported with the package, the import and
// the rule it breaks, and the allowed imports beside them are not.
func TestLayoutNamesTheBreach(t *testing.T) {
	m := func(rel ...string) []string {
		out := []string{"fmt"}
		for _, r := range rel {
			out = append(out, module+"/"+r)
		}
		return out
	}
	pkgs := []listedPackage{
		{ImportPath: module + "/internal/web", Imports: m("internal/accept"), XTestImports: m("hub/readmodel")},
		{ImportPath: module + "/internal/auth", Imports: m("internal/store", "node/plan")},
		{ImportPath: module + "/hub/pages", Imports: m("federation", "internal/web", "node/plan"),
			XTestImports: m("node")}, // hub's end-to-end tests may run a real node
		{ImportPath: module + "/node", Imports: m("federation", "internal/auth", "hub/readmodel")},
		{ImportPath: module + "/federation", Imports: m("federation/httpsig", "internal/store", "internal/accept", "internal/auth"),
			XTestImports: m("internal/store/storetest", "internal/golden")}, // test helpers are for tests only
		{ImportPath: module + "/federation/delivery", Imports: m("internal/store/storetest")},
		{ImportPath: module + "/hub", Imports: m("cmd/ogpnet/demo")},
		{ImportPath: module + "/cmd/ogpnet", Imports: m("cmd/ogpnet/demo", "hub", "node")},
		{ImportPath: module + "/cmd/ogpnet/demo", Imports: m("hub", "node", "internal/browsertest")},
		{ImportPath: module + "/internal/browsertest", Imports: []string{"github.com/chromedp/chromedp"}},
		{ImportPath: "github.com/chromedp/chromedp", Imports: []string{"github.com/chromedp/cdproto"}},
	}
	want := []string{
		"internal/web (its tests) imports hub/readmodel: internal packages know no server (design §2)",
		"internal/auth imports node/plan: internal packages know no server (design §2)",
		"hub/pages imports node/plan: hub and node never import each other (design §2)",
		"node imports hub/readmodel: hub and node never import each other (design §2)",
		"federation imports internal/auth: federation imports only internal/store, internal/accept and internal/jsonlimit of the project (design §2)",
		"federation/delivery imports internal/store/storetest: federation imports only internal/store, internal/accept and internal/jsonlimit of the project (design §2)",
		"hub imports cmd/ogpnet/demo: only commands build on commands (cmd/ wires the servers)",
	}
	if got := breaches(pkgs); !slices.Equal(got, want) {
		t.Errorf("breaches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	chain := linkChain(pkgs, module+"/cmd/ogpnet", "github.com/chromedp/")
	if got, want := strings.Join(trim(chain), " → "), "cmd/ogpnet → cmd/ogpnet/demo → internal/browsertest → github.com/chromedp/chromedp"; got != want {
		t.Errorf("chain to chromedp = %q, want %q", got, want)
	}
	if chain := linkChain(pkgs, module+"/hub/pages", "github.com/chromedp/"); chain != nil {
		t.Errorf("hub/pages does not link chromedp, got chain %q", chain)
	}
}

// breaches checks every project import of every package against design §2
// and returns one line per offending import. Test imports count too, except
// between hub and node: hub's end-to-end tests federate with a real node, as
// any other server could, and tests are not linked into the binary.
func breaches(pkgs []listedPackage) []string {
	var out []string
	for _, p := range pkgs {
		from, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok {
			continue
		}
		check := func(imports []string, tests bool) {
			for _, imp := range imports {
				to, ok := strings.CutPrefix(imp, module+"/")
				if !ok {
					continue
				}
				rule := breach(from, to, tests)
				if rule == "" {
					continue
				}
				who := from
				if tests {
					who += " (its tests)"
				}
				out = append(out, fmt.Sprintf("%s imports %s: %s", who, to, rule))
			}
		}
		check(p.Imports, false)
		check(append(slices.Clone(p.TestImports), p.XTestImports...), true)
	}
	return out
}

// breach returns the rule that package from (or its tests) breaks by
// importing to, both relative to the module, or "".
func breach(from, to string, tests bool) string {
	switch {
	case under(from, "internal") && (under(to, "hub") || under(to, "node")):
		return "internal packages know no server (design §2)"
	case !tests && (under(from, "hub") && under(to, "node") || under(from, "node") && under(to, "hub")):
		return "hub and node never import each other (design §2)"
	case under(from, "federation") && !under(to, "federation") && to != "internal/store" && to != "internal/accept" && to != "internal/jsonlimit" &&
		!(tests && testHelper(to)):
		return "federation imports only internal/store, internal/accept and internal/jsonlimit of the project (design §2)"
	case under(to, "cmd") && !under(from, "cmd"):
		return "only commands build on commands (cmd/ wires the servers)"
	}
	return ""
}

// testHelper reports whether to is a package made for tests only (the test
// store, golden files, bench figures): federation's tests may use it, its
// code may not.
func testHelper(to string) bool {
	return to == "internal/store/storetest" || to == "internal/golden" || to == "internal/benchfig"
}

// under reports whether path is dir or a package below it.
func under(path, dir string) bool { return path == dir || strings.HasPrefix(path, dir+"/") }

// linkChain returns the shortest import chain by which root links a package
// whose path starts with prefix, or nil when it links none.
func linkChain(pkgs []listedPackage, root, prefix string) []string {
	imports := map[string][]string{}
	for _, p := range pkgs {
		imports[p.ImportPath] = p.Imports
	}
	from := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if strings.HasPrefix(p, prefix) {
			var chain []string
			for ; p != ""; p = from[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			return chain
		}
		for _, imp := range imports[p] {
			if _, seen := from[imp]; !seen {
				from[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return nil
}

// trim drops the module prefix from the project's paths in chain (nil
// stays nil).
func trim(chain []string) []string {
	if chain == nil {
		return nil
	}
	out := make([]string, len(chain))
	for i, p := range chain {
		out[i] = strings.TrimPrefix(p, module+"/")
	}
	return out
}

// goList runs `go list -deps -json` on pattern: every package it matches
// and every package they link, with their imports.
func goList(t *testing.T, pattern string) []listedPackage {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the layout check needs the go tool: %v", err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(goTool, "list", "-deps", "-json=ImportPath,Imports,TestImports,XTestImports", pattern)
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []listedPackage
	for dec := json.NewDecoder(bytes.NewReader(raw)); ; {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}
