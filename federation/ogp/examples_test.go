package ogp

import "time"

// Example documents used by the golden, round-trip and fuzz tests. They are
// illustrative sample data modelled on Jalisco's first plan, not an
// official record.

var exIRIs = NewIRIs("https://jalisco.example", "jalisco")

var (
	exPublished = time.Date(2016, 12, 7, 10, 0, 0, 0, time.UTC)
	exUpdated   = time.Date(2017, 6, 30, 9, 30, 0, 0, time.UTC)
)

func exampleCommitment() Commitment {
	id := exIRIs.Commitment("JAL0001")
	return Commitment{
		Post: Post{
			Context:      JSONLDContext(),
			ID:           id,
			Type:         TypeCommitment,
			AttributedTo: exIRIs.Actor(),
			URL:          id,
			Name:         "JAL0001: Intervención en Lomas de Polanco",
			NameMap: LangMap{
				"es": "JAL0001: Intervención en Lomas de Polanco",
				"en": "JAL0001: Intervention in Lomas de Polanco",
			},
			Content: `<p><strong>JAL0001: Intervención en Lomas de Polanco</strong></p><p>Avance: sustancial. Coordinación vecinal con la policía y espacios abiertos. (Datos ilustrativos)</p><p><a href="` + id + `">` + id + `</a></p><p>#Justice #CitizenParticipation</p>`,
			ContentMap: LangMap{
				"es": `<p><strong>JAL0001: Intervención en Lomas de Polanco</strong></p><p>Avance: sustancial. Coordinación vecinal con la policía y espacios abiertos. (Datos ilustrativos)</p><p><a href="` + id + `">` + id + `</a></p><p>#Justice #CitizenParticipation</p>`,
				"en": `<p><strong>JAL0001: Intervention in Lomas de Polanco</strong></p><p>Completion: substantial. Neighbourhood coordination with police and open spaces. (Illustrative data)</p><p><a href="` + id + `">` + id + `</a></p><p>#Justice #CitizenParticipation</p>`,
			},
			Published: exPublished,
			Updated:   exUpdated,
			To:        IRIList{Public},
			CC:        IRIList{exIRIs.Followers()},
		},
		Lead: "Avance: sustancial. Coordinación vecinal con la policía y espacios abiertos. (Datos ilustrativos)",
		LeadMap: LangMap{
			"es": "Avance: sustancial. Coordinación vecinal con la policía y espacios abiertos. (Datos ilustrativos)",
			"en": "Completion: substantial. Neighbourhood coordination with police and open spaces. (Illustrative data)",
		},
		Description: "<p>Coordinación vecinal con la policía y recuperación de espacios abiertos.</p>",
		DescriptionMap: LangMap{
			"es": "<p>Coordinación vecinal con la policía y recuperación de espacios abiertos.</p>",
			"en": "<p>Neighbourhood coordination with police and recovery of open spaces.</p>",
		},
		Thread:          exIRIs.Updates("JAL0001"),
		Tag:             []Tag{{Type: TypeHashtag, Name: HashtagName("justice")}, {Type: TypeHashtag, Name: HashtagName("citizen-participation")}},
		Identifier:      "JAL0001",
		ActionPlan:      exIRIs.Plan("2016-2018"),
		Jurisdiction:    "Jalisco, México",
		StartDate:       "2017-01-01",
		EndDate:         "2018-06-30",
		LeadInstitution: "Municipio de Guadalajara",
		OtherActors: &OtherActors{
			Government:   []string{"Secretaría de Seguridad del Estado"},
			CivilSociety: []string{"Consejo vecinal de Lomas de Polanco"},
		},
		Problem:      "Alta incidencia delictiva y poca confianza vecinal.",
		ProblemMap:   LangMap{"es": "Alta incidencia delictiva y poca confianza vecinal.", "en": "High crime and low trust among neighbours."},
		Objective:    "Reducir la violencia con participación vecinal.",
		ObjectiveMap: LangMap{"es": "Reducir la violencia con participación vecinal.", "en": "Reduce violence with neighbourhood participation."},
		Values:       []Value{ValueCivicParticipation, ValuePublicAccountability},
		PolicyAreas:  []string{"justice", "citizen-participation"},
		Taxonomy:     "ogpnet-2026.1",
		Milestones: []Milestone{
			{
				ID: exIRIs.Milestone("JAL0001", "1"), Type: TypeMilestone,
				Name: "Mesas vecinales instaladas", NameMap: LangMap{"en": "Neighbourhood tables set up", "es": "Mesas vecinales instaladas"},
				Deliverable: "Actas de instalación publicadas",
				StartDate:   "2017-01-01", EndDate: "2017-06-30",
				Status: MilestoneComplete, CompletedDate: "2017-06-15",
			},
			{
				ID: exIRIs.Milestone("JAL0001", "2"), Type: TypeMilestone,
				Name:      "Espacios abiertos rehabilitados",
				StartDate: "2017-03-01", EndDate: "2018-06-30",
				Status: MilestoneInProgress,
			},
		},
		Completion: CompletionSubstantial,
		IRM: &IRM{
			Verifiable:          Yes,
			PotentialImpact:     ImpactModerate,
			Starred:             No,
			DidItOpenGovernment: ResultsPending,
		},
	}
}

