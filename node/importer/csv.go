package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/plan/jsonshape"
)

// Commitment CSV columns. Text columns (textColumns) also come as
// "title:en", "description:es", … for translations; the bare name is in
// Limits.Lang.
var (
	commitmentColumns = []string{
		"id", "plan_id", "title", "start_date", "end_date", "lead_institution",
		"other_government", "other_civil_society", "problem", "objective", "description",
		"values", "policy_areas", "completion",
		"irm_verifiable", "irm_potential_impact", "irm_starred", "irm_did_it_open_government",
	}
	commitmentRequired = []string{"id", "plan_id", "title", "start_date", "end_date", "lead_institution"}
	milestoneColumns   = []string{"commitment_id", "milestone_id", "title", "deliverable", "start_date", "end_date", "status", "completed_on"}
	milestoneRequired  = []string{"commitment_id", "milestone_id", "title"}
	textColumns        = []string{"title", "problem", "objective", "description", "deliverable"}
)

// ListSeparator separates the entries of list cells (values, policy areas,
// other actors). A semicolon, because commas occur inside names.
const ListSeparator = ";"

// CommitmentColumns lists the commitments CSV columns (for forms and docs).
func CommitmentColumns() []string { return slices.Clone(commitmentColumns) }

// MilestoneColumns lists the milestones CSV columns.
func MilestoneColumns() []string { return slices.Clone(milestoneColumns) }

// csvTable is a CSV file read into memory with its header resolved.
type csvTable struct {
	source string
	cols   map[string]int // column name as written ("title:en") → index
	rows   []csvRow
}

type csvRow struct {
	line  int
	cells []string
}

// get returns the trimmed cell of column name, "" when absent.
func (t *csvTable) get(r csvRow, name string) string {
	i, ok := t.cols[name]
	if !ok || i >= len(r.cells) {
		return ""
	}
	return strings.TrimSpace(r.cells[i])
}

// text collects a text column (untagged: in the file's language) and its
// ":lang" translations.
func (t *csvTable) text(r csvRow, base string) jsonshape.Text {
	tx := jsonshape.Text{}
	if s := t.get(r, base); s != "" {
		tx[""] = s
	}
	for name := range t.cols {
		if l, ok := strings.CutPrefix(name, base+":"); ok {
			if s := t.get(r, name); s != "" {
				tx[l] = s
			}
		}
	}
	return tx
}

