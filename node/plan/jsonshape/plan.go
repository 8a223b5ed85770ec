package jsonshape

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/node/plan"
)

// Plan is an action plan with its process record, as the JSON API sends
// and takes it. (A JSON import's "plan" keys its guidelines by name
// instead: see node/importer.)
type Plan struct {
	ID           string `json:"id"`
	Title        Text   `json:"title"`
	Summary      Text   `json:"summary,omitempty"`
	Jurisdiction string `json:"jurisdiction"`
	Period       struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"period"`
	Status        string      `json:"status"`
	Prefix        string      `json:"prefix,omitempty"`
	Guidelines    []Guideline `json:"guidelines,omitempty"`
	Participation struct {
		Development    string `json:"development,omitempty"`
		Implementation string `json:"implementation,omitempty"`
	} `json:"participation"`
	// Output only.
	IRI         string    `json:"iri,omitempty"`
	Commitments []string  `json:"commitments,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	Updated     time.Time `json:"updated,omitzero"`
}

// Guideline is how the plan met one of the OGP's co-creation guidelines.
type Guideline struct {
	Key      string   `json:"key"`
	Level    string   `json:"level,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
}

// Domain maps in to a plan.ActionPlan, untagged text being in lang; the
// field errors are what could not be mapped (dates, unknown guidelines).
// An empty status keeps plan.NewActionPlan's.
func (in Plan) Domain(lang string) (plan.ActionPlan, []plan.FieldError) {
	var f fields
	p := plan.NewActionPlan(strings.TrimSpace(in.ID))
	p.Title, p.Summary = in.Title.Domain(lang), in.Summary.Domain(lang)
	p.Jurisdiction = strings.TrimSpace(in.Jurisdiction)
	p.Period = plan.Period{Start: f.date("period.start", in.Period.Start), End: f.date("period.end", in.Period.End)}
	if in.Status != "" {
		p.Status = plan.PlanStatus(in.Status)
	}
	p.Prefix = strings.TrimSpace(in.Prefix)
	for i, g := range in.Guidelines {
		idx := slices.Index(ogp.GuidelineKeys[:], plan.GuidelineKey(g.Key))
		if idx < 0 {
			f.Add(fmt.Sprintf("guidelines[%d].key", i), "unknown guideline %q", g.Key)
			continue
		}
		p.Guidelines[idx] = plan.Guideline{Key: plan.GuidelineKey(g.Key), Level: plan.GuidelineLevel(g.Level), Evidence: trimAll(g.Evidence)}
	}
	p.Participation = plan.Participation{Development: plan.IAP2Level(in.Participation.Development), Implementation: plan.IAP2Level(in.Participation.Implementation)}
	return p, f.Fields
}

// FromPlan maps p, with its live commitments cs, to its JSON form; iri is
// its ActivityPub IRI.
func FromPlan(p plan.ActionPlan, cs []plan.Commitment, iri string) Plan {
	out := Plan{ID: p.ID, Title: FromText(p.Title), Summary: FromText(p.Summary), Jurisdiction: p.Jurisdiction,
		Status: string(p.Status), Prefix: p.Prefix, IRI: iri, Created: p.Created, Updated: p.Updated}
	out.Period.Start, out.Period.End = string(p.Period.Start), string(p.Period.End)
	for _, g := range p.Guidelines {
		out.Guidelines = append(out.Guidelines, Guideline{Key: string(g.Key), Level: string(g.Level), Evidence: g.Evidence})
	}
	out.Participation.Development, out.Participation.Implementation = string(p.Participation.Development), string(p.Participation.Implementation)
	for _, c := range cs {
		out.Commitments = append(out.Commitments, c.ID)
	}
	return out
}
