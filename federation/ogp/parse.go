package ogp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Bounds applied to every parsed document. They are generous for honest
// nodes (node-side domain limits are stricter) and small enough that a
// hostile document cannot make the hub store or render something huge.
const (
	MaxDocumentBytes    = 1 << 20 // one JSON document
	MaxIRIBytes         = 2048
	MaxNameChars        = 1000
	MaxSummaryChars     = 5000
	MaxContentBytes     = 200_000 // HTML, per language
	MaxLongTextChars    = 20_000  // problem, objective, deliverable
	MaxShortTextChars   = 500     // institution, jurisdiction, actor names
	MaxLanguages        = 20      // entries in any …Map
	MaxAddressees       = 100     // to + cc
	MaxTags             = 30
	MaxPolicyAreas      = 20
	MaxActors           = 50 // per otherActors list
	MaxMilestones       = 50
	MaxMilestoneChanges = 50
	MaxEvidence         = 20
	MaxPlanCommitments  = 500
)

// Kinds returned by Parse.
const (
	KindCommitment     = "commitment"
	KindProgressUpdate = "progress-update"
	KindActionPlan     = "action-plan"
	KindTombstone      = "tombstone"
	KindIRI            = "iri" // an activity's object given by reference only
	// Activities are reported by their type: ActivityCreate, ActivityUpdate
	// and ActivityDelete.
)

// Errors that classify a rejected document; test with errors.Is.
var (
	ErrTooLarge    = errors.New("ogp: document too large")
	ErrMalformed   = errors.New("ogp: malformed JSON")
	ErrUnsupported = errors.New("ogp: not an ogp document")
	ErrInvalid     = errors.New("ogp: invalid document")
)

// FieldError names one invalid field by its JSON path and says why.
type FieldError struct {
	Field   string
	Message string
}

