package web

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/ogpnet/ogpnet/internal/web"
	"github.com/ogpnet/ogpnet/node/plan"
	"github.com/ogpnet/ogpnet/node/service"
)

// TestStatusOf: the service's sentinels, however wrapped, and the domain's
// validation errors get their statuses; anything else is left to the
// central handler (500).
func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("progress update X on JAL0001: %w", service.ErrNotFound), http.StatusNotFound},
		{fmt.Errorf("commitment JAL0001: %w", service.ErrExists), http.StatusConflict},
		{fmt.Errorf("commitment JAL0001: %w", service.ErrGone), http.StatusGone},
		{fmt.Errorf("save: %w", &plan.ValidationError{Fields: []plan.FieldError{{Field: "id", Message: "is required"}}}), http.StatusUnprocessableEntity},
	} {
		if got, ok := StatusOf(tc.err); !ok || got != tc.want {
			t.Errorf("StatusOf(%v) = %d %v, want %d", tc.err, got, ok, tc.want)
		}
	}
	if got, ok := StatusOf(errors.New("disk full")); ok {
		t.Errorf("an unknown error got status %d", got)
	}
}

// TestValidationToWeb: a domain validation error becomes a 422 naming
// each field, in order; other errors pass through untouched.
func TestValidationToWeb(t *testing.T) {
	ve := &plan.ValidationError{Fields: []plan.FieldError{{Field: "endDate", Message: "must be on or after startDate"}, {Field: "title", Message: "is required"}}}
	var we *web.Error
	if err := validationToWeb(fmt.Errorf("wrapped: %w", ve)); !errors.As(err, &we) || we.Status != http.StatusUnprocessableEntity ||
		!reflect.DeepEqual(we.Fields, []web.FieldError{{Field: "endDate", Message: "must be on or after startDate"}, {Field: "title", Message: "is required"}}) {
		t.Errorf("validationToWeb = %#v", err)
	}
	other := errors.New("disk full")
	if err := validationToWeb(other); err != other {
		t.Errorf("another error became %v", err)
	}
}

// TestRerender: a failed submit shows the form again with the field errors
// of a domain or web 422, and returns any other error as it is.
func TestRerender(t *testing.T) {
	var shown []plan.FieldError
	form := func(errs []plan.FieldError) error { shown = errs; return nil }
	want := []plan.FieldError{{Field: "label", Message: "too long"}}
	for _, err := range []error{&plan.ValidationError{Fields: want}, web.Invalid(web.FieldError{Field: "label", Message: "too long"})} {
		shown = nil
		if got := rerender(err, form); got != nil || !reflect.DeepEqual(shown, want) {
			t.Errorf("rerender(%v) = %v, showed %v", err, got, shown)
		}
	}
	shown = nil
	gone := fmt.Errorf("commitment: %w", service.ErrGone)
	if got := rerender(gone, form); got != gone || shown != nil {
		t.Errorf("rerender(gone) = %v, showed %v", got, shown)
	}
}
