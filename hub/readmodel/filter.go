package readmodel

import (
	"slices"
	"strings"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// Sort orders for commitment lists.
const (
	SortPilot      = "pilot"       // pilot name, then identifier (default)
	SortLastUpdate = "last-update" // newest activity first
	SortName       = "name"        // commitment name
)

// Filter selects commitments. Zero fields do not filter. ParseFilter reads
// one from a query string and Values writes it back, so the comparison
// page, the JSON API, the feeds and the exports share one grammar
// (docs/api-hub.md "Filter parameters").
type Filter struct {
	Pilots     []string         // pilot actor IRIs (any of)
	Theme      string           // policy area, exact, case-insensitive
	Value      ogp.Value        // OGP value
	Completion []ogp.Completion // any of
	Starred    *bool            // IRM starred or not
	// Period is a plan period chosen as a whole (the page's period
	// select); From and To narrow or replace its ends.
	Period ogp.Period
	// From and To select commitments whose dates (or their plan's period)
	// overlap [From, To]; either may be empty.
	From, To ogp.Date
	// PlanStatus selects commitments of plans at that stage.
	PlanStatus ogp.PlanStatus
	Query      string // words, all of which must appear (case- and accent-insensitive)
	IDs        []string
	Sort       string // Sort* constant
}

// Narrows reports whether f selects anything (Sort only orders).
func (f Filter) Narrows() bool {
	return len(f.Pilots) > 0 || f.Theme != "" || f.Value != "" || len(f.Completion) > 0 ||
		f.Starred != nil || !f.Period.Start.IsZero() || !f.Period.End.IsZero() ||
		f.From != "" || f.To != "" || f.PlanStatus != "" || strings.TrimSpace(f.Query) != "" || len(f.IDs) > 0
}

// dateRange is the span f selects: explicit dates win over the period's ends.
func (f Filter) dateRange() (from, to ogp.Date) {
	from, to = f.Period.Start, f.Period.End
	if f.From != "" {
		from = f.From
	}
	if f.To != "" {
		to = f.To
	}
	return from, to
}

// Match reports whether c passes f (without cursor or sort).
func (f Filter) Match(c *Commitment) bool {
	if len(f.Pilots) > 0 && !slices.Contains(f.Pilots, c.Pilot) {
		return false
	}
	if len(f.IDs) > 0 && !slices.Contains(f.IDs, c.ID) {
		return false
	}
	if f.Theme != "" && !slices.ContainsFunc(c.Themes, func(t string) bool { return strings.EqualFold(t, f.Theme) }) {
		return false
	}
	if f.Value != "" && !slices.Contains(c.Values, f.Value) {
		return false
	}
	if len(f.Completion) > 0 && !slices.Contains(f.Completion, c.Completion) {
		return false
	}
	if f.Starred != nil && *f.Starred != c.Starred {
		return false
	}
	if f.PlanStatus != "" && f.PlanStatus != c.PlanStatus {
		return false
	}
	if from, to := f.dateRange(); from != "" || to != "" {
		start, end := c.StartDate, c.EndDate
		if start == "" {
			start = c.Period.Start
		}
		if end == "" {
			end = c.Period.End
		}
		if to != "" && start != "" && to.Before(start) {
			return false
		}
		if from != "" && end != "" && end.Before(from) {
			return false
		}
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		for _, w := range strings.Fields(fold(q)) {
			if !strings.Contains(c.text, w) {
				return false
			}
		}
	}
	return true
}
