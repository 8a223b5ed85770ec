package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/hub/discussion"
	"github.com/ogpnet/ogpnet/internal/auth"
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

// PathStaffDiscussion is the staff moderation API (JSON; the HTML page is
// /staff/discussion).
const PathStaffDiscussion = "/api/v1/staff/discussion"

// StaffPostJSON is a post as staff see it: any status, with how it came.
type StaffPostJSON struct {
	DiscussionJSON
	Status     discussion.Status `json:"status"`
	Via        discussion.Via    `json:"via"`
	Commitment string            `json:"commitment,omitempty"`
	Summary    string            `json:"summary,omitempty"`
	URL        string            `json:"url,omitempty"`
}

// staffDiscussion answers GET /api/v1/staff/discussion?status=held|approved|hidden
// (default held), oldest first.
func (h *handlers) staffDiscussion(c echo.Context) error {
	st := discussion.Status(c.QueryParam("status"))
	if st == "" {
		st = discussion.Held
	}
	if st != discussion.Held && st != discussion.Approved && st != discussion.Hidden {
		return badRequest("status: one of held, approved, hidden")
	}
	posts := h.Discussion.WithStatus(st)
	items := make([]StaffPostJSON, 0, len(posts))
	for _, p := range posts {
		items = append(items, StaffPostJSON{DiscussionJSON: toDiscussion(p), Status: p.Status, Via: p.Via,
			Commitment: p.Commitment, Summary: p.Summary, URL: p.URL})
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// staffModerate answers POST /api/v1/staff/discussion/{approve,hide}
// {"id"}, /block-actor {"actor"}, /block-domain {"domain"}.
func (h *handlers) staffModerate(c echo.Context) error {
	var body struct {
		ID     string `json:"id"`
		Actor  string `json:"actor"`
		Domain string `json:"domain"`
	}
	if err := c.Bind(&body); err != nil {
		return badRequest("body: a JSON object")
	}
	by := "staff"
	if p := auth.CurrentPrincipal(c); p != nil {
		by = p.Subject
		if p.Email != "" {
			by = p.Email
		}
	}
	ctx := c.Request().Context()
	d := h.Discussion
	var err error
	switch op := strings.TrimPrefix(c.Path(), PathStaffDiscussion+"/"); op {
	case "approve", "hide":
		if body.ID == "" {
			return badRequest("id: required, the IRI of a post the hub keeps")
		}
		if op == "approve" {
			err = d.Approve(ctx, body.ID, by)
		} else {
			err = d.Hide(ctx, body.ID, by)
		}
	case "block-actor":
		if body.Actor == "" {
			return badRequest("actor: required, an actor IRI")
		}
		err = d.BlockActor(ctx, body.Actor, by)
	default:
		if body.Domain == "" {
			return badRequest("domain: required, a host name")
		}
		err = d.BlockDomain(ctx, body.Domain, by)
	}
	switch {
	case errors.Is(err, discussion.ErrNoPost):
		return echo.NewHTTPError(http.StatusNotFound, "id: the hub keeps no such post")
	case errors.Is(err, discussion.ErrBadTarget):
		return badRequest("actor or domain: an absolute http(s) actor IRI, or a host name")
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
