package web

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/conversation"
)

// Conversations (docs/discussion.md): the public threads under the node's
// objects, their ActivityPub collections, the operator's Conversations page
// and the replies/questions API. The domain is node/conversation.

// convError turns the conversation service's errors into web errors.
func convError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, conversation.ErrNotFound):
		return web.NewError(http.StatusNotFound, err.Error())
	case errors.Is(err, conversation.ErrInvalid):
		return web.NewError(http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), conversation.ErrInvalid.Error()+": "))
	case errors.Is(err, conversation.ErrPeer):
		return web.NewError(http.StatusBadGateway, err.Error())
	}
	return err
}

// who names the operator for the audit log.
func who(c echo.Context) string {
	p := auth.CurrentPrincipal(c)
	switch {
	case p == nil:
		return "unknown"
	case p.Via == auth.ViaToken:
		return "token " + p.TokenID
	case p.Email != "":
		return p.Email
	}
	return p.Subject
}

// --- public threads

// replyView is one post of a thread as pages show it.
type replyView struct {
	ID, Anchor, Actor, Handle, Server, URL, Published, Summary string
	Content                                                    template.HTML
	Sensitive, Local                                           bool
	Hashtags                                                   []string
	Children                                                   []replyView
}

type threadView struct {
	Items []replyView
	Count int
}

func viewOf(r conversation.Reply) replyView {
	u := r.URL
	if u == "" {
		u = r.ID
	}
	handle := r.Handle
	if handle == "" || !strings.HasPrefix(handle, "@") {
		handle = r.Actor
	}
	return replyView{ID: r.ID, Anchor: anchor(r.ID), Actor: r.Actor, Handle: handle, Server: hostOf(r.Actor), URL: u,
		Published: r.Published.UTC().Format(time.RFC3339), Summary: r.Summary, Sensitive: r.Sensitive,
		Local: r.Local, Hashtags: r.Hashtags, Content: conversation.HTML(r.Content)}
}

func nodesView(ns []*conversation.Node) ([]replyView, int) {
	var out []replyView
	n := 0
	for _, x := range ns {
		v := viewOf(x.Reply)
		var k int
		v.Children, k = nodesView(x.Children)
		n += 1 + k
		out = append(out, v)
	}
	return out, n
}

// thread is the approved thread under a node object, for its page.
func (h *Handlers) thread(root string) threadView {
	if h.conv == nil {
		return threadView{}
	}
	items, n := nodesView(h.conv.Thread(root))
	return threadView{Items: items, Count: n}
}

func hostOf(iri string) string {
	u, err := url.Parse(iri)
	if err != nil {
		return ""
	}
	return u.Host
}

// --- ActivityPub collections

// repliesCollection answers {object}/replies for the node's plans,
// commitments, updates and Notes.
func (h *Handlers) repliesCollection(c echo.Context) error {
	web.SetVaryAccept(c)
	path := strings.TrimSuffix(c.Request().URL.Path, "/replies")
	object := h.iris.Base + path
	if !h.ownsObject(c, object) {
		return web.NewError(http.StatusNotFound, "no such object on this node")
	}
	if !web.WantsActivityJSON(c.Request()) {
		return c.Redirect(http.StatusSeeOther, path+"#conversation")
	}
	body, err := json.Marshal(withContext(ogp.NewReplies(object, h.conv.RepliesOf(object))))
	if err != nil {
		return err
	}
	return apObject(c, http.StatusOK, body)
}

func withContext(v any) any {
	raw, _ := json.Marshal(v)
	m := map[string]any{}
	_ = json.Unmarshal(raw, &m)
	m["@context"] = ogp.ActivityStreamsContext
	return m
}

func (h *Handlers) ownsObject(c echo.Context, iri string) bool {
	if _, ok := h.conv.LocalNote(iri); ok {
		return true
	}
	if h.lookup == nil {
		return false
	}
	_, ok, err := h.lookup(c.Request().Context(), iri)
	return err == nil && ok
}

