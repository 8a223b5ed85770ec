package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/plan"
)

// The JSON API's request and response shapes (docs/api-node.md). Requests
// bind into these DTOs, never into domain or storage structs, and are mapped
// field by field; dates are strings here so a bad one is reported as a 422
// naming its field, like every other validation error.

// textJSON is multilingual text: BCP 47 tag → wording.
type textJSON map[string]string

type milestoneJSON struct {
	ID          string   `json:"id"`
	Title       textJSON `json:"title"`
	Deliverable textJSON `json:"deliverable,omitempty"`
	Start       string   `json:"start,omitempty"`
	End         string   `json:"end,omitempty"`
	Status      string   `json:"status"`
	CompletedOn string   `json:"completedOn,omitempty"`
}

type irmJSON struct {
	Verifiable          string `json:"verifiable"`
	PotentialImpact     string `json:"potentialImpact"`
	Starred             string `json:"starred"`
	DidItOpenGovernment string `json:"didItOpenGovernment"`
}

type actorsJSON struct {
	Government   []string `json:"government,omitempty"`
	CivilSociety []string `json:"civilSociety,omitempty"`
}

type commitmentJSON struct {
	ID              string          `json:"id"`
	PlanID          string          `json:"planId"`
	Title           textJSON        `json:"title"`
	StartDate       string          `json:"startDate"`
	EndDate         string          `json:"endDate"`
	LeadInstitution string          `json:"leadInstitution"`
	OtherActors     actorsJSON      `json:"otherActors"`
	Problem         textJSON        `json:"problem,omitempty"`
	Objective       textJSON        `json:"objective,omitempty"`
	Description     textJSON        `json:"description,omitempty"`
	Values          []string        `json:"values,omitempty"`
	PolicyAreas     []string        `json:"policyAreas,omitempty"`
	Milestones      []milestoneJSON `json:"milestones,omitempty"`
	Completion      string          `json:"completion"`
	IRM             *irmJSON        `json:"irm,omitempty"`
	// Output only.
	IRI     string    `json:"iri,omitempty"`
	Created time.Time `json:"created,omitzero"`
	Updated time.Time `json:"updated,omitzero"`
}

