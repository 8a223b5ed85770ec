package plan

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// Illustrative sample data, not an official record.
func sampleCommitment() Commitment {
	return Commitment{
		ID:              "JAL0001",
		PlanID:          "2016-2018",
		Title:           NewText("es", "Intervención en Lomas de Polanco").With("en", "Intervention in Lomas de Polanco"),
		StartDate:       "2017-01-01",
		EndDate:         "2018-06-30",
		LeadInstitution: "Municipio de Guadalajara",
		OtherActors:     OtherActors{CivilSociety: []string{"Consejo vecinal"}},
		Description:     NewText("es", "Coordinación vecinal con la policía.\n\nEspacios abiertos <seguros>.").With("en", "Neighbourhood coordination with police."),
		Values:          []Value{ogp.ValueCivicParticipation},
		PolicyAreas:     []string{"justice", "citizen-participation"},
		Milestones: []Milestone{
			{ID: "1", Title: NewText("es", "Mesas vecinales"), Start: "2017-01-01", End: "2017-06-30", Status: ogp.MilestoneComplete, CompletedOn: "2017-06-15"},
			{ID: "2", Title: NewText("es", "Espacios rehabilitados"), Start: "2017-03-01", End: "2017-12-31", Status: ogp.MilestoneInProgress},
			{ID: "3", Title: NewText("es", "Informe final"), Start: "2018-01-01", End: "2018-06-30", Status: ogp.MilestoneNotStarted},
		},
		Completion: ogp.CompletionSubstantial,
		IRM:        PendingIRM(),
		Created:    time.Date(2016, 12, 7, 0, 0, 0, 0, time.UTC),
		Updated:    time.Date(2017, 6, 30, 0, 0, 0, 0, time.UTC),
	}
}

func samplePlan() ActionPlan {
	p := NewActionPlan("2016-2018")
	p.Title = NewText("es", "Plan de Acción Jalisco 2016-2018").With("en", "Jalisco Action Plan 2016-2018")
	p.Jurisdiction = "Jalisco, México"
	p.Period = Period{Start: "2017-01-01", End: "2018-06-30"}
	p.Status = ogp.PlanImplementation
	p.Prefix = "JAL"
	p.Guidelines[0].Level = ogp.GuidelineMet
	p.Guidelines[0].Evidence = []string{"https://jalisco.example/cronograma"}
	p.Guidelines[6].Level = ogp.GuidelinePartly
	p.Participation = Participation{Development: ogp.IAP2Involve}
	return p
}

func TestTextGet(t *testing.T) {
	tx := NewText("es", "hola").With("en", "hello").With("pt-BR", "olá")
	for lang, want := range map[string]string{
		"es": "hola", "es-MX": "hola", "en": "hello", "pt": "olá", "fr": "hola", "": "hola",
	} {
		if got := tx.Get(lang); got != want {
			t.Errorf("Get(%q) = %q, want %q", lang, got, want)
		}
	}
	if got := NewText("ka", "").With("fr", "bonjour").Get("de"); got != "bonjour" {
		t.Errorf("fallback to any language = %q", got)
	}
	if !(Text{}).IsZero() || tx.IsZero() || !tx.Equal(tx.With("de", "")) || tx.Equal(tx.With("en", "hi")) {
		t.Error("IsZero/Equal wrong")
	}
}

func TestValidCommitment(t *testing.T) {
	c := sampleCommitment()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.ValidateFor(samplePlan()); err != nil {
		t.Fatal(err)
	}
	if err := samplePlan().Validate(); err != nil {
		t.Fatal(err)
	}
}

// fields returns the field → message map of a ValidationError.
func fields(t *testing.T, err error) map[string]string {
	t.Helper()
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	m := map[string]string{}
	for _, f := range ve.Fields {
		m[f.Field] = f.Message
	}
	return m
}

