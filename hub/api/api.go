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
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/members"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/auth"
)

// Paths.
const (
	PathPilots      = "/api/v1/pilots"
	PathPilot       = "/api/v1/pilot"
	PathCommitments = "/api/v1/commitments"
	PathCommitment  = "/api/v1/commitment"
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
	// Hidden reports pilots hidden from public queries (default: model's).
}

type handlers struct{ Deps }

// Register mounts the routes on e.
func Register(e *echo.Echo, d Deps) {
	h := &handlers{d}
	e.GET(PathPilots, h.pilots)
	e.GET(PathPilot, h.pilot)
	e.GET(PathCommitments, h.commitments)
	e.GET(PathCommitment, h.commitment)
	e.GET(PathUpdates, h.updates)
	e.GET(PathMatrix, h.matrix)
	e.GET(PathThemes, h.themes)
	e.GET(PathStats, h.stats)
	e.GET(PathFeed, h.feed)
	e.GET(PathExportCSV, h.exportCSV)
	e.GET(PathExportJSON, h.exportJSON)
	if d.Auth != nil && d.Members != nil {
		g := e.Group(PathStaff, d.Auth.Middleware(), auth.RequireOperator, d.Auth.CSRF())
		g.GET("", h.staffList)
		g.POST("", h.staffAdd)
		g.POST("/suspend", h.staffState)
		g.POST("/resume", h.staffState)
		g.POST("/remove", h.staffState)
	}
}

func badRequest(msg string) error { return echo.NewHTTPError(http.StatusBadRequest, msg) }

// filterFrom reads the shared filter parameters (docs/api-hub.md).
func filterFrom(q url.Values) (readmodel.Filter, error) {
	f := readmodel.Filter{
		Pilots: multi(q, "pilot"),
		Theme:  strings.TrimSpace(q.Get("theme")),
		Query:  q.Get("q"),
		Sort:   q.Get("sort"),
		IDs:    multi(q, "id"),
	}
	if v := q.Get("value"); v != "" {
		if !ogp.Value(v).Valid() {
			return f, badRequest("value: unknown OGP value " + strconv.Quote(v))
		}
		f.Value = ogp.Value(v)
	}
	for _, c := range multi(q, "completion") {
		if !ogp.Completion(c).Valid() {
			return f, badRequest("completion: unknown level " + strconv.Quote(c))
		}
		f.Completion = append(f.Completion, ogp.Completion(c))
	}
	if s := q.Get("starred"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return f, badRequest("starred: want true or false")
		}
		f.Starred = &b
	}
	for _, p := range []struct {
		name string
		dst  *ogp.Date
	}{{"from", &f.From}, {"to", &f.To}} {
		if s := q.Get(p.name); s != "" {
			d, err := ogp.ParseDate(s)
			if err != nil {
				return f, badRequest(p.name + ": want YYYY-MM-DD")
			}
			*p.dst = d
		}
	}
	switch f.Sort {
	case "", readmodel.SortPilot, readmodel.SortLastUpdate, readmodel.SortName:
	default:
		return f, badRequest("sort: want pilot, last-update or name")
	}
	return f, nil
}

// multi reads a repeatable parameter, also accepting comma-separated values
// (IRIs never contain a bare comma in practice, but pilot is read unsplit).
func multi(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		if name == "pilot" || name == "id" {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
			continue
		}
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
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
	f, err := filterFrom(q)
	if err != nil {
		return err
	}
	limit := 50
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > readmodel.MaxLimit {
			return badRequest("limit: want 1 to " + strconv.Itoa(readmodel.MaxLimit))
		}
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
	limit := 50
	if s := c.QueryParam("limit"); s != "" {
		var err error
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > readmodel.MaxLimit {
			return badRequest("limit: want 1 to " + strconv.Itoa(readmodel.MaxLimit))
		}
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
	f, err := filterFrom(c.QueryParams())
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
