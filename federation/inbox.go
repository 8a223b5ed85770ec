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
	"strings"
	"time"

	vocab "github.com/go-ap/activitypub"
	"github.com/labstack/echo/v4"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ogpnet/ogpnet/federation/httpsig"
	"github.com/ogpnet/ogpnet/internal/accept"
	"github.com/ogpnet/ogpnet/internal/store"
)

// Incoming is a verified activity handed to handlers.
type Incoming struct {
	// ID, Type and Actor come from the activity; Actor is the verified
	// signer (key owner == actor is checked before any handler runs).
	ID, Type, Actor string
	// ObjectID is the IRI of the activity's object (embedded or by link).
	ObjectID string
	// Raw is the activity exactly as received.
	Raw []byte
	// Activity is the decoded activity, for routing.
	Activity *vocab.Activity
	// embedded is the object as sent inside the activity (untrusted).
	embedded json.RawMessage
}

// Handler processes one verified activity. An error makes the inbox answer
// 500 and forget the activity id, so the sender's retry is processed again.
type Handler func(ctx context.Context, s *Server, in *Incoming) error

// On registers h for activities of type typ ("Create", "Update", …).
// Follow and Undo{Follow} are handled by the server itself and not passed
// on; Accept and Reject of our follows are recorded first (FollowingOf shows
// the new state), then passed on.
func (s *Server) On(typ string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[typ] = append(s.handlers[typ], h)
}

// inboxError is a rejection with a status the sender can act on.
func inboxError(code int, format string, args ...any) error {
	return echo.NewHTTPError(code, fmt.Sprintf(format, args...))
}

// IsAPContentType reports whether ct is an ActivityPub media type
// (GoToSocial answers anything else with 406; we answer 415).
func IsAPContentType(ct string) bool { return accept.IsAPContentType(ct) }

func (s *Server) inboxHandler(c echo.Context) error {
	if name := c.Param("name"); name != "" && name != s.cfg.Username {
		return echo.NewHTTPError(http.StatusNotFound, "no such actor")
	}
	req := c.Request()
	if req.ContentLength > s.cfg.InboxMaxBytes {
		return inboxError(http.StatusRequestEntityTooLarge, "activity larger than %d bytes", s.cfg.InboxMaxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, s.cfg.InboxMaxBytes+1))
	if err != nil {
		return inboxError(http.StatusBadRequest, "reading body: %v", err)
	}
	if int64(len(body)) > s.cfg.InboxMaxBytes {
		return inboxError(http.StatusRequestEntityTooLarge, "activity larger than %d bytes", s.cfg.InboxMaxBytes)
	}
	if !IsAPContentType(req.Header.Get("Content-Type")) {
		return inboxError(http.StatusUnsupportedMediaType, "Content-Type must be application/activity+json")
	}
	in, err := s.Receive(req.Context(), req, body)
	if err != nil {
		return err
	}
	s.log.Debug("inbox accepted", "type", in.Type, "id", in.ID, "actor", in.Actor)
	return c.NoContent(http.StatusAccepted)
}

// Receive runs the inbox pipeline on a request whose body has been read:
// verify signature → decode → origin checks → dedupe → dispatch. Its errors
// are *echo.HTTPError with the status to answer.
func (s *Server) Receive(ctx context.Context, req *http.Request, body []byte) (*Incoming, error) {
	verified, err := httpsig.Verify(ctx, req, body, s.keys, httpsig.Options{Now: s.cfg.Now})
	if err != nil {
		return nil, inboxError(http.StatusUnauthorized, "signature rejected: %v", err)
	}
	in, err := decodeActivity(body)
	if err != nil {
		return nil, inboxError(http.StatusBadRequest, "malformed activity: %v", err)
	}
	if in.Actor != verified.Owner {
		return nil, inboxError(http.StatusUnauthorized, "signed by %s, but the activity's actor is %s", verified.Owner, in.Actor)
	}
	if !sameOrigin(in.ID, in.Actor) {
		return nil, inboxError(http.StatusUnauthorized, "activity id %s is not on the actor's host", in.ID)
	}
	switch in.Type {
	case "Update", "Delete":
		// Only the owner may change or remove an object: its IRI must be on
		// the actor's host (or be the actor itself).
		if in.ObjectID == "" || !sameOrigin(in.ObjectID, in.Actor) {
			return nil, inboxError(http.StatusForbidden, "%s of %s by %s: only the object's owner may do that", in.Type, in.ObjectID, in.Actor)
		}
	}
	fresh, err := s.markSeen(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if !fresh {
		return in, nil // a duplicate delivery: harmless, already processed
	}
	// It just spoke to us: deliveries to it need not wait out a dead mark.
	_ = s.queue.MarkAlive(ctx, hostOf(in.Actor))
	if err := s.dispatch(ctx, in); err != nil {
		s.forgetSeen(in.ID)
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return nil, he
		}
		s.log.Error("inbox handler failed", "type", in.Type, "id", in.ID, "err", err)
		return nil, echo.NewHTTPError(http.StatusInternalServerError, "could not process the activity")
	}
	return in, nil
}

