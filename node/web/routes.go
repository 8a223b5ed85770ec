package node

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/internal/auth"
	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/plan"
)

// routes mounts the node's own routes beside federation's.
//
// Every write route is behind auth.RequireOperator first (anonymous → 401,
// other users → 403), then CSRF (forms and session-cookie API calls; Bearer
// tokens skip it), so an anonymous caller learns "sign in" rather than
// "bad token".
func (n *Node) routes(e *echo.Echo) {
	csrf := n.auth.CSRF()

	// Public pages and object IRIs (content negotiated). CSRF runs on them
	// only to mint the token for the layout's logout form.
	pub := e.Group("", csrf)
	pub.GET("/", n.home)
	pub.GET("/plans/:id", n.planObject)
	pub.GET("/commitments/:id", n.commitmentObject)
	pub.GET("/commitments/:id/updates/:uid", n.updateObject)
	e.GET("/commitments/:id/updates", n.updatesCollection)
	e.GET(ogp.ContextPath, n.contextDocument)

	// Sign-in, sign-out and the token routes; without an issuer (tokens-only
	// auth) only the token routes, so /auth/login answers 404.
	n.auth.Routes(e.Group(""))
	if !n.login {
		// The layout's logout form still has a target; no session can exist.
		e.POST("/auth/logout", func(c echo.Context) error { return c.Redirect(303, "/") }, csrf)
	}

	// Operator UI.
	admin := e.Group("/admin", auth.RequireOperator, csrf, formErrors)
	admin.GET("", n.adminHome)
	admin.GET("/plans/new", n.planForm)
	admin.POST("/plans", n.planSubmit)
	admin.GET("/plans/:id/edit", n.planForm)
	admin.POST("/plans/:id", n.planSubmit)
	admin.GET("/commitments/new", n.commitmentForm)
	admin.POST("/commitments", n.commitmentSubmit)
	admin.GET("/commitments/:id/edit", n.commitmentForm)
	admin.POST("/commitments/:id", n.commitmentSubmit)
	admin.POST("/commitments/:id/delete", n.commitmentDeleteSubmit)
	admin.GET("/commitments/:id/updates/new", n.updateForm)
	admin.POST("/commitments/:id/updates", n.updateSubmit)
	admin.GET("/commitments/:id/updates/:uid/edit", n.updateEditForm)
	admin.POST("/commitments/:id/updates/:uid", n.updateEditSubmit)
	admin.GET("/commitments/:id/updates/:uid/delete", n.updateDeleteForm)
	admin.POST("/commitments/:id/updates/:uid/delete", n.updateDeleteSubmit)
	admin.GET("/import", n.importForm)
	admin.POST("/import", n.importSubmit)
	admin.GET("/tokens", n.tokensPage)
	admin.POST("/tokens", n.tokenCreate)
	admin.POST("/tokens/:id/revoke", n.tokenRevoke)

	// JSON API (docs/api-node.md). Reads are public, like the pages.
	api := e.Group("/api/v1", apiErrors)
	api.GET("/plans", n.apiPlans)
	api.GET("/plans/:id", n.apiPlan)
	api.GET("/commitments", n.apiCommitments)
	api.GET("/commitments/:id", n.apiCommitment)
	api.GET("/commitments/:id/updates", n.apiUpdates)
	// Per-route middleware, not a sub-group: a group's middleware also
	// guards its catch-all, which would turn unknown API paths into 401s.
	op := []echo.MiddlewareFunc{auth.RequireOperator, csrf}
	api.PUT("/plans/:id", n.apiPutPlan, op...)
	api.POST("/commitments", n.apiCreateCommitment, op...)
	api.PUT("/commitments/:id", n.apiPutCommitment, op...)
	api.DELETE("/commitments/:id", n.apiDeleteCommitment, op...)
	api.POST("/commitments/:id/updates", n.apiPostUpdate, op...)
	api.PUT("/commitments/:id/updates/:uid", n.apiPutUpdate, op...)
	api.DELETE("/commitments/:id/updates/:uid", n.apiDeleteUpdate, op...)
	api.POST("/import", n.apiImport, op...)
}

// validationToWeb turns a domain validation error into the 422 that names
// each field (JSON error.fields, or the list on the HTML error page).
func validationToWeb(err error) error {
	var ve *plan.ValidationError
	if errors.As(err, &ve) {
		fields := make([]web.FieldError, len(ve.Fields))
		for i, f := range ve.Fields {
			fields[i] = web.FieldError{Field: f.Field, Message: f.Message}
		}
		return web.Invalid(fields...)
	}
	return err
}

// apiErrors maps domain errors of API handlers to their web form.
func apiErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error { return validationToWeb(next(c)) }
}

// formErrors does the same for operator forms (which mostly re-render
// themselves with the field errors instead; this catches the rest).
func formErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error { return validationToWeb(next(c)) }
}
