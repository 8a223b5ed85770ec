package pages

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/hub/discussion"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/web"
)

func (h *handlers) discussion(c echo.Context) error {
	area := strings.TrimSpace(c.QueryParam("area"))
	if len(area) > 100 {
		return web.NewError(http.StatusBadRequest, web.T(c, "hub_disc_err_area"))
	}
	lang := web.Lang(c)
	v := buildDiscussion(h.d.Model, lang, h.d.Discussion, area)
	title := web.T(c, "hub_disc_title")
	if area != "" {
		title = web.T(c, "hub_disc_title_area", "Area", v.AreaName)
	}
	return h.render(c, http.StatusOK, "discussion.html", title, v, "")
}

// staffDiscussionDone maps ?done= after a moderation action to its message.
var staffDiscussionDone = map[string]string{
	"approve":      "hub_disc_done_approve",
	"hide":         "hub_disc_done_hide",
	"block-actor":  "hub_disc_done_block_actor",
	"block-domain": "hub_disc_done_block_domain",
	"unblock":      "hub_disc_done_unblock",
}

func (h *handlers) staffDiscussion(c echo.Context) error {
	return h.staffDiscussionPage(c, http.StatusOK, "")
}

func (h *handlers) staffDiscussionPage(c echo.Context, status int, errMsg string) error {
	v := buildStaffDiscussion(h.d.Model, web.Lang(c), h.d.Discussion)
	v.Error = errMsg
	if id, ok := staffDiscussionDone[c.QueryParam("done")]; ok {
		v.Done = web.T(c, id)
	}
	return h.render(c, status, "staff_discussion.html", web.T(c, "hub_disc_staff_title"), v, "")
}

// staffDiscussionAction runs one moderation action from the staff page;
// the audit log names the signed-in staff member.
func (h *handlers) staffDiscussionAction(c echo.Context) error {
	ctx := c.Request().Context()
	by := "staff"
	if p := auth.CurrentPrincipal(c); p != nil {
		by = p.Subject
		if p.Email != "" {
			by = p.Email
		}
	}
	d := h.d.Discussion
	op := c.FormValue("op")
	var err error
	switch op {
	case "approve":
		err = d.Approve(ctx, c.FormValue("id"), by)
	case "hide":
		err = d.Hide(ctx, c.FormValue("id"), by)
	case "block-actor":
		err = d.BlockActor(ctx, c.FormValue("actor"), by)
	case "block-domain":
		err = d.BlockDomain(ctx, c.FormValue("domain"), by)
	case "unblock":
		err = d.Unblock(ctx, c.FormValue("key"), by)
	default:
		return web.NewError(http.StatusBadRequest, web.T(c, "hub_disc_err_op"))
	}
	switch {
	case errors.Is(err, discussion.ErrNoPost):
		return h.staffDiscussionPage(c, http.StatusNotFound, web.T(c, "hub_disc_err_no_post"))
	case errors.Is(err, discussion.ErrBadTarget):
		return h.staffDiscussionPage(c, http.StatusUnprocessableEntity, web.T(c, "hub_disc_err_target"))
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, PathStaffDiscussion+"?done="+op)
}
