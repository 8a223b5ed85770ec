package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/plan/jsonshape"
	"github.com/ogpnet/ogpnet/node/service"
)

// Operator UI: plain HTML forms (no JavaScript needed) that map onto the same
// DTOs as the JSON API, so both paths validate and publish identically. A
// form with invalid fields is shown again with what was typed and a message
// per field (422).

type option struct{ Value, Label string }

func optionsOf[T ~string](c echo.Context, kind string, all []T) []option {
	out := make([]option, 0, len(all))
	for _, v := range all {
		out = append(out, option{string(v), enumLabel(c, kind, string(v))})
	}
	return out
}

type choices struct {
	Completions, Milestones, Values, Policy, YesNo, Impacts, Results, IAP2, Levels, PlanStatus []option
	Guidelines                                                                                 []option
	Plans                                                                                      []option
}

func (h *Handlers) choices(c echo.Context) (choices, error) {
	lang := web.Lang(c)
	ch := choices{
		Completions: optionsOf(c, "completion", ogp.Completions),
		Milestones:  optionsOf(c, "milestone", ogp.MilestoneStatuses),
		Values:      optionsOf(c, "value", ogp.Values),
		YesNo:       optionsOf(c, "yesno", []ogp.YesNo{ogp.Yes, ogp.No, ogp.Pending}),
		Impacts:     optionsOf(c, "impact", ogp.PotentialImpacts),
		Results:     optionsOf(c, "results", ogp.EarlyResultsLevels),
		IAP2:        optionsOf(c, "iap2", ogp.IAP2Levels),
		Levels:      optionsOf(c, "level", []ogp.GuidelineLevel{ogp.GuidelineMet, ogp.GuidelinePartly, ogp.GuidelineNotMet}),
		PlanStatus:  optionsOf(c, "planstatus", []ogp.PlanStatus{ogp.PlanDevelopment, ogp.PlanImplementation, ogp.PlanEnded}),
		Guidelines:  optionsOf(c, "guideline", ogp.GuidelineKeys[:]),
	}
	for _, a := range plan.PolicyAreas() {
		ch.Policy = append(ch.Policy, option{a.Slug, policyLabel(lang, a)})
	}
	ps, err := h.store.ListPlans(c.Request().Context())
	if err != nil {
		return ch, err
	}
	for _, p := range ps {
		ch.Plans = append(ch.Plans, option{p.ID, p.Title.Get(lang)})
	}
	return ch, nil
}

// langOpt is one content language of the node, for per-language inputs.
type langOpt struct{ Code, Label string }

func (h *Handlers) langOpts(c echo.Context) []langOpt {
	out := make([]langOpt, 0, len(h.site.Languages))
	for _, l := range h.site.Languages {
		label := web.T(c, "node_lang_"+strings.ReplaceAll(l, "-", "_"))
		if strings.HasPrefix(label, "node_lang_") {
			label = l
		}
		out = append(out, langOpt{l, label})
	}
	return out
}

type adminView struct {
	Plans       []planCard
	Commitments []commitmentRow
	LoginURL    string
	Unread      int // replies no operator has seen (Conversations)
}

func (h *Handlers) adminHome(c echo.Context) error {
	ctx := c.Request().Context()
	lang := web.Lang(c)
	v := adminView{Unread: h.conv.Unread()}
	ps, err := h.store.ListPlans(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		v.Plans = append(v.Plans, planCard{ID: p.ID, Title: tv(p.Title, lang), Start: string(p.Period.Start), End: string(p.Period.End)})
	}
	cs, err := h.store.ListCommitments(ctx, "")
	if err != nil {
		return err
	}
	for _, cm := range cs {
		v.Commitments = append(v.Commitments, h.commitmentRow(c, cm, lang, h.now()))
	}
	return c.Render(http.StatusOK, "admin.html", web.Page{Title: web.T(c, "node_admin_title"), Data: v})
}

// --- action plans

type planFormView struct {
	IsNew  bool
	Action string
	P      jsonshape.Plan
	Langs  []langOpt
	Ch     choices
	Errors []plan.FieldError
	Levels map[string]string // guideline key → level
	Evid   map[string]string // guideline key → evidence, one per line
}

