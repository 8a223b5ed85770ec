package federation

import (
	"errors"
	"net/http"
)

// Errors an Inbox returns to refuse an activity. Wrap them with a reason
// (fmt.Errorf("%w: …", federation.ErrRejected)): the inbox answers the
// sender with the status of the sentinel and the wrapped text. Any other
// error is a failure of ours: the sender gets 500 with a generic message,
// the cause is logged, and the activity id is forgotten so the sender's
// retry is processed again.
var (
	// ErrMalformed: the activity or its object cannot be read (400).
	ErrMalformed = errors.New("malformed activity")
	// ErrForbidden: the actor may not do this (403).
	ErrForbidden = errors.New("forbidden")
	// ErrRejected: the object is invalid or refused by policy (422).
	ErrRejected = errors.New("rejected")
	// ErrUnavailable: not now; the sender should retry later (503).
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrTooMany: the actor sent more than a stated limit allows (429).
	ErrTooMany = errors.New("too many activities")
)

// The pipeline's own refusals, before any Inbox runs.
var (
	errNoActor      = errors.New("no such actor")
	errUnverified   = errors.New("signature could not be verified")
	errTooLarge     = errors.New("activity too large")
	errContentType  = errors.New("the content type must be application/activity+json")
	errInboxFailure = errors.New("could not process the activity")
)

// statuses is the one table from an inbox error to the HTTP status
// answered; the first sentinel the error wraps decides.
var statuses = []struct {
	err  error
	code int
}{
	{ErrMalformed, http.StatusBadRequest},
	{errUnverified, http.StatusUnauthorized},
	{ErrForbidden, http.StatusForbidden},
	{errNoActor, http.StatusNotFound},
	{errTooLarge, http.StatusRequestEntityTooLarge},
	{errContentType, http.StatusUnsupportedMediaType},
	{ErrRejected, http.StatusUnprocessableEntity},
	{ErrUnavailable, http.StatusServiceUnavailable},
	{ErrTooMany, http.StatusTooManyRequests},
}

// inboxStatus maps err to the status and the text the sender sees. Errors
// outside the table are 500 with a generic text (their cause may be
// internal: a store error, a bug).
func inboxStatus(err error) (int, string) {
	for _, s := range statuses {
		if errors.Is(err, s.err) {
			return s.code, err.Error()
		}
	}
	return http.StatusInternalServerError, errInboxFailure.Error()
}
