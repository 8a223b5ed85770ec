package peers

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

const (
	madrid   = "http://madrid.localhost/users/madrid"
	jalisco  = "http://jalisco.localhost/users/jalisco"
	scotland = "http://scotland.localhost/users/scotland"
	paris    = "http://paris.localhost/users/paris"
	seoul    = "http://seoul.localhost/users/seoul"
)

// corpus is a small, realistic mix of pilot commitments in several
// languages.
func corpus() []Doc {
	return []Doc{
		{ID: "mad-lobby", Jurisdiction: madrid, PolicyAreas: []string{"Lobbying", "Anti-Corruption"},
			Texts: []string{"Registro obligatorio de lobbies", "Crear un registro público y obligatorio de grupos de interés",
				"Mandatory lobby registry", "Create a public, mandatory register of lobbyists and interest groups"}},
		{ID: "mad-pb", Jurisdiction: madrid, PolicyAreas: []string{"Public Participation", "Fiscal Openness"},
			Texts: []string{"Desarrollar los presupuestos participativos", "Participatory budgeting for the city"}},
		{ID: "par-pb", Jurisdiction: paris, PolicyAreas: []string{"public participation", "Fiscal Openness"},
			Texts: []string{"Budget participatif", "Participatory budgeting: residents decide how to spend five percent of the investment budget"}},
		{ID: "sco-fin", Jurisdiction: scotland, PolicyAreas: []string{"Fiscal Openness"},
			Texts: []string{"Financial transparency", "Explain public finances and how money flows, linked to participatory budgeting"}},
		{ID: "jal-lobby", Jurisdiction: jalisco, PolicyAreas: []string{"Anti-Corruption"},
			Texts: []string{"Registro de cabilderos", "Registro público de cabilderos y grupos de interés en el Congreso"}},
		{ID: "jal-teachers", Jurisdiction: jalisco, PolicyAreas: []string{"Education"},
			Texts: []string{"Plataforma de formación docente", "Tech platform for continuous teacher training"}},
		{ID: "seo-subway", Jurisdiction: seoul, PolicyAreas: []string{"Public Service Delivery"},
			Texts: []string{"Subway citizen participation", "Citizens take part in decisions on subway services"}},
		{ID: "sco-registry", Jurisdiction: scotland,
			Texts: []string{"Lobbying register", "A public register of lobbying activity, with a mandatory registry of lobbyists"}},
	}
}

func newIndex(docs []Doc) *Index {
	x := New()
	for _, d := range docs {
		x.Put(d)
	}
	return x
}

