package node

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

func (n *Node) choices(c echo.Context) (choices, error) {
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
		ch.Policy = append(ch.Policy, option{a.Slug, a.Label(lang)})
	}
	ps, err := n.svc.store.ListPlans(c.Request().Context())
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

func (n *Node) langOpts(c echo.Context) []langOpt {
	out := make([]langOpt, 0, len(n.cfg.Languages))
	for _, l := range n.cfg.Languages {
		label := web.T(c, "node_lang_"+strings.ReplaceAll(l, "-", "_"))
		if strings.HasPrefix(label, "node_lang_") {
			label = l
		}
		out = append(out, langOpt{l, label})
	}
	return out
}

// formErrorsOf returns the field errors of a validation error, or nil and
// the error itself when it is something else.
func formErrorsOf(err error) ([]plan.FieldError, error) {
	var ve *plan.ValidationError
	if errors.As(err, &ve) {
		return ve.Fields, nil
	}
	var we *web.Error
	if errors.As(err, &we) && we.Status == http.StatusUnprocessableEntity {
		out := make([]plan.FieldError, len(we.Fields))
		for i, f := range we.Fields {
			out[i] = plan.FieldError{Field: f.Field, Message: f.Message}
		}
		return out, nil
	}
	return nil, err
}

type adminView struct {
	Plans       []planCard
	Commitments []commitmentRow
	LoginURL    string
}

func (n *Node) adminHome(c echo.Context) error {
	ctx := c.Request().Context()
	lang := web.Lang(c)
	v := adminView{}
	ps, err := n.svc.store.ListPlans(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		v.Plans = append(v.Plans, planCard{ID: p.ID, Title: tv(p.Title, lang), Start: string(p.Period.Start), End: string(p.Period.End)})
	}
	cs, err := n.svc.store.ListCommitments(ctx, "")
	if err != nil {
		return err
	}
	for _, cm := range cs {
		v.Commitments = append(v.Commitments, n.commitmentRow(c, cm, lang, n.fed.Now()))
	}
	return c.Render(http.StatusOK, "admin.html", web.Page{Title: web.T(c, "node_admin_title"), Data: v})
}

// --- action plans

type planFormView struct {
	IsNew  bool
	Action string
	P      planJSON
	Langs  []langOpt
	Ch     choices
	Errors []plan.FieldError
	Levels map[string]string // guideline key → level
	Evid   map[string]string // guideline key → evidence, one per line
}