// InvalidError lists every problem found in one document. It matches
// ErrInvalid with errors.Is.
type InvalidError struct {
	Kind   string
	Fields []FieldError
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ogp: invalid %s: ", e.Kind)
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(": ")
		b.WriteString(f.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Parse decodes and validates any ogp document: an object (commitment,
// progress update, action plan, tombstone) or a Create/Update/Delete of one.
// kind is one of the Kind constants, or the activity type for activities;
// obj is a Commitment, ProgressUpdate, ActionPlan, Tombstone or Activity
// value. The kind is decided by "type" (Article, Note, Page, Tombstone,
// Create, Update, Delete) and a commitment must also carry ogp:identifier.
func Parse(raw []byte) (kind string, obj any, err error) {
	if err := precheck(raw); err != nil {
		return "", nil, err
	}
	var probe struct {
		Type       json.RawMessage `json:"type"`
		Identifier json.RawMessage `json:"ogp:identifier"`
	}
	if err := decodeStrict(raw, &probe); err != nil {
		return "", nil, err
	}
	var typ string
	if len(probe.Type) == 0 || json.Unmarshal(probe.Type, &typ) != nil {
		return "", nil, fmt.Errorf("%w: \"type\" must be a string", ErrUnsupported)
	}
	switch typ {
	case ActivityCreate, ActivityUpdate, ActivityDelete:
		a, err := ParseActivity(raw)
		if err != nil {
			return "", nil, err
		}
		return a.Type, a, nil
	case TypeCommitment:
		if len(probe.Identifier) == 0 {
			return "", nil, fmt.Errorf("%w: an Article without ogp:identifier is not a commitment", ErrUnsupported)
		}
		c, err := ParseCommitment(raw)
		return KindCommitment, c, err
	case TypeProgressUpdate:
		u, err := ParseProgressUpdate(raw)
		return KindProgressUpdate, u, err
	case TypeActionPlan:
		p, err := ParseActionPlan(raw)
		return KindActionPlan, p, err
	case TypeTombstone:
		t, err := ParseTombstone(raw)
		return KindTombstone, t, err
	}
	return "", nil, fmt.Errorf("%w: type %q", ErrUnsupported, truncate(typ, 64))
}

// ParseCommitment decodes and validates a commitment (Article).
func ParseCommitment(raw []byte) (Commitment, error) { return parseObject[Commitment](raw) }

// ParseProgressUpdate decodes and validates a progress update (Note).
func ParseProgressUpdate(raw []byte) (ProgressUpdate, error) { return parseObject[ProgressUpdate](raw) }

// ParseActionPlan decodes and validates an action plan (Page).
func ParseActionPlan(raw []byte) (ActionPlan, error) { return parseObject[ActionPlan](raw) }

// ParseTombstone decodes and validates a Tombstone.
func ParseTombstone(raw []byte) (Tombstone, error) { return parseObject[Tombstone](raw) }

// parseObject decodes raw strictly into a T and validates it. On any error
// it returns T's zero value, never a half-checked document.
func parseObject[T interface{ Validate() error }](raw []byte) (T, error) {
	var v, zero T
	if err := decodeObject(raw, &v); err != nil {
		return zero, err
	}
	if b, ok := any(&v).(interface{ stripBidi() }); ok {
		b.stripBidi() // before Validate: a name of bidi controls only is blank
	}
	if err := v.Validate(); err != nil {
		return zero, err
	}
	return v, nil
}

// ParseActivity decodes and validates a Create, Update or Delete. The
// embedded object must be attributed to the activity's actor and live on the
// actor's origin; Create and Update must embed the object, Delete may give a
// Tombstone or the bare IRI.
func ParseActivity(raw []byte) (Activity, error) {
	if err := precheck(raw); err != nil {
		return Activity{}, err
	}
	var w struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		Actor     string          `json:"actor"`
		Object    json.RawMessage `json:"object"`
		To        IRIList         `json:"to"`
		CC        IRIList         `json:"cc"`
		Published json.RawMessage `json:"published"`
	}
	if err := decodeStrict(raw, &w); err != nil {
		return Activity{}, err
	}
	a := Activity{ID: w.ID, Type: w.Type, Actor: w.Actor, To: w.To, CC: w.CC}
	if len(w.Published) > 0 && string(w.Published) != "null" {
		if err := json.Unmarshal(w.Published, &a.Published); err != nil {
			return Activity{}, &InvalidError{Kind: "activity", Fields: []FieldError{{"published", "must be an RFC 3339 date-time"}}}
		}
	}
	obj := bytes.TrimSpace(w.Object)
	switch {
	case len(obj) == 0 || string(obj) == "null":
		return Activity{}, &InvalidError{Kind: "activity", Fields: []FieldError{{"object", "is required"}}}
	case obj[0] == '"':
		var iri string
		if err := json.Unmarshal(obj, &iri); err != nil {
			return Activity{}, fmt.Errorf("%w: object: %v", ErrMalformed, err)
		}
		a.Object, a.ObjectKind = iri, KindIRI
	case obj[0] == '{':
		kind, o, err := parseEmbedded(obj)
		if err != nil {
			return Activity{}, fmt.Errorf("object: %w", err)
		}
		a.Object, a.ObjectKind = o, kind
	default:
		return Activity{}, &InvalidError{Kind: "activity", Fields: []FieldError{{"object", "must be an object or an IRI"}}}
	}
	if err := a.validate(); err != nil {
		return Activity{}, err
	}
	return a, nil
}

// parseEmbedded parses an activity's object. It looks at the type first
// and refuses nested activities before parsing further, so a hostile chain
// of Create-in-Create cannot make parsing cost grow with nesting depth.
func parseEmbedded(obj []byte) (string, any, error) {
	var probe struct {
		Type json.RawMessage `json:"type"`
	}
	if err := decodeStrict(obj, &probe); err != nil {
		return "", nil, err
	}
	var typ string
	_ = json.Unmarshal(probe.Type, &typ)
	switch typ {
	case TypeCommitment, TypeProgressUpdate, TypeActionPlan, TypeTombstone:
		return Parse(obj)
	}
	return "", nil, fmt.Errorf("%w: an activity's object must be an Article, Note, Page or Tombstone, got type %q", ErrUnsupported, truncate(typ, 40))
}

func precheck(raw []byte) error {
	if len(raw) > MaxDocumentBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), MaxDocumentBytes)
	}
	if !utf8.Valid(raw) {
		return fmt.Errorf("%w: not valid UTF-8", ErrMalformed)
	}
	return nil
}