type guidelineJSON struct {
	Key      string   `json:"key"`
	Level    string   `json:"level,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
}

type planJSON struct {
	ID           string   `json:"id"`
	Title        textJSON `json:"title"`
	Summary      textJSON `json:"summary,omitempty"`
	Jurisdiction string   `json:"jurisdiction"`
	Period       struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"period"`
	Status        string          `json:"status"`
	Prefix        string          `json:"prefix,omitempty"`
	Guidelines    []guidelineJSON `json:"guidelines,omitempty"`
	Participation struct {
		Development    string `json:"development,omitempty"`
		Implementation string `json:"implementation,omitempty"`
	} `json:"participation"`
	IRI         string    `json:"iri,omitempty"`
	Commitments []string  `json:"commitments,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	Updated     time.Time `json:"updated,omitzero"`
}

type changeJSON struct {
	MilestoneID string `json:"milestoneId"`
	Status      string `json:"status"`
}

type updateJSON struct {
	ID               string       `json:"id,omitempty"`
	CommitmentID     string       `json:"commitmentId,omitempty"`
	Date             string       `json:"date,omitempty"`
	Text             textJSON     `json:"text"`
	Completion       string       `json:"completion,omitempty"`
	MilestoneChanges []changeJSON `json:"milestoneChanges,omitempty"`
	Evidence         []string     `json:"evidence,omitempty"`
	IRI              string       `json:"iri,omitempty"`
	Created          time.Time    `json:"created,omitzero"`
	Updated          time.Time    `json:"updated,omitzero"` // set once edited
}

// fieldErrs collects input problems found while mapping (bad dates).
type fieldErrs struct{ plan.ValidationError }

// with returns the mapping errors plus the domain's own verdict on the
// mapped value (minus fields already reported), so one answer lists every
// problem; nil when the mapping went well (the service validates then).
func (f *fieldErrs) with(validate func() error) error {
	if len(f.Fields) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, fe := range f.Fields {
		seen[fe.Field] = true
	}
	var ve *plan.ValidationError
	if errors.As(validate(), &ve) {
		for _, fe := range ve.Fields {
			if !seen[fe.Field] {
				f.Fields = append(f.Fields, fe)
			}
		}
	}
	return f.Err()
}

func (f *fieldErrs) date(field, s string) plan.Date {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	d, err := ogp.ParseDate(s)
	if err != nil {
		f.Add(field, "%s", "must be a date written YYYY-MM-DD")
		return ""
	}
	return d
}

// toText maps a language map to plan.Text; the node's language is the
// default when present, else the first tag in order.
func (n *Node) toText(m textJSON) plan.Text {
	langs := make([]string, 0, len(m))
	for l, s := range m {
		if strings.TrimSpace(s) != "" {
			langs = append(langs, l)
		}
	}
	if len(langs) == 0 {
		return plan.Text{}
	}
	slices.Sort(langs)
	def := langs[0]
	if slices.Contains(langs, n.cfg.Lang) {
		def = n.cfg.Lang
	}
	t := plan.Text{Lang: def, Map: map[string]string{}}
	for _, l := range langs {
		t.Map[l] = strings.TrimSpace(m[l])
	}
	return t
}

func fromText(t plan.Text) textJSON {
	if t.IsZero() {
		return nil
	}
	out := textJSON{}
	for _, l := range t.Langs() {
		out[l] = t.Map[l]
	}
	return out
}

func trimAll(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (n *Node) commitmentFromJSON(in commitmentJSON) (plan.Commitment, error) {
	var f fieldErrs
	c := plan.Commitment{
		ID: strings.TrimSpace(in.ID), PlanID: strings.TrimSpace(in.PlanID), Title: n.toText(in.Title),
		StartDate: f.date("startDate", in.StartDate), EndDate: f.date("endDate", in.EndDate),
		LeadInstitution: strings.TrimSpace(in.LeadInstitution),
		OtherActors:     plan.OtherActors{Government: trimAll(in.OtherActors.Government), CivilSociety: trimAll(in.OtherActors.CivilSociety)},
		Problem:         n.toText(in.Problem), Objective: n.toText(in.Objective), Description: n.toText(in.Description),
		PolicyAreas: trimAll(in.PolicyAreas), Completion: plan.Completion(in.Completion),
	}
	for _, v := range in.Values {
		c.Values = append(c.Values, plan.Value(v))
	}
	for i, m := range in.Milestones {
		p := fmt.Sprintf("milestones[%d].", i)
		c.Milestones = append(c.Milestones, plan.Milestone{
			ID: strings.TrimSpace(m.ID), Title: n.toText(m.Title), Deliverable: n.toText(m.Deliverable),
			Start: f.date(p+"start", m.Start), End: f.date(p+"end", m.End),
			Status: plan.MilestoneStatus(m.Status), CompletedOn: f.date(p+"completedOn", m.CompletedOn),
		})
	}
	if in.IRM != nil {
		c.IRM = &plan.IRMAssessment{Verifiable: plan.YesNo(in.IRM.Verifiable), PotentialImpact: plan.PotentialImpact(in.IRM.PotentialImpact),
			Starred: plan.YesNo(in.IRM.Starred), DidItOpenGovernment: plan.EarlyResults(in.IRM.DidItOpenGovernment)}
	}
	return c, f.with(c.Validate)
}

func (n *Node) commitmentToJSON(c plan.Commitment) commitmentJSON {
	out := commitmentJSON{ID: c.ID, PlanID: c.PlanID, Title: fromText(c.Title), StartDate: string(c.StartDate), EndDate: string(c.EndDate),
		LeadInstitution: c.LeadInstitution, OtherActors: actorsJSON{c.OtherActors.Government, c.OtherActors.CivilSociety},
		Problem: fromText(c.Problem), Objective: fromText(c.Objective), Description: fromText(c.Description),
		PolicyAreas: c.PolicyAreas, Completion: string(c.Completion), IRI: n.iris.Commitment(c.ID), Created: c.Created, Updated: c.Updated}
	for _, v := range c.Values {
		out.Values = append(out.Values, string(v))
	}
	for _, m := range c.Milestones {
		out.Milestones = append(out.Milestones, milestoneJSON{ID: m.ID, Title: fromText(m.Title), Deliverable: fromText(m.Deliverable),
			Start: string(m.Start), End: string(m.End), Status: string(m.Status), CompletedOn: string(m.CompletedOn)})
	}
	if c.IRM != nil {
		out.IRM = &irmJSON{string(c.IRM.Verifiable), string(c.IRM.PotentialImpact), string(c.IRM.Starred), string(c.IRM.DidItOpenGovernment)}
	}
	return out
}

func (n *Node) planFromJSON(in planJSON) (plan.ActionPlan, error) {
	var f fieldErrs
	p := plan.NewActionPlan(strings.TrimSpace(in.ID))
	p.Title, p.Summary = n.toText(in.Title), n.toText(in.Summary)
	p.Jurisdiction = strings.TrimSpace(in.Jurisdiction)
	if p.Jurisdiction == "" {
		p.Jurisdiction = n.cfg.Name
	}
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
	return p, f.with(p.Validate)
}

func (n *Node) planToJSON(p plan.ActionPlan, cs []plan.Commitment) planJSON {
	out := planJSON{ID: p.ID, Title: fromText(p.Title), Summary: fromText(p.Summary), Jurisdiction: p.Jurisdiction,
		Status: string(p.Status), Prefix: p.Prefix, IRI: n.iris.Plan(p.ID), Created: p.Created, Updated: p.Updated}
	out.Period.Start, out.Period.End = string(p.Period.Start), string(p.Period.End)
	for _, g := range p.Guidelines {
		out.Guidelines = append(out.Guidelines, guidelineJSON{Key: string(g.Key), Level: string(g.Level), Evidence: g.Evidence})
	}
	out.Participation.Development, out.Participation.Implementation = string(p.Participation.Development), string(p.Participation.Implementation)
	for _, c := range cs {
		out.Commitments = append(out.Commitments, c.ID)
	}
	return out
}

func (n *Node) updateFromJSON(commitmentID string, in updateJSON) (plan.ProgressUpdate, error) {
	var f fieldErrs
	u := plan.ProgressUpdate{CommitmentID: commitmentID, Date: f.date("date", in.Date), Text: n.toText(in.Text),
		Completion: plan.Completion(in.Completion), Evidence: trimAll(in.Evidence)}
	for _, ch := range in.MilestoneChanges {
		u.MilestoneChanges = append(u.MilestoneChanges, plan.MilestoneChange{MilestoneID: strings.TrimSpace(ch.MilestoneID), Status: plan.MilestoneStatus(ch.Status)})
	}
	return u, f.with(u.Validate)
}

func (n *Node) updateToJSON(u plan.ProgressUpdate) updateJSON {
	out := updateJSON{ID: u.ID, CommitmentID: u.CommitmentID, Date: string(u.Date), Text: fromText(u.Text),
		Completion: string(u.Completion), Evidence: u.Evidence, IRI: n.iris.Update(u.CommitmentID, u.ID), Created: u.Created, Updated: u.Updated}
	for _, ch := range u.MilestoneChanges {
		out.MilestoneChanges = append(out.MilestoneChanges, changeJSON{ch.MilestoneID, string(ch.Status)})
	}
	return out
}

// bindJSON decodes the request body strictly: unknown fields and trailing
// data are errors (a typo must not be silently dropped).
func bindJSON(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return web.NewError(http.StatusUnsupportedMediaType, "send application/json")
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		// A body over the size cap is "too large", not "malformed".
		var he *echo.HTTPError
		if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
			return he
		}
		var me *http.MaxBytesError
		if errors.As(err, &me) {
			return web.NewError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", me.Limit))
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return web.Invalid(web.FieldError{Field: te.Field, Message: "must be a " + te.Type.Kind().String()})
		}
		return web.NewError(http.StatusBadRequest, "malformed JSON: "+err.Error())
	}
	if dec.More() {
		return web.NewError(http.StatusBadRequest, "malformed JSON: trailing data after the object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return web.NewError(http.StatusBadRequest, "malformed JSON: trailing data after the object")
	}
	return nil
}

func (n *Node) apiPlans(c echo.Context) error {
	ctx := c.Request().Context()
	ps, err := n.svc.store.ListPlans(ctx)
	if err != nil {
		return err
	}
	out := []planJSON{}
	for _, p := range ps {
		cs, err := n.svc.store.ListCommitments(ctx, p.ID)
		if err != nil {
			return err
		}
		out = append(out, n.planToJSON(p, cs))
	}
	return c.JSON(http.StatusOK, map[string]any{"plans": out})
}

func (n *Node) apiPlan(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := n.svc.store.GetPlan(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	cs, err := n.svc.store.ListCommitments(ctx, p.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n.planToJSON(p, cs))
}

func (n *Node) apiPutPlan(c echo.Context) error {
	var in planJSON
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.ID != "" && in.ID != c.Param("id") {
		return web.Invalid(web.FieldError{Field: "id", Message: "must match the URL or be left out"})
	}
	in.ID = c.Param("id")
	p, err := n.planFromJSON(in)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	saved, kind, err := n.svc.SavePlan(ctx, p)
	if err != nil {
		return err
	}
	cs, err := n.svc.store.ListCommitments(ctx, saved.ID)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if kind == "created" {
		status = http.StatusCreated
	}
	return c.JSON(status, n.planToJSON(saved, cs))
}

func (n *Node) apiCommitments(c echo.Context) error {
	cs, err := n.svc.store.ListCommitments(c.Request().Context(), c.QueryParam("plan"))
	if err != nil {
		return err
	}
	out := []commitmentJSON{}
	for _, cm := range cs {
		out = append(out, n.commitmentToJSON(cm))
	}
	return c.JSON(http.StatusOK, map[string]any{"commitments": out})
}

func (n *Node) apiCommitment(c echo.Context) error {
	cm, err := n.svc.store.GetCommitment(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if cm.Deleted {
		return web.NewError(http.StatusGone, "commitment withdrawn")
	}
	return c.JSON(http.StatusOK, n.commitmentToJSON(cm))
}

func (n *Node) apiCreateCommitment(c echo.Context) error {
	var in commitmentJSON
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	cm, err := n.commitmentFromJSON(in)
	if err != nil {
		return err
	}
	saved, err := n.svc.CreateCommitment(c.Request().Context(), cm)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, n.iris.Commitment(saved.ID))
	return c.JSON(http.StatusCreated, n.commitmentToJSON(saved))
}

func (n *Node) apiPutCommitment(c echo.Context) error {
	var in commitmentJSON
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.ID != "" && in.ID != c.Param("id") {
		return web.Invalid(web.FieldError{Field: "id", Message: "must match the URL or be left out"})
	}
	in.ID = c.Param("id")
	cm, err := n.commitmentFromJSON(in)
	if err != nil {
		return err
	}
	saved, err := n.svc.UpdateCommitment(c.Request().Context(), cm)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n.commitmentToJSON(saved))
}

func (n *Node) apiDeleteCommitment(c echo.Context) error {
	if err := n.svc.DeleteCommitment(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (n *Node) apiUpdates(c echo.Context) error {
	ctx := c.Request().Context()
	cm, err := n.svc.store.GetCommitment(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if cm.Deleted {
		return web.NewError(http.StatusGone, "commitment withdrawn")
	}
	ups, err := n.svc.store.ListUpdates(ctx, cm.ID, 0)
	if err != nil {
		return err
	}
	out := []updateJSON{}
	for _, u := range ups {
		out = append(out, n.updateToJSON(u))
	}
	return c.JSON(http.StatusOK, map[string]any{"updates": out})
}

func (n *Node) apiPostUpdate(c echo.Context) error {
	var in updateJSON
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	u, err := n.updateFromJSON(c.Param("id"), in)
	if err != nil {
		return err
	}
	saved, err := n.svc.PostUpdate(c.Request().Context(), u)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, n.iris.Update(saved.CommitmentID, saved.ID))
	return c.JSON(http.StatusCreated, n.updateToJSON(saved))
}

// apiPutUpdate replaces the content of a progress update. Like a new one,
// the body is validated against the commitment; "date" left out keeps the
// stored date. The commitment itself is never changed by it.
func (n *Node) apiPutUpdate(c echo.Context) error {
	var in updateJSON
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	var wrong []web.FieldError
	if in.ID != "" && in.ID != c.Param("uid") {
		wrong = append(wrong, web.FieldError{Field: "id", Message: "must match the URL or be left out"})
	}
	if in.CommitmentID != "" && in.CommitmentID != c.Param("id") {
		wrong = append(wrong, web.FieldError{Field: "commitmentId", Message: "must match the URL or be left out"})
	}
	if len(wrong) > 0 {
		return web.Invalid(wrong...)
	}
	u, err := n.updateFromJSON(c.Param("id"), in)
	if err != nil {
		return err
	}
	u.ID = c.Param("uid")
	saved, _, err := n.svc.EditUpdate(c.Request().Context(), u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n.updateToJSON(saved))
}

// apiDeleteUpdate removes a progress update (204); its IRI then answers 410.
func (n *Node) apiDeleteUpdate(c echo.Context) error {
	if err := n.svc.DeleteUpdate(c.Request().Context(), c.Param("id"), c.Param("uid")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