func TestCommitmentValidationMessages(t *testing.T) {
	c := sampleCommitment()
	c.ID = "JAL01"
	c.Title = NewText("es", strings.Repeat("x", MaxTitleChars+1))
	c.EndDate = "2016-12-31"
	c.Milestones[2].End = "2016-01-01"
	c.Milestones[2].Start = "2017-01-01"
	c.Milestones[1].CompletedOn = "2017-05-01"
	c.Milestones = append(c.Milestones, Milestone{ID: "1", Title: NewText("es", "dup"), Status: "done"})
	c.PolicyAreas = []string{"open-data", "astrology"}
	c.Values = []Value{"transparency"}
	c.Completion = ""
	c.IRM = &IRMAssessment{Verifiable: "maybe", PotentialImpact: ogp.ImpactMinor, Starred: ogp.No, DidItOpenGovernment: ogp.ResultsMajor}
	got := fields(t, c.Validate())
	want := map[string]string{
		"id":                        `"JAL01" must be a jurisdiction prefix and 4 digits, like JAL0001`,
		"title.es":                  "is 301 characters long, limit 300",
		"endDate":                   "must be on or after start (2017-01-01)",
		"milestones[2].end":         "must be on or after start (2017-01-01)",
		"milestones[1].completedOn": `is only allowed for a complete milestone (status is "in-progress")`,
		"milestones[3].id":          `"1" is used by an earlier milestone`,
		"milestones[3].status":      `"done" is not one of not-started, in-progress, complete, cancelled`,
		"policyAreas[1]":            `"astrology" is not in the policy-area taxonomy ` + TaxonomyVersion,
		"completion":                "is required",
		"irm.verifiable":            `"maybe" is not one of yes, no, pending`,
	}
	for f, msg := range want {
		if got[f] != msg {
			t.Errorf("%s: got %q, want %q", f, got[f], msg)
		}
	}
	if _, ok := got["values[0]"]; !ok {
		t.Error("bad OGP value not reported")
	}
}

func TestLimits(t *testing.T) {
	c := sampleCommitment()
	for i := range MaxMilestones + 1 {
		c.Milestones = append(c.Milestones, Milestone{ID: fmt.Sprintf("x%d", i), Title: NewText("es", "m"), Status: ogp.MilestoneNotStarted})
	}
	c.Description = NewText("es", strings.Repeat("é", MaxDescriptionChars+1))
	got := fields(t, c.Validate())
	if got["milestones"] == "" || got["description.es"] == "" {
		t.Errorf("limits not enforced: %v", got)
	}

	u := ProgressUpdate{CommitmentID: "JAL0001", Date: "2017-06-30", Text: NewText("es", "avance")}
	for range MaxEvidence + 1 {
		u.Evidence = append(u.Evidence, "https://a.example/x")
	}
	if fields(t, u.Validate())["evidence"] != "has 21 links, limit 20" {
		t.Error("evidence limit")
	}
	u.Evidence = []string{"javascript:alert(1)", "/relative", "https://user:pw@a.example/"}
	got = fields(t, u.Validate())
	for _, f := range []string{"evidence[0]", "evidence[1]", "evidence[2]"} {
		if got[f] == "" {
			t.Errorf("%s accepted", f)
		}
	}
}

func TestValidateFor(t *testing.T) {
	p := samplePlan()
	c := sampleCommitment()
	c.ID = "MAD0001"
	c.PlanID = "2018-2020"
	got := fields(t, c.ValidateFor(p))
	if got["id"] == "" || got["planId"] == "" {
		t.Errorf("plan mismatch not reported: %v", got)
	}
	u := ProgressUpdate{CommitmentID: "JAL0001", Date: "2017-06-30", Text: NewText("es", "avance"),
		MilestoneChanges: []MilestoneChange{{MilestoneID: "9", Status: ogp.MilestoneComplete}}}
	if m := fields(t, u.ValidateFor(sampleCommitment()))["milestoneChanges[0].milestoneId"]; m != `"9" is not a milestone of JAL0001` {
		t.Errorf("unknown milestone: %q", m)
	}
	bad := samplePlan()
	bad.Guidelines[2].Key = ogp.GuidelineBreadth
	bad.Guidelines[3].Level = "sort-of"
	bad.Period.End = "2016-01-01"
	got = fields(t, bad.Validate())
	if got["guidelines[2].key"] == "" || got["guidelines[3].level"] == "" || got["period.end"] != "must be on or after start (2017-01-01)" {
		t.Errorf("plan errors: %v", got)
	}
}

