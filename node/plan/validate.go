package plan

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// Limits on what a node accepts. They are explicit so forms, the importer
// and the API can state them, and they sit under the vocabulary's parse
// bounds so whatever a node accepts, the hub accepts too.
const (
	MaxTitleChars       = 300
	MaxDescriptionChars = 10_000 // description, problem, objective
	MaxDeliverableChars = 2_000
	MaxUpdateChars      = 5_000
	MaxNameChars        = 300 // institutions, jurisdiction, actor names
	MaxActors           = 30  // per other-actors list
	MaxLanguages        = 10
	MaxMilestones       = 50
	MaxPolicyAreas      = 10
	MaxEvidence         = 20
	MaxURLBytes         = 2048
	MaxPlanIDBytes      = 64
)

// FieldError is one invalid field: its path ("milestones[2].end") and why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every invalid field of one value.
type ValidationError struct {
	Fields []FieldError `json:"fields"`
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// Add records a problem with field.
func (e *ValidationError) Add(field, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns e, or nil when it holds no problem (a nil *ValidationError
// must not escape as a non-nil error interface).
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

func (e *ValidationError) text(field string, t Text, maxChars int, required bool) {
	if t.IsZero() {
		if required {
			e.Add(field, "is required")
		}
		return
	}
	if !ogp.ValidLanguageTag(t.Lang) {
		e.Add(field, "has no valid default language (got %q)", t.Lang)
	} else if t.Map[t.Lang] == "" {
		e.Add(field, "has no wording in its default language %q", t.Lang)
	}
	if len(t.Map) > MaxLanguages {
		e.Add(field, "has %d languages, limit %d", len(t.Map), MaxLanguages)
		return
	}
	for _, lang := range t.Langs() {
		if !ogp.ValidLanguageTag(lang) {
			e.Add(field, "%q is not a language tag", lang)
			continue
		}
		s := t.Map[lang]
		if !utf8.ValidString(s) {
			e.Add(field+"."+lang, "is not valid UTF-8")
		} else if n := utf8.RuneCountInString(s); n > maxChars {
			e.Add(field+"."+lang, "is %d characters long, limit %d", n, maxChars)
		}
		if strings.TrimSpace(s) == "" {
			e.Add(field+"."+lang, "is blank")
		}
	}
}

func (e *ValidationError) name(field, s string, required bool) {
	switch {
	case strings.TrimSpace(s) == "":
		if required || s != "" {
			e.Add(field, "is required")
		}
	case !utf8.ValidString(s):
		e.Add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > MaxNameChars:
		e.Add(field, "is %d characters long, limit %d", utf8.RuneCountInString(s), MaxNameChars)
	}
}

func (e *ValidationError) date(field string, d Date, required bool) {
	if d.IsZero() {
		if required {
			e.Add(field, "is required")
		}
		return
	}
	if !d.Valid() {
		e.Add(field, "%q is not a date (YYYY-MM-DD)", string(d))
	}
}

// order checks end ≥ start when both are valid dates.
func (e *ValidationError) order(endField string, start, end Date) {
	if start.Valid() && end.Valid() && end.Before(start) {
		e.Add(endField, "must be on or after start (%s)", start)
	}
}

func (e *ValidationError) links(field string, links []string) {
	if len(links) > MaxEvidence {
		e.Add(field, "has %d links, limit %d", len(links), MaxEvidence)
		return
	}
	for i, l := range links {
		if msg := linkProblem(l); msg != "" {
			e.Add(fmt.Sprintf("%s[%d]", field, i), "%s", msg)
		}
	}
}

// linkProblem says why s is not an absolute http(s) URL, or "".
func linkProblem(s string) string {
	if len(s) > MaxURLBytes {
		return fmt.Sprintf("is longer than %d bytes", MaxURLBytes)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not an absolute http(s) URL", s)
	}
	if u.User != nil {
		return "must not contain a user name or password"
	}
	return ""
}

// Validate checks the plan.
func (p ActionPlan) Validate() error {
	e := &ValidationError{}
	if !ogp.ValidSlug(p.ID) {
		e.Add("id", "%q must be a lower-case slug like 2016-2018", p.ID)
	}
	e.text("title", p.Title, MaxTitleChars, true)
	e.text("summary", p.Summary, MaxDescriptionChars, false)
	e.name("jurisdiction", p.Jurisdiction, true)
	e.date("period.start", p.Period.Start, true)
	e.date("period.end", p.Period.End, true)
	e.order("period.end", p.Period.Start, p.Period.End)
	if !p.Status.Valid() {
		e.Add("status", "%q is not one of development, implementation, ended", p.Status)
	}
	if p.Prefix != "" && !prefixRe(p.Prefix) {
		e.Add("prefix", "%q must be 2-6 capital letters", p.Prefix)
	}
	for i, g := range p.Guidelines {
		f := fmt.Sprintf("guidelines[%d]", i)
		if g.Key != ogp.GuidelineKeys[i] {
			e.Add(f+".key", "must be %q at this position, got %q", ogp.GuidelineKeys[i], g.Key)
		}
		if g.Level != "" && !g.Level.Valid() {
			e.Add(f+".level", "%q is not one of met, partly, not-met", g.Level)
		}
		if g.Level == "" && len(g.Evidence) > 0 {
			e.Add(f+".level", "is required when evidence is given")
		}
		e.links(f+".evidence", g.Evidence)
	}
	for _, x := range []struct {
		field string
		level IAP2Level
	}{
		{"participation.development", p.Participation.Development},
		{"participation.implementation", p.Participation.Implementation},
	} {
		if x.level != "" && !x.level.Valid() {
			e.Add(x.field, "%q is not one of inform, consult, involve, collaborate, empower", x.level)
		}
	}
	return e.Err()
}

func prefixRe(s string) bool {
	if len(s) < 2 || len(s) > 6 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// Validate checks the commitment on its own; ValidateFor adds the checks
// against its plan.
func (c Commitment) Validate() error {
	e := &ValidationError{}
	c.validate(e)
	return e.Err()
}

// ValidateFor checks the commitment and that it fits plan p: same plan ID
// and, when the plan sets one, the plan's identifier prefix.
func (c Commitment) ValidateFor(p ActionPlan) error {
	e := &ValidationError{}
	c.validate(e)
	if c.PlanID != p.ID {
		e.Add("planId", "is %q, not the plan %q", c.PlanID, p.ID)
	}
	if p.Prefix != "" && (!strings.HasPrefix(c.ID, p.Prefix) || len(c.ID) != len(p.Prefix)+4) {
		e.Add("id", "%q must be the plan's prefix %s and 4 digits", c.ID, p.Prefix)
	}
	return e.Err()
}

func (c Commitment) validate(e *ValidationError) {
	if !ogp.ValidIdentifier(c.ID) {
		e.Add("id", "%q must be a jurisdiction prefix and 4 digits, like JAL0001", c.ID)
	}
	if len(c.PlanID) > MaxPlanIDBytes || !ogp.ValidSlug(c.PlanID) {
		e.Add("planId", "%q must be a plan id like 2016-2018", c.PlanID)
	}
	e.text("title", c.Title, MaxTitleChars, true)
	e.date("startDate", c.StartDate, true)
	e.date("endDate", c.EndDate, true)
	e.order("endDate", c.StartDate, c.EndDate)
	e.name("leadInstitution", c.LeadInstitution, true)
	for _, x := range []struct {
		field string
		list  []string
	}{
		{"otherActors.government", c.OtherActors.Government},
		{"otherActors.civilSociety", c.OtherActors.CivilSociety},
	} {
		field, list := x.field, x.list
		if len(list) > MaxActors {
			e.Add(field, "has %d entries, limit %d", len(list), MaxActors)
			continue
		}
		for i, n := range list {
			e.name(fmt.Sprintf("%s[%d]", field, i), n, true)
		}
	}
	e.text("problem", c.Problem, MaxDescriptionChars, false)
	e.text("objective", c.Objective, MaxDescriptionChars, false)
	e.text("description", c.Description, MaxDescriptionChars, false)
	seenV := map[Value]bool{}
	for i, v := range c.Values {
		f := fmt.Sprintf("values[%d]", i)
		switch {
		case !v.Valid():
			e.Add(f, "%q is not an OGP value (access-to-information, civic-participation, public-accountability, technology-innovation)", v)
		case seenV[v]:
			e.Add(f, "%q is listed twice", v)
		}
		seenV[v] = true
	}
	if len(c.PolicyAreas) > MaxPolicyAreas {
		e.Add("policyAreas", "has %d areas, limit %d", len(c.PolicyAreas), MaxPolicyAreas)
	} else {
		seen := map[string]bool{}
		for i, a := range c.PolicyAreas {
			f := fmt.Sprintf("policyAreas[%d]", i)
			if _, ok := LookupPolicyArea(a); !ok {
				e.Add(f, "%q is not in the policy-area taxonomy %s", a, TaxonomyVersion)
			} else if seen[a] {
				e.Add(f, "%q is listed twice", a)
			}
			seen[a] = true
		}
	}
	if len(c.Milestones) > MaxMilestones {
		e.Add("milestones", "has %d milestones, limit %d", len(c.Milestones), MaxMilestones)
	} else {
		seen := map[string]bool{}
		for i, m := range c.Milestones {
			f := fmt.Sprintf("milestones[%d]", i)
			if !ogp.ValidSlug(m.ID) {
				e.Add(f+".id", "%q must be a short slug like 1 or m2", m.ID)
			} else if seen[m.ID] {
				e.Add(f+".id", "%q is used by an earlier milestone", m.ID)
			}
			seen[m.ID] = true
			m.validate(f, e)
		}
	}
	if c.Completion == "" {
		e.Add("completion", "is required")
	} else if !c.Completion.Valid() {
		e.Add("completion", "%q is not one of no-evidence, not-started, limited, substantial, complete", c.Completion)
	}
	if c.IRM != nil {
		if !c.IRM.Verifiable.Valid() {
			e.Add("irm.verifiable", "%q is not one of yes, no, pending", c.IRM.Verifiable)
		}
		if !c.IRM.PotentialImpact.Valid() {
			e.Add("irm.potentialImpact", "%q is not one of none, minor, moderate, transformative, pending", c.IRM.PotentialImpact)
		}
		if !c.IRM.Starred.Valid() {
			e.Add("irm.starred", "%q is not one of yes, no, pending", c.IRM.Starred)
		}
		if !c.IRM.DidItOpenGovernment.Valid() {
			e.Add("irm.didItOpenGovernment", "%q is not one of worsened, did-not-change, marginal, major, outstanding, pending", c.IRM.DidItOpenGovernment)
		}
	}
}

func (m Milestone) validate(f string, e *ValidationError) {
	e.text(f+".title", m.Title, MaxTitleChars, true)
	e.text(f+".deliverable", m.Deliverable, MaxDeliverableChars, false)
	e.date(f+".start", m.Start, false)
	e.date(f+".end", m.End, false)
	e.order(f+".end", m.Start, m.End)
	if !m.Status.Valid() {
		e.Add(f+".status", "%q is not one of not-started, in-progress, complete, cancelled", m.Status)
	}
	e.date(f+".completedOn", m.CompletedOn, false)
	if !m.CompletedOn.IsZero() && m.Status != ogp.MilestoneComplete {
		e.Add(f+".completedOn", "is only allowed for a complete milestone (status is %q)", m.Status)
	}
	if m.Start.Valid() && m.CompletedOn.Valid() && m.CompletedOn.Before(m.Start) {
		e.Add(f+".completedOn", "must be on or after start (%s)", m.Start)
	}
}

// Validate checks the update's own fields; ValidateFor also checks it
// against the commitment it reports on.
func (u ProgressUpdate) Validate() error {
	e := &ValidationError{}
	u.validate(e)
	return e.Err()
}

// ValidateFor checks u against c: same commitment, and every milestone
// change names one of c's milestones.
func (u ProgressUpdate) ValidateFor(c Commitment) error {
	e := &ValidationError{}
	u.validate(e)
	if u.CommitmentID != c.ID {
		e.Add("commitmentId", "is %q, not %q", u.CommitmentID, c.ID)
	}
	ids := map[string]bool{}
	for _, m := range c.Milestones {
		ids[m.ID] = true
	}
	for i, ch := range u.MilestoneChanges {
		if !ids[ch.MilestoneID] {
			e.Add(fmt.Sprintf("milestoneChanges[%d].milestoneId", i), "%q is not a milestone of %s", ch.MilestoneID, c.ID)
		}
	}
	return e.Err()
}

func (u ProgressUpdate) validate(e *ValidationError) {
	if !ogp.ValidIdentifier(u.CommitmentID) {
		e.Add("commitmentId", "%q must be a commitment id like JAL0001", u.CommitmentID)
	}
	e.date("date", u.Date, true)
	e.text("text", u.Text, MaxUpdateChars, true)
	if u.Completion != "" && !u.Completion.Valid() {
		e.Add("completion", "%q is not one of no-evidence, not-started, limited, substantial, complete", u.Completion)
	}
	if len(u.MilestoneChanges) > MaxMilestones {
		e.Add("milestoneChanges", "has %d entries, limit %d", len(u.MilestoneChanges), MaxMilestones)
	}
	for i, ch := range u.MilestoneChanges {
		f := fmt.Sprintf("milestoneChanges[%d]", i)
		if !ogp.ValidSlug(ch.MilestoneID) {
			e.Add(f+".milestoneId", "%q is not a milestone id", ch.MilestoneID)
		}
		if !ch.Status.Valid() {
			e.Add(f+".status", "%q is not one of not-started, in-progress, complete, cancelled", ch.Status)
		}
	}
	e.links("evidence", u.Evidence)
}
