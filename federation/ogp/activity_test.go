package ogp

import (
	"bytes"
	"strings"
	"testing"
)

// An embedded object's own @context is dropped (JSON-LD wants it once, at
// the top), whether the caller passes the object or a pointer to it, and the
// caller's value keeps its @context.
func TestNewActivityDropsEmbeddedContext(t *testing.T) {
	c := exampleCommitment()
	c.Context = JSONLDContext()
	u := exampleUpdate()
	u.Context = JSONLDContext()
	p := examplePlan()
	p.Context = JSONLDContext()
	for _, object := range []any{c, &c, u, &u, p, &p} {
		raw, err := NewActivity(ActivityCreate, exIRIs.Activity("a"), exIRIs.Actor(), object, []string{Public}, nil, exUpdated)
		if err != nil {
			t.Fatalf("%T: %v", object, err)
		}
		if n := bytes.Count(raw, []byte(`"@context"`)); n != 1 {
			t.Errorf("%T: @context appears %d times, want once at the top", object, n)
		}
	}
	if c.Context == nil || u.Context == nil || p.Context == nil {
		t.Error("NewActivity cleared the caller's @context")
	}
}

func TestMarshalObjectAddsContextOnlyToObjects(t *testing.T) {
	c := exampleCommitment()
	c.Context = nil
	raw, err := MarshalObject(c)
	if err != nil || !bytes.HasPrefix(raw, []byte(`{"@context":`)) {
		t.Errorf("MarshalObject(commitment) = %.60s, %v; want the @context first", raw, err)
	}
	if c.Context != nil {
		t.Error("MarshalObject set the caller's @context")
	}
	bad := exampleCommitment()
	bad.Name = ""
	if _, err := MarshalObject(bad); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("MarshalObject(no name) = %v, want a name error", err)
	}
	if _, err := MarshalObject(Tombstone{ID: c.ID, Type: TypeTombstone}); err == nil || !strings.Contains(err.Error(), "cannot marshal ogp.Tombstone") {
		t.Errorf("MarshalObject(Tombstone) = %v, want refused", err)
	}
}