func ids(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestSimilarRanksSharedAreasThenText(t *testing.T) {
	x := newIndex(corpus())
	got := x.Similar("mad-pb", 10)
	// Paris shares both areas (its spelling differs only in case), Scotland
	// shares one; Seoul shares none but mentions participation.
	if len(got) < 2 || got[0].ID != "par-pb" || got[1].ID != "sco-fin" {
		t.Fatalf("Similar(mad-pb) = %v, want par-pb then sco-fin first", ids(got))
	}
	if want := []string{"public participation", "Fiscal Openness"}; !slices.Equal(got[0].SharedAreas, want) {
		t.Errorf("SharedAreas = %q, want %q (candidate's spelling)", got[0].SharedAreas, want)
	}
	if got[0].Score <= 0 || got[0].Score > 1 {
		t.Errorf("Score = %v, want in (0,1]", got[0].Score)
	}
}

func TestSimilarTextAcrossLanguages(t *testing.T) {
	x := newIndex(corpus())
	got := x.Similar("mad-lobby", 10)
	// jal-lobby shares "Anti-Corruption" → first. sco-registry shares no
	// area but its English text is about lobby registers → next, above
	// commitments that share nothing relevant.
	if len(got) < 2 || got[0].ID != "jal-lobby" || got[1].ID != "sco-registry" {
		t.Fatalf("Similar(mad-lobby) = %v, want jal-lobby, sco-registry first", ids(got))
	}
	if len(got[1].SharedAreas) != 0 || got[1].Score < MinScore {
		t.Errorf("sco-registry match = %+v, want text-only match above MinScore", got[1])
	}
	for _, m := range got {
		if m.ID == "jal-teachers" {
			t.Errorf("teacher training offered as a peer of a lobby registry: %v", got)
		}
	}
	// Text similarity itself: the Spanish-only side of jal-lobby meets
	// Madrid's Spanish text ("registro", "público", "grupos de interés").
	if got[0].Score < MinScore {
		t.Errorf("jal-lobby score %v, want text similarity too", got[0].Score)
	}
}

func TestSimilarNeverSameJurisdiction(t *testing.T) {
	docs := corpus()
	// A near-duplicate in Madrid itself must never be offered.
	docs = append(docs, Doc{ID: "mad-lobby-2", Jurisdiction: madrid, PolicyAreas: []string{"Lobbying", "Anti-Corruption"},
		Texts: []string{"Mandatory lobby registry", "Create a public, mandatory register of lobbyists and interest groups"}})
	x := newIndex(docs)
	for _, d := range docs {
		for _, m := range x.Similar(d.ID, 100) {
			if m.ID == d.ID {
				t.Errorf("%s is its own peer", d.ID)
			}
			if m.Jurisdiction == d.Jurisdiction {
				t.Errorf("%s offered peer %s from the same jurisdiction", d.ID, m.ID)
			}
		}
	}
}

func TestSimilarLimitUnknownAndRemove(t *testing.T) {
	x := newIndex(corpus())
	if got := x.Similar("mad-pb", 1); len(got) != 1 || got[0].ID != "par-pb" {
		t.Errorf("limit 1: %v", ids(got))
	}
	if got := x.Similar("nope", 5); got != nil {
		t.Errorf("unknown id: %v", got)
	}
	x.Remove("par-pb")
	if got := x.Similar("mad-pb", 10); len(got) == 0 || got[0].ID != "sco-fin" {
		t.Errorf("after removing par-pb: %v", ids(got))
	}
	if x.Len() != len(corpus())-1 {
		t.Errorf("Len = %d", x.Len())
	}
	// Replacing a doc updates its areas: Paris back, now with no areas and
	// unrelated text, is no longer a peer.
	x.Put(Doc{ID: "par-pb", Jurisdiction: paris, Texts: []string{"Urban trees", "Plant trees along the river"}})
	for _, m := range x.Similar("mad-pb", 10) {
		if m.ID == "par-pb" {
			t.Errorf("stale entry still matched: %+v", m)
		}
	}
}

func TestNoTermsNoNaN(t *testing.T) {
	x := newIndex([]Doc{
		{ID: "a", Jurisdiction: madrid, PolicyAreas: []string{"Open Data"}},
		{ID: "b", Jurisdiction: paris, PolicyAreas: []string{"open data"}, Texts: []string{"Open data portal"}},
	})
	got := x.Similar("a", 5)
	if len(got) != 1 || got[0].ID != "b" || got[0].Score != 0 {
		t.Fatalf("got %+v", got)
	}
}

func TestTokens(t *testing.T) {
	for in, want := range map[string][]string{
		"Participación ciudadana":      {"participacion", "ciudadana"},
		"The registries of lobbies":    {"registry", "lobby"},
		"Portales de datos abiertos":   {"portal", "dato", "abierto"},
		"Presupuestos participativos!": {"presupuesto", "participativo"},
		"Access to the process":        {"access", "process"},
		"서울 지하철 시민 참여 (subway)":        {"서울", "지하철", "시민", "참여", "subway"},
	} {
		if got := Tokens(in); !slices.Equal(got, want) {
			t.Errorf("Tokens(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	x := newIndex(corpus())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				x.Put(Doc{ID: fmt.Sprintf("g%d-%d", i, j), Jurisdiction: seoul, Texts: []string{"participatory budgeting"}})
				x.Similar("mad-pb", 5)
			}
		}()
	}
	wg.Wait()
}
