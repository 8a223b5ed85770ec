package pages

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/members"
	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/search"
	"github.com/ogpnet/ogpnet/internal/web"
)

// render answers a page rendered into memory by the hub's renderer, so a
// template error becomes a clean 500.
func (h *handlers) render(c echo.Context, status int, name, title string, data any, alternate string) error {
	return h.d.Renderer.Respond(c, status, name, web.Page{Title: title, Data: data, Alternate: alternate})
}

func (h *handlers) today() ogp.Date { return ogp.DateOf(h.d.Now().UTC()) }

func notFound(c echo.Context) error {
	return web.NewError(http.StatusNotFound, web.T(c, "hub_not_found"))
}

func (h *handlers) home(c echo.Context) error {
	lang := web.Lang(c)
	return h.render(c, http.StatusOK, "home.html", web.T(c, "hub_home_title"), buildHome(h.d.Model, lang), "")
}

func (h *handlers) pilotByHandle(c echo.Context) error {
	handle, err := url.PathUnescape(c.Param("handle"))
	if err != nil {
		return notFound(c)
	}
	idx := indexPilots(h.d.Model)
	actor, old := idx.pilotBySlug(handle)
	if actor == "" {
		return notFound(c)
	}
	if old || handle != idx.slugOf[actor] {
		return redirectKeepingQuery(c, idx.pilotPath(actor), nil)
	}
	p, ok := h.d.Model.Pilot(actor)
	if !ok {
		return notFound(c)
	}
	return h.pilotPage(c, p)
}

// pilotByIRI serves /pilot?actor=: the readable address when the pilot has
// one (301), else the page itself.
func (h *handlers) pilotByIRI(c echo.Context) error {
	actor := c.QueryParam("actor")
	p, ok := h.d.Model.Pilot(actor)
	if !ok {
		return notFound(c)
	}
	idx := indexPilots(h.d.Model)
	if _, ok := idx.slugOf[actor]; ok {
		return redirectKeepingQuery(c, idx.pilotPath(actor), []string{"actor"})
	}
	return h.pilotPage(c, p)
}

// redirectKeepingQuery answers 301 to path, carrying the request's query
// (lang, for one) except the parameters drop names.
func redirectKeepingQuery(c echo.Context, path string, drop []string) error {
	q := c.Request().URL.Query()
	for _, k := range drop {
		q.Del(k)
	}
	return c.Redirect(http.StatusMovedPermanently, withQuery(path, q, ""))
}

func (h *handlers) pilotPage(c echo.Context, p readmodel.Pilot) error {
	v := buildPilot(h.d.Model, web.Lang(c), p)
	v.Learning = buildLearning(h.d.Model, web.Lang(c), h.d.Discussion,
		func(c readmodel.Commitment) bool { return c.Pilot == p.Actor }, PathDiscussion)
	return h.render(c, http.StatusOK, "pilot.html", p.Name, v, p.Actor)
}

// commitmentByKey serves /pilots/<slug>/commitments/<key>.
func (h *handlers) commitmentByKey(c echo.Context) error {
	handle, err1 := url.PathUnescape(c.Param("handle"))
	key, err2 := url.PathUnescape(c.Param("key"))
	if err1 != nil || err2 != nil {
		return notFound(c)
	}
	idx := indexPilots(h.d.Model)
	actor, old := idx.pilotBySlug(handle)
	if actor == "" {
		return notFound(c)
	}
	id, ok := idx.commitmentByKey(actor, key)
	if !ok {
		return notFound(c)
	}
	if old || handle != idx.slugOf[actor] {
		return redirectKeepingQuery(c, idx.commitmentPath(id, actor), nil)
	}
	return h.commitmentPage(c, id)
}

// commitment serves /commitment?id=: the readable address when the
// commitment has one (301), else the page itself.
func (h *handlers) commitment(c echo.Context) error {
	id := c.QueryParam("id")
	cm, ok := h.d.Model.Commitment(id)
	if !ok {
		return notFound(c)
	}
	idx := indexPilots(h.d.Model)
	if p := idx.commitmentPath(id, cm.Pilot); p != CommitmentPath(id) {
		return redirectKeepingQuery(c, p, []string{"id"})
	}
	return h.commitmentPage(c, id)
}

func (h *handlers) commitmentPage(c echo.Context, id string) error {
	cm, ok := h.d.Model.Commitment(id)
	if !ok {
		return notFound(c)
	}
	lang := web.Lang(c)
	v := buildCommitment(h.d.Model, lang, cm, h.similar, h.today())
	v.Thread = buildThread(lang, h.d.Discussion, cm)
	v.Ask = buildAskForm(h.d.Model, cm)
	return h.render(c, http.StatusOK, "commitment.html", v.Name, v, cm.ID)
}