func (n *Node) renderPlanForm(c echo.Context, status int, isNew bool, p planJSON, errs []plan.FieldError) error {
	ch, err := n.choices(c)
	if err != nil {
		return err
	}
	v := planFormView{IsNew: isNew, P: p, Langs: n.langOpts(c), Ch: ch, Errors: errs, Levels: map[string]string{}, Evid: map[string]string{}}
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

func (n *Node) planForm(c echo.Context) error {
	id := c.Param("id")
	if id == "" {
		p := planJSON{Jurisdiction: n.cfg.Name, Status: string(ogp.PlanDevelopment)}
		return n.renderPlanForm(c, http.StatusOK, true, p, nil)
	}
	p, err := n.svc.store.GetPlan(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return n.renderPlanForm(c, http.StatusOK, false, n.planToJSON(p, nil), nil)
}

func lines(s string) []string {
	return trimAll(strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n"))
}

func (n *Node) langForm(c echo.Context, prefix string) textJSON {
	out := textJSON{}
	for _, l := range n.cfg.Languages {
		if s := strings.TrimSpace(c.FormValue(prefix + "_" + l)); s != "" {
			out[l] = s
		}
	}
	return out
}

func (n *Node) planSubmit(c echo.Context) error {
	isNew := c.Param("id") == ""
	var in planJSON
	in.ID = c.Param("id")
	if isNew {
		in.ID = strings.TrimSpace(c.FormValue("id"))
	}
	in.Title, in.Summary = n.langForm(c, "title"), n.langForm(c, "summary")
	in.Jurisdiction = c.FormValue("jurisdiction")
	in.Period.Start, in.Period.End = c.FormValue("start"), c.FormValue("end")
	in.Status, in.Prefix = c.FormValue("status"), c.FormValue("prefix")
	for _, k := range ogp.GuidelineKeys {
		in.Guidelines = append(in.Guidelines, guidelineJSON{Key: string(k), Level: c.FormValue("level_" + string(k)),
			Evidence: lines(c.FormValue("evidence_" + string(k)))})
	}
	in.Participation.Development, in.Participation.Implementation = c.FormValue("development"), c.FormValue("implementation")
	p, err := n.planFromJSON(in)
	if err == nil {
		p, _, err = n.svc.SavePlan(c.Request().Context(), p)
	}
	if err != nil {
		errs, other := formErrorsOf(err)
		if other != nil {
			return other
		}
		return n.renderPlanForm(c, http.StatusUnprocessableEntity, isNew, in, errs)
	}
	return c.Redirect(http.StatusSeeOther, "/plans/"+url.PathEscape(p.ID))
}

// --- commitments

type commitmentFormView struct {
	IsNew      bool
	Action     string
	C          commitmentJSON
	Government string
	Civil      string
	Langs      []langOpt
	Ch         choices
	Errors     []plan.FieldError
	IRM        irmJSON
}

func (n *Node) renderCommitmentForm(c echo.Context, status int, isNew bool, cm commitmentJSON, errs []plan.FieldError) error {
	ch, err := n.choices(c)
	if err != nil {
		return err
	}
	// Two blank milestone rows to add to, without JavaScript.
	for range 2 {
		cm.Milestones = append(cm.Milestones, milestoneJSON{Title: textJSON{}, Deliverable: textJSON{}, Status: string(ogp.MilestoneNotStarted)})
	}
	v := commitmentFormView{IsNew: isNew, C: cm, Langs: n.langOpts(c), Ch: ch, Errors: errs,
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

func (n *Node) commitmentForm(c echo.Context) error {
	id := c.Param("id")
	if id == "" {
		cm := commitmentJSON{PlanID: c.QueryParam("plan"), Completion: string(ogp.CompletionNotStarted)}
		return n.renderCommitmentForm(c, http.StatusOK, true, cm, nil)
	}
	cm, err := n.svc.store.GetCommitment(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if cm.Deleted {
		return web.NewError(http.StatusGone, "commitment withdrawn")
	}
	return n.renderCommitmentForm(c, http.StatusOK, false, n.commitmentToJSON(cm), nil)
}

func (n *Node) commitmentFromForm(c echo.Context) (commitmentJSON, error) {
	form, err := c.FormParams()
	if err != nil {
		return commitmentJSON{}, web.NewError(http.StatusBadRequest, "unreadable form")
	}
	in := commitmentJSON{
		ID: c.Param("id"), PlanID: form.Get("planId"), Title: n.langForm(c, "title"),
		StartDate: form.Get("startDate"), EndDate: form.Get("endDate"), LeadInstitution: form.Get("leadInstitution"),
		OtherActors: actorsJSON{Government: lines(form.Get("government")), CivilSociety: lines(form.Get("civilSociety"))},
		Problem:     n.langForm(c, "problem"), Objective: n.langForm(c, "objective"), Description: n.langForm(c, "description"),
		Values: form["values"], PolicyAreas: form["policyAreas"], Completion: form.Get("completion"),
	}
	if in.ID == "" {
		in.ID = strings.ToUpper(strings.TrimSpace(form.Get("id")))
	}
	if irm := (irmJSON{form.Get("irm_verifiable"), form.Get("irm_impact"), form.Get("irm_starred"), form.Get("irm_results")}); irm != (irmJSON{}) {
		in.IRM = &irm
	}
	count, _ := strconv.Atoi(form.Get("milestones"))
	used := map[string]bool{}
	for i := range min(count, plan.MaxMilestones+2) {
		p := fmt.Sprintf("m%d_", i)
		m := milestoneJSON{ID: strings.TrimSpace(form.Get(p + "id")), Title: n.langForm(c, p+"title"),
			Deliverable: n.langForm(c, p+"deliverable"), Start: form.Get(p + "start"), End: form.Get(p + "end"),
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

func (n *Node) commitmentSubmit(c echo.Context) error {
	isNew := c.Param("id") == ""
	in, err := n.commitmentFromForm(c)
	if err != nil {
		return err
	}
	cm, err := n.commitmentFromJSON(in)
	if err == nil {
		if isNew {
			cm, err = n.svc.CreateCommitment(c.Request().Context(), cm)
		} else {
			cm, err = n.svc.UpdateCommitment(c.Request().Context(), cm)
		}
	}
	if errors.Is(err, ErrExists) {
		err = &plan.ValidationError{Fields: []plan.FieldError{{Field: "id", Message: "a commitment with this identifier already exists"}}}
	}
	if err != nil {
		errs, other := formErrorsOf(err)
		if other != nil {
			return other
		}
		return n.renderCommitmentForm(c, http.StatusUnprocessableEntity, isNew, in, errs)
	}
	return c.Redirect(http.StatusSeeOther, "/commitments/"+url.PathEscape(cm.ID))
}

func (n *Node) commitmentDeleteSubmit(c echo.Context) error {
	if err := n.svc.DeleteCommitment(c.Request().Context(), c.Param("id")); err != nil {
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
	U          updateJSON
	Evidence   string
	Milestones []milestoneChoice
	Langs      []langOpt
	Ch         choices
	Errors     []plan.FieldError
	Today      string
}

func (n *Node) renderUpdateForm(c echo.Context, status int, cm plan.Commitment, u updateJSON, errs []plan.FieldError) error {
	ch, err := n.choices(c)
	if err != nil {
		return err
	}
	lang := web.Lang(c)
	v := updateFormView{CommitmentID: cm.ID, Title: tv(cm.Title, lang), U: u, Evidence: strings.Join(u.Evidence, "\n"),
		Langs: n.langOpts(c), Ch: ch, Errors: errs, Today: string(ogp.DateOf(n.fed.Now())), UpdateID: u.ID,
		Action: "/admin/commitments/" + url.PathEscape(cm.ID) + "/updates"}
	title := web.T(c, "node_update_form_title")
	if u.ID != "" {
		v.Action += "/" + url.PathEscape(u.ID)
		title = web.T(c, "node_update_edit_title")
	}
	if v.U.Text == nil {
		v.U.Text = textJSON{}
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

func (n *Node) liveCommitment(c echo.Context) (plan.Commitment, error) {
	cm, err := n.svc.store.GetCommitment(c.Request().Context(), c.Param("id"))
	if err == nil && cm.Deleted {
		err = web.NewError(http.StatusGone, "commitment withdrawn")
	}
	return cm, err
}

func (n *Node) updateForm(c echo.Context) error {
	cm, err := n.liveCommitment(c)
	if err != nil {
		return err
	}
	return n.renderUpdateForm(c, http.StatusOK, cm, updateJSON{Date: string(ogp.DateOf(n.fed.Now()))}, nil)
}

func (n *Node) updateSubmit(c echo.Context) error {
	cm, err := n.liveCommitment(c)
	if err != nil {
		return err
	}
	in := n.updateFromForm(c, cm, false)
	u, err := n.updateFromJSON(cm.ID, in)
	if err == nil {
		u, err = n.svc.PostUpdate(c.Request().Context(), u)
	}
	if err != nil {
		errs, other := formErrorsOf(err)
		if other != nil {
			return other
		}
		return n.renderUpdateForm(c, http.StatusUnprocessableEntity, cm, in, errs)
	}
	return c.Redirect(http.StatusSeeOther, "/commitments/"+url.PathEscape(cm.ID)+"#update-"+u.ID)
}

// updateFromForm reads the progress-update form. A new update records only
// the milestones whose status it changes; an edit keeps every status chosen
// (the update said so, even if the commitment is there now).
func (n *Node) updateFromForm(c echo.Context, cm plan.Commitment, edit bool) updateJSON {
	in := updateJSON{Date: c.FormValue("date"), Text: n.langForm(c, "text"), Completion: c.FormValue("completion"),
		Evidence: lines(c.FormValue("evidence"))}
	for _, m := range cm.Milestones {
		if s := c.FormValue("ms_" + m.ID); s != "" && (edit || s != string(m.Status)) {
			in.MilestoneChanges = append(in.MilestoneChanges, changeJSON{m.ID, s})
		}
	}
	return in
}

// liveUpdate loads the commitment and update named in the path for the
// edit and delete forms: 404 unknown (or on another commitment), 410
// withdrawn or deleted.
func (n *Node) liveUpdate(c echo.Context) (plan.Commitment, plan.ProgressUpdate, error) {
	cm, err := n.liveCommitment(c)
	if err != nil {
		return cm, plan.ProgressUpdate{}, err
	}
	u, err := n.svc.store.GetUpdate(c.Request().Context(), c.Param("uid"))
	if err == nil && u.CommitmentID != cm.ID {
		err = web.NewError(http.StatusNotFound, "no such progress update on this commitment")
	}
	if err == nil && u.Deleted {
		err = web.NewError(http.StatusGone, "progress update deleted")
	}
	return cm, u, err
}

func (n *Node) updateEditForm(c echo.Context) error {
	cm, u, err := n.liveUpdate(c)
	if err != nil {
		return err
	}
	return n.renderUpdateForm(c, http.StatusOK, cm, n.updateToJSON(u), nil)
}

func (n *Node) updateEditSubmit(c echo.Context) error {
	cm, old, err := n.liveUpdate(c)
	if err != nil {
		return err
	}
	in := n.updateFromForm(c, cm, true)
	in.ID = old.ID
	u, err := n.updateFromJSON(cm.ID, in)
	if err == nil {
		u.ID = old.ID
		_, _, err = n.svc.EditUpdate(c.Request().Context(), u)
	}
	if err != nil {
		errs, other := formErrorsOf(err)
		if other != nil {
			return other
		}
		return n.renderUpdateForm(c, http.StatusUnprocessableEntity, cm, in, errs)
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
func (n *Node) updateDeleteForm(c echo.Context) error {
	cm, u, err := n.liveUpdate(c)
	if err != nil {
		return err
	}
	lang := web.Lang(c)
	v := updateDeleteView{CommitmentID: cm.ID, Title: tv(cm.Title, lang), U: n.updateRowOf(c, cm, u, lang),
		Action: "/admin/commitments/" + url.PathEscape(cm.ID) + "/updates/" + url.PathEscape(u.ID) + "/delete"}
	return c.Render(http.StatusOK, "update_delete.html", web.Page{Title: web.T(c, "node_update_delete_title"), Data: v})
}

func (n *Node) updateDeleteSubmit(c echo.Context) error {
	id := c.Param("id")
	if err := n.svc.DeleteUpdate(c.Request().Context(), id, c.Param("uid")); err != nil {
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

func (n *Node) renderTokens(c echo.Context, status int, v tokensView) error {
	toks, err := n.auth.Tokens(c.Request().Context())
	if err != nil {
		return err
	}
	v.Tokens = slices.DeleteFunc(toks, func(t auth.Token) bool { return t.RevokedAt != nil })
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Render(status, "tokens.html", web.Page{Title: web.T(c, "node_tokens_title"), Data: v})
}

func (n *Node) tokensPage(c echo.Context) error {
	return n.renderTokens(c, http.StatusOK, tokensView{})
}

func (n *Node) tokenCreate(c echo.Context) error {
	plain, _, err := n.auth.CreateToken(c.Request().Context(), auth.CurrentPrincipal(c), c.FormValue("label"))
	if errors.Is(err, auth.ErrBadLabel) {
		return n.renderTokens(c, http.StatusUnprocessableEntity, tokensView{Errors: []plan.FieldError{{Field: "label", Message: "a label must have 1 to 100 characters"}}})
	}
	if err != nil {
		return err
	}
	return n.renderTokens(c, http.StatusOK, tokensView{New: plain})
}

func (n *Node) tokenRevoke(c echo.Context) error {
	if err := n.auth.RevokeToken(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/tokens")
}
