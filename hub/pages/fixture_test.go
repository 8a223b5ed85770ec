package pages

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// The fixture: three pilots with plans, commitments and updates, filled
// through the read model's public Apply methods exactly as ingest does.
// "Today" is 2017-06-01, in the middle of the pilots' first plans.

var today = time.Date(2017, 6, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return today }

const (
	madridActor  = "http://madrid.localhost:8080/users/madrid"
	jaliscoActor = "http://jalisco.localhost:8080/users/jalisco"
	parisActor   = "http://paris.localhost:8080/users/paris"

	madLobby   = "http://madrid.localhost:8080/commitments/MAD0001"
	madBudget  = "http://madrid.localhost:8080/commitments/MAD0003"
	jalLobby   = "http://jalisco.localhost:8080/commitments/JAL0001"
	jalTeacher = "http://jalisco.localhost:8080/commitments/JAL0005"
	parBudget  = "http://paris.localhost:8080/commitments/PAR0001"
)

func fillModel(t testing.TB) *readmodel.Model {
	t.Helper()
	m := readmodel.New(fixedNow)
	pub := time.Date(2016, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, p := range []readmodel.PilotInfo{
		{Actor: madridActor, Name: "Madrid", Handle: "@madrid@madrid.localhost:8080", URL: "http://madrid.localhost:8080/"},
		{Actor: jaliscoActor, Name: "Jalisco", Handle: "@jalisco@jalisco.localhost:8080", URL: "http://jalisco.localhost:8080/"},
		{Actor: parisActor, Name: "Paris", Handle: "@paris@paris.localhost:8080", URL: "http://paris.localhost:8080/"},
	} {
		m.SetPilot(p)
	}
	plan := func(actor, id, name string, gs []ogp.Guideline, dev ogp.IAP2Level, commitments ...string) {
		m.ApplyPlan(actor, ogp.ActionPlan{
			ID: id, Type: ogp.TypeActionPlan, AttributedTo: actor, Name: name,
			Period: ogp.Period{Start: "2016-12-01", End: "2017-12-31"}, Status: ogp.PlanImplementation,
			Commitments: commitments, Guidelines: gs,
			Participation: &ogp.Participation{Development: dev, Implementation: ogp.IAP2Consult},
			Published:     pub,
		})
	}
	plan(madridActor, "http://madrid.localhost:8080/plans/2016", "Plan de Acción de Madrid 2016-2017", []ogp.Guideline{
		{Key: ogp.GuidelineProcessPublished, Level: ogp.GuidelineMet, Evidence: []string{"https://madrid.example/timeline", "javascript:alert(1)"}},
		{Key: ogp.GuidelineAdvanceNotice, Level: ogp.GuidelineMet},
		{Key: ogp.GuidelineMultipleChannels, Level: ogp.GuidelinePartly},
		{Key: ogp.GuidelineFeedback, Level: ogp.GuidelineNotMet},
	}, ogp.IAP2Collaborate, madLobby, madBudget)
	plan(jaliscoActor, "http://jalisco.localhost:8080/plans/2016", "Plan de Acción Local de Jalisco 2016-2018", []ogp.Guideline{
		{Key: ogp.GuidelineProcessPublished, Level: ogp.GuidelinePartly},
	}, ogp.IAP2Consult, jalLobby, jalTeacher)
	plan(parisActor, "http://paris.localhost:8080/plans/2016", "Paris Action Plan 2016-2017", nil, ogp.IAP2Involve, parBudget)

	commit := func(actor, plan string, c ogp.Commitment) {
		c.Type, c.AttributedTo, c.ActionPlan, c.Published = ogp.TypeCommitment, actor, plan, pub
		if c.StartDate == "" {
			c.StartDate, c.EndDate = "2016-12-01", "2017-12-31"
		}
		m.ApplyCommitment(actor, c, pub)
	}
	commit(madridActor, "http://madrid.localhost:8080/plans/2016", ogp.Commitment{
		ID: madLobby, Identifier: "MAD0001",
		Name: "Registro obligatorio de lobbies", NameMap: ogp.LangMap{"es": "Registro obligatorio de lobbies", "en": "Mandatory lobby registry"},
		Summary:     "<p>Crear un registro <strong>público y obligatorio</strong> de grupos de interés.</p><script>alert('x')</script>",
		SummaryMap:  ogp.LangMap{"en": "<p>Create a <strong>public, mandatory</strong> register of lobbyists and interest groups.</p><img src=x onerror=alert(1)>"},
		Values:      []ogp.Value{ogp.ValueAccessToInformation, ogp.ValuePublicAccountability},
		PolicyAreas: []string{"Lobbying", "Anti-Corruption"}, LeadInstitution: "Ayuntamiento de Madrid",
		Completion: ogp.CompletionComplete,
		IRM:        &ogp.IRM{Verifiable: ogp.Yes, PotentialImpact: ogp.ImpactTransformative, Starred: ogp.Yes, DidItOpenGovernment: ogp.ResultsMajor},
		Milestones: []ogp.Milestone{
			{ID: madLobby + "#milestone-1", Name: "Ordenanza aprobada", NameMap: ogp.LangMap{"en": "By-law approved"}, EndDate: "2017-03-31", Status: ogp.MilestoneComplete, CompletedDate: "2017-03-20"},
		},
	})
	commit(madridActor, "http://madrid.localhost:8080/plans/2016", ogp.Commitment{
		ID: madBudget, Identifier: "MAD0003",
		Name: "Desarrollar los presupuestos participativos", NameMap: ogp.LangMap{"en": "Participatory budgeting"},
		Summary:     "Presupuestos participativos para toda la ciudad.",
		SummaryMap:  ogp.LangMap{"en": "Participatory budgeting for the whole city."},
		Values:      []ogp.Value{ogp.ValueCivicParticipation},
		PolicyAreas: []string{"Public Participation", "Fiscal Openness"},
		Completion:  ogp.CompletionSubstantial,
		Milestones: []ogp.Milestone{
			{ID: madBudget + "#milestone-1", Name: "Votación ciudadana", NameMap: ogp.LangMap{"en": "Citizen vote"}, EndDate: "2017-02-28", Status: ogp.MilestoneInProgress},
			{ID: madBudget + "#milestone-2", Name: "Evaluación", EndDate: "2017-11-30", Status: ogp.MilestoneNotStarted},
		},
	})
	commit(jaliscoActor, "http://jalisco.localhost:8080/plans/2016", ogp.Commitment{
		ID: jalLobby, Identifier: "JAL0001",
		Name: "Registro público de cabilderos", Summary: "Registro público de cabilderos y grupos de interés en el Congreso.",
		PolicyAreas: []string{"Anti-Corruption"}, Completion: ogp.CompletionNotStarted,
		Values: []ogp.Value{ogp.ValuePublicAccountability},
	})
	commit(jaliscoActor, "http://jalisco.localhost:8080/plans/2016", ogp.Commitment{
		ID: jalTeacher, Identifier: "JAL0005",
		Name: "Plataforma de formación docente", NameMap: ogp.LangMap{"en": "Tech platform for teacher training"},
		Summary:     "Plataforma tecnológica de formación continua para docentes.",
		PolicyAreas: []string{"Education"}, Completion: ogp.CompletionLimited,
		Values: []ogp.Value{ogp.ValueTechnologyInnovation, ogp.ValueCivicParticipation},
		Milestones: []ogp.Milestone{
			{ID: jalTeacher + "#milestone-1", Name: "Lanzamiento de la plataforma", NameMap: ogp.LangMap{"en": "Platform launch"}, EndDate: "2017-04-30", Status: ogp.MilestoneInProgress},
		},
	})
	commit(parisActor, "http://paris.localhost:8080/plans/2016", ogp.Commitment{
		ID: parBudget, Identifier: "PAR0001",
		Name: "Budget participatif", NameMap: ogp.LangMap{"en": "Participatory budget"},
		Summary:     "Les Parisiens décident de 5 % du budget d'investissement.",
		SummaryMap:  ogp.LangMap{"en": "Residents decide how to spend five percent of the investment budget: participatory budgeting."},
		PolicyAreas: []string{"public participation", "Fiscal Openness"}, Completion: ogp.CompletionLimited,
		Values: []ogp.Value{ogp.ValueCivicParticipation},
	})
	m.ApplyUpdate(madridActor, ogp.ProgressUpdate{
		ID: madLobby + "/updates/1", Type: ogp.TypeProgressUpdate, AttributedTo: madridActor, InReplyTo: madLobby,
		Content: "<p>Ordenanza aprobada por el Pleno.</p>", ContentMap: ogp.LangMap{"en": "<p>By-law approved by the plenary.</p><script>steal()</script>"},
		Date: "2017-03-20", Completion: ogp.CompletionComplete,
		MilestoneChanges: []ogp.MilestoneChange{{Milestone: madLobby + "#milestone-1", Status: ogp.MilestoneComplete}},
		Evidence:         []string{"https://madrid.example/ordenanza", "javascript:alert(1)"},
		Published:        time.Date(2017, 3, 20, 9, 0, 0, 0, time.UTC),
	})
	m.ApplyUpdate(jaliscoActor, ogp.ProgressUpdate{
		ID: jalTeacher + "/updates/1", Type: ogp.TypeProgressUpdate, AttributedTo: jaliscoActor, InReplyTo: jalTeacher,
		Content: "<p>Piloto con 200 docentes.</p>", Date: "2017-05-02", Completion: ogp.CompletionLimited,
		Published: time.Date(2017, 5, 2, 9, 0, 0, 0, time.UTC),
	})
	return m
}

// newServer starts the hub pages over real HTTP on loopback, with the
// shared web stack (middleware, error handler, renderer).
func newServer(t testing.TB, m *readmodel.Model, d Deps) *httptest.Server {
	t.Helper()
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	e := web.NewEcho(web.Options{Logger: logger, Renderer: r})
	d.Model, d.Renderer, d.Logger, d.Now = m, r, logger, fixedNow
	Register(e, d)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches a page as a browser would (Accept: text/html) in lang.
func get(t testing.TB, url, lang string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func readmodelPilot(actor, name, state string) readmodel.PilotInfo {
	return readmodel.PilotInfo{Actor: actor, Name: name, State: state}
}