func (h *handlers) similar(id string, limit int) []peerMatch {
	var out []peerMatch
	for _, m := range h.d.Peers.Similar(id, limit) {
		out = append(out, peerMatch{ID: m.ID, SharedAreas: m.SharedAreas, Words: m.Words, Text: m.Text})
	}
	return out
}

func (h *handlers) compare(c echo.Context) error {
	v, err := buildCompareWith(h.d.Model, web.Lang(c), c.QueryParams(), h.today(), h.d.Questions)
	if errors.Is(err, readmodel.ErrBadCursor) {
		return web.NewError(http.StatusBadRequest, web.T(c, "hub_err_cursor"))
	} else if err != nil {
		return err
	}
	v.Learning = buildLearning(h.d.Model, web.Lang(c), h.d.Discussion,
		func(cm readmodel.Commitment) bool { return v.Form.Match(&cm) }, PathDiscussion)
	status := http.StatusOK
	if len(v.Errors) > 0 {
		// The page still renders (with the valid filters applied and the
		// errors listed), but the status tells scripts the query was wrong.
		status = http.StatusBadRequest
	}
	return h.render(c, status, "compare.html", web.T(c, "hub_compare_title"), v, "")
}

func (h *handlers) sideBySide(c echo.Context) error {
	v, err := buildSideBySide(h.d.Model, web.Lang(c), c.QueryParams())
	if errors.Is(err, readmodel.ErrBadCursor) {
		return web.NewError(http.StatusBadRequest, web.T(c, "hub_err_cursor"))
	} else if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "sidebyside.html", web.T(c, "hub_side_title"), v, "")
}

func (h *handlers) search(c echo.Context) error {
	v, err := buildSearch(h.d.Search, web.Lang(c), c.QueryParams())
	if errors.As(err, new(errSearchPage)) {
		return web.NewError(http.StatusBadRequest, web.T(c, "hub_search_err_page", "Max", maxSearchPage))
	} else if errors.Is(err, search.ErrQuery) {
		return web.NewError(http.StatusBadRequest, web.T(c, "hub_search_err_query", "Words", search.MaxWords, "Bytes", search.MaxQueryBytes))
	} else if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "search.html", web.T(c, "hub_search_title"), v, "")
}

// staffDone maps the ?done= confirmation after a redirect to its message.
var staffDone = map[string]string{
	"added":     "hub_staff_added",
	"suspended": "hub_staff_suspended",
	"resumed":   "hub_staff_resumed",
	"removed":   "hub_staff_removed",
}

func (h *handlers) staffMembers(c echo.Context) error {
	return h.staffPage(c, http.StatusOK, "", "")
}

func (h *handlers) staffPage(c echo.Context, status int, handle, errMsg string) error {
	lang := web.Lang(c)
	list, err := h.d.Members.List(c.Request().Context())
	if err != nil {
		return err
	}
	v := buildStaff(h.d.Model, lang, list, h.d.Now())
	v.Handle, v.Error = handle, errMsg
	if id, ok := staffDone[c.QueryParam("done")]; ok {
		v.Done = web.T(c, id)
	}
	return h.render(c, status, "staff_members.html", web.T(c, "hub_staff_title"), v, "")
}

func (h *handlers) staffAdd(c echo.Context) error {
	handle := strings.TrimSpace(c.FormValue("handle"))
	if handle == "" {
		return h.staffPage(c, http.StatusUnprocessableEntity, handle, web.T(c, "hub_staff_err_empty"))
	}
	if _, err := h.d.Members.Add(c.Request().Context(), handle); err != nil {
		h.d.Logger.WarnContext(c.Request().Context(), "adding member failed", "handle", handle, "error", err.Error())
		// The cause (unknown host, no such account, no outbox…) helps staff
		// fix a typo; it carries no secret.
		return h.staffPage(c, http.StatusUnprocessableEntity, handle, web.T(c, "hub_staff_err_add", "Error", err.Error()))
	}
	return c.Redirect(http.StatusSeeOther, PathStaff+"?done=added")
}

func (h *handlers) staffAction(c echo.Context) error {
	ctx := c.Request().Context()
	actor := c.FormValue("actor")
	var err error
	var done string
	switch c.FormValue("op") {
	case "suspend":
		_, err = h.d.Members.Suspend(ctx, actor)
		done = "suspended"
	case "resume":
		_, err = h.d.Members.Resume(ctx, actor)
		done = "resumed"
	case "remove":
		_, err = h.d.Members.Remove(ctx, actor)
		done = "removed"
	default:
		return web.NewError(http.StatusBadRequest, web.T(c, "hub_staff_err_op"))
	}
	if errors.Is(err, members.ErrNotMember) {
		return notFound(c)
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, PathStaff+"?done="+done)
}
