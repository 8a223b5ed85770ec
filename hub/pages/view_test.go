package pages

import (
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/templates"
	"github.com/ogpnet/ogpnet/internal/web"
)

// TestHubStringsTranslated checks that every message id the hub pages use,
// literally in templates or built from the vocabulary's enums in Go, is in
// both catalogues (a missing id comes back as the id itself).
func TestHubStringsTranslated(t *testing.T) {
	var ids []string
	re := regexp.MustCompile(`\bT "([a-z0-9_]+)"`)
	err := fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templates.FS, p)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			ids = append(ids, m[1])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ogp.Completions {
		ids = append(ids, msgID("completion_", string(c)))
	}
	for _, v := range ogp.Values {
		ids = append(ids, msgID("value_", string(v)))
	}
	for _, k := range ogp.GuidelineKeys {
		ids = append(ids, msgID("hub_guideline_", string(k)))
	}
	for _, s := range []ogp.PlanStatus{ogp.PlanDevelopment, ogp.PlanImplementation, ogp.PlanEnded} {
		ids = append(ids, msgID("hub_plan_", string(s)))
	}
	for _, l := range ogp.IAP2Levels {
		ids = append(ids, "iap2_"+string(l))
	}
	for _, p := range ogp.PotentialImpacts {
		if p != ogp.ImpactPending {
			ids = append(ids, msgID("irm_impact_", string(p)))
		}
	}
	for _, m := range []map[string]string{staffStates, followStates, healthStates, staffDone} {
		for _, id := range m {
			ids = append(ids, id)
		}
	}
	for _, id := range milestoneIDs {
		ids = append(ids, id)
	}
	for _, id := range resultsIDs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		for _, lang := range []string{"en", "es"} {
			if web.TLang(lang, id) == id {
				t.Errorf("%s: no message %q", lang, id)
			}
		}
	}
}

func TestLabels(t *testing.T) {
	if got := completionLabel("es", ogp.CompletionNoEvidence); got == "" || got == "completion_no_evidence" {
		t.Errorf("completion label = %q", got)
	}
	if got := completionClass(ogp.CompletionNotStarted); got != "c-not_started" {
		t.Errorf("class = %q, want the shared style.css class", got)
	}
	if got := formatDate("es", "2017-03-05"); got != "5 de marzo de 2017" {
		t.Errorf("Spanish date = %q", got)
	}
	if got := formatDate("en", ""); got != "" {
		t.Errorf("unset date = %q", got)
	}
}

func TestGuidelineRowsListAllSeven(t *testing.T) {
	rows := guidelineRows("en", []ogp.Guideline{
		{Key: ogp.GuidelineFeedback, Level: ogp.GuidelineMet, Evidence: []string{"https://ok.example/x", "javascript:alert(1)"}},
	})
	if len(rows) != 7 {
		t.Fatalf("%d rows, want the seven IRM guidelines", len(rows))
	}
	for i, r := range rows {
		if r.Key != ogp.GuidelineKeys[i] {
			t.Errorf("row %d is %s, want the IRM's order", i, r.Key)
		}
		want := "unknown"
		if r.Key == ogp.GuidelineFeedback {
			want = "met"
			if !slices.Equal(r.Evidence, []string{"https://ok.example/x"}) {
				t.Errorf("evidence = %q, want only the http(s) link", r.Evidence)
			}
		}
		if r.Class != want {
			t.Errorf("%s class = %q, want %q", r.Key, r.Class, want)
		}
	}
}

func TestBuildCompareCounts(t *testing.T) {
	m := fillModel(t)
	v, err := buildCompare(m, "en", url.Values{}, ogp.DateOf(today))
	if err != nil {
		t.Fatal(err)
	}
	if v.Matched != 5 || v.Pilots != 3 || v.ListTotal != 5 || len(v.List) != 5 {
		t.Errorf("matched %d/%d pilots, list %d/%d", v.Matched, v.Pilots, len(v.List), v.ListTotal)
	}
	// Overdue at 2017-06-01: Madrid's citizen vote (Feb) and Jalisco's
	// platform launch (Apr); the November evaluation is not due yet.
	if v.Overdue.Total != 2 || v.Overdue.Items[0].Milestone != "Citizen vote" || v.Overdue.Items[1].Milestone != "Platform launch" {
		t.Errorf("overdue = %d %+v", v.Overdue.Total, v.Overdue.Items)
	}
	// Process: Madrid met 2, partly 1, not met 1 → 5 of 14 points.
	for _, r := range v.Process.Rows {
		if r.Pilot.Name == "Madrid" && (r.Score.Points != 5 || r.Percent != 35 || !r.MeetsMin) {
			t.Errorf("Madrid process row = %+v", r)
		}
		if r.Pilot.Name == "Jalisco" && r.MeetsMin {
			t.Errorf("Jalisco consulted only, below the Involve minimum: %+v", r)
		}
	}
	// The same day a year later, everything open is overdue.
	v, _ = buildCompare(m, "en", url.Values{"pilot": {madridActor}}, "2018-06-01")
	if v.Overdue.Total != 2 || v.Pilots != 1 {
		t.Errorf("Madrid in 2018: overdue %d, pilots %d", v.Overdue.Total, v.Pilots)
	}
}

