package ogp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Activity types this vocabulary uses.
const (
	ActivityCreate = "Create"
	ActivityUpdate = "Update"
	ActivityDelete = "Delete"
)

// Activity is a Create, Update or Delete wrapping one ogp object. On output
// Object is any of the object types of this package (or an IRI string); on
// input Parse sets Object to a Commitment, ProgressUpdate, ActionPlan,
// Tombstone or string IRI (values, not pointers) and ObjectKind to match.
type Activity struct {
	Context    []any     `json:"@context,omitempty"`
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Actor      string    `json:"actor"`
	Object     any       `json:"object"`
	To         IRIList   `json:"to,omitempty"`
	CC         IRIList   `json:"cc,omitempty"`
	Published  time.Time `json:"published,omitzero"`
	ObjectKind string    `json:"-"`
}

// NewActivity encodes a Create, Update or Delete of object as JSON with the
// full @context at the top. An embedded object's own @context is dropped,
// since JSON-LD only wants it once. A Delete's object should be a Tombstone
// (or the deleted object's IRI); any other object given to Delete is turned
// into a Tombstone for it, so a deleted commitment's content never travels.
func NewActivity(typ, id, actor string, object any, to, cc []string, published time.Time) ([]byte, error) {
	switch typ {
	case ActivityCreate, ActivityUpdate, ActivityDelete:
	default:
		return nil, fmt.Errorf("ogp: activity type %q: want Create, Update or Delete", typ)
	}
	object = withoutContext(object)
	if typ == ActivityDelete {
		object = tombstoneFor(object, published)
	}
	a := Activity{
		Context:   JSONLDContext(),
		ID:        id,
		Type:      typ,
		Actor:     actor,
		Object:    object,
		To:        to,
		CC:        cc,
		Published: published.UTC(),
	}
	if err := a.validate(); err != nil {
		return nil, err
	}
	return encode(a)
}

// withoutContext returns object with its @context cleared (a copy: the
// caller's value is not touched). Pointers to ogp objects are copied too.
func withoutContext(object any) any {
	if o, ok := object.(interface{ withContext([]any) any }); ok {
		return o.withContext(nil)
	}
	return object
}

// withContext returns a copy of the object with its @context replaced; the
// value receivers make pointers to these types match too.
func (c Commitment) withContext(ctx []any) any     { c.Context = ctx; return c }
func (u ProgressUpdate) withContext(ctx []any) any { u.Context = ctx; return u }
func (p ActionPlan) withContext(ctx []any) any     { p.Context = ctx; return p }
func (t Tombstone) withContext(ctx []any) any      { t.Context = ctx; return t }

func tombstoneFor(object any, deleted time.Time) any {
	deleted = deleted.UTC()
	switch o := object.(type) {
	case Commitment:
		return Tombstone{ID: o.ID, Type: TypeTombstone, FormerType: TypeCommitment, Deleted: deleted}
	case ProgressUpdate:
		return Tombstone{ID: o.ID, Type: TypeTombstone, FormerType: TypeProgressUpdate, Deleted: deleted}
	case ActionPlan:
		return Tombstone{ID: o.ID, Type: TypeTombstone, FormerType: TypeActionPlan, Deleted: deleted}
	case Tombstone:
		if o.Type == "" {
			o.Type = TypeTombstone
		}
		return o
	}
	return object
}

// MarshalObject encodes a top-level object (Commitment, ProgressUpdate,
// ActionPlan) for serving at its IRI, adding the @context if the value has
// none. It validates first, so the node never serves what the hub rejects.
func MarshalObject(object any) ([]byte, error) {
	switch o := object.(type) {
	case Commitment:
		return marshalValid(&o, &o.Context)
	case ProgressUpdate:
		return marshalValid(&o, &o.Context)
	case ActionPlan:
		return marshalValid(&o, &o.Context)
	}
	return nil, fmt.Errorf("ogp: cannot marshal %T as an ogp object", object)
}

// marshalValid gives *o the full @context if context (its @context field)
// is empty, validates it and encodes it.
func marshalValid[T interface{ Validate() error }](o *T, context *[]any) ([]byte, error) {
	if *context == nil {
		*context = JSONLDContext()
	}
	if err := (*o).Validate(); err != nil {
		return nil, err
	}
	return encode(*o)
}

// encode is json.Marshal without HTML escaping: content is HTML, and
// "\u003cp\u003e" in every document helps nobody reading it.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
