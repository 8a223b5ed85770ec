package plan

// TaxonomyVersion names the policy-area list below. It travels with every
// commitment (ogp:taxonomy) so the hub can map areas across versions when the
// list changes; OGP's Support Unit revises its own list every year.
const TaxonomyVersion = "ogpnet-2026.1"

// PolicyArea is one entry of the policy-area taxonomy.
type PolicyArea struct {
	Slug string
	En   string
	Es   string
}

// Label returns the area's name in lang ("es…" gets Spanish, anything else
// English; the web layer may translate the slug further).
func (a PolicyArea) Label(lang string) string {
	if len(lang) >= 2 && lang[:2] == "es" {
		return a.Es
	}
	return a.En
}

// policyAreas is the taxonomy, drawn from OGP's policy-area glossary and the
// tags on its member pages (domain brief §4), merged into a list small
// enough to choose from in a form.
var policyAreas = []PolicyArea{
	{"access-to-information", "Access to information", "Acceso a la información"},
	{"open-data", "Open data", "Datos abiertos"},
	{"fiscal-openness", "Fiscal openness", "Apertura fiscal"},
	{"budget", "Open budgets and participatory budgeting", "Presupuestos abiertos y participativos"},
	{"open-contracting", "Open contracting", "Contrataciones abiertas"},
	{"anti-corruption", "Anti-corruption", "Anticorrupción"},
	{"lobbying", "Lobbying", "Cabildeo"},
	{"asset-disclosure", "Asset disclosure and conflicts of interest", "Declaraciones patrimoniales y conflictos de interés"},
	{"beneficial-ownership", "Beneficial ownership", "Beneficiarios finales"},
	{"citizen-participation", "Citizen participation", "Participación ciudadana"},
	{"civic-space", "Civic space", "Espacio cívico"},
	{"public-service-delivery", "Public service delivery", "Prestación de servicios públicos"},
	{"justice", "Justice", "Justicia"},
	{"public-safety", "Security and public safety", "Seguridad ciudadana"},
	{"environment", "Environment and climate", "Medio ambiente y clima"},
	{"water-sanitation", "Water and sanitation", "Agua y saneamiento"},
	{"health", "Health", "Salud"},
	{"education", "Education", "Educación"},
	{"infrastructure", "Infrastructure and public works", "Infraestructura y obra pública"},
	{"gender", "Gender and inclusion", "Género e inclusión"},
	{"marginalized-communities", "Marginalized communities", "Comunidades marginadas"},
	{"labor", "Labor", "Trabajo"},
	{"legislature", "Legislature", "Poder legislativo"},
	{"digital-government", "Digital government", "Gobierno digital"},
	{"capacity-building", "Capacity building", "Fortalecimiento de capacidades"},
}

var policyAreaIndex = func() map[string]PolicyArea {
	m := make(map[string]PolicyArea, len(policyAreas))
	for _, a := range policyAreas {
		m[a.Slug] = a
	}
	return m
}()

// PolicyAreas returns the taxonomy in display order (a copy).
func PolicyAreas() []PolicyArea { return append([]PolicyArea(nil), policyAreas...) }

// LookupPolicyArea finds an area by slug.
func LookupPolicyArea(slug string) (PolicyArea, bool) {
	a, ok := policyAreaIndex[slug]
	return a, ok
}
