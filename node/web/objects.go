package web

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

// negotiated answers an object's IRI: its ActivityPub form (built by
// object) for ActivityPub clients, else its page.
func (h *Handlers) negotiated(c echo.Context, object func() any, page echo.HandlerFunc) error {
	if !web.WantsActivityJSON(c.Request()) {
		return h.withCSRF(page)(c)
	}
	body, err := ogp.MarshalObject(object())
	if err != nil {
		return err
	}
	return apObject(c, http.StatusOK, body)
}

// gone answers a withdrawn object: 410 with its Tombstone for ActivityPub
// clients, the 410 error page for browsers.
func (h *Handlers) gone(c echo.Context, iri, formerType string, deleted time.Time) error {
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

func (h *Handlers) contextDocument(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.Blob(http.StatusOK, "application/ld+json; charset=utf-8", ogp.ContextDocument())
}

func (h *Handlers) commitmentObject(c echo.Context) error {
	web.SetVaryAccept(c)
	ctx := c.Request().Context()
	id := c.Param("id")
	iri := h.iris.Commitment(id)
	cm, err := h.store.GetCommitment(ctx, id)
	if err != nil {
		return err
	}
	if cm.Deleted {
		return h.gone(c, iri, ogp.TypeCommitment, cm.DeletedAt)
	}
	return h.negotiated(c, func() any {
		o := h.wire.Commitment(cm)
		o.Replies = ogp.NewReplies(iri, h.conv.RepliesOf(iri))
		return o
	},
		func(c echo.Context) error { return h.commitmentPage(c, cm) })
}

func (h *Handlers) updateObject(c echo.Context) error {
	web.SetVaryAccept(c)
	ctx := c.Request().Context()
	cid, uid := c.Param("id"), c.Param("uid")
	iri := h.iris.Update(cid, uid)
	cm, err := h.store.GetCommitment(ctx, cid)
	if err != nil {
		return err
	}
	u, err := h.store.GetUpdate(ctx, uid)
	if err != nil {
		return err
	}
	if u.CommitmentID != cid {
		return web.NewError(http.StatusNotFound, "no such progress update on this commitment")
	}
	if cm.Deleted {
		return h.gone(c, iri, ogp.TypeProgressUpdate, cm.DeletedAt)
	}
	if u.Deleted {
		return h.gone(c, iri, ogp.TypeProgressUpdate, u.DeletedAt)
	}
	return h.negotiated(c, func() any {
		o := h.wire.ProgressUpdate(u, cm)
		o.Replies = ogp.NewReplies(iri, h.conv.RepliesOf(iri))
		return o
	},
		func(c echo.Context) error { return h.updatePage(c, cm, u) })
}

// updatesCollection is a commitment's progress collection: an
// OrderedCollection of its progress updates, newest first, part of the
// commitment's conversation ("context", conversationCollection). Browsers go to
// the commitment page's timeline.
func (h *Handlers) updatesCollection(c echo.Context) error {
	web.SetVaryAccept(c)
	ctx := c.Request().Context()
	id := c.Param("id")
	iri := h.iris.Updates(id)
	cm, err := h.store.GetCommitment(ctx, id)
	if err != nil {
		return err
	}
	if cm.Deleted {
		return h.gone(c, h.iris.Commitment(id), ogp.TypeCommitment, cm.DeletedAt)
	}
	if !web.WantsActivityJSON(c.Request()) {
		return c.Redirect(http.StatusSeeOther, "/commitments/"+id+"#timeline")
	}
	ups, err := h.store.ListUpdates(ctx, id, 0)
	if err != nil {
		return err
	}
	items := make([]string, 0, len(ups))
	for _, u := range slices.Backward(ups) {
		items = append(items, h.iris.Update(id, u.ID))
	}
	body, err := json.Marshal(map[string]any{
		"@context":     ogp.ActivityStreamsContext,
		"id":           iri,
		"type":         "OrderedCollection",
		"attributedTo": h.iris.Actor(),
		"context":      h.iris.Conversation(id),
		"totalItems":   len(items),
		"orderedItems": items,
	})
	if err != nil {
		return err
	}
	return apObject(c, http.StatusOK, body)
}

func (h *Handlers) planObject(c echo.Context) error {
	web.SetVaryAccept(c)
	ctx := c.Request().Context()
	id := c.Param("id")
	p, err := h.store.GetPlan(ctx, id)
	if err != nil {
		return err
	}
	cs, err := h.store.ListCommitments(ctx, id)
	if err != nil {
		return err
	}
	return h.negotiated(c, func() any {
		o := h.svc.PlanObject(ctx, p, cs)
		iri := h.iris.Plan(p.ID)
		o.Replies = ogp.NewReplies(iri, h.conv.RepliesOf(iri))
		return o
	},
		func(c echo.Context) error { return h.planPage(c, p, cs) })
}
