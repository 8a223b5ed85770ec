package ogp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/internal/golden"
)

// goldenJSON compares got (indented) with testdata/name, or rewrites it.
func goldenJSON(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("%s: output is not JSON: %v", name, err)
	}
	buf.WriteByte('\n')
	golden.Check(t, filepath.Join("testdata", name), buf.Bytes())
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := MarshalObject(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGoldenObjects(t *testing.T) {
	goldenJSON(t, "commitment.json", mustMarshal(t, exampleCommitment()))
	goldenJSON(t, "progress-update.json", mustMarshal(t, exampleUpdate()))
	goldenJSON(t, "action-plan.json", mustMarshal(t, examplePlan()))
	goldenJSON(t, "context.json", ContextDocument())
}

func TestGoldenActivities(t *testing.T) {
	to, cc := []string{Public}, []string{exIRIs.Followers()}
	create, err := NewActivity(ActivityCreate, exIRIs.Activity("create-1"), exIRIs.Actor(), exampleCommitment(), to, cc, exPublished)
	if err != nil {
		t.Fatal(err)
	}
	goldenJSON(t, "create.json", create)
	upd, err := NewActivity(ActivityUpdate, exIRIs.Activity("update-1"), exIRIs.Actor(), exampleCommitment(), to, cc, exUpdated)
	if err != nil {
		t.Fatal(err)
	}
	goldenJSON(t, "update.json", upd)
	// Deleting a commitment must send a Tombstone, never the content.
	del, err := NewActivity(ActivityDelete, exIRIs.Activity("delete-1"), exIRIs.Actor(), exampleCommitment(), to, cc, exUpdated)
	if err != nil {
		t.Fatal(err)
	}
	goldenJSON(t, "delete.json", del)
	if bytes.Contains(del, []byte("Lomas")) {
		t.Error("Delete carries the deleted commitment's content")
	}
	if n := bytes.Count(create, []byte(`"@context"`)); n != 1 {
		t.Errorf("Create has %d @context keys, want 1 (embedded objects drop theirs)", n)
	}
}

// TestRoundTrip encodes each example, parses it back through Parse and
// checks that nothing was lost: re-encoding gives the same bytes.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		obj  any
		kind string
	}{
		{exampleCommitment(), KindCommitment},
		{exampleUpdate(), KindProgressUpdate},
		{examplePlan(), KindActionPlan},
	} {
		raw := mustMarshal(t, tc.obj)
		kind, obj, err := Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", tc.kind, err)
		}
		if kind != tc.kind {
			t.Errorf("kind = %q, want %q", kind, tc.kind)
		}
		again, err := encode(obj)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, again) {
			t.Errorf("%s: round trip changed the document:\n%s\n%s", tc.kind, raw, again)
		}
	}
	c, err := ParseCommitment(mustMarshal(t, exampleCommitment()))
	if err != nil {
		t.Fatal(err)
	}
	if c.Identifier != "JAL0001" || len(c.Milestones) != 2 || c.Milestones[0].Status != MilestoneComplete ||
		c.IRM.PotentialImpact != ImpactModerate || c.NameMap["en"] == "" || c.EndDate != "2018-06-30" {
		t.Errorf("parsed commitment lost fields: %+v", c)
	}
	if MilestoneKey(c.Milestones[1].ID) != "2" {
		t.Errorf("MilestoneKey(%q) = %q", c.Milestones[1].ID, MilestoneKey(c.Milestones[1].ID))
	}
}

func TestParseActivities(t *testing.T) {
	to := []string{Public}
	for _, tc := range []struct {
		typ    string
		object any
		kind   string
	}{
		{ActivityCreate, exampleCommitment(), KindCommitment},
		{ActivityUpdate, exampleUpdate(), KindProgressUpdate},
		{ActivityCreate, examplePlan(), KindActionPlan},
		{ActivityDelete, exampleUpdate(), KindTombstone},
		{ActivityDelete, exIRIs.Commitment("JAL0001"), KindIRI},
	} {
		raw, err := NewActivity(tc.typ, exIRIs.Activity("a"), exIRIs.Actor(), tc.object, to, nil, exUpdated)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.typ, tc.kind, err)
		}
		kind, obj, err := Parse(raw)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.typ, tc.kind, err)
		}
		a, ok := obj.(Activity)
		if kind != tc.typ || !ok || a.ObjectKind != tc.kind {
			t.Errorf("Parse = %q %T kind %q, want %q Activity kind %q", kind, obj, a.ObjectKind, tc.typ, tc.kind)
		}
		if !a.Published.Equal(exUpdated) {
			t.Errorf("published = %v", a.Published)
		}
		if tc.kind == KindTombstone {
			ts := a.Object.(Tombstone)
			if ts.FormerType != TypeProgressUpdate || ts.ID != exampleUpdate().ID {
				t.Errorf("tombstone = %+v", ts)
			}
		}
	}
	if _, err := NewActivity("Like", exIRIs.Activity("a"), exIRIs.Actor(), exampleCommitment(), to, nil, exUpdated); err == nil {
		t.Error("NewActivity accepted type Like")
	}
}