// readCSV reads one CSV input whole, resolving and checking its header.
// A file it cannot read stops it at once; header problems are all listed.
func readCSV(source string, r io.Reader, known, required []string, l Limits) (*csvTable, []RowError) {
	fail := func(row int, col, format string, args ...any) (*csvTable, []RowError) {
		return nil, []RowError{{Source: source, Row: row, Column: col, Message: fmt.Sprintf(format, args...)}}
	}
	data, err := readAll(r, l.MaxBytes)
	if errors.Is(err, errTooLarge) {
		return fail(0, "", "the file is larger than the %d MiB limit", l.MaxBytes>>20)
	}
	if err != nil {
		return fail(0, "", "cannot read the file: %v", err)
	}
	// Spreadsheet programs start UTF-8 CSV with a byte-order mark.
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if len(bytes.TrimSpace(data)) == 0 {
		return fail(0, "", "the file is empty")
	}
	cr := csv.NewReader(bytes.NewReader(data))
	// Spreadsheets in Spanish and French locales save with semicolons.
	first, _, _ := bytes.Cut(data, []byte("\n"))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		cr.Comma = ';'
	}
	header, err := cr.Read()
	if err != nil {
		return fail(1, "", "cannot read the header: %v", err)
	}
	t := &csvTable{source: source, cols: map[string]int{}}
	// Every header problem at once (an operator fixes the file in one go);
	// any of them makes the rows unreadable, so the rows are not read.
	var headErrs []RowError
	bad := func(col, format string, args ...any) {
		headErrs = append(headErrs, RowError{Source: source, Row: 1, Column: col, Message: fmt.Sprintf(format, args...)})
	}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if !utf8.ValidString(name) {
			bad("", "header cell %d is not valid UTF-8", i+1)
			continue
		}
		base, lang, tagged := strings.Cut(name, ":")
		switch {
		case name == "":
			bad("", "header cell %d is empty", i+1)
			continue
		case !slices.Contains(known, base):
			bad(truncate(name, 60), "unknown column; the columns are: %s", strings.Join(known, ", "))
			continue
		case tagged && !slices.Contains(textColumns, base):
			bad(truncate(name, 60), "only text columns (%s) take a language suffix", strings.Join(textColumns, ", "))
			continue
		case tagged && !ogp.ValidLanguageTag(lang):
			bad(truncate(name, 60), "%q is not a language tag like en or es-MX", truncate(lang, 20))
			continue
		}
		if _, dup := t.cols[name]; dup {
			bad(name, "the column appears twice")
			continue
		}
		t.cols[name] = i
	}
	for _, req := range required {
		if _, ok := t.cols[req]; !ok {
			bad(req, "required column is missing")
		}
	}
	if len(headErrs) > 0 {
		return nil, headErrs
	}
	cr.FieldsPerRecord = len(header)
	var errs []RowError
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			errs = append(errs, RowError{Source: source, Row: pe.Line, Message: fmt.Sprintf("has %d cells, the header has %d", len(rec), len(header))})
			continue
		}
		if err != nil {
			// Broken quoting makes everything after it unreliable.
			if errors.As(err, &pe) {
				return nil, append(errs, RowError{Source: source, Row: pe.Line, Message: "broken CSV quoting: " + pe.Err.Error()})
			}
			return nil, append(errs, RowError{Source: source, Message: err.Error()})
		}
		// FieldPos is only valid after a successful Read (it panics after
		// a failed one, as the fuzz target found).
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue // spreadsheets leave empty rows at the end
		}
		if len(t.rows) == l.MaxRows {
			return nil, append(errs, RowError{Source: source, Row: line, Message: fmt.Sprintf("more than %d rows; split the import", l.MaxRows)})
		}
		for i, cell := range rec {
			if msg := checkCell(cell, l.MaxCellChars); msg != "" {
				errs = append(errs, RowError{Source: source, Row: line, Column: header[i], Message: msg})
				rec[i] = ""
			}
		}
		t.rows = append(t.rows, csvRow{line: line, cells: slices.Clone(rec)})
	}
	return t, errs
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// ParseCSV reads a commitments CSV and, if milestones is not nil, a
// milestones CSV whose rows attach to commitments by commitment_id.
func ParseCSV(commitments, milestones io.Reader, limits Limits) (*Batch, []RowError) {
	l := limits.withDefaults()
	ct, errs := readCSV(SourceCommitments, commitments, commitmentColumns, commitmentRequired, l)
	if ct == nil {
		return nil, errs
	}
	b := &Batch{Lang: l.Lang, Format: FormatCSV}
	index := map[string]int{}
	for _, r := range ct.rows {
		c, rowErrs := commitmentFromCSV(ct, r, l.Lang)
		errs = append(errs, rowErrs...)
		if prev, dup := index[c.ID]; dup && c.ID != "" {
			errs = append(errs, RowError{Source: SourceCommitments, Row: r.line, Column: "id",
				Message: fmt.Sprintf("%s is also on row %d; each commitment appears once", c.ID, b.Rows[prev].Row)})
			continue
		}
		index[c.ID] = len(b.Rows)
		b.Rows = append(b.Rows, Row{Row: r.line, Commitment: c})
	}
	if milestones == nil {
		b.Errors = errs
		return b, errs
	}
	mt, mErrs := readCSV(SourceMilestones, milestones, milestoneColumns, milestoneRequired, l)
	errs = append(errs, mErrs...)
	if mt == nil {
		return nil, errs
	}
	for _, r := range mt.rows {
		cid := mt.get(r, "commitment_id")
		i, ok := index[cid]
		if !ok {
			errs = append(errs, RowError{Source: SourceMilestones, Row: r.line, Column: "commitment_id",
				Message: fmt.Sprintf("%q is not a commitment in the commitments file", truncate(cid, 40))})
			continue
		}
		m, rowErrs := milestoneFromCSV(mt, r, l.Lang)
		errs = append(errs, rowErrs...)
		row := &b.Rows[i]
		row.Commitment.Milestones = append(row.Commitment.Milestones, m)
		row.MilestoneRows = append(row.MilestoneRows, r.line)
	}
	b.Errors = errs
	return b, errs
}

