// Package importer reads commitments (with milestones), an action plan and
// progress updates from CSV or JSON files in the OGP template's fields,
// checks all of it, reports per row what an import would do, and writes it
// all-or-nothing. docs/import.md documents the formats.
package importer

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/node/plan"
)

// Format is an input format.
type Format string

// Supported formats.
const (
	FormatCSV  Format = "csv"
	FormatJSON Format = "json"
)

// Limits bound what one import may contain; inputs beyond them are
// rejected whole, before any row is looked at in detail.
type Limits struct {
	// MaxBytes caps each input file.
	MaxBytes int64
	// MaxRows caps commitments, milestones and progress updates, each.
	MaxRows int
	// MaxCellChars caps one CSV cell or JSON string (in characters).
	MaxCellChars int
	// Lang is the language of untagged text columns (title, description…)
	// and of plain JSON strings; the node's default language.
	Lang string
}

// DefaultLimits are the limits of the node's import form and API.
func DefaultLimits(lang string) Limits {
	return Limits{MaxBytes: 5 << 20, MaxRows: 2000, MaxCellChars: 20_000, Lang: lang}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits("en")
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxRows <= 0 {
		l.MaxRows = d.MaxRows
	}
	if l.MaxCellChars <= 0 {
		l.MaxCellChars = d.MaxCellChars
	}
	if l.Lang == "" {
		l.Lang = d.Lang
	}
	return l
}

// Source names for row errors and reports.
const (
	SourceCommitments = "commitments"
	SourceMilestones  = "milestones"
	SourcePlan        = "plan"
	SourceUpdates     = "progressUpdates"
	SourceFile        = "file"
)

// RowError is one problem with the input, located as precisely as
// possible: which source, which line (CSV) or index (JSON, from 1), which
// column or field.
type RowError struct {
	Source  string `json:"source"`
	Row     int    `json:"row,omitempty"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

func (e RowError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Row > 0 {
		fmt.Fprintf(&b, " row %d", e.Row)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, " column %q", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// Row is one commitment of a batch and where it came from.
type Row struct {
	// Row is the CSV line (header = 1) or the JSON index from 1.
	Row        int
	Commitment plan.Commitment
	// MilestoneRows gives, per milestone, its line in the milestones CSV
	// (0 when the milestones came with the commitment), so validation
	// errors point at the right row.
	MilestoneRows []int
}

// UpdateRow is one progress update of a batch.
type UpdateRow struct {
	Row    int
	Update plan.ProgressUpdate
}

// Batch is a parsed import, not yet checked against the store.
type Batch struct {
	// Format is the format the batch was read from; it decides how
	// validation errors name their column.
	Format Format
	// Lang is the language untagged text was read in.
	Lang    string
	Plan    *plan.ActionPlan
	Rows    []Row
	Updates []UpdateRow
	// Errors are the problems found while parsing (also returned by the
	// parse functions). A batch with errors can be dry-run, never committed.
	Errors []RowError
}

// Parse reads one input: a commitments CSV (milestones then come from
// ParseCSV's second file, or not at all) or a JSON document with plan,
// commitments and progress updates. Errors that make the whole input
// unusable (size, headers, syntax) come back with a nil Batch; row-level
// errors come back beside the rows that did parse.
func Parse(format Format, r io.Reader, limits Limits) (*Batch, []RowError) {
	switch format {
	case FormatCSV:
		return ParseCSV(r, nil, limits)
	case FormatJSON:
		return ParseJSON(r, limits)
	}
	return nil, []RowError{{Source: SourceFile, Message: fmt.Sprintf("unknown format %q: use csv or json", format)}}
}

// errTooLarge is returned by readAll when an input exceeds MaxBytes.
var errTooLarge = errors.New("too large")

// readAll reads at most limit bytes and fails beyond, so a huge upload is
// refused without being held in memory.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// normalize lower-cases a user-typed enum value and turns spaces and
// underscores into dashes, so "Not started", "not_started" and
// "not-started" all match.
func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer(" ", "-", "_", "-").Replace(s)
	return s
}

// parseEnum accepts a slug or its English label, in any case.
func parseEnum[T ~string](s string, all []T, label func(T) string) (T, bool) {
	n := normalize(s)
	for _, v := range all {
		if string(v) == n || normalize(label(v)) == n {
			return v, true
		}
	}
	return "", false
}

func enumNames[T ~string](all []T) string {
	names := make([]string, len(all))
	for i, v := range all {
		names[i] = string(v)
	}
	return strings.Join(names, ", ")
}

// parsePolicyArea accepts a taxonomy slug or its English or Spanish label.
func parsePolicyArea(s string) (string, bool) {
	n := normalize(s)
	for _, a := range plan.PolicyAreas() {
		if a.Slug == n || normalize(a.En) == n || normalize(a.Es) == n {
			return a.Slug, true
		}
	}
	return "", false
}

var yesNo = []ogp.YesNo{ogp.Yes, ogp.No, ogp.Pending}

// checkCell rejects text that is not valid UTF-8 or is too long; other
// content, including formula-looking text ("=SUM(…)", "+1", "@x"), is kept
// verbatim as text: the node never evaluates it, and CSV exports escape it.
func checkCell(s string, maxChars int) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 (save the file as UTF-8)"
	}
	if n := utf8.RuneCountInString(s); n > maxChars {
		return fmt.Sprintf("is %d characters long, limit %d", n, maxChars)
	}
	return ""
}