// conversationCollection answers a commitment's or a plan's "context": an
// OrderedCollection of the object, the commitment's progress updates and
// every approved reply in their threads (FEP-171b), oldest first.
func (h *Handlers) conversationCollection(c echo.Context) error {
	web.SetVaryAccept(c)
	ctx := c.Request().Context()
	path := strings.TrimSuffix(c.Request().URL.Path, "/context")
	object := h.iris.Base + path
	th, ok, err := h.lookup(ctx, object)
	if err != nil {
		return err
	}
	if !ok || th.Context != h.iris.Base+c.Request().URL.Path {
		return web.NewError(http.StatusNotFound, "no such conversation on this node")
	}
	if !web.WantsActivityJSON(c.Request()) {
		return c.Redirect(http.StatusSeeOther, path+"#conversation")
	}
	items := []string{object}
	if id := c.Param("id"); strings.HasPrefix(path, "/commitments/") {
		ups, err := h.store.ListUpdates(ctx, id, 0)
		if err != nil {
			return err
		}
		for _, u := range slices.Backward(ups) {
			items = append(items, h.iris.Update(id, u.ID))
		}
	}
	items = append(items, h.conv.ContextItems(th.Context)...)
	body, err := json.Marshal(map[string]any{
		"@context":     ogp.ActivityStreamsContext,
		"id":           th.Context,
		"type":         "OrderedCollection",
		"attributedTo": h.iris.Actor(),
		"totalItems":   len(items),
		"orderedItems": items,
	})
	if err != nil {
		return err
	}
	return apObject(c, http.StatusOK, body)
}

// noteObject answers the IRI of one of the node's own Notes (answers and
// questions): the Note as published, with its replies, or for browsers
// the thread it belongs to.
func (h *Handlers) noteObject(c echo.Context) error {
	web.SetVaryAccept(c)
	iri := h.iris.Base + c.Request().URL.Path
	r, ok := h.conv.LocalNote(iri)
	if !ok {
		return web.NewError(http.StatusNotFound, "no such note on this node")
	}
	if !web.WantsActivityJSON(c.Request()) {
		if strings.HasPrefix(r.Root, h.iris.Base+"/") {
			return c.Redirect(http.StatusSeeOther, strings.TrimPrefix(r.Root, h.iris.Base)+"#"+anchor(r.ID))
		}
		return h.withCSRF(func(c echo.Context) error {
			return c.Render(http.StatusOK, "note.html", web.Page{Title: web.T(c, "conv_note_title"),
				Data: struct {
					Reply     replyView
					InReplyTo string
				}{viewOf(r), r.InReplyTo}})
		})(c)
	}
	m := map[string]any{}
	if err := json.Unmarshal([]byte(r.Raw), &m); err != nil {
		return err
	}
	m["replies"] = ogp.NewReplies(iri, h.conv.RepliesOf(iri))
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return apObject(c, http.StatusOK, body)
}

// anchor is the fragment of a post on a thread page.
func anchor(id string) string {
	return "reply-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, id[max(0, strings.LastIndex(id, "/")+1):])
}

// --- operator: Conversations

type convRow struct {
	replyView
	Status, InReplyTo, Root, RootLabel string
	Question, Read                     bool
}

type conversationsView struct {
	Tab     string
	Tabs    []option
	Rows    []convRow
	Blocks  []conversation.Block
	Reports []conversation.Report
	Audit   []conversation.AuditEntry
	Mode    string
	Rate    int
	Answer  string // the reply being answered (the form is open under it)
	Errors  []string
}

