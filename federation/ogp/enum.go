package ogp

import (
	"fmt"
	"strings"
)

// named is one value of an enumeration with its English label.
type named[T ~string] struct {
	value T
	label string
}

// enum is one closed value set of the vocabulary: its values in their
// documented order and their English labels. Each enumeration type keeps
// its own exported Valid and Label methods (callers use them as method
// values, like ogp.Completion.Label); they are one-line calls into its enum.
type enum[T ~string] struct {
	values []T
	labels map[T]string
}

// newEnum builds an enum from its values, in order, with their labels.
func newEnum[T ~string](all []named[T]) enum[T] {
	e := enum[T]{values: make([]T, len(all)), labels: make(map[T]string, len(all))}
	for i, n := range all {
		e.values[i] = n.value
		e.labels[n.value] = n.label
	}
	return e
}

// valid reports whether v is one of e's values.
func (e enum[T]) valid(v T) bool { _, ok := e.labels[v]; return ok }

// label is the English name of v, or "" for an unknown value.
func (e enum[T]) label(v T) string { return e.labels[v] }

// notOneOf formats `"x" is not one of a, b, c` for a value e rejects.
func (e enum[T]) notOneOf(got T) string {
	names := make([]string, len(e.values))
	for i, v := range e.values {
		names[i] = string(v)
	}
	return fmt.Sprintf("%q is not one of %s", string(got), strings.Join(names, ", "))
}
