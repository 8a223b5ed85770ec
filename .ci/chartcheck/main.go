// Command chartcheck validates the manifests that `helm template` renders
// from the ogpnet charts, the way the Kubernetes API server would take them:
// every document is decoded into its k8s.io/api type in strict mode (unknown
// or duplicate fields fail, field names match case-sensitively, removed API
// versions are unknown kinds), then checked for what the charts promise
// operators (labels, cross-references, probes, the non-root security
// context).
//
// It lives in its own module under .ci/ so the Kubernetes modules stay out
// of ogpnet's go.mod and binary. CI needs it because kubeconform's schemas
// are downloaded from GitHub, which the CI machines cannot reach.
//
// Usage:
//
//	chartcheck FILE...   (or "-" for standard input)
//
// It prints one line per file and exits 1 when any manifest fails.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: chartcheck FILE... (- for standard input)")
		os.Exit(2)
	}
	failed := false
	for _, name := range os.Args[1:] {
		problems, summary, err := checkFile(name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "chartcheck: %s: %v\n", name, err)
			failed = true
			continue
		}
		for _, p := range problems {
			fmt.Fprintf(os.Stderr, "chartcheck: %s: %s\n", name, p)
		}
		if len(problems) > 0 {
			failed = true
			continue
		}
		fmt.Printf("chartcheck: %s: ok (%s)\n", name, summary)
	}
	if failed {
		os.Exit(1)
	}
}

// checkFile validates every manifest in one rendered file and returns the
// problems found and a summary of the kinds it validated.
func checkFile(name string) ([]string, string, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		r = f
	}
	docs, err := splitDocuments(r)
	if err != nil {
		return nil, "", err
	}
	if len(docs) == 0 {
		return nil, "", errors.New("no manifests")
	}
	var rendered []manifest
	var problems []string
	for _, d := range docs {
		m, err := decodeStrict(d.body)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", d.source, err))
			continue
		}
		m.source = d.source
		rendered = append(rendered, m)
	}
	problems = append(problems, check(rendered)...)
	return problems, summarize(rendered), nil
}

// document is one YAML document of a multi-document stream, with the
// template it came from (helm's "# Source:" comment) for error messages.
type document struct {
	source string
	body   []byte
}

// splitDocuments splits a `helm template` stream at its "---" separators
// and drops documents that hold only comments or whitespace.
func splitDocuments(r io.Reader) ([]document, error) {
	yr := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var docs []document
	for i := 1; ; i++ {
		b, err := yr.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		source := fmt.Sprintf("document %d", i)
		empty := true
		for line := range bytes.Lines(b) {
			s := strings.TrimSpace(string(line))
			if src, ok := strings.CutPrefix(s, "# Source: "); ok {
				source = src
			}
			if s != "" && !strings.HasPrefix(s, "#") && s != "---" {
				empty = false
			}
		}
		if !empty {
			docs = append(docs, document{source: source, body: b})
		}
	}
}