// rootLabel names the object a reply's thread hangs from: "JAL0004: title"
// for the node's commitments (and their updates), else the IRI.
func (h *Handlers) rootLabel(c echo.Context, r conversation.Reply) string {
	path, ok := strings.CutPrefix(r.Root, h.iris.Base+"/commitments/")
	if !ok {
		return strings.TrimPrefix(r.Root, h.iris.Base+"/")
	}
	id, rest, _ := strings.Cut(path, "/")
	if id, err := url.PathUnescape(id); err == nil {
		if cm, err := h.store.GetCommitment(c.Request().Context(), id); err == nil {
			label := cm.ID + ": " + cm.Title.Get(web.Lang(c))
			if rest != "" {
				label += " · " + web.T(c, "conv_progress_update")
			}
			return label
		}
	}
	return strings.TrimPrefix(r.Root, h.iris.Base+"/")
}

func (h *Handlers) conversationsPage(c echo.Context) error {
	tab := c.QueryParam("status")
	if tab == "" {
		tab = string(conversation.Held)
	}
	if !conversation.ValidStatus(tab) && tab != "sent" && tab != "moderation" {
		return web.NewError(http.StatusBadRequest, "status: must be held, approved, hidden, sent or moderation")
	}
	v := conversationsView{Tab: tab, Mode: string(h.conv.Mode()), Rate: h.conv.RatePerHour(), Answer: c.QueryParam("answer")}
	for _, t := range []string{"held", "approved", "hidden", "sent", "moderation"} {
		v.Tabs = append(v.Tabs, option{t, web.T(c, "conv_tab_"+t)})
	}
	switch tab {
	case "moderation":
		v.Blocks, v.Reports, v.Audit = h.conv.Blocks(), h.conv.Reports(), h.conv.Audit()
		if len(v.Audit) > 100 {
			v.Audit = v.Audit[:100]
		}
	default:
		var list []conversation.Reply
		if tab == "sent" {
			for _, r := range h.conv.List(conversation.Approved) {
				if r.Local {
					list = append(list, r)
				}
			}
		} else {
			for _, r := range h.conv.List(conversation.Status(tab)) {
				if !r.Local {
					list = append(list, r)
				}
			}
		}
		for _, r := range list {
			v.Rows = append(v.Rows, convRow{replyView: viewOf(r), Status: string(r.Status), InReplyTo: r.InReplyTo,
				Root: r.Root, RootLabel: h.rootLabel(c, r), Question: r.Question, Read: r.Read})
		}
	}
	page := c.Render(http.StatusOK, "conversations.html", web.Page{Title: web.T(c, "conv_title"), Data: v})
	// Seen once listed: the dashboard's unread count goes down.
	if err := h.conv.MarkRead(c.Request().Context()); err != nil {
		c.Logger().Warn(err)
	}
	return page
}

