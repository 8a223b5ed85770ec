package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/service"
)

// The one place where the domain's errors become HTTP answers: the
// service's sentinels become statuses (StatusOf, used by the central error
// handler), and the domain's validation errors become the 422 that names
// each field (validationToWeb, or formErrorsOf where a form re-renders
// itself with them).

// StatusOf maps the service's sentinels to HTTP statuses.
func StatusOf(err error) (int, bool) {
	switch {
	case errors.Is(err, service.ErrNotFound):
		return http.StatusNotFound, true
	case errors.Is(err, service.ErrExists):
		return http.StatusConflict, true
	case errors.Is(err, service.ErrGone):
		return http.StatusGone, true
	}
	var ve *plan.ValidationError
	if errors.As(err, &ve) {
		return http.StatusUnprocessableEntity, true
	}
	return 0, false
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

// domainErrors maps the domain errors of API and operator handlers to their
// web form (operator forms mostly re-render themselves with the field
// errors instead; this catches the rest).
func domainErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error { return validationToWeb(next(c)) }
}

// rerender answers a form submit that failed with err: the form again with
// its field errors (422) when err is a validation error, else err itself.
func rerender(err error, form func(errs []plan.FieldError) error) error {
	errs, other := formErrorsOf(err)
	if other != nil {
		return other
	}
	return form(errs)
}

// formErrorsOf returns the field errors of a validation error, or nil and
// the error itself when it is something else.
func formErrorsOf(err error) ([]plan.FieldError, error) {
	var ve *plan.ValidationError
	if errors.As(err, &ve) {
		return ve.Fields, nil
	}
	var we *web.Error
	if errors.As(err, &we) && we.Status == http.StatusUnprocessableEntity {
		out := make([]plan.FieldError, len(we.Fields))
		for i, f := range we.Fields {
			out[i] = plan.FieldError{Field: f.Field, Message: f.Message}
		}
		return out, nil
	}
	return nil, err
}
