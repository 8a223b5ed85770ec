package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/internal/jsonlimit"
	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/plan/jsonshape"
)

// The JSON API speaks the public shapes of node/plan/jsonshape. Requests
// bind into them, never into domain or storage structs, and are mapped by
// their one converter; dates are strings there so a bad one is reported as
// a 422 naming its field, like every other validation error.

// mapped returns the mapping errors plus the domain's own verdict on the
// mapped value (minus fields already reported), so one answer lists every
// problem; nil when the mapping went well (the service validates then).
func mapped(fields []plan.FieldError, validate func() error) error {
	if len(fields) == 0 {
		return nil
	}
	f := plan.ValidationError{Fields: fields}
	seen := map[string]bool{}
	for _, fe := range fields {
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

// commitmentFromJSON maps a commitment from the public JSON shape. When
// the shape itself has errors, the answer also lists every other invalid
// field, those checked against the plan included, so that one 422 names
// them all.
func (h *Handlers) commitmentFromJSON(ctx context.Context, in jsonshape.Commitment) (plan.Commitment, error) {
	c, errs := in.Domain(h.site.Lang)
	return c, mapped(errs, func() error { return h.svc.CheckCommitment(ctx, c) })
}

func (h *Handlers) commitmentToJSON(c plan.Commitment) jsonshape.Commitment {
	return jsonshape.FromCommitment(c, h.iris.Commitment(c.ID))
}

func (h *Handlers) planFromJSON(in jsonshape.Plan) (plan.ActionPlan, error) {
	p, errs := in.Domain(h.site.Lang)
	if p.Jurisdiction == "" {
		p.Jurisdiction = h.site.Name
	}
	return p, mapped(errs, p.Validate)
}

func (h *Handlers) planToJSON(p plan.ActionPlan, cs []plan.Commitment) jsonshape.Plan {
	return jsonshape.FromPlan(p, cs, h.iris.Plan(p.ID))
}

// updateFromJSON maps a progress update on commitment commitmentID (the
// one in the URL); its id, if any, is the caller's to set.
func (h *Handlers) updateFromJSON(ctx context.Context, commitmentID string, in jsonshape.Update) (plan.ProgressUpdate, error) {
	u, errs := in.Domain(h.site.Lang)
	u.ID, u.CommitmentID = "", commitmentID
	// Milestone changes are checked against the commitment here too, so
	// unknown milestones come in the same answer as the rest.
	return u, mapped(errs, func() error { return h.svc.CheckUpdate(ctx, u) })
}

func (h *Handlers) updateToJSON(u plan.ProgressUpdate) jsonshape.Update {
	return jsonshape.FromUpdate(u, h.iris.Update(u.CommitmentID, u.ID))
}

// urlID is an id a request body may repeat: its field, the value given, and
// the path parameter it must then equal.
type urlID struct{ field, given, param string }

// sameAsURL checks that every id the body gives matches the URL.
func sameAsURL(c echo.Context, ids ...urlID) error {
	var wrong []web.FieldError
	for _, id := range ids {
		if id.given != "" && id.given != c.Param(id.param) {
			wrong = append(wrong, web.FieldError{Field: id.field, Message: "must match the URL or be left out"})
		}
	}
	if len(wrong) > 0 {
		return web.Invalid(wrong...)
	}
	return nil
}

// jsonList converts each item for a JSON answer; none is [] (never null).
func jsonList[T, J any](items []T, toJSON func(T) J) []J {
	out := make([]J, 0, len(items))
	for _, it := range items {
		out = append(out, toJSON(it))
	}
	return out
}

// bindPut decodes a PUT body (as bindJSON) whose id, when it gives one,
// must be the URL's; afterwards *id is the URL's.
func bindPut(c echo.Context, v any, id *string) error {
	if err := bindJSON(c, v); err != nil {
		return err
	}
	if err := sameAsURL(c, urlID{"id", *id, "id"}); err != nil {
		return err
	}
	*id = c.Param("id")
	return nil
}

// bindJSON decodes the request body strictly: unknown fields and trailing
// data are errors (a typo must not be silently dropped).
func bindJSON(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return web.NewError(http.StatusUnsupportedMediaType, "send application/json")
	}
	body, err := io.ReadAll(c.Request().Body)
	if err == nil {
		// The shape before the decoder builds anything (jsonlimit.API).
		if lerr := jsonlimit.API.Check(body); lerr != nil {
			return web.NewError(http.StatusBadRequest, lerr.Error())
		}
	}
	dec := json.NewDecoder(io.MultiReader(bytes.NewReader(body), errReader{err}))
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

// errReader returns err once the body read so far is decoded (nil: EOF),
// so that a read error (a body over the cap) still reaches the decoder's
// error handling above.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err == nil {
		return 0, io.EOF
	}
	return 0, r.err
}