// decodeActivity parses with go-ap for routing and keeps the bytes.
func decodeActivity(body []byte) (*Incoming, error) {
	if !json.Valid(body) {
		return nil, errors.New("body is not JSON")
	}
	// go-ap re-encodes what it decodes; the object is also kept as sent.
	var shape struct {
		Object json.RawMessage `json:"object"`
	}
	if err := json.Unmarshal(body, &shape); err != nil {
		return nil, fmt.Errorf("not an object: %v", err)
	}
	item, err := vocab.UnmarshalJSON(body)
	if err != nil || item == nil {
		return nil, fmt.Errorf("not an ActivityStreams document: %v", err)
	}
	in := &Incoming{Raw: body, embedded: shape.Object}
	err = vocab.OnActivity(item, func(a *vocab.Activity) error {
		in.Activity = a
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
	_, err := s.cfg.DB.Collection("inbox_seen").InsertOne(ctx, bson.M{"_id": id, "at": s.cfg.Now()})
	if store.IsDuplicate(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inbox dedupe: %w", err)
	}
	return true, nil
}

func (s *Server) forgetSeen(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = s.cfg.DB.Collection("inbox_seen").DeleteOne(ctx, bson.M{"_id": id})
}

func (s *Server) dispatch(ctx context.Context, in *Incoming) error {
	switch in.Type {
	case "Follow":
		return s.onFollow(ctx, in)
	case "Undo":
		if handled, err := s.onUndo(ctx, in); handled || err != nil {
			return err
		}
	case "Accept", "Reject":
		// Recorded here; registered handlers still hear of it (the hub
		// backfills a member the moment it accepts).
		if _, err := s.onFollowAnswer(ctx, in); err != nil {
			return err
		}
	case "Delete":
		if in.ObjectID == in.Actor {
			// An account deletion: forget it as a follower.
			if err := s.followers.remove(ctx, in.Actor); err != nil {
				return err
			}
		}
	}
	s.mu.RLock()
	hs := s.handlers[in.Type]
	s.mu.RUnlock()
	for _, h := range hs {
		if err := h(ctx, s, in); err != nil {
			return err
		}
	}
	return nil
}

// Object returns the activity's object as trustworthy bytes: the embedded
// copy when it is attributed to the activity's actor on the same host,
// otherwise a fresh, signed fetch from its origin (federation.md §4; always
// for Announce, whose object belongs to someone else).
func (s *Server) Object(ctx context.Context, in *Incoming) ([]byte, error) {
	if in.ObjectID == "" {
		return nil, inboxError(http.StatusBadRequest, "activity has no object")
	}
	if in.Type != "Announce" && len(in.embedded) > 0 && bytes.HasPrefix(bytes.TrimSpace(in.embedded), []byte("{")) {
		var obj struct {
			ID           string          `json:"id"`
			AttributedTo json.RawMessage `json:"attributedTo"`
		}
		if json.Unmarshal(in.embedded, &obj) == nil && obj.ID == in.ObjectID &&
			attributedTo(obj.AttributedTo) == in.Actor && sameOrigin(obj.ID, in.Actor) {
			return in.embedded, nil
		}
	}
	raw, err := s.fetcher.Get(ctx, in.ObjectID)
	if err != nil {
		return nil, inboxError(http.StatusBadRequest, "could not fetch object %s from its origin: %v", in.ObjectID, err)
	}
	return raw, nil
}

// attributedTo reads attributedTo as a single IRI (string or {id}).
func attributedTo(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil && len(list) == 1 {
		return attributedTo(list[0])
	}
	return ""
}
