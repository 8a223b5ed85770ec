package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/hub/discussion"
)

// PathDiscussion is a commitment's public thread.
const PathDiscussion = "/api/v1/discussion"

// DiscussionJSON is one approved post of a thread (docs/api-hub.md).
type DiscussionJSON struct {
	ID        string    `json:"id"`
	Actor     string    `json:"actor"`
	InReplyTo string    `json:"inReplyTo"`
	Published time.Time `json:"published"`
	Content   string    `json:"content"` // sanitised HTML
}

// discussion answers GET /api/v1/discussion?commitment=<IRI>: the
// approved posts of the commitment's whole thread, oldest first.
func (h *handlers) discussion(c echo.Context) error {
	iri := c.QueryParam("commitment")
	if iri == "" {
		return badRequest("commitment: required, the IRI of a commitment the hub holds")
	}
	if u, err := url.Parse(iri); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return badRequest("commitment: must be an absolute http(s) IRI")
	}
	if _, ok := h.Model.Commitment(iri); !ok {
		return echo.NewHTTPError(http.StatusNotFound, "commitment: the hub holds no commitment "+iri)
	}
	posts := h.Discussion.Thread(iri)
	items := make([]DiscussionJSON, 0, len(posts))
	for _, p := range posts {
		items = append(items, toDiscussion(p))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func toDiscussion(p discussion.Post) DiscussionJSON {
	return DiscussionJSON{ID: p.ID, Actor: p.Actor, InReplyTo: p.InReplyTo, Published: p.Published.UTC(), Content: string(p.ContentHTML())}
}
