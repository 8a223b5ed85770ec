package api

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/hub/members"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/web"
)

// The staff membership endpoints answer JSON to API clients (Bearer token or
// Accept: application/json) and a minimal HTML page with forms to browsers;
// the styled staff pages belong to hub/pages and post to the same routes.

type memberJSON struct {
	members.Member
	Health string `json:"health"`
}

var staffPage = template.Must(template.New("staff").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Members</title></head><body>
<h1>Member nodes</h1>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Path}}">
<input type="hidden" name="_csrf" value="{{.CSRF}}">
<label>Handle or actor URL <input name="handle" required placeholder="@jalisco@jalisco.example"></label>
<button>Add and follow</button></form>
<table><thead><tr><th>Name</th><th>Handle</th><th>State</th><th>Follow</th><th>Health</th><th>Last delivery</th><th>Lag</th><th>Last backfill</th><th></th></tr></thead><tbody>
{{range .Members}}<tr><td>{{.Name}}</td><td>{{.Handle}}</td><td>{{.State}}</td><td>{{.FollowState}}</td><td>{{.Health}}</td>
<td>{{if not .LastDelivery.IsZero}}{{.LastDelivery.Format "2006-01-02 15:04"}}{{end}}</td><td>{{.Lag}}</td>
<td>{{if not .LastBackfill.IsZero}}{{.LastBackfill.Format "2006-01-02 15:04"}}{{end}} {{.BackfillError}}</td>
<td>{{$a := .Actor}}{{range $.Actions}}<form method="post" action="{{$.Path}}/{{.}}"><input type="hidden" name="_csrf" value="{{$.CSRF}}"><input type="hidden" name="actor" value="{{$a}}"><button>{{.}}</button></form>{{end}}</td></tr>
{{end}}</tbody></table></body></html>`))

func (h *handlers) wantsJSON(c echo.Context) bool {
	p := auth.CurrentPrincipal(c)
	return (p != nil && p.Via == auth.ViaToken) || web.WantsJSON(c.Request()) || !web.WantsHTML(c.Request())
}

func (h *handlers) staffList(c echo.Context) error { return h.staffRender(c, http.StatusOK, "") }

func (h *handlers) staffRender(c echo.Context, status int, errMsg string) error {
	list, err := h.Members.List(c.Request().Context())
	if err != nil {
		return err
	}
	now := time.Now()
	items := make([]memberJSON, 0, len(list))
	for _, m := range list {
		items = append(items, memberJSON{Member: m, Health: m.Health(now)})
	}
	if h.wantsJSON(c) {
		if errMsg != "" {
			return echo.NewHTTPError(status, errMsg)
		}
		return c.JSON(status, map[string]any{"items": items})
	}
	var b strings.Builder
	if err := staffPage.Execute(&b, map[string]any{
		"Members": items, "CSRF": auth.CSRFToken(c), "Path": PathStaff, "Error": errMsg,
		"Actions": []string{"suspend", "resume", "remove"},
	}); err != nil {
		return err
	}
	return c.HTML(status, b.String())
}

func (h *handlers) staffAdd(c echo.Context) error {
	handle := strings.TrimSpace(c.FormValue("handle"))
	if handle == "" {
		var body struct {
			Handle string `json:"handle"`
		}
		if strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) {
			_ = c.Bind(&body)
		}
		handle = strings.TrimSpace(body.Handle)
	}
	if handle == "" {
		return badRequest("handle: required (@name@host or an actor URL)")
	}
	m, err := h.Members.Add(c.Request().Context(), handle)
	if err != nil {
		if h.wantsJSON(c) {
			return echo.NewHTTPError(http.StatusBadGateway, err.Error())
		}
		return h.staffRender(c, http.StatusBadGateway, err.Error())
	}
	if h.wantsJSON(c) {
		return c.JSON(http.StatusCreated, m)
	}
	return c.Redirect(http.StatusSeeOther, PathStaff)
}

func (h *handlers) staffState(c echo.Context) error {
	actor := strings.TrimSpace(c.FormValue("actor"))
	if actor == "" {
		return badRequest("actor: required")
	}
	ctx := c.Request().Context()
	var m members.Member
	var err error
	switch {
	case strings.HasSuffix(c.Path(), "/suspend"):
		m, err = h.Members.Suspend(ctx, actor)
	case strings.HasSuffix(c.Path(), "/resume"):
		m, err = h.Members.Resume(ctx, actor)
	default:
		m, err = h.Members.Remove(ctx, actor)
	}
	if errors.Is(err, members.ErrNotMember) {
		return echo.NewHTTPError(http.StatusNotFound, "not a member")
	}
	if err != nil {
		return err
	}
	if h.wantsJSON(c) {
		return c.JSON(http.StatusOK, m)
	}
	return c.Redirect(http.StatusSeeOther, PathStaff)
}
