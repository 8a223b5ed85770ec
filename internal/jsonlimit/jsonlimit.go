// Package jsonlimit checks the shape of untrusted JSON before a decoder
// builds anything from it. Decoders that build a value per element (go-ap's
// vocabulary, maps of any) cost far more per byte than reading the bytes:
// a signed activity with a 100,000-item array (400 KB, well inside the
// inbox's size cap) cost 0.5 s on the hub and 2.2 s on a node. One pass over
// the bytes, allocating nothing per element, refuses such a document first.
//
// The scan checks the limits only; it does not validate the JSON (the
// decoder that follows does), so a malformed document within the limits
// passes and is refused by that decoder.
package jsonlimit

import (
	"errors"
	"fmt"
)

// Limits bound a JSON document's shape. A zero field means no limit.
type Limits struct {
	// Depth is the deepest nesting of objects and arrays (the top-level
	// value is depth 1).
	Depth int
	// ArrayItems is the most elements one array may have.
	ArrayItems int
	// Values is the most values in the whole document: every object,
	// array, string, number, true, false and null, keys not counted.
	Values int
}

// Activity is the limit of an incoming or fetched ActivityStreams document.
// The largest documents real servers send are collection pages (20 items
// on ours, 20–40 on Mastodon and GoToSocial) and objects with a few dozen
// tags, recipients or attachments; nesting beyond a handful of levels has
// no meaning in ActivityStreams.
var Activity = Limits{Depth: 32, ArrayItems: 1000, Values: 20000}

// API is the limit of one JSON API request body (a plan, a commitment, a
// progress update): a commitment has a handful of milestones and policy
// areas, a plan at most a few hundred commitments.
var API = Limits{Depth: 32, ArrayItems: 1000, Values: 20000}

// Import is the limit of a JSON import file (a whole plan with its
// commitments and years of progress updates, up to the import's byte cap).
var Import = Limits{Depth: 32, ArrayItems: 10000, Values: 500000}

// ErrLimit is wrapped by every refusal of Check.
var ErrLimit = errors.New("JSON exceeds a limit")

// Check scans doc once and returns an error wrapping ErrLimit that names
// the limit when doc's shape exceeds l. It does not allocate per value.
func (l Limits) Check(doc []byte) error {
	// One frame per open container: whether it is an object, whether the
	// next string in it is a key, and how many elements it has so far.
	type frame struct {
		object, wantKey bool
		items           int
	}
	stack := make([]frame, 0, 16)
	values := 0
	value := func() error {
		values++
		if l.Values > 0 && values > l.Values {
			return fmt.Errorf("%w: more than %d values in the document (the limit is %d)", ErrLimit, l.Values, l.Values)
		}
		if n := len(stack); n > 0 && !stack[n-1].object {
			stack[n-1].items++
			if l.ArrayItems > 0 && stack[n-1].items > l.ArrayItems {
				return fmt.Errorf("%w: an array has more than %d items (the limit is %d)", ErrLimit, l.ArrayItems, l.ArrayItems)
			}
		}
		return nil
	}
	for i := 0; i < len(doc); i++ {
		switch c := doc[i]; c {
		case ' ', '\t', '\n', '\r':
		case '{', '[':
			if err := value(); err != nil {
				return err
			}
			stack = append(stack, frame{object: c == '{', wantKey: c == '{'})
			if l.Depth > 0 && len(stack) > l.Depth {
				return fmt.Errorf("%w: nested deeper than %d levels (the limit is %d)", ErrLimit, l.Depth, l.Depth)
			}
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].wantKey = true
			}
		case ':':
			if n := len(stack); n > 0 {
				stack[n-1].wantKey = false
			}
		case '"':
			key := len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].wantKey
			// Skip to the closing quote; a backslash escapes one byte.
			for i++; i < len(doc) && doc[i] != '"'; i++ {
				if doc[i] == '\\' {
					i++
				}
			}
			if !key {
				if err := value(); err != nil {
					return err
				}
			}
		default:
			// A number or a literal: one value, up to the next delimiter.
			if err := value(); err != nil {
				return err
			}
			for i+1 < len(doc) && !delimiter(doc[i+1]) {
				i++
			}
		}
	}
	return nil
}

func delimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ':', '[', ']', '{', '}', '"':
		return true
	}
	return false
}
