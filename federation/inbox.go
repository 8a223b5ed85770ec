package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	vocab "github.com/go-ap/activitypub"
	"github.com/labstack/echo/v4"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/federation/httpsig"
	"github.com/ogpnet/ogpnet/internal/accept"
	"github.com/ogpnet/ogpnet/internal/jsonlimit"
	"github.com/ogpnet/ogpnet/internal/store"
)

// Inbox is what a server's user is told about incoming activities, given
// once in Config. Federation handles Follow, Undo{Follow} and the answers
// to its own Follows itself; everything else that passed the pipeline
// (verify → decode → origin checks → dedupe) reaches exactly one method.
// Methods return nil, or an error wrapping ErrMalformed, ErrForbidden,
// ErrRejected or ErrUnavailable to refuse the activity with that status;
// any other error answers 500 and lets the sender's retry through.
// Outgoing traffic leaves only through Publish, Send and Follow.
type Inbox interface {
	// Object receives every activity with an object that federation does
	// not handle itself: Create, Update, Announce, Add, Remove, Flag,
	// Like, Undo of anything but a Follow… (switch on a.Type; ignore the
	// rest with nil). a.Object resolves the object when it is needed.
	Object(ctx context.Context, a *Activity) error
	// Delete receives Delete activities; the object is on the actor's
	// host. An account deletion (a.ObjectID == a.Actor) arrives after the
	// actor was removed from the followers.
	Delete(ctx context.Context, a *Activity) error
	// FollowAnswered is told of an Accept (accepted) or Reject of one of
	// this server's Follows, after it was recorded: FollowingOf shows the
	// new state.
	FollowAnswered(ctx context.Context, a *Activity, accepted bool) error
}

// IgnoreInbox ignores every activity. Embed it in an Inbox to implement
// only the methods that matter to you; it is also the Inbox of a server
// whose Config has none.
type IgnoreInbox struct{}

// Object ignores the activity.
func (IgnoreInbox) Object(context.Context, *Activity) error { return nil }

// Delete ignores the deletion.
func (IgnoreInbox) Delete(context.Context, *Activity) error { return nil }

// FollowAnswered ignores the answer.
func (IgnoreInbox) FollowAnswered(context.Context, *Activity, bool) error { return nil }

// IsAPContentType reports whether ct is an ActivityPub media type
// (GoToSocial answers anything else with 406; we answer 415).
func IsAPContentType(ct string) bool { return accept.IsAPContentType(ct) }

func (s *Server) inboxHandler(c echo.Context) error {
	req := c.Request()
	a, err := s.readInbox(c, req)
	if err != nil {
		if store.Unavailable(err) && !errors.Is(err, ErrUnavailable) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		code, msg := inboxStatus(err)
		switch code {
		case http.StatusInternalServerError:
			s.log.ErrorContext(req.Context(), "inbox: could not process an activity", "err", err)
		case http.StatusServiceUnavailable:
			// Senders (Mastodon, GoToSocial, our queue) retry a 5xx with
			// their own back-off; Retry-After says when it is worth it.
			c.Response().Header().Set("Retry-After", strconv.Itoa(store.RetryAfter))
			s.log.WarnContext(req.Context(), "inbox: unavailable, the sender will retry", "err", err)
			if store.Unavailable(err) {
				// The store's own error is for the log, not for the sender.
				msg = ErrUnavailable.Error() + ": the data store is unreachable, retry later"
			}
		}
		return echo.NewHTTPError(code, msg)
	}
	s.log.Debug("inbox accepted", "type", a.Type, "id", a.ID, "actor", a.Actor)
	return c.NoContent(http.StatusAccepted)
}

// readInbox checks the request's target, size and media type, reads the
// body and runs Receive.
func (s *Server) readInbox(c echo.Context, req *http.Request) (*Activity, error) {
	if name := c.Param("name"); name != "" && name != s.cfg.Username {
		return nil, errNoActor
	}
	if req.ContentLength > s.cfg.InboxMaxBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", errTooLarge, s.cfg.InboxMaxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, s.cfg.InboxMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %v", ErrMalformed, err)
	}
	if int64(len(body)) > s.cfg.InboxMaxBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", errTooLarge, s.cfg.InboxMaxBytes)
	}
	if !IsAPContentType(req.Header.Get("Content-Type")) {
		return nil, errContentType
	}
	return s.Receive(req.Context(), req, body)
}