func TestParseFilter(t *testing.T) {
	f, errs := parseFilter(url.Values{
		"completion": {"limited", "bogus"}, "starred": {"no"}, "period": {"2016-12-01/2017-12-31"}, "to": {"2017-06-30"},
	}, "en")
	if len(errs) != 1 || errs[0].Field != "completion" || errs[0].Message != "Unknown completion level." {
		t.Errorf("errors = %+v", errs)
	}
	if !slices.Equal(f.Completion, []ogp.Completion{ogp.CompletionLimited}) || f.Starred == nil || *f.Starred ||
		f.Period.Start != "2016-12-01" || f.To != "2017-06-30" {
		t.Errorf("filter = %+v", f)
	}
	f, errs = parseFilter(url.Values{"from": {"2017-06-01"}, "to": {"2017-01-01"}}, "en")
	if len(errs) != 1 || errs[0].Message != "The end date is before the start date." || f.From != "" || f.To != "" {
		t.Errorf("reversed range: %+v %+v", errs, f)
	}
	// Every parameter the grammar can refuse has a message of its own.
	_, errs = parseFilter(url.Values{"value": {"x"}, "completion": {"x"}, "starred": {"x"}, "period": {"x"},
		"from": {"x"}, "to": {"x"}, "sort": {"x"}}, "es")
	for _, e := range errs {
		if e.Message == "" || strings.HasPrefix(e.Message, "hub_err_") {
			t.Errorf("%s: no message (%q)", e.Field, e.Message)
		}
	}
	if len(errs) != 7 {
		t.Errorf("errors = %+v", errs)
	}
}

// TestPageLinks: the next link keeps the list's query and adds the cursor;
// the first-page link appears only past the first page.
func TestPageLinks(t *testing.T) {
	q := url.Values{"starred": {"true"}, "theme": {"Justice"}}
	next, first := pageLinks(PathCompare, q, "abc", "", "commitments")
	if next != "/compare?cursor=abc&starred=true&theme=Justice#commitments" || first != "" {
		t.Errorf("first page: next %q, first %q", next, first)
	}
	next, first = pageLinks(PathCompare, q, "", "abc", "commitments")
	if next != "" || first != "/compare?starred=true&theme=Justice#commitments" {
		t.Errorf("last page: next %q, first %q", next, first)
	}
	if next, _ := pageLinks(PathSearch, url.Values{}, "c2", "c1", ""); next != "/search?cursor=c2" {
		t.Errorf("search next = %q", next)
	}
	if q.Get("cursor") != "" {
		t.Error("pageLinks changed the caller's query")
	}
}

// TestThemeLabels: policy-area slugs reach pages as their names in the
// reader's language (side by side, the peers' shared areas), never as slugs.
func TestThemeLabels(t *testing.T) {
	for lang, want := range map[string][]string{
		"en": {"Water and sanitation", "Open data"},
		"ko": {"상하수도와 위생", "공공데이터 개방"},
	} {
		got := themeLabels(lang, []string{"water-sanitation", "open-data"})
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("themeLabels(%s) = %q, want %q", lang, got, want)
		}
	}
	if got := themeLabels("en", []string{"Lobbying"}); len(got) != 1 || got[0] != "Lobbying" {
		t.Errorf("a free-text area outside the taxonomy is shown as given, got %q", got)
	}
}

// TestReadableKeysUnique: two commitments of one pilot whose IRIs end
// alike get no readable address (each keeps its IRI form), and two
// members with the same account name get name@host slugs.
func TestReadableKeysUnique(t *testing.T) {
	m := readmodel.New(fixedNow)
	for _, host := range []string{"a.example", "b.example"} {
		actor := "http://" + host + "/users/city"
		m.SetPilot(readmodel.PilotInfo{Actor: actor, Name: "City " + host, Handle: "@city@" + host, State: readmodel.StateActive})
	}
	actor := "http://a.example/users/city"
	for _, id := range []string{"http://a.example/plans/1/commitments/C1", "http://a.example/plans/2/commitments/C1", "http://a.example/commitments/C2"} {
		m.ApplyCommitment(actor, ogp.Commitment{Post: ogp.Post{ID: id, Type: ogp.TypeCommitment, AttributedTo: actor, Name: id}}, today)
	}
	idx := indexPilots(m)
	if got := idx.pilotPath(actor); got != "/pilots/city@a.example" {
		t.Errorf("pilot path = %q, want name@host when names clash", got)
	}
	if got := idx.commitmentPath("http://a.example/commitments/C2", actor); got != "/pilots/city@a.example/commitments/C2" {
		t.Errorf("unique key path = %q", got)
	}
	for _, id := range []string{"http://a.example/plans/1/commitments/C1", "http://a.example/plans/2/commitments/C1"} {
		if got := idx.commitmentPath(id, actor); got != CommitmentPath(id) {
			t.Errorf("shared key %s: path %q, want the IRI form", id, got)
		}
	}
	if _, ok := idx.commitmentByKey(actor, "C1"); ok {
		t.Error("a shared key resolves to one of its commitments")
	}
}
