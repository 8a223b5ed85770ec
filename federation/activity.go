package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	vocab "github.com/go-ap/activitypub"
)

// Activity is a verified activity handed to the Inbox. Its signature, its
// actor (the key owner), its id's host and, for Update and Delete, its
// object's host have been checked before any Inbox method runs.
type Activity struct {
	// ID, Type and Actor come from the activity; Actor is the verified
	// signer.
	ID, Type, Actor string
	// ObjectID is the IRI of the activity's object (embedded or by link).
	ObjectID string
	// Raw is the activity exactly as received (design §3: keep the
	// original bytes).
	Raw []byte
	// Decoded is the activity as go-ap decodes it, for routing; it drops
	// what go-ap does not model, so store Raw, not a re-encoding of it.
	Decoded *vocab.Activity

	// fetch gets a document from its origin (signed, SSRF-guarded).
	fetch func(ctx context.Context, iri string) ([]byte, error)
	log   *slog.Logger

	mu     sync.Mutex
	object []byte
	err    error
	done   bool
}

// Object returns the activity's object as trustworthy bytes: the embedded
// copy when it is attributed to the activity's actor on the actor's host,
// otherwise a signed fetch from its origin (federation.md §4; always for
// Announce, whose object belongs to someone else). It is resolved on the
// first call and remembered, so an Inbox that ignores the activity costs
// no fetch, and one that asks twice costs one. Its errors wrap
// ErrMalformed: return them as they are.
func (a *Activity) Object(ctx context.Context) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.done {
		a.object, a.err = a.resolve(ctx)
		a.done = true
	}
	return a.object, a.err
}

func (a *Activity) resolve(ctx context.Context) ([]byte, error) {
	if a.ObjectID == "" {
		return nil, fmt.Errorf("%w: activity has no object", ErrMalformed)
	}
	if embedded := a.embedded(); a.ownEmbedded(embedded) {
		return embedded, nil
	}
	if a.fetch == nil {
		return nil, fmt.Errorf("%w: object %s is not embedded by its author", ErrMalformed, a.ObjectID)
	}
	raw, err := a.fetch(ctx, a.ObjectID)
	if err != nil {
		// The cause (an address refused by the SSRF guard, a timeout) is
		// ours to read, not the sender's.
		if a.log != nil {
			a.log.InfoContext(ctx, "inbox: object fetch failed", "activity", a.ID, "object", a.ObjectID, "err", err)
		}
		return nil, fmt.Errorf("%w: could not fetch object %s from its origin", ErrMalformed, a.ObjectID)
	}
	return raw, nil
}

// embedded is the object as sent inside the activity (untrusted), nil
// when there is none. It is read from Raw when asked for, not when the
// activity is decoded: most deliveries never need it (the inbox's own
// Create handling, a Like) and reading it is one more pass over the body.
func (a *Activity) embedded() json.RawMessage {
	var shape struct {
		Object json.RawMessage `json:"object"`
	}
	if json.Unmarshal(a.Raw, &shape) != nil {
		return nil
	}
	return shape.Object
}

// ownEmbedded reports whether the embedded object can be trusted as sent:
// it is the object named, attributed to the actor, on the actor's host.
func (a *Activity) ownEmbedded(embedded json.RawMessage) bool {
	if a.Type == "Announce" || len(embedded) == 0 || !bytes.HasPrefix(bytes.TrimSpace(embedded), []byte("{")) {
		return false
	}
	var obj struct {
		ID           string          `json:"id"`
		AttributedTo json.RawMessage `json:"attributedTo"`
	}
	return json.Unmarshal(embedded, &obj) == nil && obj.ID == a.ObjectID &&
		attributedTo(obj.AttributedTo) == a.Actor && sameOrigin(obj.ID, a.Actor)
}

// attributedTo reads attributedTo as a single IRI (string or {id}).
func attributedTo(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil && len(list) == 1 {
		return attributedTo(list[0])
	}
	return ""
}