// Receive runs the inbox pipeline on a request whose body has been read:
// verify signature → decode → origin checks → dedupe → dispatch to the
// Inbox. Its errors wrap the sentinels of errors.go; the inbox answers
// them with their status (an unknown error is 500).
func (s *Server) Receive(ctx context.Context, req *http.Request, body []byte) (*Activity, error) {
	verified, err := httpsig.Verify(ctx, req, body, s.keys, httpsig.Options{Now: s.cfg.Now})
	if err != nil && store.Unavailable(err) {
		// The key could not be looked up or kept because the store is
		// away: not the sender's fault, and worth a retry (503, not 401).
		return nil, fmt.Errorf("%w: verifying the signature: %w", ErrUnavailable, err)
	}
	if err != nil {
		// Why is for our log: the sender learns only that it failed.
		s.log.InfoContext(ctx, "inbox: signature rejected", "err", err)
		return nil, errUnverified
	}
	a, err := decodeActivity(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if a.Actor != verified.Owner {
		return nil, fmt.Errorf("%w: signed by %s, but the activity's actor is %s", errUnverified, verified.Owner, a.Actor)
	}
	if !sameOrigin(a.ID, a.Actor) {
		return nil, fmt.Errorf("%w: activity id %s is not on the actor's host", errUnverified, a.ID)
	}
	switch a.Type {
	case "Update", "Delete":
		// Only the owner may change or remove an object: its IRI must be on
		// the actor's host (or be the actor itself).
		if a.ObjectID == "" || !sameOrigin(a.ObjectID, a.Actor) {
			return nil, fmt.Errorf("%w: %s of %s by %s: only the object's owner may do that", ErrForbidden, a.Type, a.ObjectID, a.Actor)
		}
	}
	fresh, err := s.markSeen(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if !fresh {
		return a, nil // a duplicate delivery: harmless, already processed
	}
	// It just spoke to us: deliveries to it need not wait out a dead mark.
	_ = s.queue.MarkAlive(ctx, hostOf(a.Actor))
	a.fetch, a.log = s.fetcher.Get, s.log
	if err := s.dispatch(ctx, a); err != nil {
		s.forgetSeen(a.ID)
		if store.Unavailable(err) && !errors.Is(err, ErrUnavailable) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("%s %s: %w", a.Type, a.ID, err)
	}
	return a, nil
}

// decodeActivity parses with go-ap for routing and keeps the bytes. The
// document's shape is checked first against jsonlimit.Activity (depth,
// items per array, values in all): go-ap builds a value per element, so an
// array of 100,000 recipients, well inside the size cap, cost seconds.
// Three passes over the body (limits, strict validity, go-ap); the
// embedded object is read from Raw only when it is needed (Activity.Object).
func decodeActivity(body []byte) (*Activity, error) {
	if err := jsonlimit.Activity.Check(body); err != nil {
		return nil, err
	}
	// Raw is stored and handed on as sent: it must be JSON by encoding/json's
	// rules, whatever go-ap's own parser would accept.
	if !json.Valid(body) {
		return nil, errors.New("body is not JSON")
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("not an object")
	}
	item, err := vocab.UnmarshalJSON(body)
	if err != nil || item == nil {
		return nil, fmt.Errorf("not an ActivityStreams document: %v", err)
	}
	in := &Activity{Raw: body}
	err = vocab.OnActivity(item, func(a *vocab.Activity) error {
		in.Decoded = a
		in.ID = a.ID.String()
		in.Type = string(a.Type)
		if a.Actor != nil {
			in.Actor = a.Actor.GetLink().String()
		}
		if a.Object != nil {
			in.ObjectID = a.Object.GetLink().String()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("not an activity: %v", err)
	}
	switch {
	case in.Type == "":
		return nil, errors.New("missing type")
	case !absoluteHTTP(in.ID):
		return nil, errors.New("id must be an absolute http(s) IRI")
	case !absoluteHTTP(in.Actor):
		return nil, errors.New("actor must be an absolute http(s) IRI")
	case in.ObjectID != "" && !absoluteHTTP(in.ObjectID):
		return nil, errors.New("object id must be an absolute http(s) IRI")
	}
	return in, nil
}

func absoluteHTTP(iri string) bool {
	u, err := url.Parse(iri)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

func hostOf(iri string) string {
	u, err := url.Parse(iri)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

func sameOrigin(a, b string) bool {
	ha := hostOf(a)
	return ha != "" && ha == hostOf(b)
}

// markSeen records an activity id; false means it was seen before. The
// duplicate-key error of an insert by _id is the dedupe (design §3).
func (s *Server) markSeen(ctx context.Context, id string) (bool, error) {
	// Grouped with concurrent deliveries' inserts (store.Inserter): one
	// store transaction for all of them rather than one each.
	err := s.seen.InsertOne(ctx, bson.M{"_id": id, "at": s.cfg.Now()})
	if store.IsDuplicate(err) {
		if _, failed := s.unseen.LoadAndDelete(id); failed {
			// Seen, but its processing failed and the record stayed: this
			// is the sender's retry, to be processed.
			return true, nil
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inbox dedupe: %w", err)
	}
	return true, nil
}

// forgetSeen removes the dedupe record of an activity whose processing
// failed, so the sender's retry is processed. When the store cannot remove
// it (it went away during processing), the id is remembered in memory
// instead: markSeen then lets the retry through.
func (s *Server) forgetSeen(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.cfg.DB.Collection("inbox_seen").DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		s.unseen.Store(id, struct{}{})
	}
}

// dispatch handles what federation owns (follows and the answers to its
// own) and hands everything else to the Inbox.
func (s *Server) dispatch(ctx context.Context, a *Activity) error {
	switch a.Type {
	case "Follow":
		return s.onFollow(ctx, a)
	case "Undo":
		if handled, err := s.onUndo(ctx, a); handled || err != nil {
			return err
		}
	case "Accept", "Reject":
		answered, err := s.onFollowAnswer(ctx, a)
		if err != nil {
			return err
		}
		if answered {
			return s.inbox.FollowAnswered(ctx, a, a.Type == "Accept")
		}
	case "Delete":
		if a.ObjectID == a.Actor {
			// An account deletion: forget it as a follower.
			if err := s.followers.remove(ctx, a.Actor); err != nil {
				return err
			}
		}
		return s.inbox.Delete(ctx, a)
	}
	return s.inbox.Object(ctx, a)
}
