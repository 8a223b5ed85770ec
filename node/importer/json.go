package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/node/plan"
)

// jsonText is text in a JSON import: a plain string (in the file's
// language) or an object from language tag to string.
type jsonText struct {
	plain string
	byTag map[string]string
}

func (t *jsonText) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &t.plain); err == nil {
		return nil
	}
	if err := json.Unmarshal(b, &t.byTag); err != nil {
		return errors.New(`text must be a string or an object like {"es": "…", "en": "…"}`)
	}
	return nil
}

// toText converts to plan.Text; the default language is the file's when
// the text has it, otherwise the first tag in order.
func (t jsonText) toText(lang string) plan.Text {
	if len(t.byTag) == 0 {
		return plan.NewText(lang, strings.TrimSpace(t.plain))
	}
	tags := make([]string, 0, len(t.byTag))
	for k := range t.byTag {
		tags = append(tags, k)
	}
	slices.Sort(tags)
	out := plan.Text{Lang: lang}
	if _, ok := t.byTag[lang]; !ok {
		out.Lang = tags[0]
	}
	for _, k := range tags {
		out = out.With(k, strings.TrimSpace(t.byTag[k]))
	}
	return out
}

type jsonFile struct {
	Lang            string           `json:"lang"`
	Plan            *jsonPlan        `json:"plan"`
	Commitments     []jsonCommitment `json:"commitments"`
	ProgressUpdates []jsonUpdate     `json:"progressUpdates"`
}