func (h *Handlers) renderPlanForm(c echo.Context, status int, isNew bool, p jsonshape.Plan, errs []plan.FieldError) error {
	ch, err := h.choices(c)
	if err != nil {
		return err
	}
	v := planFormView{IsNew: isNew, P: p, Langs: h.langOpts(c), Ch: ch, Errors: errs, Levels: map[string]string{}, Evid: map[string]string{}}
	v.Action = "/admin/plans"
	if !isNew {
		v.Action = "/admin/plans/" + url.PathEscape(p.ID)
	}
	for _, g := range p.Guidelines {
		v.Levels[g.Key] = g.Level
		v.Evid[g.Key] = strings.Join(g.Evidence, "\n")
	}
	return c.Render(status, "plan_form.html", web.Page{Title: web.T(c, "node_plan_form_title"), Data: v})
}

func (h *Handlers) planForm(c echo.Context) error {
	id := c.Param("id")
	if id == "" {
		p := jsonshape.Plan{Jurisdiction: h.site.Name, Status: string(ogp.PlanDevelopment)}
		return h.renderPlanForm(c, http.StatusOK, true, p, nil)
	}
	p, err := h.store.GetPlan(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.renderPlanForm(c, http.StatusOK, false, h.planToJSON(p, nil), nil)
}

// lines splits a textarea into its non-blank lines, trimmed.
func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (h *Handlers) langForm(c echo.Context, prefix string) jsonshape.Text {
	out := jsonshape.Text{}
	for _, l := range h.site.Languages {
		if s := strings.TrimSpace(c.FormValue(prefix + "_" + l)); s != "" {
			out[l] = s
		}
	}
	return out
}

func (h *Handlers) planSubmit(c echo.Context) error {
	isNew := c.Param("id") == ""
	var in jsonshape.Plan
	in.ID = c.Param("id")
	if isNew {
		in.ID = strings.TrimSpace(c.FormValue("id"))
	}
	in.Title, in.Summary = h.langForm(c, "title"), h.langForm(c, "summary")
	in.Jurisdiction = c.FormValue("jurisdiction")
	in.Period.Start, in.Period.End = c.FormValue("start"), c.FormValue("end")
	in.Status, in.Prefix = c.FormValue("status"), c.FormValue("prefix")
	for _, k := range ogp.GuidelineKeys {
		in.Guidelines = append(in.Guidelines, jsonshape.Guideline{Key: string(k), Level: c.FormValue("level_" + string(k)),
			Evidence: lines(c.FormValue("evidence_" + string(k)))})
	}
	in.Participation.Development, in.Participation.Implementation = c.FormValue("development"), c.FormValue("implementation")
	p, err := h.planFromJSON(in)
	if err == nil {
		p, _, err = h.svc.SavePlan(c.Request().Context(), p)
	}
	if err != nil {
		return rerender(err, func(errs []plan.FieldError) error {
			return h.renderPlanForm(c, http.StatusUnprocessableEntity, isNew, in, errs)
		})
	}
	return c.Redirect(http.StatusSeeOther, "/plans/"+url.PathEscape(p.ID))
}

// --- commitments

type commitmentFormView struct {
	IsNew      bool
	Action     string
	C          jsonshape.Commitment
	Government string
	Civil      string
	Langs      []langOpt
	Ch         choices
	Errors     []plan.FieldError
	IRM        jsonshape.IRM
}

func (h *Handlers) renderCommitmentForm(c echo.Context, status int, isNew bool, cm jsonshape.Commitment, errs []plan.FieldError) error {
	ch, err := h.choices(c)
	if err != nil {
		return err
	}
	// Two blank milestone rows to add to, without JavaScript.
	for range 2 {
		cm.Milestones = append(cm.Milestones, jsonshape.Milestone{Title: jsonshape.Text{}, Deliverable: jsonshape.Text{}, Status: string(ogp.MilestoneNotStarted)})
	}
	v := commitmentFormView{IsNew: isNew, C: cm, Langs: h.langOpts(c), Ch: ch, Errors: errs,
		Government: strings.Join(cm.OtherActors.Government, "\n"), Civil: strings.Join(cm.OtherActors.CivilSociety, "\n")}
	if cm.IRM != nil {
		v.IRM = *cm.IRM
	}
	v.Action = "/admin/commitments"
	if !isNew {
		v.Action = "/admin/commitments/" + url.PathEscape(cm.ID)
	}
	return c.Render(status, "commitment_form.html", web.Page{Title: web.T(c, "node_commitment_form_title"), Data: v})
}

func (h *Handlers) commitmentForm(c echo.Context) error {
	id := c.Param("id")
	if id == "" {
		cm := jsonshape.Commitment{PlanID: c.QueryParam("plan"), Completion: string(ogp.CompletionNotStarted)}
		return h.renderCommitmentForm(c, http.StatusOK, true, cm, nil)
	}
	cm, err := h.svc.LiveCommitment(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.renderCommitmentForm(c, http.StatusOK, false, h.commitmentToJSON(cm), nil)
}

func (h *Handlers) commitmentFromForm(c echo.Context) (jsonshape.Commitment, error) {
	form, err := c.FormParams()
	if err != nil {
		return jsonshape.Commitment{}, web.NewError(http.StatusBadRequest, "unreadable form")
	}
	in := jsonshape.Commitment{
		ID: c.Param("id"), PlanID: form.Get("planId"), Title: h.langForm(c, "title"),
		StartDate: form.Get("startDate"), EndDate: form.Get("endDate"), LeadInstitution: form.Get("leadInstitution"),
		OtherActors: jsonshape.Actors{Government: lines(form.Get("government")), CivilSociety: lines(form.Get("civilSociety"))},
		Problem:     h.langForm(c, "problem"), Objective: h.langForm(c, "objective"), Description: h.langForm(c, "description"),
		Values: form["values"], PolicyAreas: form["policyAreas"], Completion: form.Get("completion"),
	}
	if in.ID == "" {
		in.ID = strings.ToUpper(strings.TrimSpace(form.Get("id")))
	}
	if irm := (jsonshape.IRM{Verifiable: form.Get("irm_verifiable"), PotentialImpact: form.Get("irm_impact"), Starred: form.Get("irm_starred"), DidItOpenGovernment: form.Get("irm_results")}); irm != (jsonshape.IRM{}) {
		in.IRM = &irm
	}
	count, _ := strconv.Atoi(form.Get("milestones"))
	used := map[string]bool{}
	for i := range min(count, plan.MaxMilestones+2) {
		p := fmt.Sprintf("m%d_", i)
		m := jsonshape.Milestone{ID: strings.TrimSpace(form.Get(p + "id")), Title: h.langForm(c, p+"title"),
			Deliverable: h.langForm(c, p+"deliverable"), Start: form.Get(p + "start"), End: form.Get(p + "end"),
			Status: form.Get(p + "status"), CompletedOn: form.Get(p + "completedOn")}
		if len(m.Title) == 0 && len(m.Deliverable) == 0 && m.Start == "" && m.End == "" {
			continue // an unused blank row
		}
		if m.ID != "" {
			used[m.ID] = true
		}
		in.Milestones = append(in.Milestones, m)
	}
	// New rows get the next free number as their id.
	next := 1
	for i := range in.Milestones {
		if in.Milestones[i].ID != "" {
			continue
		}
		for used[strconv.Itoa(next)] {
			next++
		}
		in.Milestones[i].ID = strconv.Itoa(next)
		used[in.Milestones[i].ID] = true
	}
	return in, nil
}

func (h *Handlers) commitmentSubmit(c echo.Context) error {
	isNew := c.Param("id") == ""
	in, err := h.commitmentFromForm(c)
	if err != nil {
		return err
	}
	cm, err := h.commitmentFromJSON(c.Request().Context(), in)
	if err == nil {
		if isNew {
			cm, err = h.svc.CreateCommitment(c.Request().Context(), cm)
		} else {
			cm, err = h.svc.UpdateCommitment(c.Request().Context(), cm)
		}
	}
	if errors.Is(err, service.ErrExists) {
		err = &plan.ValidationError{Fields: []plan.FieldError{{Field: "id", Message: "a commitment with this identifier already exists"}}}
	}
	if err != nil {
		return rerender(err, func(errs []plan.FieldError) error {
			return h.renderCommitmentForm(c, http.StatusUnprocessableEntity, isNew, in, errs)
		})
	}
	return c.Redirect(http.StatusSeeOther, "/commitments/"+url.PathEscape(cm.ID))
}

func (h *Handlers) commitmentDeleteSubmit(c echo.Context) error {
	if err := h.svc.DeleteCommitment(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin")
}

// --- progress updates

type milestoneChoice struct {
	ID, Title, Status string
	Chosen            string
}

type updateFormView struct {
	CommitmentID string
	Title        textView
	// Action is where the form posts; UpdateID is set when editing.
	Action     string
	UpdateID   string
	U          jsonshape.Update
	Evidence   string
	Milestones []milestoneChoice
	Langs      []langOpt
	Ch         choices
	Errors     []plan.FieldError
	Today      string
}

func (h *Handlers) renderUpdateForm(c echo.Context, status int, cm plan.Commitment, u jsonshape.Update, errs []plan.FieldError) error {
	ch, err := h.choices(c)
	if err != nil {
		return err
	}
	lang := web.Lang(c)
	v := updateFormView{CommitmentID: cm.ID, Title: tv(cm.Title, lang), U: u, Evidence: strings.Join(u.Evidence, "\n"),
		Langs: h.langOpts(c), Ch: ch, Errors: errs, Today: string(ogp.DateOf(h.now())), UpdateID: u.ID,
		Action: "/admin/commitments/" + url.PathEscape(cm.ID) + "/updates"}
	title := web.T(c, "node_update_form_title")
	if u.ID != "" {
		v.Action += "/" + url.PathEscape(u.ID)
		title = web.T(c, "node_update_edit_title")
	}
	if v.U.Text == nil {
		v.U.Text = jsonshape.Text{}
	}
	for _, m := range cm.Milestones {
		mc := milestoneChoice{ID: m.ID, Title: m.Title.Get(lang), Status: enumLabel(c, "milestone", string(m.Status))}
		for _, chg := range u.MilestoneChanges {
			if chg.MilestoneID == m.ID {
				mc.Chosen = chg.Status
			}
		}
		v.Milestones = append(v.Milestones, mc)
	}
	return c.Render(status, "update_form.html", web.Page{Title: title, Data: v})
}

func (h *Handlers) updateForm(c echo.Context) error {
	cm, err := h.svc.LiveCommitment(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return h.renderUpdateForm(c, http.StatusOK, cm, jsonshape.Update{Date: string(ogp.DateOf(h.now()))}, nil)
}

func (h *Handlers) updateSubmit(c echo.Context) error {
	cm, err := h.svc.LiveCommitment(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	in := h.updateFromForm(c, cm, false)
	u, err := h.updateFromJSON(c.Request().Context(), cm.ID, in)
	if err == nil {
		u, err = h.svc.PostUpdate(c.Request().Context(), u)
	}
	if err != nil {
		return rerender(err, func(errs []plan.FieldError) error {
			return h.renderUpdateForm(c, http.StatusUnprocessableEntity, cm, in, errs)
		})
	}
	return c.Redirect(http.StatusSeeOther, "/commitments/"+url.PathEscape(cm.ID)+"#update-"+u.ID)
}

// updateFromForm reads the progress-update form. A new update records only
// the milestones whose status it changes; an edit keeps every status chosen
// (the update said so, even if the commitment is there now).
func (h *Handlers) updateFromForm(c echo.Context, cm plan.Commitment, edit bool) jsonshape.Update {
	in := jsonshape.Update{Date: c.FormValue("date"), Text: h.langForm(c, "text"), Completion: c.FormValue("completion"),
		Evidence: lines(c.FormValue("evidence"))}
	for _, m := range cm.Milestones {
		if s := c.FormValue("ms_" + m.ID); s != "" && (edit || s != string(m.Status)) {
			in.MilestoneChanges = append(in.MilestoneChanges, jsonshape.Change{MilestoneID: m.ID, Status: s})
		}
	}
	return in
}

func (h *Handlers) updateEditForm(c echo.Context) error {
	cm, u, err := h.svc.LiveUpdate(c.Request().Context(), c.Param("id"), c.Param("uid"))
	if err != nil {
		return err
	}
	return h.renderUpdateForm(c, http.StatusOK, cm, h.updateToJSON(u), nil)
}

func (h *Handlers) updateEditSubmit(c echo.Context) error {
	cm, old, err := h.svc.LiveUpdate(c.Request().Context(), c.Param("id"), c.Param("uid"))
	if err != nil {
		return err
	}
	in := h.updateFromForm(c, cm, true)
	in.ID = old.ID
	u, err := h.updateFromJSON(c.Request().Context(), cm.ID, in)
	if err == nil {
		u.ID = old.ID
		_, _, err = h.svc.EditUpdate(c.Request().Context(), u)
	}
	if err != nil {
		return rerender(err, func(errs []plan.FieldError) error {
			return h.renderUpdateForm(c, http.StatusUnprocessableEntity, cm, in, errs)
		})
	}
	return c.Redirect(http.StatusSeeOther, "/commitments/"+url.PathEscape(cm.ID)+"#update-"+old.ID)
}

type updateDeleteView struct {
	CommitmentID string
	Title        textView
	Action       string
	U            updateRow
}

// updateDeleteForm is the confirmation step before a delete.
func (h *Handlers) updateDeleteForm(c echo.Context) error {
	cm, u, err := h.svc.LiveUpdate(c.Request().Context(), c.Param("id"), c.Param("uid"))
	if err != nil {
		return err
	}
	lang := web.Lang(c)
	v := updateDeleteView{CommitmentID: cm.ID, Title: tv(cm.Title, lang), U: h.updateRowOf(c, cm, u, lang),
		Action: "/admin/commitments/" + url.PathEscape(cm.ID) + "/updates/" + url.PathEscape(u.ID) + "/delete"}
	return c.Render(http.StatusOK, "update_delete.html", web.Page{Title: web.T(c, "node_update_delete_title"), Data: v})
}

func (h *Handlers) updateDeleteSubmit(c echo.Context) error {
	id := c.Param("id")
	if err := h.svc.DeleteUpdate(c.Request().Context(), id, c.Param("uid")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/commitments/"+url.PathEscape(id)+"#timeline")
}

// --- API tokens

type tokensView struct {
	Tokens []auth.Token
	New    string // the plaintext of a token just created, shown once
	Errors []plan.FieldError
}

func (h *Handlers) renderTokens(c echo.Context, status int, v tokensView) error {
	toks, err := h.auth.Tokens(c.Request().Context())
	if err != nil {
		return err
	}
	v.Tokens = slices.DeleteFunc(toks, func(t auth.Token) bool { return t.RevokedAt != nil })
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Render(status, "tokens.html", web.Page{Title: web.T(c, "node_tokens_title"), Data: v})
}

func (h *Handlers) tokensPage(c echo.Context) error {
	return h.renderTokens(c, http.StatusOK, tokensView{})
}

func (h *Handlers) tokenCreate(c echo.Context) error {
	plain, _, err := h.auth.CreateToken(c.Request().Context(), auth.CurrentPrincipal(c), c.FormValue("label"))
	if errors.Is(err, auth.ErrBadLabel) {
		return h.renderTokens(c, http.StatusUnprocessableEntity, tokensView{Errors: []plan.FieldError{{Field: "label", Message: "a label must have 1 to 100 characters"}}})
	}
	if err != nil {
		return err
	}
	return h.renderTokens(c, http.StatusOK, tokensView{New: plain})
}

func (h *Handlers) tokenRevoke(c echo.Context) error {
	if err := h.auth.RevokeToken(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/tokens")
}
