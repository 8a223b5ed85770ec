package readmodel

import (
	"testing"
	"time"
)

// TestUndatedSortsLast: newest-first order puts commitments without any
// date after dated ones (a zero time overflows UnixNano).
func TestUndatedSortsLast(t *testing.T) {
	dated := &Commitment{ID: "a", LastUpdate: time.Date(2017, 5, 1, 0, 0, 0, 0, time.UTC)}
	older := &Commitment{ID: "b", LastUpdate: time.Date(2016, 5, 1, 0, 0, 0, 0, time.UTC)}
	undated := &Commitment{ID: "c"}
	if !(sortKey(dated, SortLastUpdate) < sortKey(older, SortLastUpdate) && sortKey(older, SortLastUpdate) < sortKey(undated, SortLastUpdate)) {
		t.Errorf("order: dated %q, older %q, undated %q", sortKey(dated, SortLastUpdate), sortKey(older, SortLastUpdate), sortKey(undated, SortLastUpdate))
	}
}
