package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/internal/store"
)

// FieldError is one invalid input field, reported to API clients in
// error.fields and to browsers as a list on the error page.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error with an HTTP status and a message that is safe to show to
// clients. Err, if set, is the internal cause: it is logged, never shown.
// Handlers return it (or an *echo.HTTPError, or a sentinel that
// Options.StatusOf maps) and the central error handler renders it.
type Error struct {
	Status  int
	Message string
	Fields  []FieldError
	Err     error
}

// NewError returns an *Error with a status and a public message.
func NewError(status int, message string) *Error {
	return &Error{Status: status, Message: message}
}

// Invalid returns a 422 error that lists the invalid fields.
func Invalid(fields ...FieldError) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Fields: fields}
}

// Error implements error; it includes the internal cause for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// errorBody is the JSON error shape: {"error": {...}}.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Status    int          `json:"status"`
	Message   string       `json:"message"`
	Fields    []FieldError `json:"fields,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
}

// ErrorPage is the Data of the error page template ("error.html").
type ErrorPage struct {
	Status    int
	TitleID   string // message id of the title, e.g. "error_404"
	TextID    string // message id of the explanation
	Detail    string // public detail for 4xx (untranslated), empty for 5xx
	Fields    []FieldError
	RequestID string
}

// classified is the outcome of mapping an error to a response.
type classified struct {
	status  int
	message string // safe for clients
	fields  []FieldError
	// store: the data store was out of reach (503 with Retry-After, and a
	// message that says so, and whether anything was saved).
	store bool
}

// Messages of a 503 for an unreachable store (the HTML page says the same
// from the catalogue: error_store_text, error_store_write_text).
const (
	storeReadMessage  = "The data store is temporarily unavailable. Try again in a few seconds."
	storeWriteMessage = "The data store is temporarily unavailable: nothing was saved. Try again in a few seconds."
)

// classify maps err to a status and a public message. Order: our *Error,
// echo's *HTTPError, an unreachable store (store.Unavailable: 503), the
// caller's sentinel mapping, context errors, then 500. Messages of 5xx are
// the status text (internal detail stays in logs), except the store's 503,
// which says what happened and that nothing was saved (for a write).
func classify(err error, write bool, statusOf func(error) (int, bool)) classified {
	out := classified{status: http.StatusInternalServerError}
	var we *Error
	var he *echo.HTTPError
	switch {
	case store.Unavailable(err) && !errors.As(err, &we) && !errors.As(err, &he):
		out.status, out.store, out.message = http.StatusServiceUnavailable, true, storeReadMessage
		if write {
			out.message = storeWriteMessage
		}
		return out
	case errors.As(err, &we):
		out.status, out.message, out.fields = we.Status, we.Message, we.Fields
	case errors.As(err, &he):
		out.status = he.Code
		if s, ok := he.Message.(string); ok {
			out.message = s
		}
	default:
		if statusOf != nil {
			if s, ok := statusOf(err); ok {
				out.status = s
				break
			}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			out.status = http.StatusServiceUnavailable
		}
	}
	if out.status < 400 || out.status > 599 {
		out.status = http.StatusInternalServerError
	}
	if out.status >= 500 {
		out.fields = nil
	}
	if out.status >= 500 || out.message == "" {
		out.message = http.StatusText(out.status)
	}
	return out
}

// errorHandler returns the central echo.HTTPErrorHandler.
func errorHandler(logger *slog.Logger, statusOf func(error) (int, bool)) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			// Too late to change the status; say so once in the log if it matters.
			if !errors.Is(err, context.Canceled) {
				logger.WarnContext(c.Request().Context(), "error after response was committed",
					"error", err.Error(), "request_id", requestID(c))
			}
			return
		}
		r := c.Request()
		cl := classify(err, !safeMethod(r.Method), statusOf)
		if cl.store {
			// Senders and scripts retry after this; the log says it once
			// per request, at Warn: an outage is not a bug of ours.
			c.Response().Header().Set("Retry-After", strconv.Itoa(store.RetryAfter))
			logger.WarnContext(r.Context(), "request failed: store unavailable",
				"status", cl.status, "error", err.Error(), "method", r.Method,
				"path", r.URL.Path, "request_id", requestID(c))
		} else if cl.status >= 500 && !errors.Is(err, context.Canceled) {
			logger.ErrorContext(r.Context(), "request failed",
				"status", cl.status, "error", err.Error(), "method", r.Method,
				"path", r.URL.Path, "request_id", requestID(c))
		}
		if herr := writeError(c, cl); herr != nil {
			logger.ErrorContext(c.Request().Context(), "writing error response",
				"error", herr.Error(), "request_id", requestID(c))
		}
	}
}

// writeError renders cl as JSON or as the HTML error page.
func writeError(c echo.Context, cl classified) error {
	r := c.Request()
	SetVaryAccept(c)
	if r.Method == http.MethodHead {
		return c.NoContent(cl.status)
	}
	if !useHTMLErrors(r) {
		return c.JSON(cl.status, errorBody{Error: errorJSON{
			Status: cl.status, Message: cl.message, Fields: cl.fields, RequestID: requestID(c),
		}})
	}
	ep := ErrorPage{
		Status:    cl.status,
		TitleID:   errorMessageID(cl.status),
		TextID:    errorMessageID(cl.status) + "_text",
		Fields:    cl.fields,
		RequestID: requestID(c),
	}
	if cl.status < 500 && cl.message != http.StatusText(cl.status) {
		ep.Detail = cl.message
	}
	if cl.store {
		ep.TextID = "error_store_text"
		if cl.message == storeWriteMessage {
			ep.TextID = "error_store_write_text"
		}
	}
	rend, ok := c.Echo().Renderer.(*Renderer)
	if !ok {
		rend = defaultRenderer()
	}
	html, err := rend.renderBytes(c, errorTemplate, Page{Title: T(c, ep.TitleID), Data: ep})
	if err != nil {
		// The page itself failed: fall back to plain text rather than nothing.
		return c.String(cl.status, strconv.Itoa(cl.status)+" "+http.StatusText(cl.status))
	}
	return c.HTMLBlob(cl.status, html)
}

// useHTMLErrors decides between the HTML page and JSON: JSON for /api/,
// for ActivityPub deliveries (their Content-Type), and for any client that
// does not explicitly prefer HTML.
func useHTMLErrors(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/api/") || IsAPContentType(r.Header.Get(echo.HeaderContentType)) {
		return false
	}
	return WantsHTML(r)
}

// errorMessageID returns the catalogue id of a status's title.
func errorMessageID(status int) string {
	switch status {
	case 400, 401, 403, 404, 405, 406, 409, 410, 413, 415, 422, 429, 500, 502, 503:
		return "error_" + strconv.Itoa(status)
	}
	if status >= 500 {
		return "error_500"
	}
	return "error_generic"
}

// safeMethod reports whether m only reads (RFC 9110 §9.2.1).
func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// requestID returns the request id set by the RequestID middleware.
func requestID(c echo.Context) string {
	if id := c.Response().Header().Get(echo.HeaderXRequestID); id != "" {
		return id
	}
	return c.Request().Header.Get(echo.HeaderXRequestID)
}