// conversationAction runs approve, hide, block-actor and block-domain
// from the Conversations page.
func (h *Handlers) conversationAction(c echo.Context) error {
	ctx := c.Request().Context()
	back := "/admin/conversations?status=" + url.QueryEscape(c.FormValue("tab"))
	var err error
	switch c.Param("action") {
	case "approve":
		_, err = h.conv.Approve(ctx, who(c), c.FormValue("id"))
	case "hide":
		_, err = h.conv.Hide(ctx, who(c), c.FormValue("id"))
	case "block-actor":
		err = h.conv.BlockActor(ctx, who(c), c.FormValue("actor"))
	case "block-domain":
		err = h.conv.BlockDomain(ctx, who(c), c.FormValue("domain"))
	case "unblock":
		err = h.conv.Unblock(ctx, who(c), c.FormValue("id"))
	default:
		return web.NewError(http.StatusNotFound, "no such action")
	}
	if err != nil {
		return convError(err)
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// answerSubmit answers a reply as the government.
func (h *Handlers) answerSubmit(c echo.Context) error {
	r, err := h.conv.Answer(c.Request().Context(), who(c), c.FormValue("id"), c.FormValue("content"))
	if err != nil {
		return convError(err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/conversations?status=sent#"+anchor(r.ID))
}

type questionView struct {
	InReplyTo, Content string
	Errors             []string
}

// questionForm is "Ask a question" about a peer's commitment (the hub's
// peers panel links here with ?inReplyTo=…).
func (h *Handlers) questionForm(c echo.Context) error {
	v := questionView{InReplyTo: c.QueryParam("inReplyTo")}
	return c.Render(http.StatusOK, "question.html", web.Page{Title: web.T(c, "conv_ask_title"), Data: v})
}

func (h *Handlers) questionSubmit(c echo.Context) error {
	v := questionView{InReplyTo: c.FormValue("inReplyTo"), Content: c.FormValue("content")}
	_, err := h.conv.Ask(c.Request().Context(), who(c), v.InReplyTo, v.Content)
	if err != nil {
		werr := convError(err)
		var we *web.Error
		if errors.As(werr, &we) && we.Status != http.StatusInternalServerError {
			v.Errors = []string{we.Message}
			return c.Render(we.Status, "question.html", web.Page{Title: web.T(c, "conv_ask_title"), Data: v})
		}
		return werr
	}
	return c.Redirect(http.StatusSeeOther, "/admin/conversations?status=sent")
}

// --- API (docs/api-node.md)

type apiReply struct {
	ID        string `json:"id"`
	Actor     string `json:"actor"`
	InReplyTo string `json:"inReplyTo"`
	Status    string `json:"status"`
	Published string `json:"published"`
	Content   string `json:"content"`
}

func (h *Handlers) apiReplies(c echo.Context) error {
	st := c.QueryParam("status")
	if st != "" && !conversation.ValidStatus(st) {
		return web.NewError(http.StatusBadRequest, "status: must be held, approved or hidden")
	}
	items := []apiReply{}
	for _, r := range h.conv.List(conversation.Status(st)) {
		items = append(items, apiReply{ID: r.ID, Actor: r.Actor, InReplyTo: r.InReplyTo, Status: string(r.Status),
			Published: r.Published.UTC().Format(time.RFC3339), Content: r.Content})
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

type apiReplyID struct {
	ID string `json:"id"`
}

func (h *Handlers) apiModerate(st conversation.Status) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in apiReplyID
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		if in.ID == "" {
			return web.Invalid(web.FieldError{Field: "id", Message: "required: the reply's IRI"})
		}
		var r conversation.Reply
		var err error
		if st == conversation.Approved {
			r, err = h.conv.Approve(c.Request().Context(), who(c), in.ID)
		} else {
			r, err = h.conv.Hide(c.Request().Context(), who(c), in.ID)
		}
		if err != nil {
			return convError(err)
		}
		return c.JSON(http.StatusOK, apiReply{ID: r.ID, Actor: r.Actor, InReplyTo: r.InReplyTo, Status: string(r.Status),
			Published: r.Published.UTC().Format(time.RFC3339), Content: r.Content})
	}
}

type apiQuestion struct {
	InReplyTo string `json:"inReplyTo"`
	Content   string `json:"content"`
}

// apiQuestion posts a Note of the node in reply to any IRI: a question to
// a peer, or an answer when the IRI is a reply in the node's threads.
func (h *Handlers) apiQuestion(c echo.Context) error {
	var in apiQuestion
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	var fields []web.FieldError
	if strings.TrimSpace(in.InReplyTo) == "" {
		fields = append(fields, web.FieldError{Field: "inReplyTo", Message: "required: the IRI of the object asked about"})
	}
	if strings.TrimSpace(in.Content) == "" {
		fields = append(fields, web.FieldError{Field: "content", Message: "required: the text of the question"})
	}
	if len(fields) > 0 {
		return web.Invalid(fields...)
	}
	r, err := h.conv.Ask(c.Request().Context(), who(c), in.InReplyTo, in.Content)
	if err != nil {
		return convError(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, r.ID)
	return c.JSON(http.StatusCreated, apiReply{ID: r.ID, Actor: r.Actor, InReplyTo: r.InReplyTo, Status: string(r.Status),
		Published: r.Published.UTC().Format(time.RFC3339), Content: r.Content})
}