// mutate encodes v, applies f to the generic JSON form and re-encodes, so
// tests can break documents in ways the Go types cannot express.
func mutate(t *testing.T, v any, f func(m map[string]any)) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseRejectsHostileInput(t *testing.T) {
	c := exampleCommitment()
	u := exampleUpdate()
	p := examplePlan()
	many := func(n int, v any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	manyMilestones := func() []any {
		out := make([]any, MaxMilestones+1)
		for i := range out {
			out[i] = map[string]any{"id": fmt.Sprintf("%s#milestone-%d", c.ID, i), "type": TypeMilestone, "name": "m", "ogp:status": "complete"}
		}
		return out
	}()
	nested := mutate(t, Activity{ID: exIRIs.Activity("x"), Type: ActivityCreate, Actor: exIRIs.Actor(), Object: "x"}, func(m map[string]any) {
		m["object"] = map[string]any{"type": "Create", "id": exIRIs.Activity("y"), "actor": exIRIs.Actor(), "object": c}
	})
	spoofed := c
	spoofed.AttributedTo = "https://evil.example/users/mallory"
	createSpoof, _ := json.Marshal(Activity{Context: JSONLDContext(), ID: "https://evil.example/a/1", Type: ActivityCreate, Actor: "https://evil.example/users/mallory", Object: c})
	createByIRI, _ := json.Marshal(Activity{ID: exIRIs.Activity("z"), Type: ActivityCreate, Actor: exIRIs.Actor(), Object: c.ID})

	for _, tc := range []struct {
		name string
		raw  []byte
		is   error
		want string // substring of the error message
	}{
		{"not JSON", []byte(`{"type":`), ErrMalformed, "truncated"},
		{"trailing data", append(mustMarshal(t, c), []byte(` {}`)...), ErrMalformed, "trailing"},
		{"invalid UTF-8", []byte("{\"type\":\"Note\",\"content\":\"\xff\"}"), ErrMalformed, "UTF-8"},
		{"too large", append([]byte(`{"type":"Note","content":"`), append(bytes.Repeat([]byte("a"), MaxDocumentBytes), '"', '}')...), ErrTooLarge, "limit"},
		{"type not a string", []byte(`{"type":["Article"]}`), ErrUnsupported, "type"},
		{"unknown type", []byte(`{"type":"Person"}`), ErrUnsupported, "Person"},
		{"article without identifier", []byte(`{"type":"Article","id":"https://a.example/x"}`), ErrUnsupported, "ogp:identifier"},
		{"name is a number", mutate(t, c, func(m map[string]any) { m["name"] = 5 }), ErrMalformed, "name"},
		{"milestones not an array", mutate(t, c, func(m map[string]any) { m["ogp:milestones"] = "lots" }), ErrMalformed, "ogp:milestones"},
		{"bad completion", mutate(t, c, func(m map[string]any) { m["ogp:completion"] = "done" }), ErrInvalid, `ogp:completion: "done" is not one of no-evidence`},
		{"bad milestone status", mutate(t, c, func(m map[string]any) {
			m["ogp:milestones"].([]any)[1].(map[string]any)["ogp:status"] = "finished"
		}), ErrInvalid, "ogp:milestones[1].ogp:status"},
		{"bad date", mutate(t, c, func(m map[string]any) { m["ogp:startDate"] = "2017-02-30" }), ErrMalformed, "2017-02-30"},
		{"end before start", mutate(t, c, func(m map[string]any) { m["ogp:endDate"] = "2016-01-01" }), ErrInvalid, "ogp:endDate: 2016-01-01 must be on or after ogp:startDate (2017-01-01)"},
		{"huge milestone list", mutate(t, c, func(m map[string]any) { m["ogp:milestones"] = manyMilestones }), ErrInvalid, "limit 50"},
		{"huge policy areas", mutate(t, c, func(m map[string]any) { m["ogp:policyAreas"] = many(MaxPolicyAreas+1, "x") }), ErrInvalid, "ogp:policyAreas"},
		{"bad value", mutate(t, c, func(m map[string]any) { m["ogp:values"] = []any{"transparency"} }), ErrInvalid, "ogp:values[0]"},
		{"bad identifier", mutate(t, c, func(m map[string]any) { m["ogp:identifier"] = "jal-1" }), ErrInvalid, "ogp:identifier"},
		{"bad IRM", mutate(t, c, func(m map[string]any) { m["ogp:irm"].(map[string]any)["ogp:starred"] = "maybe" }), ErrInvalid, "ogp:irm.ogp:starred"},
		{"spoofed attributedTo", mustJSON(t, spoofed), ErrInvalid, "attributedTo"},
		{"javascript IRI", mutate(t, c, func(m map[string]any) { m["url"] = "javascript:alert(1)" }), ErrInvalid, "url"},
		{"bad language tag", mutate(t, c, func(m map[string]any) { m["nameMap"] = map[string]any{"<script>": "x"} }), ErrInvalid, "nameMap"},
		{"too many addressees", mutate(t, c, func(m map[string]any) { m["cc"] = many(MaxAddressees+1, Public) }), ErrInvalid, "addressees"},
		{"note without date", mutate(t, u, func(m map[string]any) { delete(m, "ogp:date") }), ErrInvalid, "ogp:date: is required"},
		{"note evidence not http", mutate(t, u, func(m map[string]any) { m["ogp:evidence"] = []any{"file:///etc/passwd"} }), ErrInvalid, "ogp:evidence[0]"},
		{"note too much evidence", mutate(t, u, func(m map[string]any) { m["ogp:evidence"] = many(MaxEvidence+1, "https://a.example/") }), ErrInvalid, "limit 20"},
		{"note replies elsewhere", mutate(t, u, func(m map[string]any) { m["inReplyTo"] = "https://other.example/commitments/X" }), ErrInvalid, "inReplyTo"},
		{"plan bad guideline", mutate(t, p, func(m map[string]any) {
			m["ogp:guidelines"] = []any{map[string]any{"ogp:key": "vibes", "ogp:level": "met"}}
		}), ErrInvalid, "ogp:guidelines[0].ogp:key"},
		{"plan duplicate guideline", mutate(t, p, func(m map[string]any) {
			g := map[string]any{"ogp:key": "advance-notice", "ogp:level": "met"}
			m["ogp:guidelines"] = []any{g, g}
		}), ErrInvalid, "listed twice"},
		{"plan bad IAP2", mutate(t, p, func(m map[string]any) {
			m["ogp:participation"] = map[string]any{"ogp:development": "dictate"}
		}), ErrInvalid, "ogp:participation.ogp:development"},
		{"plan missing period", mutate(t, p, func(m map[string]any) { delete(m, "ogp:period") }), ErrInvalid, "ogp:period.ogp:start: is required"},
		{"nested activity", nested, ErrUnsupported, "object"},
		{"object from another actor", createSpoof, ErrInvalid, "attributedTo"},
		{"create by reference", createByIRI, ErrInvalid, "must embed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse(tc.raw)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIRIListAcceptsSingleString(t *testing.T) {
	raw := mutate(t, exampleUpdate(), func(m map[string]any) { m["to"] = Public })
	u, err := ParseProgressUpdate(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.To) != 1 || u.To[0] != Public {
		t.Errorf("to = %v", u.To)
	}
}

func TestContextDocument(t *testing.T) {
	var doc struct {
		Context map[string]any `json:"@context"`
	}
	if err := json.Unmarshal(ContextDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Context["ogp"] != NS {
		t.Errorf("ogp prefix = %v", doc.Context["ogp"])
	}
	// Every ogp: key the examples use must be defined in the context.
	for _, v := range []any{exampleCommitment(), exampleUpdate(), examplePlan()} {
		for _, key := range ogpKeys(mustJSON(t, v)) {
			if _, ok := doc.Context[key]; !ok {
				t.Errorf("%s is used but not defined in the context", key)
			}
		}
	}
	// Terms hands out copies: changing one must not change the next.
	Terms()["ogp"] = "x"
	if Terms()["ogp"] != NS {
		t.Error("Terms shares state between calls")
	}
}

// ogpKeys lists every "ogp:…" key anywhere in a JSON document.
func ogpKeys(raw []byte) []string {
	var v any
	_ = json.Unmarshal(raw, &v)
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if strings.HasPrefix(k, "ogp:") {
					out = append(out, k)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

func TestEnumsAndHelpers(t *testing.T) {
	for _, c := range Completions {
		if !c.Valid() || c.Label() == "" {
			t.Errorf("completion %q invalid or unlabelled", c)
		}
	}
	for _, k := range GuidelineKeys {
		if !k.Valid() || k.Label() == "" {
			t.Errorf("guideline %q invalid or unlabelled", k)
		}
	}
	if Completion("done").Valid() || IAP2Level("").Valid() {
		t.Error("unknown enum value reported valid")
	}
	if !IAP2Involve.MeetsMinimum() || IAP2Consult.MeetsMinimum() {
		t.Error("MeetsMinimum wrong")
	}
	if got := HashtagName("access-to-information"); got != "#AccessToInformation" {
		t.Errorf("HashtagName = %q", got)
	}
	if DateOf(time.Date(2017, 3, 4, 23, 0, 0, 0, time.UTC)) != "2017-03-04" {
		t.Error("DateOf")
	}
	for _, bad := range []string{"2017-3-4", "2017-02-29", "17-01-01", "2017-01-01T00:00:00Z", ""} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	if !ValidIdentifier("UK0076") || ValidIdentifier("JAL001") || ValidIdentifier("jal0001") {
		t.Error("ValidIdentifier")
	}
}
