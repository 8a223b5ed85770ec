package web

import (
	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/node/conversation"
)

// Routes mounts the node's own routes beside federation's: the one table of
// every page, form and API route of the node.
//
// Every write route is behind auth.RequireOperator first (anonymous → 401,
// other users → 403), then CSRF (forms and session-cookie API calls; Bearer
// tokens skip it), so an anonymous caller learns "sign in" rather than
// "bad token".
func (h *Handlers) Routes(e *echo.Echo) {
	csrf := h.auth.CSRF()

	// Public pages and object IRIs (content negotiated). CSRF runs on them
	// only to mint the token for the layout's logout form.
	pub := e.Group("", csrf)
	pub.GET("/", h.home)
	pub.GET("/plans/:id", h.planObject)
	pub.GET("/commitments/:id", h.commitmentObject)
	pub.GET("/commitments/:id/updates/:uid", h.updateObject)
	e.GET("/commitments/:id/updates", h.updatesCollection)
	// Conversations (docs/discussion.md): contexts, replies collections and
	// the node's own Notes.
	e.GET("/commitments/:id/context", h.conversationCollection)
	e.GET("/plans/:id/context", h.conversationCollection)
	e.GET("/commitments/:id/replies", h.repliesCollection)
	e.GET("/commitments/:id/updates/:uid/replies", h.repliesCollection)
	e.GET("/plans/:id/replies", h.repliesCollection)
	e.GET("/notes/:id/replies", h.repliesCollection)
	pub.GET("/notes/:id", h.noteObject)
	e.GET(ogp.ContextPath, h.contextDocument)

	// Sign-in, sign-out and the token routes; without an issuer (tokens-only
	// auth) only the token routes, so /auth/login answers 404.
	h.auth.Routes(e.Group(""))
	if !h.login {
		// The layout's logout form still has a target; no session can exist.
		e.POST("/auth/logout", func(c echo.Context) error { return c.Redirect(303, "/") }, csrf)
	}

	// Operator UI.
	admin := e.Group("/admin", auth.RequireOperator, csrf, domainErrors)
	admin.GET("", h.adminHome)
	admin.GET("/plans/new", h.planForm)
	admin.POST("/plans", h.planSubmit)
	admin.GET("/plans/:id/edit", h.planForm)
	admin.POST("/plans/:id", h.planSubmit)
	admin.GET("/commitments/new", h.commitmentForm)
	admin.POST("/commitments", h.commitmentSubmit)
	admin.GET("/commitments/:id/edit", h.commitmentForm)
	admin.POST("/commitments/:id", h.commitmentSubmit)
	admin.POST("/commitments/:id/delete", h.commitmentDeleteSubmit)
	admin.GET("/commitments/:id/updates/new", h.updateForm)
	admin.POST("/commitments/:id/updates", h.updateSubmit)
	admin.GET("/commitments/:id/updates/:uid/edit", h.updateEditForm)
	admin.POST("/commitments/:id/updates/:uid", h.updateEditSubmit)
	admin.GET("/commitments/:id/updates/:uid/delete", h.updateDeleteForm)
	admin.POST("/commitments/:id/updates/:uid/delete", h.updateDeleteSubmit)
	admin.GET("/import", h.importForm)
	admin.POST("/import", h.importSubmit)
	admin.GET("/import/jobs/:id", h.importJobPage)
	admin.GET("/conversations", h.conversationsPage)
	admin.POST("/conversations/answer", h.answerSubmit)
	admin.POST("/conversations/:action", h.conversationAction)
	admin.GET("/questions/new", h.questionForm)
	admin.POST("/questions", h.questionSubmit)
	admin.GET("/tokens", h.tokensPage)
	admin.POST("/tokens", h.tokenCreate)
	admin.POST("/tokens/:id/revoke", h.tokenRevoke)

	// JSON API (docs/api-node.md). Reads are public, like the pages.
	api := e.Group("/api/v1", domainErrors)
	api.GET("/plans", h.apiPlans)
	api.GET("/plans/:id", h.apiPlan)
	api.GET("/commitments", h.apiCommitments)
	api.GET("/commitments/:id", h.apiCommitment)
	api.GET("/commitments/:id/updates", h.apiUpdates)
	// Per-route middleware, not a sub-group: a group's middleware also
	// guards its catch-all, which would turn unknown API paths into 401s.
	op := []echo.MiddlewareFunc{auth.RequireOperator, csrf}
	api.PUT("/plans/:id", h.apiPutPlan, op...)
	api.POST("/commitments", h.apiCreateCommitment, op...)
	api.PUT("/commitments/:id", h.apiPutCommitment, op...)
	api.DELETE("/commitments/:id", h.apiDeleteCommitment, op...)
	api.POST("/commitments/:id/updates", h.apiPostUpdate, op...)
	api.PUT("/commitments/:id/updates/:uid", h.apiPutUpdate, op...)
	api.DELETE("/commitments/:id/updates/:uid", h.apiDeleteUpdate, op...)
	api.POST("/import", h.apiImport, op...)
	api.GET("/import/jobs/:id", h.apiImportJob, auth.RequireOperator)
	// Conversations: operator only, reads included (held replies are not
	// public).
	api.GET("/replies", h.apiReplies, auth.RequireOperator)
	api.POST("/replies/approve", h.apiModerate(conversation.Approved), op...)
	api.POST("/replies/hide", h.apiModerate(conversation.Hidden), op...)
	api.POST("/questions", h.apiQuestion, op...)
}
