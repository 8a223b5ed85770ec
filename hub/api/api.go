// Package api serves the hub's machine-readable surface: the JSON API
// (/api/v1/...), Atom feeds, CSV and JSON exports, and the staff
// membership endpoints. Every handler is thin: it parses the query into a
// readmodel.Filter, asks the in-memory read model, and encodes.
package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/hub/discussion"
	"github.com/ogpnet/ogpnet/hub/members"
	"github.com/ogpnet/ogpnet/hub/peers"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/search"
	"github.com/ogpnet/ogpnet/internal/auth"
)

// Paths.
const (
	PathPilots      = "/api/v1/pilots"
	PathPilot       = "/api/v1/pilot"
	PathCommitments = "/api/v1/commitments"
	PathCommitment  = "/api/v1/commitment"
	PathPeers       = "/api/v1/commitment/peers"
	PathUpdates     = "/api/v1/updates"
	PathMatrix      = "/api/v1/matrix"
	PathThemes      = "/api/v1/themes"
	PathStats       = "/api/v1/stats"
	PathFeed        = "/feed.atom"
	PathExportCSV   = "/exports/commitments.csv"
	PathExportJSON  = "/exports/commitments.json"
	PathStaff       = "/api/v1/staff/members"
)

// Deps are what the handlers use.
type Deps struct {
	Model   *readmodel.Model
	Members *members.Service
	// Auth enables the staff routes; nil leaves them out.
	Auth    *auth.Auth
	BaseURL string // absolute, no trailing slash
	Title   string // feed titles
	// Search answers the search endpoint and feeds Peers. Nil: Register
	// makes one over Model; pass the pages' to keep one index per hub.
	Search *search.ModelIndex
	// Peers answers the peers endpoint. Nil: Register makes one over
	// Search.
	Peers *peers.ModelIndex
	// Discussion answers the discussion endpoint; nil leaves it out.
	Discussion *discussion.Service
}

// defaultLimit is the page size when the query names none.
const defaultLimit = 50

type handlers struct{ Deps }

// Register mounts the routes on e.
func Register(e *echo.Echo, d Deps) {
	if d.Search == nil {
		d.Search = search.NewModelIndex(d.Model)
	}
	if d.Peers == nil {
		d.Peers = peers.NewModelIndex(d.Search)
	}
	h := &handlers{d}
	for _, r := range []struct {
		path    string
		handler echo.HandlerFunc
	}{
		{PathPilots, h.pilots}, {PathPilot, h.pilot},
		{PathCommitments, h.commitments}, {PathCommitment, h.commitment}, {PathPeers, h.commitmentPeers}, {PathSearch, h.search},
		{PathUpdates, h.updates}, {PathMatrix, h.matrix}, {PathThemes, h.themes}, {PathStats, h.stats},
		{PathFeed, h.feed}, {PathExportCSV, h.exportCSV}, {PathExportJSON, h.exportJSON},
	} {
		e.GET(r.path, r.handler)
	}
	if d.Discussion != nil {
		e.GET(PathDiscussion, h.discussion)
	}
	if d.Auth != nil && d.Discussion != nil {
		g := e.Group(PathStaffDiscussion, d.Auth.Middleware(), auth.RequireOperator, d.Auth.CSRF())
		g.GET("", h.staffDiscussion)
		for _, op := range []string{"approve", "hide", "block-actor", "block-domain"} {
			g.POST("/"+op, h.staffModerate)
		}
	}
	if d.Auth != nil && d.Members != nil {
		g := e.Group(PathStaff, d.Auth.Middleware(), auth.RequireOperator, d.Auth.CSRF())
		g.GET("", h.staffList)
		g.POST("", h.staffAdd)
		g.POST("/suspend", h.staffState)
		g.POST("/resume", h.staffState)
		g.POST("/remove", h.staffState)
	}
}

func (h *handlers) pilots(c echo.Context) error {
	ps := h.Model.Pilots()
	items := make([]PilotJSON, 0, len(ps))
	for _, p := range ps {
		items = append(items, ToPilot(p))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "total": len(items)})
}

func (h *handlers) pilot(c echo.Context) error {
	p, ok := h.Model.Pilot(c.QueryParam("actor"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no such pilot")
	}
	return c.JSON(http.StatusOK, ToPilot(p))
}

func (h *handlers) commitments(c echo.Context) error {
	q := c.QueryParams()
	f, err := filterOf(q)
	if err != nil {
		return err
	}
	limit, err := limitOf(q, defaultLimit, readmodel.MaxLimit)
	if err != nil {
		return err
	}
	page, err := h.Model.Commitments(f, q.Get("cursor"), limit)
	if errors.Is(err, readmodel.ErrBadCursor) {
		return badRequest("cursor: not a cursor from this API")
	} else if err != nil {
		return err
	}
	items := make([]CommitmentJSON, 0, len(page.Items))
	for _, it := range page.Items {
		items = append(items, ToCommitment(it))
	}
	var next *string
	if page.Next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("cursor", page.Next)
		nq.Set("limit", strconv.Itoa(limit))
		u := h.BaseURL + PathCommitments + "?" + nq.Encode()
		next = &u
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "next": next, "total": page.Total})
}

func (h *handlers) commitment(c echo.Context) error {
	cm, ok := h.Model.Commitment(c.QueryParam("id"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no such commitment")
	}
	tl := h.Model.Timeline(cm.ID)
	ups := make([]UpdateJSON, 0, len(tl))
	for _, u := range tl {
		ups = append(ups, ToUpdate(u))
	}
	return c.JSON(http.StatusOK, map[string]any{"commitment": ToCommitment(cm), "timeline": ups})
}

func (h *handlers) updates(c echo.Context) error {
	limit, err := limitOf(c.QueryParams(), defaultLimit, readmodel.MaxLimit)
	if err != nil {
		return err
	}
	var list []readmodel.Update
	if p := c.QueryParam("pilot"); p != "" {
		list = h.Model.PilotTimeline(p, limit)
	} else {
		list = h.Model.Latest(limit)
	}
	items := make([]UpdateJSON, 0, len(list))
	for _, u := range list {
		items = append(items, ToUpdate(u))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (h *handlers) matrix(c echo.Context) error {
	f, err := filterOf(c.QueryParams())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.Model.Matrix(f))
}

func (h *handlers) themes(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"items": nonNil(h.Model.Themes())})
}

func (h *handlers) stats(c echo.Context) error {
	return c.JSON(http.StatusOK, h.Model.Totals())
}
