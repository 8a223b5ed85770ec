package auth

import (
	"context"
	"errors"
	"time"

	"github.com/ogpnet/ogpnet/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// sessionDoc is a session in the store, keyed by sha256(session id) so the
// database never holds a usable cookie value.
type sessionDoc struct {
	ID       string    `bson:"_id"`
	Subject  string    `bson:"subject"`
	Email    string    `bson:"email,omitempty"`
	Name     string    `bson:"name,omitempty"`
	Operator bool      `bson:"operator"`
	Created  time.Time `bson:"created"`
	Expires  time.Time `bson:"expires"`
}

func (a *Auth) createSession(ctx context.Context, p *Principal) (string, error) {
	sid := randomString()
	now := time.Now().UTC()
	doc := sessionDoc{
		ID: hashString(sid), Subject: p.Subject, Email: p.Email, Name: p.Name, Operator: p.Operator,
		Created: now, Expires: now.Add(a.cfg.SessionTTL),
	}
	if _, err := a.sess.InsertOne(ctx, doc); err != nil {
		return "", err
	}
	a.sessions.put(doc.ID, doc)
	return sid, nil
}

// session returns the live session for a cookie value, or ErrNotFound.
func (a *Auth) session(ctx context.Context, sid string) (sessionDoc, error) {
	id := hashString(sid)
	doc, ok := a.sessions.get(id)
	if !ok {
		err := a.sess.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc)
		if err != nil {
			return sessionDoc{}, store.NotFound(err)
		}
		a.sessions.put(doc.ID, doc)
	}
	if time.Now().After(doc.Expires) {
		return sessionDoc{}, store.ErrNotFound
	}
	return doc, nil
}

// deleteSession ends a session everywhere it is known.
func (a *Auth) deleteSession(ctx context.Context, sid string) {
	if sid == "" {
		return
	}
	id := hashString(sid)
	a.sessions.drop(id)
	if _, err := a.sess.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		a.log.WarnContext(ctx, "auth: delete session", "err", err)
	}
}