func exampleUpdate() ProgressUpdate {
	c := exIRIs.Commitment("JAL0001")
	id := exIRIs.Update("JAL0001", "01BX5ZZKBKACTAV9WEVGEMMVRZ")
	return ProgressUpdate{
		Context:      JSONLDContext(),
		ID:           id,
		Type:         TypeProgressUpdate,
		AttributedTo: exIRIs.Actor(),
		URL:          id,
		InReplyTo:    c,
		Thread:       exIRIs.Updates("JAL0001"),
		Content:      `<p>Avance en <a href="` + c + `"><strong>JAL0001: Intervención en Lomas de Polanco</strong></a></p><p>Avance: sustancial.</p><p>Se instalaron 12 mesas vecinales.</p><p>#Justice #CitizenParticipation</p>`,
		ContentMap: LangMap{
			"es": `<p>Avance en <a href="` + c + `"><strong>JAL0001: Intervención en Lomas de Polanco</strong></a></p><p>Avance: sustancial.</p><p>Se instalaron 12 mesas vecinales.</p><p>#Justice #CitizenParticipation</p>`,
			"en": `<p>Progress on <a href="` + c + `"><strong>JAL0001: Intervention in Lomas de Polanco</strong></a></p><p>Completion: substantial.</p><p>12 neighbourhood tables set up.</p><p>#Justice #CitizenParticipation</p>`,
		},
		Tag:              []Tag{{Type: TypeHashtag, Name: HashtagName("justice")}, {Type: TypeHashtag, Name: HashtagName("citizen-participation")}},
		Published:        exUpdated,
		To:               IRIList{Public},
		CC:               IRIList{exIRIs.Followers()},
		Date:             "2017-06-30",
		Completion:       CompletionSubstantial,
		MilestoneChanges: []MilestoneChange{{Milestone: exIRIs.Milestone("JAL0001", "1"), Status: MilestoneComplete}},
		Evidence:         []string{"https://transparencia.example/actas/lomas-de-polanco.pdf"},
	}
}

func examplePlan() ActionPlan {
	id := exIRIs.Plan("2016-2018")
	return ActionPlan{
		Post: Post{
			Context:      JSONLDContext(),
			ID:           id,
			Type:         TypeActionPlan,
			AttributedTo: exIRIs.Actor(),
			URL:          id,
			Name:         "Plan de Acción Local de Gobierno Abierto Jalisco 2016-2018",
			NameMap: LangMap{
				"es": "Plan de Acción Local de Gobierno Abierto Jalisco 2016-2018",
				"en": "Jalisco Open Government Local Action Plan 2016-2018",
			},
			Content: `<p><strong>Plan de Acción Local de Gobierno Abierto Jalisco 2016-2018</strong></p><p>2 compromisos, 2017-01-01 a 2018-06-30. (Datos ilustrativos)</p><p><a href="` + id + `">` + id + `</a></p>`,
			ContentMap: LangMap{
				"es": `<p><strong>Plan de Acción Local de Gobierno Abierto Jalisco 2016-2018</strong></p><p>2 compromisos, 2017-01-01 a 2018-06-30. (Datos ilustrativos)</p><p><a href="` + id + `">` + id + `</a></p>`,
				"en": `<p><strong>Jalisco Open Government Local Action Plan 2016-2018</strong></p><p>2 commitments, 2017-01-01 to 2018-06-30. (Illustrative data)</p><p><a href="` + id + `">` + id + `</a></p>`,
			},
			Published: exPublished,
			To:        IRIList{Public},
			CC:        IRIList{exIRIs.Followers()},
		},
		Lead:    "2 compromisos, 2017-01-01 a 2018-06-30. (Datos ilustrativos)",
		LeadMap: LangMap{"es": "2 compromisos, 2017-01-01 a 2018-06-30. (Datos ilustrativos)", "en": "2 commitments, 2017-01-01 to 2018-06-30. (Illustrative data)"},

		Jurisdiction: "Jalisco, México",
		Period:       Period{Start: "2017-01-01", End: "2018-06-30"},
		Status:       PlanImplementation,
		Commitments:  []string{exIRIs.Commitment("JAL0001"), exIRIs.Commitment("JAL0002")},
		Guidelines: []Guideline{
			{Key: GuidelineProcessPublished, Level: GuidelineMet, Evidence: []string{"https://jalisco.example/docs/cronograma.pdf"}},
			{Key: GuidelineAdvanceNotice, Level: GuidelinePartly},
			{Key: GuidelineAwarenessRaising, Level: GuidelineMet},
			{Key: GuidelineMultipleChannels, Level: GuidelineMet},
			{Key: GuidelineBreadth, Level: GuidelinePartly},
			{Key: GuidelineFeedback, Level: GuidelineNotMet},
			{Key: GuidelineImplementation, Level: GuidelineMet},
		},
		Participation: &Participation{Development: IAP2Involve, Implementation: IAP2Collaborate},
	}
}
