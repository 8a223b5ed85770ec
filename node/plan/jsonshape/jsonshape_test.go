package jsonshape

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/node/plan"
)

// decode reads doc strictly, as the API and the import do.
func decode[T any](t *testing.T, doc string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", doc, err)
	}
	return v
}

const commitmentBody = `"id": "JAL0001", "title": {"es": "Padrón", "en": "Register"}, "startDate": "2017-01-01",
	"endDate": "2018-06-30", "leadInstitution": "Secretaría", "completion": "limited",
	"milestones": [{"id": "1", "title": "Uno", "status": "complete", "end": "2017-06-30"}]`

// TestPlanAlias: the deprecated "plan" and the canonical "planId" decode
// to the same commitment; output carries planId only; two spellings that
// disagree are a field error, not a silent pick.
func TestPlanAlias(t *testing.T) {
	canonical, errs := decode[Commitment](t, `{"planId": "2016-2018", `+commitmentBody+`}`).Domain("es")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	alias, errs := decode[Commitment](t, `{"plan": "2016-2018", `+commitmentBody+`}`).Domain("es")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	both, errs := decode[Commitment](t, `{"plan": "2016-2018", "planId": "2016-2018", `+commitmentBody+`}`).Domain("es")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if canonical.PlanID != "2016-2018" || !reflect.DeepEqual(canonical, alias) || !reflect.DeepEqual(canonical, both) {
		t.Errorf("spellings differ:\n%+v\n%+v\n%+v", canonical, alias, both)
	}

	out, err := json.Marshal(FromCommitment(alias, "https://n.example/commitments/JAL0001"))
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	_ = json.Unmarshal(out, &keys)
	if keys["planId"] != "2016-2018" {
		t.Errorf("output lacks planId: %s", out)
	}
	if _, ok := keys["plan"]; ok {
		t.Errorf("output carries the deprecated plan: %s", out)
	}

	_, errs = decode[Commitment](t, `{"plan": "2014-2016", "planId": "2016-2018", `+commitmentBody+`}`).Domain("es")
	if len(errs) != 1 || errs[0].Field != "planId" || !strings.Contains(errs[0].Message, "different plans") {
		t.Errorf("conflicting plan and planId: %v", errs)
	}
}

// TestUpdateAliases: the import's former "commitment" and "milestone"
// spellings decode to the same progress update as commitmentId and
// milestoneId; output uses the canonical names only.
func TestUpdateAliases(t *testing.T) {
	canonical, errs := decode[Update](t, `{"commitmentId": "JAL0001", "date": "2017-07-01", "text": "Hecho.",
		"milestoneChanges": [{"milestoneId": "1", "status": "complete"}]}`).Domain("es")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	alias, errs := decode[Update](t, `{"commitment": "JAL0001", "date": "2017-07-01", "text": "Hecho.",
		"milestoneChanges": [{"milestone": "1", "status": "complete"}]}`).Domain("es")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if canonical.CommitmentID != "JAL0001" || canonical.MilestoneChanges[0].MilestoneID != "1" || !reflect.DeepEqual(canonical, alias) {
		t.Errorf("spellings differ:\n%+v\n%+v", canonical, alias)
	}
	out, _ := json.Marshal(FromUpdate(alias, ""))
	if s := string(out); !strings.Contains(s, `"commitmentId":"JAL0001"`) || !strings.Contains(s, `"milestoneId":"1"`) ||
		strings.Contains(s, `"commitment"`) || strings.Contains(s, `"milestone"`) {
		t.Errorf("output = %s", s)
	}
	_, errs = decode[Update](t, `{"commitment": "JAL0002", "commitmentId": "JAL0001", "text": "x"}`).Domain("es")
	if len(errs) != 1 || errs[0].Field != "commitmentId" {
		t.Errorf("conflicting commitment and commitmentId: %v", errs)
	}
}

// TestText: a plain string is text in the default language; an object
// keeps its tags, drops blanks, and defaults to the given language when it
// has it; a wrong type is an error that says what is expected.
func TestText(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want plan.Text
	}{
		{`"  Padrón "`, plan.NewText("es", "Padrón")},
		{`{"en": "Register", "es": "Padrón", "fr": " "}`, plan.Text{Lang: "es", Map: map[string]string{"es": "Padrón", "en": "Register"}}},
		{`{"fr": "Registre", "en": "Register"}`, plan.Text{Lang: "en", Map: map[string]string{"fr": "Registre", "en": "Register"}}},
		{`""`, plan.Text{}},
	} {
		got := decode[Text](t, tc.doc).Domain("es")
		if !got.Equal(tc.want) {
			t.Errorf("%s → %+v, want %+v", tc.doc, got, tc.want)
		}
	}
	var tx Text
	if err := json.Unmarshal([]byte(`5`), &tx); err == nil || !strings.Contains(err.Error(), "string or an object") {
		t.Errorf("number as text: %v", err)
	}
}

// TestBadDatesAreFieldErrors: malformed dates are reported by JSON path,
// milestones' included; values are left to the domain's validation.
func TestBadDatesAreFieldErrors(t *testing.T) {
	c, errs := decode[Commitment](t, `{"id": "JAL0001", "planId": "p", "startDate": "30/06/2017",
		"values": ["transparency"], "milestones": [{"id": "1", "end": "2017-02-30"}]}`).Domain("es")
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	if !reflect.DeepEqual(fields, []string{"startDate", "milestones[0].end"}) || !strings.Contains(errs[0].Message, "YYYY-MM-DD") {
		t.Errorf("errors = %v", errs)
	}
	if len(c.Values) != 1 || c.Values[0] != "transparency" {
		t.Errorf("values = %v, want them passed on unchecked", c.Values)
	}
}
