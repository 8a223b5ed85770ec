package node

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation"
	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/web"
)

// Object IRIs answer ActivityPub JSON or HTML at the same URL (design §3):
// the handlers below load the object once and pick the representation.

func apObject(c echo.Context, status int, body []byte) error {
	return c.Blob(status, federation.ContentType+"; charset=utf-8", body)
}

// gone answers a withdrawn object: 410 with its Tombstone for ActivityPub
// clients, the 410 error page for browsers.
func (n *Node) gone(c echo.Context, iri, formerType string, deleted time.Time) error {
	if web.WantsActivityJSON(c.Request()) {
		body, err := json.Marshal(ogp.Tombstone{Context: ogp.JSONLDContext(), ID: iri, Type: ogp.TypeTombstone,
			FormerType: formerType, Deleted: deleted.UTC()})
		if err != nil {
			return err
		}
		return apObject(c, http.StatusGone, body)
	}
	return web.NewError(http.StatusGone, "this object was withdrawn by its publisher")
}

func (n *Node) contextDocument(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.Blob(http.StatusOK, "application/ld+json; charset=utf-8", ogp.ContextDocument())
}

func (n *Node) commitmentObject(c echo.Context) error {
	web.SetVaryAccept(c)
	ctx := c.Request().Context()
	id := c.Param("id")
	iri := n.iris.Commitment(id)
	cm, err := n.svc.store.GetCommitment(ctx, id)
	if err != nil {
		return err
	}
	if cm.Deleted {
		return n.gone(c, iri, ogp.TypeCommitment, cm.DeletedAt)
	}
	if web.WantsActivityJSON(c.Request()) {
		body, err := ogp.MarshalObject(n.svc.wire.Commitment(cm))
		if err != nil {
			return err
		}
		return apObject(c, http.StatusOK, body)
	}
	return n.withCSRF(func(c echo.Context) error { return n.commitmentPage(c, cm) })(c)
}

func (n *Node) updateObject(c echo.Context) error {
	web.SetVaryAccept(c)
	ctx := c.Request().Context()
	cid, uid := c.Param("id"), c.Param("uid")
	iri := n.iris.Update(cid, uid)
	cm, err := n.svc.store.GetCommitment(ctx, cid)
	if err != nil {
		return err
	}
	u, err := n.svc.store.GetUpdate(ctx, uid)
	if err != nil {
		return err
	}
	if u.CommitmentID != cid {
		return web.NewError(http.StatusNotFound, "no such progress update on this commitment")
	}
	if cm.Deleted {
		return n.gone(c, iri, ogp.TypeProgressUpdate, cm.DeletedAt)
	}
	if u.Deleted {
		return n.gone(c, iri, ogp.TypeProgressUpdate, u.DeletedAt)
	}
	if web.WantsActivityJSON(c.Request()) {
		body, err := ogp.MarshalObject(n.svc.wire.ProgressUpdate(u, cm))
		if err != nil {
			return err
		}
		return apObject(c, http.StatusOK, body)
	}
	return n.withCSRF(func(c echo.Context) error { return n.updatePage(c, cm, u) })(c)
}

// updatesCollection is a commitment's "context" (FEP-7888): an
// OrderedCollection of its progress updates, newest first. Browsers go to
// the commitment page's timeline.
func (n *Node) updatesCollection(c echo.Context) error {
	web.SetVaryAccept(c)
	ctx := c.Request().Context()
	id := c.Param("id")
	iri := n.iris.Updates(id)
	cm, err := n.svc.store.GetCommitment(ctx, id)
	if err != nil {
		return err
	}
	if cm.Deleted {
		return n.gone(c, n.iris.Commitment(id), ogp.TypeCommitment, cm.DeletedAt)
	}
	if !web.WantsActivityJSON(c.Request()) {
		return c.Redirect(http.StatusSeeOther, "/commitments/"+id+"#timeline")
	}
	ups, err := n.svc.store.ListUpdates(ctx, id, 0)
	if err != nil {
		return err
	}
	items := make([]string, 0, len(ups))
	for _, u := range slices.Backward(ups) {
		items = append(items, n.iris.Update(id, u.ID))
	}
	body, err := json.Marshal(map[string]any{
		"@context":     ogp.ActivityStreamsContext,
		"id":           iri,
		"type":         "OrderedCollection",
		"attributedTo": n.iris.Actor(),
		"context":      iri,
		"totalItems":   len(items),
		"orderedItems": items,
	})
	if err != nil {
		return err
	}
	return apObject(c, http.StatusOK, body)
}

func (n *Node) planObject(c echo.Context) error {
	web.SetVaryAccept(c)
	ctx := c.Request().Context()
	id := c.Param("id")
	p, err := n.svc.store.GetPlan(ctx, id)
	if err != nil {
		return err
	}
	cs, err := n.svc.store.ListCommitments(ctx, id)
	if err != nil {
		return err
	}
	if web.WantsActivityJSON(c.Request()) {
		body, err := ogp.MarshalObject(n.svc.PlanObject(ctx, p, cs))
		if err != nil {
			return err
		}
		return apObject(c, http.StatusOK, body)
	}
	return n.withCSRF(func(c echo.Context) error { return n.planPage(c, p, cs) })(c)
}