func TestOverdueAndSummary(t *testing.T) {
	now := time.Date(2017, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		m    Milestone
		want bool
	}{
		{Milestone{End: "2017-06-30", Status: ogp.MilestoneInProgress}, true},
		{Milestone{End: "2017-07-01", Status: ogp.MilestoneInProgress}, false}, // due today is not late
		{Milestone{End: "2017-06-30", Status: ogp.MilestoneComplete}, false},
		{Milestone{End: "2017-06-30", Status: ogp.MilestoneCancelled}, false},
		{Milestone{Status: ogp.MilestoneNotStarted}, false},
	} {
		if got := tc.m.Overdue(now); got != tc.want {
			t.Errorf("%+v Overdue = %v", tc.m, got)
		}
	}
	c1 := sampleCommitment() // 1 of 3 done, none overdue on 2017-07-01
	c2 := sampleCommitment()
	c2.ID, c2.Completion = "JAL0002", ogp.CompletionLimited
	c2.Milestones[1].End = "2017-06-01" // in progress and late
	c2.Milestones[2].Status = ogp.MilestoneCancelled
	c2.IRM = &IRMAssessment{ogp.Yes, ogp.ImpactTransformative, ogp.Yes, ogp.ResultsMajor}
	c3 := sampleCommitment()
	c3.ID, c3.Deleted = "JAL0003", true
	s := Summarize([]Commitment{c1, c2, c3}, now)
	if s.Commitments != 2 || s.Percent(ogp.CompletionLimited) != 50 || s.HighCompletionPercent() != 50 {
		t.Errorf("summary = %+v", s)
	}
	if s.MilestonesDone != 2 || s.MilestonesCounted != 5 || s.MilestonesOverdue != 1 || s.MilestonePercent() != 40 || s.Starred != 1 {
		t.Errorf("milestones = %+v", s)
	}
	if (Summary{}).MilestonePercent() != 0 {
		t.Error("empty summary percent")
	}
}

func TestApplyUpdate(t *testing.T) {
	c := sampleCommitment()
	u := ProgressUpdate{Date: "2017-12-20", Completion: ogp.CompletionComplete,
		MilestoneChanges: []MilestoneChange{{"2", ogp.MilestoneComplete}, {"1", ogp.MilestoneInProgress}}}
	got := u.Apply(c)
	if got.Completion != ogp.CompletionComplete || got.Milestones[1].CompletedOn != "2017-12-20" || got.Milestones[0].CompletedOn != "" {
		t.Errorf("Apply = %+v", got.Milestones)
	}
	if c.Milestones[1].Status != ogp.MilestoneInProgress {
		t.Error("Apply modified its input")
	}
	if err := got.Validate(); err != nil {
		t.Errorf("applied commitment invalid: %v", err)
	}
}

func TestTaxonomy(t *testing.T) {
	areas := PolicyAreas()
	if len(areas) < 20 {
		t.Errorf("only %d policy areas", len(areas))
	}
	seen := map[string]bool{}
	for _, a := range areas {
		if !ogp.ValidSlug(a.Slug) || a.En == "" || a.Es == "" || seen[a.Slug] {
			t.Errorf("bad area %+v", a)
		}
		seen[a.Slug] = true
	}
	if a, _ := LookupPolicyArea("open-data"); a.Label("es-MX") != "Datos abiertos" || a.Label("fr") != "Open data" {
		t.Error("labels")
	}
}

