package ogp

import (
	"strings"
	"testing"
)

// enumValue is what every vocabulary enumeration offers its callers.
type enumValue interface {
	~string
	Valid() bool
	Label() string
}

// checkEnum asserts that every value of e is valid and labelled through the
// type's exported methods, that an unknown slug is neither, and that the
// rejection message lists the values in their documented order.
func checkEnum[T enumValue](t *testing.T, e enum[T], first, last T) {
	t.Helper()
	if len(e.values) == 0 || e.values[0] != first || e.values[len(e.values)-1] != last {
		t.Errorf("%T order: got %q, want %q first and %q last", first, e.values, first, last)
	}
	for _, v := range e.values {
		if !v.Valid() || v.Label() == "" {
			t.Errorf("%T %q: Valid %v, Label %q", v, v, v.Valid(), v.Label())
		}
	}
	unknown := T("nope")
	if unknown.Valid() || unknown.Label() != "" {
		t.Errorf("%T %q: unknown value reported valid or labelled", unknown, unknown)
	}
	msg := e.notOneOf(unknown)
	if !strings.HasPrefix(msg, `"nope" is not one of `+string(first)+", ") || !strings.HasSuffix(msg, ", "+string(last)) {
		t.Errorf("%T rejection = %q", unknown, msg)
	}
}

func TestEveryEnum(t *testing.T) {
	checkEnum(t, valueEnum, ValueAccessToInformation, ValueTechnologyInnovation)
	checkEnum(t, completionEnum, CompletionNoEvidence, CompletionComplete)
	checkEnum(t, milestoneEnum, MilestoneNotStarted, MilestoneCancelled)
	checkEnum(t, yesNoEnum, Yes, Pending)
	checkEnum(t, impactEnum, ImpactNone, ImpactPending)
	checkEnum(t, resultsEnum, ResultsWorsened, ResultsPending)
	checkEnum(t, guidelineEnum, GuidelineProcessPublished, GuidelineImplementation)
	checkEnum(t, guidelineLevelEnum, GuidelineMet, GuidelineNotMet)
	checkEnum(t, iap2Enum, IAP2Inform, IAP2Empower)
	checkEnum(t, planStatusEnum, PlanDevelopment, PlanEnded)
	if Pending.Label() != "Pending IRM review" || CompletionNoEvidence.Label() != "No evidence available" {
		t.Errorf("labels: %q, %q", Pending.Label(), CompletionNoEvidence.Label())
	}
	if len(GuidelineKeys) != 7 || GuidelineKeys[6] != GuidelineImplementation {
		t.Errorf("GuidelineKeys = %q", GuidelineKeys)
	}
}
