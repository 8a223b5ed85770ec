package plan

import (
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
)

// Overdue reports whether m should be finished by now and is not: its end
// date is before today (in now's location) and it is neither complete nor
// cancelled. A milestone without an end date is never overdue.
func (m Milestone) Overdue(now time.Time) bool {
	if m.End.IsZero() || !m.End.Valid() {
		return false
	}
	if m.Status == ogp.MilestoneComplete || m.Status == ogp.MilestoneCancelled {
		return false
	}
	return m.End.Before(ogp.DateOf(now))
}

// MilestoneProgress counts c's milestones: how many are complete and how
// many count at all (cancelled ones do not), and how many are overdue.
func (c Commitment) MilestoneProgress(now time.Time) (complete, counted, overdue int) {
	for _, m := range c.Milestones {
		if m.Status == ogp.MilestoneCancelled {
			continue
		}
		counted++
		if m.Status == ogp.MilestoneComplete {
			complete++
		}
		if m.Overdue(now) {
			overdue++
		}
	}
	return complete, counted, overdue
}

// Summary is a plan's progress at a glance: commitments per completion
// level and milestone totals. Deleted commitments are left out.
type Summary struct {
	Commitments       int
	ByCompletion      map[Completion]int
	MilestonesDone    int
	MilestonesCounted int
	MilestonesOverdue int
	Starred           int
}

// Summarize computes the Summary of commitments at time now.
func Summarize(commitments []Commitment, now time.Time) Summary {
	s := Summary{ByCompletion: map[Completion]int{}}
	for _, c := range commitments {
		if c.Deleted {
			continue
		}
		s.Commitments++
		s.ByCompletion[c.Completion]++
		done, counted, overdue := c.MilestoneProgress(now)
		s.MilestonesDone += done
		s.MilestonesCounted += counted
		s.MilestonesOverdue += overdue
		if c.IRM != nil && c.IRM.Starred == ogp.Yes {
			s.Starred++
		}
	}
	return s
}

// Percent is the share of commitments at completion level c, 0-100.
func (s Summary) Percent(c Completion) float64 { return percent(s.ByCompletion[c], s.Commitments) }

// HighCompletionPercent is the share at "substantial" or "complete", the
// IRM's measure of high completion.
func (s Summary) HighCompletionPercent() float64 {
	return percent(s.ByCompletion[ogp.CompletionSubstantial]+s.ByCompletion[ogp.CompletionComplete], s.Commitments)
}

// MilestonePercent is the share of counted milestones that are complete.
func (s Summary) MilestonePercent() float64 { return percent(s.MilestonesDone, s.MilestonesCounted) }

func percent(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}