// decodeObject is precheck + decodeStrict for the object parsers.
func decodeObject(raw []byte, v any) error {
	if err := precheck(raw); err != nil {
		return err
	}
	return decodeStrict(raw, v)
}

// decodeStrict decodes exactly one JSON value into v and turns decoder
// errors into messages that name the offending field.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "(document)"
			}
			return fmt.Errorf("%w: %s: JSON %s where %s was expected", ErrMalformed, field, te.Value, jsonKind(te.Type.Kind().String()))
		case errors.As(err, &se):
			return fmt.Errorf("%w: syntax error at byte %d: %v", ErrMalformed, se.Offset, se)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("%w: truncated document", ErrMalformed)
		}
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data after the JSON document", ErrMalformed)
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int64", "float64":
		return "a number"
	}
	return goKind
}

// checker accumulates field errors for one document; it stops recording
// after a bound so a hostile document cannot produce a huge error.
type checker struct {
	kind string
	errs []FieldError
}

const maxReportedErrors = 20

func (c *checker) add(field, format string, args ...any) {
	if len(c.errs) < maxReportedErrors {
		c.errs = append(c.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return &InvalidError{Kind: c.kind, Fields: c.errs}
}

// iri checks an absolute http(s) IRI; required says whether empty is an error.
func (c *checker) iri(field, v string, required bool) {
	if v == "" {
		if required {
			c.add(field, "is required")
		}
		return
	}
	if msg := iriProblem(v); msg != "" {
		c.add(field, "%s", msg)
	}
}

func iriProblem(v string) string {
	if len(v) > MaxIRIBytes {
		return fmt.Sprintf("IRI longer than %d bytes", MaxIRIBytes)
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return fmt.Sprintf("%q is not an absolute http(s) IRI", truncate(v, 80))
	}
	if u.User != nil {
		return "IRI must not carry user information"
	}
	return ""
}

// origin returns scheme://host of an IRI, or "" if it does not parse.
func origin(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// sameOrigin checks that v lives on the same server as owner; that is what
// stops one node from publishing objects in another node's name.
func (c *checker) sameOrigin(field, v, owner string) {
	if v == "" || owner == "" || iriProblem(v) != "" || iriProblem(owner) != "" {
		return
	}
	if origin(v) != origin(owner) {
		c.add(field, "%q is not on the origin of %q", truncate(v, 80), truncate(owner, 80))
	}
}

func (c *checker) text(field, v string, maxChars int, required bool) {
	if v == "" {
		if required {
			c.add(field, "is required")
		}
		return
	}
	if n := utf8.RuneCountInString(v); n > maxChars {
		c.add(field, "is %d characters long, limit %d", n, maxChars)
	}
}

func (c *checker) bytesLimit(field, v string, maxBytes int, required bool) {
	if v == "" && required {
		c.add(field, "is required")
		return
	}
	if len(v) > maxBytes {
		c.add(field, "is %d bytes long, limit %d", len(v), maxBytes)
	}
}

var langTag = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$`)

// ValidLanguageTag reports whether tag looks like a BCP 47 language tag
// ("es", "es-MX", "zh-Hant-TW"); it is a shape check, not a registry lookup.
func ValidLanguageTag(tag string) bool { return len(tag) <= 35 && langTag.MatchString(tag) }

// object checks what every attributed object starts with: its type, its
// id, its author on the id's origin (a node speaks only for itself), and its
// optional url.
func (c *checker) object(wantType, typ, id, attributedTo, url string) {
	if typ != wantType {
		c.add("type", "must be %q, got %q", wantType, truncate(typ, 40))
	}
	c.iri("id", id, true)
	c.iri("attributedTo", attributedTo, true)
	c.sameOrigin("attributedTo", attributedTo, id)
	c.iri("url", url, false)
}

// titles checks a required name and an optional summary, each with its
// per-language map.
func (c *checker) titles(name string, nameMap LangMap, summary string, summaryMap LangMap) {
	c.text("name", name, MaxNameChars, true)
	c.langMap("nameMap", nameMap, MaxNameChars, false)
	c.text("summary", summary, MaxSummaryChars, false)
	c.langMap("summaryMap", summaryMap, MaxSummaryChars, false)
}

// post checks the head of a Commitment or an ActionPlan: the object's
// identity, its titles and the content fediverse servers show.
func (c *checker) post(wantType string, p Post) {
	c.object(wantType, p.Type, p.ID, p.AttributedTo, p.URL)
	c.titles(p.Name, p.NameMap, p.Summary, p.SummaryMap)
	c.bytesLimit("content", p.Content, MaxContentBytes, false)
	c.langMap("contentMap", p.ContentMap, MaxContentBytes, true)
}

// langMap checks a …Map; maxLen counts characters, or bytes when inBytes.
func (c *checker) langMap(field string, m LangMap, maxLen int, inBytes bool) {
	if len(m) > MaxLanguages {
		c.add(field, "has %d languages, limit %d", len(m), MaxLanguages)
		return
	}
	for lang, v := range m {
		if !ValidLanguageTag(lang) {
			c.add(field, "%q is not a language tag", truncate(lang, 40))
			continue
		}
		if inBytes {
			c.bytesLimit(field+"."+lang, v, maxLen, false)
		} else {
			c.text(field+"."+lang, v, maxLen, false)
		}
	}
}

func (c *checker) addressees(to, cc IRIList) {
	if len(to)+len(cc) > MaxAddressees {
		c.add("to", "%d addressees in to and cc, limit %d", len(to)+len(cc), MaxAddressees)
		return
	}
	for i, v := range to {
		c.iri(fmt.Sprintf("to[%d]", i), v, true)
	}
	for i, v := range cc {
		c.iri(fmt.Sprintf("cc[%d]", i), v, true)
	}
}

func (c *checker) dateRange(startField string, start Date, endField string, end Date) {
	if !start.IsZero() && !end.IsZero() && end.Before(start) {
		c.add(endField, "%s must be on or after %s (%s)", end, startField, start)
	}
}

func (c *checker) evidence(field string, links []string, limit int) {
	if len(links) > limit {
		c.add(field, "has %d links, limit %d", len(links), limit)
		return
	}
	for i, l := range links {
		c.iri(fmt.Sprintf("%s[%d]", field, i), l, true)
	}
}

var (
	identifierRe = regexp.MustCompile(`^[A-Z]{2,6}[0-9]{4}$`)
	slugRe       = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// ValidIdentifier reports whether id has the OGP commitment shape: a
// jurisdiction prefix of 2-6 capital letters and 4 digits ("JAL0001").
func ValidIdentifier(id string) bool { return identifierRe.MatchString(id) }

// ValidSlug reports whether s is a lower-case dash-separated slug of at most
// 64 bytes (policy areas, milestone keys).
func ValidSlug(s string) bool { return len(s) <= 64 && slugRe.MatchString(s) }

// Validate checks c as the hub would on ingest.
func (c Commitment) Validate() error {
	k := &checker{kind: KindCommitment}
	k.post(TypeCommitment, c.Post)
	k.text("ogp:lead", c.Lead, MaxSummaryChars, false)
	k.langMap("ogp:leadMap", c.LeadMap, MaxSummaryChars, false)
	k.bytesLimit("ogp:description", c.Description, MaxContentBytes, false)
	k.langMap("ogp:descriptionMap", c.DescriptionMap, MaxContentBytes, true)
	k.addressees(c.To, c.CC)
	k.iri("context", c.Thread, false)
	k.sameOrigin("context", c.Thread, c.ID)
	k.tags(c.Tag)
	if !ValidIdentifier(c.Identifier) {
		k.add("ogp:identifier", "%q is not a jurisdiction prefix and 4 digits (like JAL0001)", truncate(c.Identifier, 40))
	}
	k.iri("ogp:actionPlan", c.ActionPlan, true)
	k.sameOrigin("ogp:actionPlan", c.ActionPlan, c.ID)
	k.text("ogp:jurisdiction", c.Jurisdiction, MaxShortTextChars, false)
	k.dateRange("ogp:startDate", c.StartDate, "ogp:endDate", c.EndDate)
	k.text("ogp:leadInstitution", c.LeadInstitution, MaxShortTextChars, false)
	if c.OtherActors != nil {
		k.names("ogp:otherActors.ogp:government", c.OtherActors.Government)
		k.names("ogp:otherActors.ogp:civilSociety", c.OtherActors.CivilSociety)
	}
	k.text("ogp:problem", c.Problem, MaxLongTextChars, false)
	k.langMap("ogp:problemMap", c.ProblemMap, MaxLongTextChars, false)
	k.text("ogp:objective", c.Objective, MaxLongTextChars, false)
	k.langMap("ogp:objectiveMap", c.ObjectiveMap, MaxLongTextChars, false)
	k.values(c.Values)
	k.policyAreas(c.PolicyAreas)
	if len(c.PolicyAreas) > 0 && c.Taxonomy == "" {
		k.add("ogp:taxonomy", "is required when ogp:policyAreas is set")
	}
	k.text("ogp:taxonomy", c.Taxonomy, 64, false)
	k.milestones(c.ID, c.Milestones)
	if !c.Completion.Valid() {
		k.add("ogp:completion", "%s", completionEnum.notOneOf(c.Completion))
	}
	if c.IRM != nil {
		if !c.IRM.Verifiable.Valid() {
			k.add("ogp:irm.ogp:verifiable", "%s", yesNoEnum.notOneOf(c.IRM.Verifiable))
		}
		if !c.IRM.PotentialImpact.Valid() {
			k.add("ogp:irm.ogp:potentialImpact", "%s", impactEnum.notOneOf(c.IRM.PotentialImpact))
		}
		if !c.IRM.Starred.Valid() {
			k.add("ogp:irm.ogp:starred", "%s", yesNoEnum.notOneOf(c.IRM.Starred))
		}
		if !c.IRM.DidItOpenGovernment.Valid() {
			k.add("ogp:irm.ogp:didItOpenGovernment", "%s", resultsEnum.notOneOf(c.IRM.DidItOpenGovernment))
		}
	}
	return k.err()
}

func (c *checker) tags(tags []Tag) {
	if len(tags) > MaxTags {
		c.add("tag", "has %d tags, limit %d", len(tags), MaxTags)
		return
	}
	for i, t := range tags {
		f := fmt.Sprintf("tag[%d]", i)
		if t.Type != TypeHashtag {
			c.add(f+".type", "must be %q", TypeHashtag)
		}
		if !strings.HasPrefix(t.Name, "#") || utf8.RuneCountInString(t.Name) > 100 || strings.ContainsAny(t.Name, " \t\n") {
			c.add(f+".name", "must be a hashtag like #OpenData of at most 100 characters")
		}
		c.iri(f+".href", t.Href, false)
	}
}

func (c *checker) names(field string, names []string) {
	if len(names) > MaxActors {
		c.add(field, "has %d entries, limit %d", len(names), MaxActors)
		return
	}
	for i, n := range names {
		c.text(fmt.Sprintf("%s[%d]", field, i), n, MaxShortTextChars, true)
	}
}

func (c *checker) values(vs []Value) {
	if len(vs) > len(Values) {
		c.add("ogp:values", "has %d entries, there are only %d OGP values", len(vs), len(Values))
		return
	}
	seen := map[Value]bool{}
	for i, v := range vs {
		f := fmt.Sprintf("ogp:values[%d]", i)
		switch {
		case !v.Valid():
			c.add(f, "%s", valueEnum.notOneOf(v))
		case seen[v]:
			c.add(f, "%q is listed twice", v)
		}
		seen[v] = true
	}
}

func (c *checker) policyAreas(areas []string) {
	if len(areas) > MaxPolicyAreas {
		c.add("ogp:policyAreas", "has %d entries, limit %d", len(areas), MaxPolicyAreas)
		return
	}
	seen := map[string]bool{}
	for i, a := range areas {
		f := fmt.Sprintf("ogp:policyAreas[%d]", i)
		switch {
		case !ValidSlug(a):
			c.add(f, "%q is not a slug like open-data", truncate(a, 40))
		case seen[a]:
			c.add(f, "%q is listed twice", a)
		}
		seen[a] = true
	}
}

func (c *checker) milestones(owner string, ms []Milestone) {
	if len(ms) > MaxMilestones {
		c.add("ogp:milestones", "has %d milestones, limit %d", len(ms), MaxMilestones)
		return
	}
	seen := map[string]bool{}
	for i, m := range ms {
		f := fmt.Sprintf("ogp:milestones[%d]", i)
		c.iri(f+".id", m.ID, true)
		c.sameOrigin(f+".id", m.ID, owner)
		if m.ID != "" && seen[m.ID] {
			c.add(f+".id", "%q is used by an earlier milestone", truncate(m.ID, 80))
		}
		seen[m.ID] = true
		if m.Type != TypeMilestone {
			c.add(f+".type", "must be %q", TypeMilestone)
		}
		c.text(f+".name", m.Name, MaxNameChars, true)
		c.langMap(f+".nameMap", m.NameMap, MaxNameChars, false)
		c.text(f+".ogp:deliverable", m.Deliverable, MaxLongTextChars, false)
		c.langMap(f+".ogp:deliverableMap", m.DeliverableMap, MaxLongTextChars, false)
		c.dateRange(f+".ogp:startDate", m.StartDate, f+".ogp:endDate", m.EndDate)
		if !m.Status.Valid() {
			c.add(f+".ogp:status", "%s", milestoneEnum.notOneOf(m.Status))
		}
		if !m.CompletedDate.IsZero() && m.Status != MilestoneComplete {
			c.add(f+".ogp:completedDate", "is only allowed when ogp:status is complete")
		}
	}
}

// Validate checks u as the hub would on ingest.
func (u ProgressUpdate) Validate() error {
	k := &checker{kind: KindProgressUpdate}
	k.object(TypeProgressUpdate, u.Type, u.ID, u.AttributedTo, u.URL)
	k.iri("inReplyTo", u.InReplyTo, true)
	k.sameOrigin("inReplyTo", u.InReplyTo, u.ID)
	k.iri("context", u.Thread, false)
	k.sameOrigin("context", u.Thread, u.ID)
	k.bytesLimit("content", u.Content, MaxContentBytes, true)
	k.langMap("contentMap", u.ContentMap, MaxContentBytes, true)
	k.addressees(u.To, u.CC)
	k.tags(u.Tag)
	if u.Date.IsZero() {
		k.add("ogp:date", "is required")
	}
	if u.Completion != "" && !u.Completion.Valid() {
		k.add("ogp:completion", "%s", completionEnum.notOneOf(u.Completion))
	}
	if len(u.MilestoneChanges) > MaxMilestoneChanges {
		k.add("ogp:milestoneChanges", "has %d entries, limit %d", len(u.MilestoneChanges), MaxMilestoneChanges)
	} else {
		for i, mc := range u.MilestoneChanges {
			f := fmt.Sprintf("ogp:milestoneChanges[%d]", i)
			k.iri(f+".ogp:milestone", mc.Milestone, true)
			k.sameOrigin(f+".ogp:milestone", mc.Milestone, u.ID)
			if !mc.Status.Valid() {
				k.add(f+".ogp:status", "%s", milestoneEnum.notOneOf(mc.Status))
			}
		}
	}
	k.evidence("ogp:evidence", u.Evidence, MaxEvidence)
	return k.err()
}

// Validate checks p as the hub would on ingest.
func (p ActionPlan) Validate() error {
	k := &checker{kind: KindActionPlan}
	k.post(TypeActionPlan, p.Post)
	k.text("ogp:lead", p.Lead, MaxSummaryChars, false)
	k.langMap("ogp:leadMap", p.LeadMap, MaxSummaryChars, false)
	k.addressees(p.To, p.CC)
	k.tags(p.Tag)
	k.text("ogp:jurisdiction", p.Jurisdiction, MaxShortTextChars, true)
	if p.Period.Start.IsZero() {
		k.add("ogp:period.ogp:start", "is required")
	}
	if p.Period.End.IsZero() {
		k.add("ogp:period.ogp:end", "is required")
	}
	k.dateRange("ogp:period.ogp:start", p.Period.Start, "ogp:period.ogp:end", p.Period.End)
	if !p.Status.Valid() {
		k.add("ogp:status", "%s", planStatusEnum.notOneOf(p.Status))
	}
	if len(p.Commitments) > MaxPlanCommitments {
		k.add("ogp:commitments", "has %d entries, limit %d", len(p.Commitments), MaxPlanCommitments)
	} else {
		seen := map[string]bool{}
		for i, c := range p.Commitments {
			f := fmt.Sprintf("ogp:commitments[%d]", i)
			k.iri(f, c, true)
			k.sameOrigin(f, c, p.ID)
			if seen[c] {
				k.add(f, "%q is listed twice", truncate(c, 80))
			}
			seen[c] = true
		}
	}
	if len(p.Guidelines) > len(GuidelineKeys) {
		k.add("ogp:guidelines", "has %d entries, there are only %d guidelines", len(p.Guidelines), len(GuidelineKeys))
	} else {
		seen := map[GuidelineKey]bool{}
		for i, g := range p.Guidelines {
			f := fmt.Sprintf("ogp:guidelines[%d]", i)
			switch {
			case !g.Key.Valid():
				k.add(f+".ogp:key", "%s", guidelineEnum.notOneOf(g.Key))
			case seen[g.Key]:
				k.add(f+".ogp:key", "%q is listed twice", g.Key)
			}
			seen[g.Key] = true
			if !g.Level.Valid() {
				k.add(f+".ogp:level", "%s", guidelineLevelEnum.notOneOf(g.Level))
			}
			k.evidence(f+".ogp:evidence", g.Evidence, MaxEvidence)
		}
	}
	if p.Participation != nil {
		if l := p.Participation.Development; l != "" && !l.Valid() {
			k.add("ogp:participation.ogp:development", "%s", iap2Enum.notOneOf(l))
		}
		if l := p.Participation.Implementation; l != "" && !l.Valid() {
			k.add("ogp:participation.ogp:implementation", "%s", iap2Enum.notOneOf(l))
		}
	}
	return k.err()
}

// Validate checks a Tombstone.
func (t Tombstone) Validate() error {
	k := &checker{kind: KindTombstone}
	if t.Type != TypeTombstone {
		k.add("type", "must be %q", TypeTombstone)
	}
	k.iri("id", t.ID, true)
	k.text("formerType", t.FormerType, 64, false)
	return k.err()
}

// validate checks the activity envelope and that its object belongs to the
// actor: attributedTo equals the actor and the object is on its origin.
func (a Activity) validate() error {
	k := &checker{kind: "activity"}
	switch a.Type {
	case ActivityCreate, ActivityUpdate, ActivityDelete:
	default:
		k.add("type", "%q is not Create, Update or Delete", truncate(a.Type, 40))
	}
	k.iri("id", a.ID, true)
	k.iri("actor", a.Actor, true)
	k.sameOrigin("id", a.ID, a.Actor)
	k.addressees(a.To, a.CC)
	var objID, attributed string
	switch o := a.Object.(type) {
	case Commitment:
		objID, attributed = o.ID, o.AttributedTo
	case ProgressUpdate:
		objID, attributed = o.ID, o.AttributedTo
	case ActionPlan:
		objID, attributed = o.ID, o.AttributedTo
	case Tombstone:
		objID = o.ID
		if a.Type != ActivityDelete {
			k.add("object", "a Tombstone only goes in a Delete")
		}
	case string:
		objID = o
		if a.Type != ActivityDelete {
			k.add("object", "%s must embed the object, not only its IRI", a.Type)
		}
	default:
		k.add("object", "unsupported object %T", a.Object)
	}
	k.iri("object.id", objID, true)
	k.sameOrigin("object.id", objID, a.Actor)
	if attributed != "" && attributed != a.Actor {
		k.add("object.attributedTo", "%q is not the activity's actor", truncate(attributed, 80))
	}
	return k.err()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary so error messages stay valid UTF-8.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
