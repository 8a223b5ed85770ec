package importer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/store/storetest"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/planstore"
)

func open(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newStore returns a plan store holding the 2016-2018 plan (sample data).
func newStore(t *testing.T) *planstore.Store {
	t.Helper()
	st := planstore.New(storetest.DB(t))
	p := plan.NewActionPlan("2016-2018")
	p.Title = plan.NewText("es", "Plan 2016-2018 (ilustrativo)")
	p.Jurisdiction = "Jalisco, México"
	p.Prefix = "JAL"
	p.Period = plan.Period{Start: "2017-01-01", End: "2018-06-30"}
	if _, err := st.PutPlan(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return st
}

func parseGoodCSV(t *testing.T) *Batch {
	t.Helper()
	b, errs := ParseCSV(open(t, "commitments.csv"), open(t, "milestones.csv"), DefaultLimits("es"))
	if len(errs) > 0 {
		t.Fatalf("good CSV has errors: %v", errs)
	}
	return b
}

func TestParseGoodCSV(t *testing.T) {
	b := parseGoodCSV(t)
	if len(b.Rows) != 3 {
		t.Fatalf("%d rows", len(b.Rows))
	}
	c := b.Rows[0].Commitment
	if c.ID != "JAL0001" || c.Title.Get("en") != "Intervention in Lomas de Polanco (illustrative)" || c.Title.Lang != "es" {
		t.Errorf("title = %+v", c.Title)
	}
	if got := c.OtherActors.CivilSociety; len(got) != 2 || got[1] != `Colectivo "Barrio Vivo"` {
		t.Errorf("civil society = %q", got)
	}
	if len(c.Values) != 2 || c.Values[1] != ogp.ValuePublicAccountability || c.PolicyAreas[1] != "citizen-participation" {
		t.Errorf("labels not mapped to slugs: %v %v", c.Values, c.PolicyAreas)
	}
	if c.IRM == nil || c.IRM.PotentialImpact != ogp.ImpactModerate || c.IRM.DidItOpenGovernment != ogp.ResultsPending {
		t.Errorf("irm = %+v", c.IRM)
	}
	if len(c.Milestones) != 2 || c.Milestones[1].Status != ogp.MilestoneInProgress || b.Rows[0].MilestoneRows[1] != 3 {
		t.Errorf("milestones = %+v rows %v", c.Milestones, b.Rows[0].MilestoneRows)
	}
	if b.Rows[1].Commitment.IRM != nil {
		t.Error("empty IRM cells must mean no IRM data")
	}
	if b.Rows[2].Commitment.Completion != ogp.CompletionNotStarted {
		t.Error("label 'Not started' not accepted")
	}
}

func TestCommitCSVIsIdempotent(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	b := parseGoodCSV(t)
	rep, err := DryRun(ctx, st, b)
	if err != nil || !rep.OK() || rep.Count(ActionCreate) != 3 {
		t.Fatalf("dry run = %+v, %v", rep, err)
	}
	if list, _ := st.ListCommitments(ctx, ""); len(list) != 0 {
		t.Fatal("DryRun wrote")
	}
	res, _, err := Commit(ctx, st, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range res.Commitments {
		if ch.Kind != planstore.Created {
			t.Errorf("%s: %s, want created", ch.Commitment.ID, ch.Kind)
		}
	}
	stored, err := st.GetCommitment(ctx, "JAL0001")
	if err != nil || len(stored.Milestones) != 2 || stored.Milestones[0].CompletedOn != "2017-06-15" {
		t.Fatalf("stored = %+v, %v", stored, err)
	}

	// Same files again: nothing changes, nothing duplicates.
	res, rep, err = Commit(ctx, st, parseGoodCSV(t))
	if err != nil || rep.Count(ActionUnchanged) != 3 {
		t.Fatalf("re-import = %+v, %v", rep, err)
	}
	for _, ch := range res.Commitments {
		if ch.Kind != planstore.Unchanged || ch.Commitment.ID == "" {
			t.Errorf("re-import %s: %s", ch.Commitment.ID, ch.Kind)
		}
	}

	// One cell changed: exactly that commitment is updated.
	changed := bytes.Replace(read(t, "commitments.csv"), []byte("gender; open-data,limited"), []byte("gender; open-data,substantial"), 1)
	b2, errs := ParseCSV(bytes.NewReader(changed), open(t, "milestones.csv"), DefaultLimits("es"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	res, _, err = Commit(ctx, st, b2)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]planstore.ChangeKind{}
	for _, ch := range res.Commitments {
		kinds[ch.Commitment.ID] = ch.Kind
	}
	if kinds["JAL0002"] != planstore.Updated || kinds["JAL0001"] != planstore.Unchanged || kinds["JAL0005"] != planstore.Unchanged {
		t.Errorf("kinds = %v", kinds)
	}
	if list, _ := st.ListCommitments(ctx, ""); len(list) != 3 {
		t.Errorf("%d commitments stored, want 3", len(list))
	}
}

func TestPartlyBadWritesNothing(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	b, errs := ParseCSV(open(t, "partly-bad.csv"), nil, DefaultLimits("es"))
	if b == nil {
		t.Fatalf("rows should parse: %v", errs)
	}
	has := func(errs []RowError, row int, col, msg string) bool {
		for _, e := range errs {
			if e.Row == row && e.Column == col && strings.Contains(e.Message, msg) {
				return true
			}
		}
		return false
	}
	for _, want := range []struct {
		row      int
		col, msg string
	}{
		{4, "start_date", `"30/06/2017" is not a date: write YYYY-MM-DD`},
		{5, "values", `"transparency" is not an OGP value`},
		{5, "policy_areas", `"astrology" is not a policy area`},
		{5, "completion", `"done" is not one of`},
		{7, "id", "JAL0001 is also on row 2"},
	} {
		if !has(errs, want.row, want.col, want.msg) {
			t.Errorf("parse errors lack row %d %s %q: %v", want.row, want.col, want.msg, errs)
		}
	}
	rep, err := DryRun(ctx, st, b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatal("report OK for a bad file")
	}
	actions := map[string]Action{}
	for _, r := range rep.Commitments {
		actions[r.ID] = r.Action
	}
	if actions["JAL0001"] != ActionCreate || actions["JAL0002"] != ActionError || actions["JAL0003"] != ActionError || actions["JAL0004"] != ActionError {
		t.Errorf("actions = %v", actions)
	}
	if !has(rep.Errors, 3, "end_date", "must be on or after start (2018-06-30)") {
		t.Errorf("validation error not mapped to its column: %v", rep.Errors)
	}
	if !has(rep.Errors, 6, "id", "must be a jurisdiction prefix and 4 digits") {
		t.Errorf("bad id not reported: %v", rep.Errors)
	}
	// The unparseable date is reported once, not again as "is required".
	for _, e := range rep.Errors {
		if e.Row == 4 && e.Column == "start_date" && strings.Contains(e.Message, "required") {
			t.Error("duplicate error for the bad date")
		}
	}
	_, _, err = Commit(ctx, st, b)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Commit = %v, want ErrInvalid", err)
	}
	if list, _ := st.ListCommitments(ctx, ""); len(list) != 0 {
		t.Errorf("all-or-nothing broken: %d commitments written", len(list))
	}
}

func TestHostileCSV(t *testing.T) {
	b, errs := ParseCSV(open(t, "hostile.csv"), nil, DefaultLimits("es"))
	if b == nil {
		t.Fatalf("hostile file rejected whole: %v", errs)
	}
	// Formula-looking cells are kept verbatim as text.
	c := b.Rows[0].Commitment
	if c.Title.Get("es") != `=HYPERLINK("http://evil.example","click")` || c.LeadInstitution != `+cmd|' /C calc'!A0` || c.Description.Get("es") != "@SUM(1+1)" {
		t.Errorf("formula cells altered: %q %q %q", c.Title.Get("es"), c.LeadInstitution, c.Description.Get("es"))
	}
	if b.Rows[1].Commitment.Title.Get("es") != "-2+3" {
		t.Error("cell starting with - altered")
	}
	var ragged, utf8Title, utf8Lead bool
	for _, e := range errs {
		switch {
		case e.Row == 4 && strings.Contains(e.Message, "has 5 cells, the header has 7"):
			ragged = true
		case e.Row == 5 && e.Column == "title" && strings.Contains(e.Message, "UTF-8"):
			utf8Title = true
		case e.Row == 3 && e.Column == "lead_institution" && strings.Contains(e.Message, "UTF-8"):
			utf8Lead = true // Latin-1 "í" from an old spreadsheet
		}
	}
	if !ragged || !utf8Title || !utf8Lead {
		t.Errorf("ragged=%v utf8Title=%v utf8Lead=%v; errors: %v", ragged, utf8Title, utf8Lead, errs)
	}
}

func TestRejectedWhole(t *testing.T) {
	l := DefaultLimits("es")
	header := "id,plan_id,title,start_date,end_date,lead_institution\n"
	for _, tc := range []struct {
		name   string
		input  string
		limits Limits
		col    string
		msg    string
	}{
		{"unknown column", string(read(t, "bad-header.csv")), l, "titel", "unknown column; the columns are: id, plan_id, title"},
		{"missing column", "id,plan_id,title\nJAL0001,x,y\n", l, "start_date", "required column is missing"},
		{"duplicate column", "id,id,plan_id,title,start_date,end_date,lead_institution\n", l, "id", "appears twice"},
		{"suffix on non-text column", "id,plan_id,title,start_date:en,end_date,lead_institution\n", l, "start_date:en", "only text columns"},
		{"bad language suffix", "id,plan_id,title,title:<x>,start_date,end_date,lead_institution\n", l, "title:<x>", "not a language tag"},
		{"empty", "", l, "", "empty"},
		{"too large", header + strings.Repeat("x", 2000), Limits{MaxBytes: 1000, Lang: "es"}, "", "larger than"},
		{"too many rows", header + strings.Repeat("JAL0001,p,t,2017-01-01,2017-01-02,l\n", 3), Limits{MaxRows: 2, Lang: "es"}, "", "more than 2 rows"},
		{"broken quoting", header + "JAL0001,\"p,t\n", l, "", "broken CSV quoting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, errs := Parse(FormatCSV, strings.NewReader(tc.input), tc.limits)
			if b != nil {
				t.Fatal("input accepted")
			}
			if !slices.ContainsFunc(errs, func(e RowError) bool { return e.Column == tc.col && strings.Contains(e.Message, tc.msg) }) {
				t.Errorf("errors = %v, want column %q message %q among them", errs, tc.col, tc.msg)
			}
		})
	}
	// Every header problem comes in one answer, not one per attempt.
	b, errs := Parse(FormatCSV, strings.NewReader("id,plan_id,titel,start_date:en,end_date,end_date\n"), l)
	if b != nil {
		t.Error("a file with a broken header was accepted")
	}
	var cols []string
	for _, e := range errs {
		cols = append(cols, e.Column)
	}
	for _, want := range []string{"titel", "start_date:en", "end_date", "title", "start_date", "lead_institution"} {
		if !slices.Contains(cols, want) {
			t.Errorf("a header with five problems: errors name columns %q, want %q among them", cols, want)
		}
	}
	// A byte-order mark and semicolon separators (Excel in es/fr locales) are fine.
	b, errs = Parse(FormatCSV, strings.NewReader("\xEF\xBB\xBFid;plan_id;title;start_date;end_date;lead_institution\nJAL0001;2016-2018;Título, con coma;2017-01-01;2017-12-31;Secretaría\n"), l)
	if len(errs) > 0 || b.Rows[0].Commitment.Title.Get("es") != "Título, con coma" {
		t.Errorf("BOM/semicolon file: %v", errs)
	}
}

func TestMilestoneErrorsPointAtMilestoneRows(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	ms := "commitment_id,milestone_id,title,start_date,end_date,status\n" +
		"JAL0001,1,Uno,2017-01-01,2017-06-30,complete\n" +
		"JAL0001,2,Dos,2017-06-30,2017-01-01,\n" +
		"JAL0009,1,Huérfano,,,\n"
	b, errs := ParseCSV(open(t, "commitments.csv"), strings.NewReader(ms), DefaultLimits("es"))
	if len(errs) != 1 || errs[0].Source != SourceMilestones || errs[0].Row != 4 || errs[0].Column != "commitment_id" {
		t.Fatalf("orphan milestone: %v", errs)
	}
	rep, err := DryRun(ctx, st, b)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range rep.Errors {
		if e.Source == SourceMilestones && e.Row == 3 && e.Column == "end_date" && e.Message == "must be on or after start (2017-06-30)" {
			found = true
		}
	}
	if !found {
		t.Errorf("milestone error not located: %v", rep.Errors)
	}
}

func TestMissingPlan(t *testing.T) {
	ctx := context.Background()
	st := planstore.New(storetest.DB(t)) // no plan stored
	rep, err := DryRun(ctx, st, parseGoodCSV(t))
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Commitments[0].Errors[0].Column != "plan_id" || !strings.Contains(rep.Commitments[0].Errors[0].Message, `plan "2016-2018" does not exist`) {
		t.Errorf("report = %+v", rep.Commitments[0])
	}
}

func TestJSONImport(t *testing.T) {
	ctx := context.Background()
	st := planstore.New(storetest.DB(t))
	b, errs := Parse(FormatJSON, open(t, "plan.json"), DefaultLimits("en"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if b.Lang != "es" || b.Plan.Guidelines[6].Level != ogp.GuidelineMet || b.Rows[0].Commitment.Title.Lang != "es" {
		t.Errorf("batch = %+v", b)
	}
	res, rep, err := Commit(ctx, st, b)
	if err != nil {
		t.Fatalf("%v: %+v", err, rep.Errors)
	}
	if res.Plan == nil || res.Plan.Kind != planstore.Created || len(res.Commitments) != 2 || len(res.Updates) != 2 {
		t.Fatalf("result = %+v", res)
	}
	// Updates are written oldest first and not re-applied to the commitment.
	if res.Updates[0].Update.Date != "2017-03-15" || res.Updates[0].Update.ID >= res.Updates[1].Update.ID {
		t.Errorf("update order: %+v", res.Updates)
	}
	c, _ := st.GetCommitment(ctx, "JAL0001")
	if c.Completion != ogp.CompletionSubstantial {
		t.Errorf("imported history changed the commitment: %s", c.Completion)
	}
	if c.IRM == nil || c.IRM.Starred != ogp.Pending {
		t.Errorf("partial IRM should default to pending: %+v", c.IRM)
	}
	// Re-import: everything unchanged, no duplicate updates.
	b, _ = Parse(FormatJSON, open(t, "plan.json"), DefaultLimits("en"))
	res, rep, err = Commit(ctx, st, b)
	if err != nil || rep.Plan.Action != ActionUnchanged || rep.Count(ActionUnchanged) != 2 || len(res.Updates) != 0 {
		t.Fatalf("re-import: %+v %+v %v", rep, res, err)
	}
	if ups, _ := st.ListUpdates(ctx, "JAL0001", 0); len(ups) != 2 {
		t.Errorf("%d updates after re-import, want 2", len(ups))
	}
}

func TestJSONRejects(t *testing.T) {
	l := DefaultLimits("es")
	for _, tc := range []struct {
		name, input, msg string
	}{
		{"unknown field", `{"commitments":[{"id":"JAL0001","titel":"x"}]}`, `unknown field "titel"`},
		{"wrong type", `{"commitments":[{"id":5}]}`, "field"},
		{"not JSON", `{"commitments":[`, "invalid JSON"},
		{"nothing", `{}`, "nothing to import"},
		{"invalid UTF-8", "{\"lang\":\"es\",\"commitments\":[{\"id\":\"\xff\"}]}", "not valid UTF-8"},
		{"trailing", `{"plan":null,"commitments":[{"id":"JAL0001"}]} {}`, "trailing data"},
		{"long text", `{"commitments":[{"id":"JAL0001","title":"` + strings.Repeat("a", 20_001) + `"}]}`, "longer than 20000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, errs := Parse(FormatJSON, strings.NewReader(tc.input), l)
			if b != nil || len(errs) != 1 || !strings.Contains(errs[0].Message, tc.msg) {
				t.Errorf("got %v %v, want %q", b, errs, tc.msg)
			}
		})
	}
	// Row-level problems in JSON name the JSON field.
	b, errs := Parse(FormatJSON, strings.NewReader(`{"commitments":[{"id":"JAL0001","plan":"p","startDate":"2017-13-01","milestones":[{"id":"1","status":"finished"}]}]}`), l)
	if b == nil || len(errs) != 2 || errs[0].Column != "startDate" || errs[1].Column != "milestones[0].status" {
		t.Errorf("row errors = %v", errs)
	}
	if _, errs := Parse("xlsx", strings.NewReader(""), l); len(errs) != 1 {
		t.Error("unknown format accepted")
	}
}
