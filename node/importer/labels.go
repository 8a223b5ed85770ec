package importer

import (
	"fmt"
	"strings"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/node/plan"
)

// People write import files by hand and in spreadsheets, so the import
// reads more than the API: vocabulary values in any case and spelling
// ("Not started", "not_started") or as their English label, identifiers in
// any case, and blank values meaning the usual default. The functions
// below take a value mapped by node/plan/jsonshape (raw, unvalidated) and
// rewrite it in the canonical spelling, reporting what they cannot read
// through bad, by JSON field path (the caller names the column).

// badFunc reports a problem with field.
type badFunc func(field, format string, args ...any)

// readCommitment canonicalises c: upper-case id, known values and policy
// areas, completion (default not started), an IRM assessment whose blanks
// are "pending", and its milestones.
func readCommitment(c *plan.Commitment, bad badFunc) {
	c.ID = strings.ToUpper(c.ID)
	c.Completion = readEnum(string(c.Completion), ogp.CompletionNotStarted, "completion", ogp.Completions, ogp.Completion.Label, bad)
	values := c.Values
	c.Values = nil
	for _, v := range values {
		if val, ok := parseEnum(string(v), ogp.Values, ogp.Value.Label); ok {
			c.Values = append(c.Values, val)
		} else {
			bad("values", "%q is not an OGP value (%s)", truncate(string(v), 60), enumNames(ogp.Values))
		}
	}
	areas := c.PolicyAreas
	c.PolicyAreas = nil
	for _, a := range areas {
		if slug, ok := parsePolicyArea(a); ok {
			c.PolicyAreas = append(c.PolicyAreas, slug)
		} else {
			bad("policyAreas", "%q is not a policy area of taxonomy %s (see docs/import.md)", truncate(a, 60), plan.TaxonomyVersion)
		}
	}
	if a := c.IRM; a != nil {
		a.Verifiable = readEnum(string(a.Verifiable), ogp.Pending, "irm.verifiable", yesNo, ogp.YesNo.Label, bad)
		a.PotentialImpact = readEnum(string(a.PotentialImpact), ogp.ImpactPending, "irm.potentialImpact", ogp.PotentialImpacts, ogp.PotentialImpact.Label, bad)
		a.Starred = readEnum(string(a.Starred), ogp.Pending, "irm.starred", yesNo, ogp.YesNo.Label, bad)
		a.DidItOpenGovernment = readEnum(string(a.DidItOpenGovernment), ogp.ResultsPending, "irm.didItOpenGovernment", ogp.EarlyResultsLevels, ogp.EarlyResults.Label, bad)
	}
	for i := range c.Milestones {
		p := fmt.Sprintf("milestones[%d].", i)
		readMilestone(&c.Milestones[i], func(field, format string, args ...any) { bad(p+field, format, args...) })
	}
}

// readMilestone canonicalises m: lower-case id, status (default not
// started).
func readMilestone(m *plan.Milestone, bad badFunc) {
	m.ID = strings.ToLower(m.ID)
	m.Status = readEnum(string(m.Status), ogp.MilestoneNotStarted, "status", ogp.MilestoneStatuses, ogp.MilestoneStatus.Label, bad)
}

// readUpdate canonicalises u: upper-case commitment id, completion (may
// stay blank), and milestone changes (lower-case ids, a status required).
func readUpdate(u *plan.ProgressUpdate, bad badFunc) {
	u.CommitmentID = strings.ToUpper(u.CommitmentID)
	u.Completion = readEnum(string(u.Completion), "", "completion", ogp.Completions, ogp.Completion.Label, bad)
	for i := range u.MilestoneChanges {
		ch := &u.MilestoneChanges[i]
		ch.MilestoneID = strings.ToLower(ch.MilestoneID)
		if v, ok := parseEnum(string(ch.Status), ogp.MilestoneStatuses, ogp.MilestoneStatus.Label); ok {
			ch.Status = v
		} else {
			bad(fmt.Sprintf("milestoneChanges[%d].status", i), "%q is not one of %s", truncate(string(ch.Status), 40), enumNames(ogp.MilestoneStatuses))
			ch.Status = ""
		}
	}
}

// readEnum reads raw as one of all (slug or English label, any spelling);
// blank is def. An unknown value is reported and read as def.
func readEnum[T ~string](raw string, def T, field string, all []T, label func(T) string, bad badFunc) T {
	if raw == "" {
		return def
	}
	if v, ok := parseEnum(raw, all, label); ok {
		return v
	}
	bad(field, "%q is not one of %s", truncate(raw, 40), enumNames(all))
	return def
}
