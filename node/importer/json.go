package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ogpnet/ogpnet/internal/jsonlimit"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/plan/jsonshape"
)

type jsonFile struct {
	Lang            string                 `json:"lang"`
	Plan            *jsonPlan              `json:"plan"`
	Commitments     []jsonshape.Commitment `json:"commitments"`
	ProgressUpdates []jsonshape.Update     `json:"progressUpdates"`
}

type jsonPlan struct {
	ID           string         `json:"id"`
	Title        jsonshape.Text `json:"title"`
	Summary      jsonshape.Text `json:"summary"`
	Jurisdiction string         `json:"jurisdiction"`
	Prefix       string         `json:"prefix"`
	Period       struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"period"`
	Status     string `json:"status"`
	Guidelines map[string]struct {
		Level    string   `json:"level"`
		Evidence []string `json:"evidence"`
	} `json:"guidelines"`
	Participation struct {
		Development    string `json:"development"`
		Implementation string `json:"implementation"`
	} `json:"participation"`
}

// ParseJSON reads a JSON import: {"lang", "plan", "commitments",
// "progressUpdates"}, all optional but one. Unknown keys are errors, so a
// misspelt field is reported instead of silently dropped.
func ParseJSON(r io.Reader, limits Limits) (*Batch, []RowError) {
	l := limits.withDefaults()
	fail := func(format string, args ...any) (*Batch, []RowError) {
		return nil, []RowError{{Source: SourceFile, Message: fmt.Sprintf(format, args...)}}
	}
	data, err := readAll(r, l.MaxBytes)
	if errors.Is(err, errTooLarge) {
		return fail("the file is larger than the %d MiB limit", l.MaxBytes>>20)
	}
	if err != nil {
		return fail("cannot read the file: %v", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	// encoding/json would quietly replace invalid bytes with U+FFFD.
	if !utf8.Valid(data) {
		return fail("the file is not valid UTF-8")
	}
	if err := jsonlimit.Import.Check(data); err != nil {
		return fail("%s", strings.TrimPrefix(err.Error(), jsonlimit.ErrLimit.Error()+": "))
	}
	var f jsonFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fail("invalid JSON at byte %d: %v", se.Offset, se)
		case errors.As(err, &te):
			return fail("field %q: JSON %s where another type was expected", te.Field, te.Value)
		}
		return fail("invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fail("trailing data after the JSON document")
	}
	lang := l.Lang
	if f.Lang != "" {
		if !ogp.ValidLanguageTag(f.Lang) {
			return fail("lang %q is not a language tag like en or es-MX", truncate(f.Lang, 20))
		}
		lang = f.Lang
	}
	if f.Plan == nil && len(f.Commitments) == 0 && len(f.ProgressUpdates) == 0 {
		return fail("nothing to import: the file has no plan, commitments or progressUpdates")
	}
	if n := max(len(f.Commitments), len(f.ProgressUpdates)); n > l.MaxRows {
		return fail("%d entries, more than the limit of %d; split the import", n, l.MaxRows)
	}
	if !stringsWithin(data, l.MaxCellChars) {
		return fail("a text is longer than %d characters", l.MaxCellChars)
	}

	b := &Batch{Lang: lang, Format: FormatJSON}
	var errs []RowError
	if f.Plan != nil {
		p, perrs := planFromJSON(*f.Plan, lang)
		b.Plan = &p
		errs = append(errs, perrs...)
	}
	index := map[string]int{}
	for i, jc := range f.Commitments {
		c, cerrs := commitmentFromJSON(jc, i+1, lang)
		errs = append(errs, cerrs...)
		if prev, dup := index[c.ID]; dup && c.ID != "" {
			errs = append(errs, RowError{Source: SourceCommitments, Row: i + 1, Column: "id",
				Message: fmt.Sprintf("%s is also entry %d; each commitment appears once", c.ID, b.Rows[prev].Row)})
			continue
		}
		index[c.ID] = len(b.Rows)
		b.Rows = append(b.Rows, Row{Row: i + 1, Commitment: c})
	}
	for i, ju := range f.ProgressUpdates {
		u, uerrs := updateFromJSON(ju, i+1, lang)
		errs = append(errs, uerrs...)
		b.Updates = append(b.Updates, UpdateRow{Row: i + 1, Update: u})
	}
	b.Errors = errs
	return b, errs
}

// stringsWithin reports whether every JSON string in data is at most max
// characters, by scanning tokens (cheap, and bounds every text field).
func stringsWithin(data []byte, maxChars int) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return true // syntax was checked already; EOF ends the scan
		}
		if s, ok := tok.(string); ok && utf8.RuneCountInString(s) > maxChars {
			return false
		}
	}
}

func planFromJSON(jp jsonPlan, lang string) (plan.ActionPlan, []RowError) {
	var errs []RowError
	bad := func(col, format string, args ...any) {
		errs = append(errs, RowError{Source: SourcePlan, Column: col, Message: fmt.Sprintf(format, args...)})
	}
	p := plan.NewActionPlan(strings.TrimSpace(jp.ID))
	p.Title = jp.Title.Domain(lang)
	p.Summary = jp.Summary.Domain(lang)
	p.Jurisdiction = strings.TrimSpace(jp.Jurisdiction)
	p.Prefix = strings.ToUpper(strings.TrimSpace(jp.Prefix))
	p.Period.Start = date(jp.Period.Start, func(m string) { bad("period.start", "%s", m) })
	p.Period.End = date(jp.Period.End, func(m string) { bad("period.end", "%s", m) })
	if jp.Status != "" {
		all := []ogp.PlanStatus{ogp.PlanDevelopment, ogp.PlanImplementation, ogp.PlanEnded}
		if v, ok := parseEnum(jp.Status, all, ogp.PlanStatus.Label); ok {
			p.Status = v
		} else {
			bad("status", "%q is not one of %s", truncate(jp.Status, 40), enumNames(all))
		}
	}
	for key, g := range jp.Guidelines {
		i := slices.Index(ogp.GuidelineKeys[:], ogp.GuidelineKey(key))
		if i < 0 {
			bad("guidelines."+truncate(key, 40), "unknown guideline; the keys are: %s", enumNames(ogp.GuidelineKeys[:]))
			continue
		}
		if g.Level != "" {
			all := []ogp.GuidelineLevel{ogp.GuidelineMet, ogp.GuidelinePartly, ogp.GuidelineNotMet}
			if v, ok := parseEnum(g.Level, all, ogp.GuidelineLevel.Label); ok {
				p.Guidelines[i].Level = v
			} else {
				bad("guidelines."+key+".level", "%q is not one of %s", truncate(g.Level, 40), enumNames(all))
			}
		}
		p.Guidelines[i].Evidence = g.Evidence
	}
	for _, x := range []struct {
		col string
		in  string
		out *ogp.IAP2Level
	}{
		{"participation.development", jp.Participation.Development, &p.Participation.Development},
		{"participation.implementation", jp.Participation.Implementation, &p.Participation.Implementation},
	} {
		if x.in == "" {
			continue
		}
		if v, ok := parseEnum(x.in, ogp.IAP2Levels, ogp.IAP2Level.Label); ok {
			*x.out = v
		} else {
			bad(x.col, "%q is not one of %s", truncate(x.in, 40), enumNames(ogp.IAP2Levels))
		}
	}
	return p, errs
}

// commitmentFromJSON maps entry row of "commitments" by the public shape's
// converter, then reads it as an import does (readCommitment).
func commitmentFromJSON(jc jsonshape.Commitment, row int, lang string) (plan.Commitment, []RowError) {
	c, ferrs := jc.Domain(lang)
	errs, bad := rowErrors(SourceCommitments, row, ferrs)
	readCommitment(&c, bad)
	return c, *errs
}

// updateFromJSON does the same for entry row of "progressUpdates".
func updateFromJSON(ju jsonshape.Update, row int, lang string) (plan.ProgressUpdate, []RowError) {
	u, ferrs := ju.Domain(lang)
	u.ID = "" // progress updates get their id when stored
	errs, bad := rowErrors(SourceUpdates, row, ferrs)
	readUpdate(&u, bad)
	return u, *errs
}

// rowErrors returns the row errors of entry row of source, starting with
// the mapping errors ferrs, and the function that adds one; JSON entries
// name their fields by JSON path.
func rowErrors(source string, row int, ferrs []plan.FieldError) (*[]RowError, badFunc) {
	errs := make([]RowError, 0, len(ferrs))
	for _, fe := range ferrs {
		errs = append(errs, RowError{Source: source, Row: row, Column: fe.Field, Message: fe.Message})
	}
	return &errs, func(field, format string, args ...any) {
		errs = append(errs, RowError{Source: source, Row: row, Column: field, Message: fmt.Sprintf(format, args...)})
	}
}
