package auth

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ogpnet/ogpnet/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

const (
	// cacheTTL bounds how long a replica trusts its cached copy of a session
	// or token: a revocation on another replica takes effect within it.
	cacheTTL = 30 * time.Second
	// cacheMax bounds memory; past it the cache simply starts over.
	cacheMax = 10000
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

// cache keeps recently seen sessions and tokens: every store read is a scan
// on the embedded store, and these are looked up on every request.
type cache struct {
	mu       sync.Mutex
	sessions map[string]cachedSession
	tokens   map[string]cachedToken
}

type cachedSession struct {
	doc     sessionDoc
	fetched time.Time
}

type cachedToken struct {
	doc     tokenDoc
	fetched time.Time
}

func newCache() *cache {
	return &cache{sessions: map[string]cachedSession{}, tokens: map[string]cachedToken{}}
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
	a.cache.putSession(doc)
	return sid, nil
}

// session returns the live session for a cookie value, or ErrNotFound.
func (a *Auth) session(ctx context.Context, sid string) (sessionDoc, error) {
	id := hashString(sid)
	doc, ok := a.cache.session(id)
	if !ok {
		err := a.sess.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc)
		if err != nil {
			return sessionDoc{}, store.NotFound(err)
		}
		a.cache.putSession(doc)
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
	a.cache.dropSession(id)
	if _, err := a.sess.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		a.log.WarnContext(ctx, "auth: delete session", "err", err)
	}
}

func (c *cache) session(id string) (sessionDoc, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.sessions[id]
	if !ok || time.Since(e.fetched) > cacheTTL {
		return sessionDoc{}, false
	}
	return e.doc, true
}

func (c *cache) putSession(d sessionDoc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sessions) >= cacheMax {
		c.sessions = map[string]cachedSession{}
	}
	c.sessions[d.ID] = cachedSession{doc: d, fetched: time.Now()}
}

func (c *cache) dropSession(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.sessions, id)
}

func (c *cache) token(id string) (tokenDoc, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.tokens[id]
	if !ok || time.Since(e.fetched) > cacheTTL {
		return tokenDoc{}, false
	}
	return e.doc, true
}

func (c *cache) putToken(d tokenDoc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tokens) >= cacheMax {
		c.tokens = map[string]cachedToken{}
	}
	c.tokens[d.ID] = cachedToken{doc: d, fetched: time.Now()}
}

func (c *cache) dropToken(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tokens, id)
}