// commitmentFromCSV reads row r of the commitments CSV into the public
// JSON shape, then maps and reads it exactly as a JSON entry
// (commitmentFromJSON), naming each problem by its CSV column.
func commitmentFromCSV(t *csvTable, r csvRow, lang string) (plan.Commitment, []RowError) {
	jc := jsonshape.Commitment{
		ID: t.get(r, "id"), PlanID: t.get(r, "plan_id"), Title: t.text(r, "title"),
		StartDate: t.get(r, "start_date"), EndDate: t.get(r, "end_date"), LeadInstitution: t.get(r, "lead_institution"),
		OtherActors: jsonshape.Actors{Government: list(t.get(r, "other_government")), CivilSociety: list(t.get(r, "other_civil_society"))},
		Problem:     t.text(r, "problem"), Objective: t.text(r, "objective"), Description: t.text(r, "description"),
		Values: list(t.get(r, "values")), PolicyAreas: list(t.get(r, "policy_areas")), Completion: t.get(r, "completion"),
	}
	// All four IRM cells empty means no IRM data; any set means reviewed.
	irm := jsonshape.IRM{Verifiable: t.get(r, "irm_verifiable"), PotentialImpact: t.get(r, "irm_potential_impact"),
		Starred: t.get(r, "irm_starred"), DidItOpenGovernment: t.get(r, "irm_did_it_open_government")}
	if irm != (jsonshape.IRM{}) {
		jc.IRM = &irm
	}
	c, ferrs := jc.Domain(lang)
	errs, bad := t.rowErrors(r, ferrs, csvColumnOf, lang)
	readCommitment(&c, bad)
	return c, *errs
}

// milestoneFromCSV does the same for row r of the milestones CSV.
func milestoneFromCSV(t *csvTable, r csvRow, lang string) (plan.Milestone, []RowError) {
	jm := jsonshape.Milestone{ID: t.get(r, "milestone_id"), Title: t.text(r, "title"), Deliverable: t.text(r, "deliverable"),
		Start: t.get(r, "start_date"), End: t.get(r, "end_date"), Status: t.get(r, "status"), CompletedOn: t.get(r, "completed_on")}
	m, ferrs := jm.Domain(lang)
	errs, bad := t.rowErrors(r, ferrs, csvMilestoneColumnOf, lang)
	readMilestone(&m, bad)
	return m, *errs
}

// rowErrors is the CSV form of the JSON rowErrors: fields become the
// columns of table (see csvName).
func (t *csvTable) rowErrors(r csvRow, ferrs []plan.FieldError, table map[string]string, lang string) (*[]RowError, badFunc) {
	errs := make([]RowError, 0, len(ferrs))
	bad := func(field, format string, args ...any) {
		errs = append(errs, RowError{Source: t.source, Row: r.line, Column: csvName(field, table, lang), Message: fmt.Sprintf(format, args...)})
	}
	for _, fe := range ferrs {
		bad(fe.Field, "%s", fe.Message)
	}
	return &errs, bad
}

// date parses an optional YYYY-MM-DD cell, reporting a bad one.
func date(s string, bad func(string)) plan.Date {
	d, msg := jsonshape.ParseDate(s)
	if msg != "" {
		bad(msg)
	}
	return d
}

// list splits a list cell on ListSeparator, dropping blanks.
func list(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ListSeparator) {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func truncate(s string, n int) string { return jsonshape.Truncate(s, n) }
