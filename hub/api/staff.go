package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/hub/members"
)

// The staff membership API is JSON only (scripts use an API token; the
// staff HTML page is hub/pages' /staff/members, which calls members
// directly). It lists members with health and changes membership.

func (h *handlers) staffList(c echo.Context) error {
	list, err := h.Members.List(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
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
		return echo.NewHTTPError(http.StatusBadGateway, err.Error())
	}
	return c.JSON(http.StatusCreated, m)
}

func (h *handlers) staffState(c echo.Context) error {
	actor := strings.TrimSpace(c.FormValue("actor"))
	if actor == "" && strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) {
		var body struct {
			Actor string `json:"actor"`
		}
		_ = c.Bind(&body)
		actor = strings.TrimSpace(body.Actor)
	}
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
	return c.JSON(http.StatusOK, m)
}