func (h *Handlers) apiPlans(c echo.Context) error {
	ctx := c.Request().Context()
	ps, err := h.store.ListPlans(ctx)
	if err != nil {
		return err
	}
	out := []jsonshape.Plan{}
	for _, p := range ps {
		cs, err := h.store.ListCommitments(ctx, p.ID)
		if err != nil {
			return err
		}
		out = append(out, h.planToJSON(p, cs))
	}
	return c.JSON(http.StatusOK, map[string]any{"plans": out})
}

func (h *Handlers) apiPlan(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := h.store.GetPlan(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	cs, err := h.store.ListCommitments(ctx, p.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.planToJSON(p, cs))
}

func (h *Handlers) apiPutPlan(c echo.Context) error {
	var in jsonshape.Plan
	if err := bindPut(c, &in, &in.ID); err != nil {
		return err
	}
	p, err := h.planFromJSON(in)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	saved, kind, err := h.svc.SavePlan(ctx, p)
	if err != nil {
		return err
	}
	cs, err := h.store.ListCommitments(ctx, saved.ID)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if kind == "created" {
		status = http.StatusCreated
	}
	return c.JSON(status, h.planToJSON(saved, cs))
}

func (h *Handlers) apiCommitments(c echo.Context) error {
	cs, err := h.store.ListCommitments(c.Request().Context(), c.QueryParam("plan"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"commitments": jsonList(cs, h.commitmentToJSON)})
}

func (h *Handlers) apiCommitment(c echo.Context) error {
	cm, err := h.svc.LiveCommitment(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.commitmentToJSON(cm))
}

func (h *Handlers) apiCreateCommitment(c echo.Context) error {
	var in jsonshape.Commitment
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	cm, err := h.commitmentFromJSON(c.Request().Context(), in)
	if err != nil {
		return err
	}
	saved, err := h.svc.CreateCommitment(c.Request().Context(), cm)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, h.iris.Commitment(saved.ID))
	return c.JSON(http.StatusCreated, h.commitmentToJSON(saved))
}

func (h *Handlers) apiPutCommitment(c echo.Context) error {
	var in jsonshape.Commitment
	if err := bindPut(c, &in, &in.ID); err != nil {
		return err
	}
	cm, err := h.commitmentFromJSON(c.Request().Context(), in)
	if err != nil {
		return err
	}
	saved, err := h.svc.UpdateCommitment(c.Request().Context(), cm)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.commitmentToJSON(saved))
}

func (h *Handlers) apiDeleteCommitment(c echo.Context) error {
	if err := h.svc.DeleteCommitment(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handlers) apiUpdates(c echo.Context) error {
	ctx := c.Request().Context()
	cm, err := h.svc.LiveCommitment(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	ups, err := h.store.ListUpdates(ctx, cm.ID, 0)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"updates": jsonList(ups, h.updateToJSON)})
}

func (h *Handlers) apiPostUpdate(c echo.Context) error {
	var in jsonshape.Update
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	u, err := h.updateFromJSON(c.Request().Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	saved, err := h.svc.PostUpdate(c.Request().Context(), u)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, h.iris.Update(saved.CommitmentID, saved.ID))
	return c.JSON(http.StatusCreated, h.updateToJSON(saved))
}

// apiPutUpdate replaces the content of a progress update. Like a new one,
// the body is validated against the commitment; "date" left out keeps the
// stored date. The commitment itself is never changed by it.
func (h *Handlers) apiPutUpdate(c echo.Context) error {
	var in jsonshape.Update
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	cid, _ := in.Commitment()
	if err := sameAsURL(c, urlID{"id", in.ID, "uid"}, urlID{"commitmentId", cid, "id"}); err != nil {
		return err
	}
	u, err := h.updateFromJSON(c.Request().Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	u.ID = c.Param("uid")
	saved, _, err := h.svc.EditUpdate(c.Request().Context(), u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.updateToJSON(saved))
}

// apiDeleteUpdate removes a progress update (204); its IRI then answers 410.
func (h *Handlers) apiDeleteUpdate(c echo.Context) error {
	if err := h.svc.DeleteUpdate(c.Request().Context(), c.Param("id"), c.Param("uid")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