// TestWire checks that what the node publishes is what the hub accepts:
// every converted object passes the vocabulary's strict parser.
func TestWire(t *testing.T) {
	w := Wire{IRIs: ogp.NewIRIs("https://jalisco.example/", "jalisco"), Lang: "es", Jurisdiction: "Jalisco, México"}
	c := sampleCommitment()
	wc := w.Commitment(c)
	raw, err := ogp.MarshalObject(wc)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ogp.ParseCommitment(raw)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Name != "JAL0001: Intervención en Lomas de Polanco" || parsed.NameMap["en"] != "JAL0001: Intervention in Lomas de Polanco" {
		t.Errorf("name = %q %v", parsed.Name, parsed.NameMap)
	}
	// No summary: GoToSocial shows it as a content warning. The lead and
	// description are structured fields; content is the post.
	if parsed.Summary != "" || parsed.SummaryMap != nil {
		t.Errorf("summary = %q / %v", parsed.Summary, parsed.SummaryMap)
	}
	if !strings.HasPrefix(parsed.Lead, "Avance: sustancial. Coordinación") || !strings.Contains(parsed.LeadMap["en"], "Completion: substantial") {
		t.Errorf("lead = %q / %q", parsed.Lead, parsed.LeadMap["en"])
	}
	if parsed.Description != "<p>Coordinación vecinal con la policía.</p><p>Espacios abiertos &lt;seguros&gt;.</p>" {
		t.Errorf("description = %q", parsed.Description)
	}
	cIRI := "https://jalisco.example/commitments/JAL0001"
	wantContent := `<p><strong>JAL0001: Intervención en Lomas de Polanco</strong></p>` +
		`<p>Avance: sustancial. Coordinación vecinal con la policía. Espacios abiertos &lt;seguros&gt;.</p>` +
		`<p><a href="` + cIRI + `">` + cIRI + `</a></p><p>#Justice #CitizenParticipation</p>`
	if parsed.Content != wantContent || parsed.ContentMap["es"] != wantContent || !strings.Contains(parsed.ContentMap["en"], "<strong>JAL0001: Intervention in") {
		t.Errorf("content = %q\nwant      %q\nmap %v", parsed.Content, wantContent, parsed.ContentMap)
	}
	if parsed.Milestones[0].ID != "https://jalisco.example/commitments/JAL0001#milestone-1" || parsed.Taxonomy != TaxonomyVersion ||
		len(parsed.Tag) != 2 || parsed.Tag[0].Name != "#Justice" || parsed.IRM.Starred != ogp.Pending {
		t.Errorf("ogp fields: %+v", parsed)
	}

	u := ProgressUpdate{ID: "01H0000000000000000000000A", CommitmentID: "JAL0001", Date: "2017-06-30",
		Text: NewText("es", "Se instalaron 12 mesas."), Completion: ogp.CompletionSubstantial,
		MilestoneChanges: []MilestoneChange{{"1", ogp.MilestoneComplete}}, Evidence: []string{"https://a.example/acta.pdf"},
		Created: time.Date(2017, 6, 30, 9, 0, 0, 0, time.UTC)}
	raw, err = ogp.MarshalObject(w.ProgressUpdate(u, c))
	if err != nil {
		t.Fatal(err)
	}
	pu, err := ogp.ParseProgressUpdate(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pu.Content, `<p>Avance en <a href="`+cIRI+`"><strong>JAL0001: Intervención en Lomas de Polanco</strong></a></p>`+
		`<p>Avance: sustancial.</p><p>Se instalaron 12 mesas.</p>`) ||
		!strings.Contains(pu.Content, `href="https://a.example/acta.pdf"`) || !strings.HasSuffix(pu.Content, "<p>#Justice #CitizenParticipation</p>") {
		t.Errorf("content = %q", pu.Content)
	}
	var generic map[string]any
	_ = json.Unmarshal(raw, &generic)
	if _, has := generic["summary"]; has {
		t.Error("a progress update must not carry summary (Mastodon shows it as a content warning)")
	}
	if pu.MilestoneChanges[0].Milestone != "https://jalisco.example/commitments/JAL0001#milestone-1" || pu.InReplyTo != "https://jalisco.example/commitments/JAL0001" {
		t.Errorf("update links: %+v", pu)
	}

	deleted := sampleCommitment()
	deleted.ID, deleted.Deleted = "JAL0002", true
	raw, err = ogp.MarshalObject(w.ActionPlan(samplePlan(), []Commitment{c, deleted}))
	if err != nil {
		t.Fatal(err)
	}
	pp, err := ogp.ParseActionPlan(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(pp.Commitments) != 1 || len(pp.Guidelines) != 2 || pp.Participation.Development != ogp.IAP2Involve ||
		pp.Lead != "1 compromiso, del 2017-01-01 al 2018-06-30." || pp.Summary != "" {
		t.Errorf("plan = %+v", pp)
	}
	pIRI := "https://jalisco.example/plans/2016-2018"
	if want := `<p><strong>Plan de Acción Jalisco 2016-2018</strong></p><p>1 compromiso, del 2017-01-01 al 2018-06-30.</p>` +
		`<p><a href="` + pIRI + `">` + pIRI + `</a></p>`; pp.Content != want || pp.ContentMap["es"] != want {
		t.Errorf("plan content = %q", pp.Content)
	}
}

// TestWireUpdatedOnlyWhenEdited: "updated" marks a post edited in Mastodon
// and GoToSocial, so an object saved only once carries none; one edited
// after publication carries the edit time (and an Update is then an edit).
func TestWireUpdatedOnlyWhenEdited(t *testing.T) {
	w := Wire{IRIs: ogp.NewIRIs("https://jalisco.example/", "jalisco"), Lang: "es", Jurisdiction: "Jalisco, México"}
	created := time.Date(2017, 1, 1, 10, 0, 0, 0, time.UTC)
	edited := created.Add(time.Hour)
	c := sampleCommitment()
	p := samplePlan()
	u := ProgressUpdate{ID: "01H0000000000000000000000A", CommitmentID: "JAL0001", Date: "2017-06-30", Text: NewText("es", "x")}
	objects := func() map[string]any {
		return map[string]any{"commitment": w.Commitment(c), "plan": w.ActionPlan(p, []Commitment{c}), "update": w.ProgressUpdate(u, c)}
	}
	c.Created, c.Updated, p.Created, p.Updated, u.Created, u.Updated = created, created, created, created, created, time.Time{}
	for kind, o := range objects() {
		raw, err := ogp.MarshalObject(o)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), `"updated"`) || !strings.Contains(string(raw), `"published":"2017-01-01T10:00:00Z"`) {
			t.Errorf("unedited %s: %s", kind, raw)
		}
	}
	c.Updated, p.Updated, u.Updated = edited, edited, edited
	for kind, o := range objects() {
		raw, err := ogp.MarshalObject(o)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), `"updated":"2017-01-01T11:00:00Z"`) {
			t.Errorf("edited %s has no updated: %s", kind, raw)
		}
	}
}

