// Package readmodeltest is a read-model fixture shared by the tests of the
// hub's pages and API, so both assert against the same pilots.
package readmodeltest

import (
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// The fixture: three pilots with plans, commitments and updates, filled
// through the read model's public Apply methods exactly as ingest does.
// "Today" is 2017-06-01, in the middle of the pilots' first plans.

// Today is the fixture's "now".
var Today = time.Date(2017, 6, 1, 12, 0, 0, 0, time.UTC)

// Now is the fixture's clock: always Today.
func Now() time.Time { return Today }

// The fixture's pilots (actor IRIs) and some of their commitments.
const (
	MadridActor  = "http://madrid.localhost:8080/users/madrid"
	JaliscoActor = "http://jalisco.localhost:8080/users/jalisco"
	ParisActor   = "http://paris.localhost:8080/users/paris"

	MadLobby   = "http://madrid.localhost:8080/commitments/MAD0001"
	MadBudget  = "http://madrid.localhost:8080/commitments/MAD0003"
	JalLobby   = "http://jalisco.localhost:8080/commitments/JAL0001"
	JalTeacher = "http://jalisco.localhost:8080/commitments/JAL0005"
	ParBudget  = "http://paris.localhost:8080/commitments/PAR0001"
)

// Fill returns a read model holding the fixture.
func Fill(t testing.TB) *readmodel.Model {
	t.Helper()
	m := readmodel.New(Now)
	pub := time.Date(2016, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, p := range []readmodel.PilotInfo{
		{Actor: MadridActor, Name: "Madrid", Handle: "@madrid@madrid.localhost:8080", URL: "http://madrid.localhost:8080/"},
		{Actor: JaliscoActor, Name: "Jalisco", Handle: "@jalisco@jalisco.localhost:8080", URL: "http://jalisco.localhost:8080/"},
		{Actor: ParisActor, Name: "Paris", Handle: "@paris@paris.localhost:8080", URL: "http://paris.localhost:8080/"},
	} {
		m.SetPilot(p)
	}
	plan := func(actor, id, name string, gs []ogp.Guideline, dev ogp.IAP2Level, commitments ...string) {
		m.ApplyPlan(actor, ogp.ActionPlan{
			Post: ogp.Post{
				ID:           id,
				Type:         ogp.TypeActionPlan,
				AttributedTo: actor,
				Name:         name,
				Published:    pub,
			},
			Period: ogp.Period{Start: "2016-12-01", End: "2017-12-31"}, Status: ogp.PlanImplementation,
			Commitments: commitments, Guidelines: gs,
			Participation: &ogp.Participation{Development: dev, Implementation: ogp.IAP2Consult},
		})
	}
	plan(MadridActor, "http://madrid.localhost:8080/plans/2016", "Plan de Acción de Madrid 2016-2017", []ogp.Guideline{
		{Key: ogp.GuidelineProcessPublished, Level: ogp.GuidelineMet, Evidence: []string{"https://madrid.example/timeline", "javascript:alert(1)"}},
		{Key: ogp.GuidelineAdvanceNotice, Level: ogp.GuidelineMet},
		{Key: ogp.GuidelineMultipleChannels, Level: ogp.GuidelinePartly},
		{Key: ogp.GuidelineFeedback, Level: ogp.GuidelineNotMet},
	}, ogp.IAP2Collaborate, MadLobby, MadBudget)
	plan(JaliscoActor, "http://jalisco.localhost:8080/plans/2016", "Plan de Acción Local de Jalisco 2016-2018", []ogp.Guideline{
		{Key: ogp.GuidelineProcessPublished, Level: ogp.GuidelinePartly},
	}, ogp.IAP2Consult, JalLobby, JalTeacher)
	plan(ParisActor, "http://paris.localhost:8080/plans/2016", "Paris Action Plan 2016-2017", nil, ogp.IAP2Involve, ParBudget)

	commit := func(actor, plan string, c ogp.Commitment) {
		c.Type, c.AttributedTo, c.ActionPlan, c.Published = ogp.TypeCommitment, actor, plan, pub
		if c.StartDate == "" {
			c.StartDate, c.EndDate = "2016-12-01", "2017-12-31"
		}
		m.ApplyCommitment(actor, c, pub)
	}
	commit(MadridActor, "http://madrid.localhost:8080/plans/2016", ogp.Commitment{
		Post: ogp.Post{
			ID:         MadLobby,
			Name:       "Registro obligatorio de lobbies",
			NameMap:    ogp.LangMap{"es": "Registro obligatorio de lobbies", "en": "Mandatory lobby registry"},
			Summary:    "<p>Crear un registro <strong>público y obligatorio</strong> de grupos de interés.</p><script>alert('x')</script>",
			SummaryMap: ogp.LangMap{"en": "<p>Create a <strong>public, mandatory</strong> register of lobbyists and interest groups.</p><img src=x onerror=alert(1)>"},
		},
		Identifier:  "MAD0001",
		Values:      []ogp.Value{ogp.ValueAccessToInformation, ogp.ValuePublicAccountability},
		PolicyAreas: []string{"Lobbying", "Anti-Corruption"}, LeadInstitution: "Ayuntamiento de Madrid",
		Completion: ogp.CompletionComplete,
		IRM:        &ogp.IRM{Verifiable: ogp.Yes, PotentialImpact: ogp.ImpactTransformative, Starred: ogp.Yes, DidItOpenGovernment: ogp.ResultsMajor},
		Milestones: []ogp.Milestone{
			{ID: MadLobby + "#milestone-1", Name: "Ordenanza aprobada", NameMap: ogp.LangMap{"en": "By-law approved"}, EndDate: "2017-03-31", Status: ogp.MilestoneComplete, CompletedDate: "2017-03-20"},
		},
	})
	commit(MadridActor, "http://madrid.localhost:8080/plans/2016", ogp.Commitment{
		Post: ogp.Post{
			ID:         MadBudget,
			Name:       "Desarrollar los presupuestos participativos",
			NameMap:    ogp.LangMap{"en": "Participatory budgeting"},
			Summary:    "Presupuestos participativos para toda la ciudad.",
			SummaryMap: ogp.LangMap{"en": "Participatory budgeting for the whole city."},
		},
		Identifier:  "MAD0003",
		Values:      []ogp.Value{ogp.ValueCivicParticipation},
		PolicyAreas: []string{"Public Participation", "Fiscal Openness"},
		Completion:  ogp.CompletionSubstantial,
		Milestones: []ogp.Milestone{
			{ID: MadBudget + "#milestone-1", Name: "Votación ciudadana", NameMap: ogp.LangMap{"en": "Citizen vote"}, EndDate: "2017-02-28", Status: ogp.MilestoneInProgress},
			{ID: MadBudget + "#milestone-2", Name: "Evaluación", EndDate: "2017-11-30", Status: ogp.MilestoneNotStarted},
		},
	})
	commit(JaliscoActor, "http://jalisco.localhost:8080/plans/2016", ogp.Commitment{
		Post:        ogp.Post{ID: JalLobby, Name: "Registro público de cabilderos", Summary: "Registro público de cabilderos y grupos de interés en el Congreso."},
		Identifier:  "JAL0001",
		PolicyAreas: []string{"Anti-Corruption"}, Completion: ogp.CompletionNotStarted,
		Values: []ogp.Value{ogp.ValuePublicAccountability},
	})
	commit(JaliscoActor, "http://jalisco.localhost:8080/plans/2016", ogp.Commitment{
		Post:        ogp.Post{ID: JalTeacher, Name: "Plataforma de formación docente", NameMap: ogp.LangMap{"en": "Tech platform for teacher training"}, Summary: "Plataforma tecnológica de formación continua para docentes."},
		Identifier:  "JAL0005",
		PolicyAreas: []string{"Education"}, Completion: ogp.CompletionLimited,
		Values: []ogp.Value{ogp.ValueTechnologyInnovation, ogp.ValueCivicParticipation},
		Milestones: []ogp.Milestone{
			{ID: JalTeacher + "#milestone-1", Name: "Lanzamiento de la plataforma", NameMap: ogp.LangMap{"en": "Platform launch"}, EndDate: "2017-04-30", Status: ogp.MilestoneInProgress},
		},
	})
	commit(ParisActor, "http://paris.localhost:8080/plans/2016", ogp.Commitment{
		Post: ogp.Post{
			ID:         ParBudget,
			Name:       "Budget participatif",
			NameMap:    ogp.LangMap{"en": "Participatory budget"},
			Summary:    "Les Parisiens décident de 5 % du budget d'investissement.",
			SummaryMap: ogp.LangMap{"en": "Residents decide how to spend five percent of the investment budget: participatory budgeting."},
		},
		Identifier:  "PAR0001",
		PolicyAreas: []string{"public participation", "Fiscal Openness"}, Completion: ogp.CompletionLimited,
		Values: []ogp.Value{ogp.ValueCivicParticipation},
	})
	m.ApplyUpdate(MadridActor, ogp.ProgressUpdate{
		ID: MadLobby + "/updates/1", Type: ogp.TypeProgressUpdate, AttributedTo: MadridActor, InReplyTo: MadLobby,
		Content: "<p>Ordenanza aprobada por el Pleno.</p>", ContentMap: ogp.LangMap{"en": "<p>By-law approved by the plenary.</p><script>steal()</script>"},
		Date: "2017-03-20", Completion: ogp.CompletionComplete,
		MilestoneChanges: []ogp.MilestoneChange{{Milestone: MadLobby + "#milestone-1", Status: ogp.MilestoneComplete}},
		Evidence:         []string{"https://madrid.example/ordenanza", "javascript:alert(1)"},
		Published:        time.Date(2017, 3, 20, 9, 0, 0, 0, time.UTC),
	})
	m.ApplyUpdate(JaliscoActor, ogp.ProgressUpdate{
		ID: JalTeacher + "/updates/1", Type: ogp.TypeProgressUpdate, AttributedTo: JaliscoActor, InReplyTo: JalTeacher,
		Content: "<p>Piloto con 200 docentes.</p>", Date: "2017-05-02", Completion: ogp.CompletionLimited,
		Published: time.Date(2017, 5, 2, 9, 0, 0, 0, time.UTC),
	})
	return m
}
