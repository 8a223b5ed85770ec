package pages

import (
	"net/http"
	"net/url"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/internal/web"
)

// PathAsk sends a government's operator from a hub commitment page to the
// question form of their own node (issue 10: peer questions). The hub does
// not know who the reader is, so the reader names their pilot; the hub only
// redirects to that member node's form, which asks them to sign in there.
const PathAsk = "/ask"

// askForm is the "ask as a government" form under a commitment's thread:
// every active pilot but the commitment's own.
type askForm struct {
	Commitment string
	Pilots     []readmodel.PilotInfo
}

func buildAskForm(m *readmodel.Model, c readmodel.Commitment) *askForm {
	f := &askForm{Commitment: c.ID}
	for _, p := range m.Pilots() {
		if p.Actor == c.Pilot || p.State != readmodel.StateActive {
			continue
		}
		f.Pilots = append(f.Pilots, p.PilotInfo)
	}
	sort.Slice(f.Pilots, func(i, j int) bool { return f.Pilots[i].Name < f.Pilots[j].Name })
	if len(f.Pilots) == 0 {
		return nil
	}
	return f
}

// ask redirects (303) to <pilot's node>/admin/questions/new?inReplyTo=<IRI>.
// Both parameters must name what the hub holds: an active pilot other than
// the commitment's own, and a commitment; anything else is a 400 naming it,
// so the hub never redirects to an address a reader made up.
func (h *handlers) ask(c echo.Context) error {
	cm, ok := h.d.Model.Commitment(c.QueryParam("commitment"))
	if !ok {
		return web.NewError(http.StatusBadRequest, web.T(c, "hub_ask_err_commitment"))
	}
	p, ok := h.d.Model.Pilot(c.QueryParam("pilot"))
	if !ok || p.State != readmodel.StateActive || p.Actor == cm.Pilot {
		return web.NewError(http.StatusBadRequest, web.T(c, "hub_ask_err_pilot"))
	}
	actor, err := url.Parse(p.Actor)
	if err != nil || (actor.Scheme != "https" && actor.Scheme != "http") || actor.Host == "" {
		return web.NewError(http.StatusBadRequest, web.T(c, "hub_ask_err_pilot"))
	}
	to := url.URL{Scheme: actor.Scheme, Host: actor.Host, Path: "/admin/questions/new", RawQuery: url.Values{"inReplyTo": {cm.ID}}.Encode()}
	return c.Redirect(http.StatusSeeOther, to.String())
}
