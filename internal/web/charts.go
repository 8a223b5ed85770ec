package web

import (
	"fmt"
	"hash/fnv"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Bar is one bar of a BarChart.
type Bar struct {
	Label string
	Value float64
	Class string // CSS class of the bar, e.g. "c-complete"; default "bar"
}

// Segment is one part of a StackedRow.
type Segment struct {
	Label string
	Class string // CSS class, e.g. "c-limited"; default s0, s1, ... by position
	Value float64
}

// StackedRow is one horizontal bar of a StackedBar, e.g. one pilot's
// commitments by completion level.
type StackedRow struct {
	Label    string
	Segments []Segment
}

// Chart geometry, in SVG user units (the SVG scales to its container).
const (
	chartWidth  = 640
	labelWidth  = 200
	valueWidth  = 70
	rowHeight   = 28
	barHeight   = 18
	titleHeight = 28
	legendRow   = 22
)

// chartID names a chart's title and description elements after what the
// chart says (kind, title, and the description listing every value), so
// aria-labelledby points at this chart's own title even when several charts
// on a page share a title, and the same page renders the same bytes every
// time (a process-wide counter made two renders differ, which defeats
// caching, ETags and HEAD's Content-Length).
func chartID(kind, title, desc string) string {
	h := fnv.New64a()
	for _, s := range []string{kind, title, desc} {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0})
	}
	return "chart-" + strconv.FormatUint(h.Sum64(), 36)
}

// esc escapes text for SVG (XML) content and attributes.
func esc(s string) string { return html.EscapeString(s) }

// cssClass keeps only characters valid in a class list, so a caller's class
// cannot break out of the attribute or inject markup.
func cssClass(s, fallback string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == ' ':
			return r
		}
		return -1
	}, s)
	if strings.TrimSpace(s) == "" {
		return fallback
	}
	return s
}

// fmtValue prints a value compactly: integers without decimals, others with one.
func fmtValue(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// truncate shortens long labels for the fixed label column; the full label
// stays in the bar's <title> and in the data table.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// finite maps NaN, infinities and negatives to 0: a chart cannot draw them.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0
	}
	return v
}

// svgOpen writes the <svg> element with its accessible name and description.
func svgOpen(b *strings.Builder, kind string, height int, title, desc string) {
	id := chartID(kind, title, desc)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-%s" role="img" viewBox="0 0 %d %d" aria-labelledby="%s-title %s-desc">`,
		kind, chartWidth, height, id, id)
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(title), id, esc(desc))
	fmt.Fprintf(b, `<text class="chart-title" x="0" y="18" aria-hidden="true">%s</text>`, esc(title))
}

// BarChart draws horizontal bars, one per entry, scaled to the largest value.
// The <desc> lists every label and value for screen readers; render
// BarTable beside it for everyone else.
func BarChart(title string, bars []Bar) template.HTML {
	maxV := 0.0
	var desc []string
	for _, bar := range bars {
		maxV = math.Max(maxV, finite(bar.Value))
		desc = append(desc, bar.Label+": "+fmtValue(finite(bar.Value)))
	}
	if maxV == 0 {
		maxV = 1
	}
	height := titleHeight + len(bars)*rowHeight + 8
	var b strings.Builder
	svgOpen(&b, "bar", height, title, strings.Join(desc, "; "))
	plot := float64(chartWidth - labelWidth - valueWidth)
	for i, bar := range bars {
		v := finite(bar.Value)
		y := titleHeight + i*rowHeight
		w := v / maxV * plot
		fmt.Fprintf(&b, `<g><title>%s: %s</title>`, esc(bar.Label), fmtValue(v))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelWidth-8, y+barHeight-4, esc(truncate(bar.Label, 28)))
		fmt.Fprintf(&b, `<rect class="track" x="%d" y="%d" width="%.1f" height="%d"/>`, labelWidth, y, plot, barHeight)
		fmt.Fprintf(&b, `<rect class="%s" x="%d" y="%d" width="%.1f" height="%d"/>`, cssClass(bar.Class, "bar"), labelWidth, y, w, barHeight)
		fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%d">%s</text></g>`, float64(labelWidth)+plot+6, y+barHeight-4, fmtValue(v))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text and attribute above is escaped
}