type jsonPlan struct {
	ID           string   `json:"id"`
	Title        jsonText `json:"title"`
	Summary      jsonText `json:"summary"`
	Jurisdiction string   `json:"jurisdiction"`
	Prefix       string   `json:"prefix"`
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

type jsonCommitment struct {
	ID              string   `json:"id"`
	Plan            string   `json:"plan"`
	Title           jsonText `json:"title"`
	StartDate       string   `json:"startDate"`
	EndDate         string   `json:"endDate"`
	LeadInstitution string   `json:"leadInstitution"`
	OtherActors     struct {
		Government   []string `json:"government"`
		CivilSociety []string `json:"civilSociety"`
	} `json:"otherActors"`
	Problem     jsonText        `json:"problem"`
	Objective   jsonText        `json:"objective"`
	Description jsonText        `json:"description"`
	Values      []string        `json:"values"`
	PolicyAreas []string        `json:"policyAreas"`
	Milestones  []jsonMilestone `json:"milestones"`
	Completion  string          `json:"completion"`
	IRM         *struct {
		Verifiable          string `json:"verifiable"`
		PotentialImpact     string `json:"potentialImpact"`
		Starred             string `json:"starred"`
		DidItOpenGovernment string `json:"didItOpenGovernment"`
	} `json:"irm"`
}

type jsonMilestone struct {
	ID          string   `json:"id"`
	Title       jsonText `json:"title"`
	Deliverable jsonText `json:"deliverable"`
	Start       string   `json:"start"`
	End         string   `json:"end"`
	Status      string   `json:"status"`
	CompletedOn string   `json:"completedOn"`
}

type jsonUpdate struct {
	Commitment       string   `json:"commitment"`
	Date             string   `json:"date"`
	Text             jsonText `json:"text"`
	Completion       string   `json:"completion"`
	MilestoneChanges []struct {
		Milestone string `json:"milestone"`
		Status    string `json:"status"`
	} `json:"milestoneChanges"`
	Evidence []string `json:"evidence"`
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
	p.Title = jp.Title.toText(lang)
	p.Summary = jp.Summary.toText(lang)
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

func commitmentFromJSON(jc jsonCommitment, row int, lang string) (plan.Commitment, []RowError) {
	var errs []RowError
	bad := func(col, format string, args ...any) {
		errs = append(errs, RowError{Source: SourceCommitments, Row: row, Column: col, Message: fmt.Sprintf(format, args...)})
	}
	c := plan.Commitment{
		ID:              strings.ToUpper(strings.TrimSpace(jc.ID)),
		PlanID:          strings.TrimSpace(jc.Plan),
		Title:           jc.Title.toText(lang),
		LeadInstitution: strings.TrimSpace(jc.LeadInstitution),
		OtherActors:     plan.OtherActors{Government: jc.OtherActors.Government, CivilSociety: jc.OtherActors.CivilSociety},
		Problem:         jc.Problem.toText(lang),
		Objective:       jc.Objective.toText(lang),
		Description:     jc.Description.toText(lang),
		Completion:      ogp.CompletionNotStarted,
	}
	c.StartDate = date(jc.StartDate, func(m string) { bad("startDate", "%s", m) })
	c.EndDate = date(jc.EndDate, func(m string) { bad("endDate", "%s", m) })
	for _, v := range jc.Values {
		if val, ok := parseEnum(v, ogp.Values, ogp.Value.Label); ok {
			c.Values = append(c.Values, val)
		} else {
			bad("values", "%q is not an OGP value (%s)", truncate(v, 60), enumNames(ogp.Values))
		}
	}
	for _, a := range jc.PolicyAreas {
		if slug, ok := parsePolicyArea(a); ok {
			c.PolicyAreas = append(c.PolicyAreas, slug)
		} else {
			bad("policyAreas", "%q is not a policy area of taxonomy %s", truncate(a, 60), plan.TaxonomyVersion)
		}
	}
	if jc.Completion != "" {
		if v, ok := parseEnum(jc.Completion, ogp.Completions, ogp.Completion.Label); ok {
			c.Completion = v
		} else {
			bad("completion", "%q is not one of %s", truncate(jc.Completion, 40), enumNames(ogp.Completions))
		}
	}
	if jc.IRM != nil {
		irm, irmErrs := irmFromCells(jc.IRM.Verifiable, jc.IRM.PotentialImpact, jc.IRM.Starred, jc.IRM.DidItOpenGovernment)
		if irm == nil {
			irm = plan.PendingIRM()
		}
		c.IRM = irm
		for _, e := range irmErrs {
			bad("irm."+snakeToCamel(strings.TrimPrefix(e[0], "irm_")), "%s", e[1])
		}
	}
	for i, jm := range jc.Milestones {
		col := fmt.Sprintf("milestones[%d].", i)
		m := plan.Milestone{
			ID:          strings.ToLower(strings.TrimSpace(jm.ID)),
			Title:       jm.Title.toText(lang),
			Deliverable: jm.Deliverable.toText(lang),
			Status:      ogp.MilestoneNotStarted,
		}
		m.Start = date(jm.Start, func(msg string) { bad(col+"start", "%s", msg) })
		m.End = date(jm.End, func(msg string) { bad(col+"end", "%s", msg) })
		m.CompletedOn = date(jm.CompletedOn, func(msg string) { bad(col+"completedOn", "%s", msg) })
		if jm.Status != "" {
			if v, ok := parseEnum(jm.Status, ogp.MilestoneStatuses, ogp.MilestoneStatus.Label); ok {
				m.Status = v
			} else {
				bad(col+"status", "%q is not one of %s", truncate(jm.Status, 40), enumNames(ogp.MilestoneStatuses))
			}
		}
		c.Milestones = append(c.Milestones, m)
	}
	return c, errs
}

func updateFromJSON(ju jsonUpdate, row int, lang string) (plan.ProgressUpdate, []RowError) {
	var errs []RowError
	bad := func(col, format string, args ...any) {
		errs = append(errs, RowError{Source: SourceUpdates, Row: row, Column: col, Message: fmt.Sprintf(format, args...)})
	}
	u := plan.ProgressUpdate{
		CommitmentID: strings.ToUpper(strings.TrimSpace(ju.Commitment)),
		Text:         ju.Text.toText(lang),
		Evidence:     ju.Evidence,
	}
	u.Date = date(ju.Date, func(m string) { bad("date", "%s", m) })
	if ju.Completion != "" {
		if v, ok := parseEnum(ju.Completion, ogp.Completions, ogp.Completion.Label); ok {
			u.Completion = v
		} else {
			bad("completion", "%q is not one of %s", truncate(ju.Completion, 40), enumNames(ogp.Completions))
		}
	}
	for i, mc := range ju.MilestoneChanges {
		ch := plan.MilestoneChange{MilestoneID: strings.ToLower(strings.TrimSpace(mc.Milestone))}
		if v, ok := parseEnum(mc.Status, ogp.MilestoneStatuses, ogp.MilestoneStatus.Label); ok {
			ch.Status = v
		} else {
			bad(fmt.Sprintf("milestoneChanges[%d].status", i), "%q is not one of %s", truncate(mc.Status, 40), enumNames(ogp.MilestoneStatuses))
		}
		u.MilestoneChanges = append(u.MilestoneChanges, ch)
	}
	return u, errs
}

func snakeToCamel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
