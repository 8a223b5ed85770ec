package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/ogpnet/ogpnet/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// tokenPrefix marks API tokens so secret scanners and people recognise them.
const tokenPrefix = "ogpnet_"

// tokenIDLen is the length of the hex token id that follows the prefix.
const tokenIDLen = 16

// Token describes an API token; the secret itself is never stored or shown
// again after creation.
type Token struct {
	// ID is the public part, shown in lists ("ogpnet_<ID>_…").
	ID         string     `json:"id"`
	Label      string     `json:"label"`
	Subject    string     `json:"subject"`
	Email      string     `json:"email,omitempty"`
	Operator   bool       `json:"operator"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
}

// tokenDoc is a token in the store: the SHA-256 of the secret, never the secret.
type tokenDoc struct {
	ID       string     `bson:"_id"`
	Hash     string     `bson:"hash"`
	Label    string     `bson:"label"`
	Subject  string     `bson:"subject"`
	Email    string     `bson:"email,omitempty"`
	Name     string     `bson:"name,omitempty"`
	Operator bool       `bson:"operator"`
	Created  time.Time  `bson:"created"`
	LastUsed *time.Time `bson:"lastUsed,omitempty"`
	Revoked  *time.Time `bson:"revoked,omitempty"`
}

func (d tokenDoc) token() Token {
	return Token{
		ID: d.ID, Label: d.Label, Subject: d.Subject, Email: d.Email, Operator: d.Operator,
		CreatedAt: d.Created, LastUsedAt: d.LastUsed, RevokedAt: d.Revoked,
	}
}

// ErrBadLabel is returned by CreateToken for an empty or over-long label.
var ErrBadLabel = errors.New("auth: a token label must have 1 to 100 characters")

// ErrBadToken is returned for a malformed, unknown or revoked API token.
var ErrBadToken = errors.New("auth: invalid or revoked API token")

// CreateToken issues an API token acting as p (with p's role at this
// moment). The plaintext is returned once; only its SHA-256 is stored.
func (a *Auth) CreateToken(ctx context.Context, p *Principal, label string) (plaintext string, tok Token, err error) {
	if p == nil || p.Subject == "" {
		return "", Token{}, errors.New("auth: a token needs an owner")
	}
	label = strings.TrimSpace(label)
	if label == "" || utf8.RuneCountInString(label) > 100 {
		return "", Token{}, ErrBadLabel
	}
	idb := make([]byte, tokenIDLen/2)
	secret := make([]byte, 32)
	if _, err := rand.Read(idb); err != nil {
		return "", Token{}, err
	}
	if _, err := rand.Read(secret); err != nil {
		return "", Token{}, err
	}
	id, sec := hex.EncodeToString(idb), hex.EncodeToString(secret)
	doc := tokenDoc{
		ID: id, Hash: hashString(sec), Label: label, Subject: p.Subject, Email: p.Email, Name: p.Name,
		Operator: p.Operator, Created: time.Now().UTC().Truncate(time.Millisecond),
	}
	if _, err := a.toks.InsertOne(ctx, doc); err != nil {
		return "", Token{}, err
	}
	return tokenPrefix + id + "_" + sec, doc.token(), nil
}

// RevokeToken revokes a token by id; it stops working at once on this
// replica and within cacheTTL on others. Unknown ids give store.ErrNotFound.
func (a *Auth) RevokeToken(ctx context.Context, id string) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	res, err := a.toks.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: now}}}})
	if err != nil {
		return err
	}
	a.tokens.drop(id)
	if res.MatchedCount == 0 {
		return store.ErrNotFound
	}
	return nil
}

// Tokens lists every token, newest first, revoked ones included (for audit).
func (a *Auth) Tokens(ctx context.Context) ([]Token, error) {
	cur, err := a.toks.Find(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var docs []tokenDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]Token, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.token())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// checkToken resolves a presented plaintext token to its live record.
func (a *Auth) checkToken(ctx context.Context, plaintext string) (tokenDoc, error) {
	rest, ok := strings.CutPrefix(plaintext, tokenPrefix)
	if !ok || len(rest) < tokenIDLen+2 || rest[tokenIDLen] != '_' {
		return tokenDoc{}, ErrBadToken
	}
	id, sec := rest[:tokenIDLen], rest[tokenIDLen+1:]
	doc, cached := a.tokens.get(id)
	if !cached {
		if err := a.toks.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
			if errors.Is(store.NotFound(err), store.ErrNotFound) {
				return tokenDoc{}, ErrBadToken
			}
			return tokenDoc{}, err
		}
		a.tokens.put(doc.ID, doc)
	}
	if subtle.ConstantTimeCompare([]byte(doc.Hash), []byte(hashString(sec))) != 1 || doc.Revoked != nil {
		return tokenDoc{}, ErrBadToken
	}
	// Record use at minute resolution: enough for "last used", without a
	// write on every scripted request.
	if doc.LastUsed == nil || time.Since(*doc.LastUsed) > time.Minute {
		now := time.Now().UTC().Truncate(time.Millisecond)
		if _, err := a.toks.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "lastUsed", Value: now}}}}); err == nil {
			doc.LastUsed = &now
			a.tokens.put(doc.ID, doc)
		}
	}
	return doc, nil
}

// tokenRequest is the create-token form or JSON body.
type tokenRequest struct {
	Label string `json:"label" form:"label"`
}

// createdToken is the answer to a create: the plaintext, shown this once.
type createdToken struct {
	Token
	Plaintext string `json:"token"`
}

func (a *Auth) listTokens(c echo.Context) error {
	toks, err := a.Tokens(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": toks})
}

func (a *Auth) createToken(c echo.Context) error {
	var req tokenRequest
	if err := (&echo.DefaultBinder{}).BindBody(c, &req); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad token request")
	}
	p := CurrentPrincipal(c)
	// A token cannot mint tokens: a leaked script token must not be able to
	// outlive its own revocation.
	if p.Via == ViaToken {
		return echo.NewHTTPError(http.StatusForbidden, "API tokens cannot create tokens; sign in")
	}
	plain, tok, err := a.CreateToken(c.Request().Context(), p, req.Label)
	if err != nil {
		if errors.Is(err, ErrBadLabel) {
			return echo.NewHTTPError(http.StatusBadRequest, "a token label must have 1 to 100 characters")
		}
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, createdToken{Token: tok, Plaintext: plain})
}

func (a *Auth) revokeToken(c echo.Context) error {
	err := a.RevokeToken(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "no such token")
	} else if err != nil {
		return err
	}
	if isForm(c) {
		return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
	}
	return c.NoContent(http.StatusNoContent)
}