// StackedBar draws one 100 % bar per row, split into its segments by share
// of the row's total, with the row total at the end and a legend below
// (segments are matched across rows by Label). Use it for the completion
// distribution per pilot; render StackedTable beside it.
func StackedBar(title string, rows []StackedRow) template.HTML {
	type legendItem struct{ label, class string }
	var legend []legendItem
	classOf := map[string]string{}
	for _, r := range rows {
		for _, s := range r.Segments {
			if _, ok := classOf[s.Label]; ok {
				continue
			}
			cls := cssClass(s.Class, "s"+strconv.Itoa(len(legend)%6))
			classOf[s.Label] = cls
			legend = append(legend, legendItem{s.Label, cls})
		}
	}
	var desc []string
	for _, r := range rows {
		var parts []string
		for _, s := range r.Segments {
			parts = append(parts, s.Label+" "+fmtValue(finite(s.Value)))
		}
		desc = append(desc, r.Label+": "+strings.Join(parts, ", "))
	}
	legendTop := titleHeight + len(rows)*rowHeight + 8
	height := legendTop + ((len(legend)+2)/3)*legendRow + 4
	var b strings.Builder
	svgOpen(&b, "stacked", height, title, strings.Join(desc, "; "))
	plot := float64(chartWidth - labelWidth - valueWidth)
	for i, r := range rows {
		total := 0.0
		for _, s := range r.Segments {
			total += finite(s.Value)
		}
		y := titleHeight + i*rowHeight
		fmt.Fprintf(&b, `<g><text x="%d" y="%d" text-anchor="end">%s</text>`, labelWidth-8, y+barHeight-4, esc(truncate(r.Label, 28)))
		fmt.Fprintf(&b, `<rect class="track" x="%d" y="%d" width="%.1f" height="%d"/>`, labelWidth, y, plot, barHeight)
		x := float64(labelWidth)
		for _, s := range r.Segments {
			v := finite(s.Value)
			if total == 0 || v == 0 {
				continue
			}
			w := v / total * plot
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s — %s: %s (%s%%)</title></rect>`,
				classOf[s.Label], x, y, w, barHeight, esc(r.Label), esc(s.Label), fmtValue(v), fmtValue(math.Round(v/total*100)))
			x += w
		}
		fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%d">%s</text></g>`, float64(labelWidth)+plot+6, y+barHeight-4, fmtValue(total))
	}
	for i, it := range legend {
		x := (i % 3) * (chartWidth / 3)
		y := legendTop + (i/3)*legendRow
		fmt.Fprintf(&b, `<g aria-hidden="true"><rect class="%s" x="%d" y="%d" width="12" height="12"/><text x="%d" y="%d">%s</text></g>`,
			it.class, x, y, x+18, y+11, esc(truncate(it.label, 30)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text and attribute above is escaped
}

// ProgressBar draws a small horizontal progress bar for a percentage
// (0–100, clamped). label names what progresses; the accessible name is
// "label: N%". The number should also be printed next to it in the page.
func ProgressBar(pct float64, label string) template.HTML {
	pct = math.Min(100, finite(pct))
	name := label + ": " + fmtValue(math.Round(pct)) + "%"
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="progress" role="img" viewBox="0 0 100 10" preserveAspectRatio="none" aria-label="%s">`, esc(name))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(name))
	b.WriteString(`<rect class="track" x="0" y="0" width="100" height="10"/>`)
	fmt.Fprintf(&b, `<rect class="fill" x="0" y="0" width="%.1f" height="10"/>`, pct)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // escaped above
}

// DataTable renders an accessible table: a caption, one header row, and
// rows of cells; cells that parse as numbers are right-aligned. It is the
// text alternative to a chart, meant to sit beside it (inside a <details>
// if the page wants it folded).
func DataTable(caption string, header []string, rows [][]string) template.HTML {
	var b strings.Builder
	// A region the keyboard can reach: on a phone the table scrolls
	// sideways inside it (WCAG 2.1.1, axe's scrollable-region-focusable).
	fmt.Fprintf(&b, `<div class="table-scroll" role="region" tabindex="0" aria-label="%s"><table class="data-table">`, esc(caption))
	fmt.Fprintf(&b, `<caption>%s</caption><thead><tr>`, esc(caption))
	for i, h := range header {
		fmt.Fprintf(&b, `<th scope="col"%s>%s</th>`, numClass(i > 0 && columnNumeric(rows, i)), esc(h))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for _, r := range rows {
		b.WriteString(`<tr>`)
		for i, cell := range r {
			if i == 0 {
				fmt.Fprintf(&b, `<th scope="row">%s</th>`, esc(cell))
				continue
			}
			fmt.Fprintf(&b, `<td%s>%s</td>`, numClass(isNumeric(cell)), esc(cell))
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></div>`)
	return template.HTML(b.String()) //nolint:gosec // escaped above
}

func numClass(num bool) string {
	if num {
		return ` class="num"`
	}
	return ""
}

func isNumeric(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	return err == nil
}

func columnNumeric(rows [][]string, col int) bool {
	for _, r := range rows {
		if col < len(r) && !isNumeric(r[col]) {
			return false
		}
	}
	return true
}

// BarTable is the data table of a BarChart: one row per bar.
func BarTable(caption, labelHeader, valueHeader string, bars []Bar) template.HTML {
	rows := make([][]string, 0, len(bars))
	for _, bar := range bars {
		rows = append(rows, []string{bar.Label, fmtValue(finite(bar.Value))})
	}
	return DataTable(caption, []string{labelHeader, valueHeader}, rows)
}

// StackedTable is the data table of a StackedBar: one row per row, one
// column per segment label (in order of first appearance), then the total.
func StackedTable(caption, labelHeader, totalHeader string, rows []StackedRow) template.HTML {
	var cols []string
	index := map[string]int{}
	for _, r := range rows {
		for _, s := range r.Segments {
			if _, ok := index[s.Label]; !ok {
				index[s.Label] = len(cols)
				cols = append(cols, s.Label)
			}
		}
	}
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		vals := make([]float64, len(cols))
		total := 0.0
		for _, s := range r.Segments {
			vals[index[s.Label]] += finite(s.Value)
			total += finite(s.Value)
		}
		row := []string{r.Label}
		for _, v := range vals {
			row = append(row, fmtValue(v))
		}
		out = append(out, append(row, fmtValue(total)))
	}
	header := append(append([]string{labelHeader}, cols...), totalHeader)
	return DataTable(caption, header, out)
}