func TestSameContent(t *testing.T) {
	a := sampleCommitment()
	b := sampleCommitment()
	b.Updated = time.Now()
	b.OtherActors.Government = []string{}
	if !a.SameContent(b) {
		t.Error("bookkeeping or nil-vs-empty made content differ")
	}
	b.Milestones[0].Title = b.Milestones[0].Title.With("en", "Tables")
	if a.SameContent(b) {
		t.Error("changed milestone title not detected")
	}
}

// TestEditedProgressUpdate: the Note carries "updated" only once edited,
// and SameContent ignores identity and bookkeeping but not content.
func TestEditedProgressUpdate(t *testing.T) {
	w := Wire{IRIs: ogp.NewIRIs("https://jalisco.example", "jalisco"), Lang: "es", Jurisdiction: "Jalisco"}
	c := sampleCommitment()
	created := time.Date(2017, 6, 30, 9, 0, 0, 0, time.UTC)
	u := ProgressUpdate{ID: "01H0000000000000000000000A", CommitmentID: "JAL0001", Date: "2017-06-30",
		Text: NewText("es", "Se instalaron 12 mesas."), Created: created}
	raw, err := ogp.MarshalObject(w.ProgressUpdate(u, c))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `"updated"`) {
		t.Errorf("a never-edited Note carries updated: %s", raw)
	}
	edited := u
	edited.Updated = created.Add(time.Hour)
	pu, err := ogp.ParseProgressUpdate(mustMarshal(t, w.ProgressUpdate(edited, c)))
	if err != nil || !pu.Updated.Equal(edited.Updated) || !pu.Published.Equal(created) {
		t.Errorf("edited Note: updated %v published %v (%v)", pu.Updated, pu.Published, err)
	}

	same := edited
	same.ID, same.Deleted, same.DeletedAt, same.Created = "other", true, created, time.Time{}
	if !u.SameContent(same) {
		t.Error("SameContent looks at bookkeeping fields")
	}
	for name, change := range map[string]func(*ProgressUpdate){
		"date":       func(v *ProgressUpdate) { v.Date = "2017-07-01" },
		"text":       func(v *ProgressUpdate) { v.Text = v.Text.With("en", "12 tables.") },
		"completion": func(v *ProgressUpdate) { v.Completion = ogp.CompletionLimited },
		"milestones": func(v *ProgressUpdate) { v.MilestoneChanges = []MilestoneChange{{"1", ogp.MilestoneComplete}} },
		"evidence":   func(v *ProgressUpdate) { v.Evidence = []string{"https://a.example/acta.pdf"} },
	} {
		v := u
		change(&v)
		if u.SameContent(v) {
			t.Errorf("SameContent misses a change of %s", name)
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := ogp.MarshalObject(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestWireWordsInEveryUILanguage: the few words around a commitment's own
// text in federation posts (its lead, a plan's count) come in each UI
// language the node publishes, not English around French or Korean text.
func TestWireWordsInEveryUILanguage(t *testing.T) {
	for lang, want := range map[string]string{
		"fr": "Avancement: substantiel.", "pt": "Execução: substancial.", "ko": "이행 수준: 상당함.",
		"es": "Avance: sustancial.", "en": "Completion: substantial.", "ka": "Completion: substantial.",
	} {
		c := Commitment{Completion: ogp.CompletionSubstantial}
		if got := commitmentLead(c, lang); got != want {
			t.Errorf("commitmentLead(%s) = %q, want %q", lang, got, want)
		}
	}
	if got := fmt.Sprintf(label("ko", "plan-summary-one"), 1, "2017-01-01", "2018-06-30"); got != "과제 1개, 2017-01-01 ~ 2018-06-30." {
		t.Errorf("Korean plan summary: %q", got)
	}
	if got := fmt.Sprintf(label("fr", "plan-summary-one"), 1, "2017-01-01", "2018-06-30"); got != "1 engagement, du 2017-01-01 au 2018-06-30." {
		t.Errorf("French plan summary: %q", got)
	}
}
