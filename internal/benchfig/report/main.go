// Command report turns the rows the figure benchmarks appended to
// bench/results.jsonl (internal/benchfig.Report) into bench/results.json and
// prints the table. `make bench` runs it after the benchmarks; it is never
// linked into the ogpnet binary.
//
// A figure that no benchmark reported is listed as missing, not an error: a
// run of part of the benchmarks still writes what it measured. When a figure
// was reported more than once (a benchmark function runs once per b.N
// round), the last row wins.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ogpnet/ogpnet/internal/benchfig"
)

func main() {
	in := flag.String("in", "bench/results.jsonl", "rows appended by the figure benchmarks (JSON lines)")
	out := flag.String("out", "bench/results.json", "where to write the list of rows")
	flag.Parse()
	if err := run(*in, *out, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(in, out string, w io.Writer) error {
	rows, err := readRows(in)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
		return err
	}
	printTable(w, rows)
	if missing := Missing(rows); len(missing) > 0 {
		fmt.Fprintf(w, "\nmissing figures (no benchmark reported them): %s\n", strings.Join(missing, ", "))
	}
	fmt.Fprintf(w, "\n%d rows written to %s\n", len(rows), out)
	return nil
}

// readRows reads the JSON lines, keeping the last row of each figure in the
// order figures first appeared. A missing file is an empty list.
func readRows(path string) ([]benchfig.Row, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return []benchfig.Row{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Merge(f)
}

// Merge reads JSON-lines rows, the last row of a figure replacing earlier
// ones at the place the figure first appeared.
func Merge(r io.Reader) ([]benchfig.Row, error) {
	rows := []benchfig.Row{}
	at := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var row benchfig.Row
		if err := json.Unmarshal([]byte(text), &row); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if row.Figure == "" {
			return nil, fmt.Errorf("line %d: a row without a figure name", line)
		}
		if i, ok := at[row.Figure]; ok {
			rows[i] = row
			continue
		}
		at[row.Figure] = len(rows)
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// Missing lists the figures of benchfig.Expected that rows lack.
func Missing(rows []benchfig.Row) []string {
	have := map[string]bool{}
	for _, r := range rows {
		have[r.Figure] = true
	}
	var out []string
	for _, f := range benchfig.Expected {
		if !have[f] {
			out = append(out, f)
		}
	}
	return out
}

func printTable(w io.Writer, rows []benchfig.Row) {
	cells := [][]string{{"figure", "value", "unit", "baseline", "ratio", "scale"}}
	for _, r := range rows {
		cells = append(cells, []string{r.Figure, num(r.Value), r.Unit, num(r.Baseline), num(r.Ratio), r.Scale})
	}
	width := make([]int, len(cells[0]))
	for _, row := range cells {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for k, row := range cells {
		var b strings.Builder
		for i, c := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))))
			}
		}
		fmt.Fprintln(w, b.String())
		if k == 0 {
			fmt.Fprintln(w, strings.Repeat("-", len([]rune(b.String()))))
		}
	}
}

// num prints a figure with up to four significant digits ("–" for none).
func num(v float64) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.4g", v)
}
