// Package httpsig signs and verifies draft-cavage HTTP signatures the way
// Mastodon and GoToSocial speak them: RSA-SHA256 over "(request-target) host
// date [digest]", a SHA-256 Digest of the body, and a bounded Date window.
//
// The signature arithmetic is delegated to github.com/go-fed/httpsig. That
// library does not enforce the Date window, the required header set or the
// Digest, so Verify does all three itself before any key is fetched.
//
// Error mapping for HTTP handlers: every sentinel error maps to 401
// Unauthorized, so remote servers treat the failure as an authentication
// problem (what Mastodon answers). ErrMalformed may be answered with 400
// instead when the caller wants to tell the sender not to retry; 401 is the
// recommended default for interoperability.
package httpsig

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gofed "github.com/go-fed/httpsig"
)

// Sentinel errors returned (wrapped) by Verify and ParseSignatureHeader.
var (
	// ErrUnsigned: the request has no Signature header.
	ErrUnsigned = errors.New("httpsig: request is not signed")
	// ErrMalformed: the Signature, Date or Digest header cannot be parsed,
	// or a header named in headers="…" is missing from the request.
	ErrMalformed = errors.New("httpsig: malformed signature")
	// ErrStale: Date (or (created)/(expires)) lies outside the accepted window.
	ErrStale = errors.New("httpsig: signature date outside the accepted window")
	// ErrHeadersNotSigned: the signed header set is weaker than required.
	ErrHeadersNotSigned = errors.New("httpsig: required headers not signed")
	// ErrDigestMismatch: the Digest header is missing or differs from the body.
	ErrDigestMismatch = errors.New("httpsig: digest does not match body")
	// ErrKeyUnavailable: the key could not be resolved.
	ErrKeyUnavailable = errors.New("httpsig: signing key unavailable")
	// ErrBadSignature: the signature does not verify with the resolved key,
	// or uses an algorithm other than RSA-SHA256.
	ErrBadSignature = errors.New("httpsig: signature verification failed")
)

// Defaults for Options, from Mastodon's behaviour: 12 hours in the past and
// one hour of clock skew into the future.
const (
	DefaultMaxAge  = 12 * time.Hour
	DefaultMaxSkew = time.Hour
)

// KeyResolver fetches the public key for keyID. refresh=true means: bypass
// any cache (called once after a verification failure, to handle key
// rotation). owner is the actor IRI that owns the key (publicKey.owner).
type KeyResolver interface {
	ResolveKey(ctx context.Context, keyID string, refresh bool) (pub crypto.PublicKey, owner string, err error)
}

// Options tunes Verify. The zero value uses time.Now, DefaultMaxAge and
// DefaultMaxSkew.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxAge is how far in the past Date may lie (default 12h).
	MaxAge time.Duration
	// MaxSkew is how far in the future Date may lie (default 1h).
	MaxSkew time.Duration
}

// Verified identifies the key that signed a request.
type Verified struct {
	// KeyID is the keyId that verified.
	KeyID string
	// Owner is the actor IRI that owns the key, as reported by the resolver.
	// Callers must still check it against the activity's actor.
	Owner string
}

var (
	headersGET  = []string{gofed.RequestTarget, "host", "date"}
	headersPOST = []string{gofed.RequestTarget, "host", "date", "digest"}
)

// Sign signs req in place with RSA-SHA256 and reports the algorithm as
// "rsa-sha256" (what Mastodon sends). If body != nil (a POST) it sets
// Digest: SHA-256=<base64> and signs "(request-target) host date digest";
// otherwise (a GET) it signs "(request-target) host date". It sets Date
// (RFC 7231 GMT) when missing and always sets the Host header to the host
// the request will be sent to, so the signed value is the one on the wire.
// body must be exactly the bytes that will be sent.
func Sign(req *http.Request, body []byte, keyID string, key *rsa.PrivateKey) error {
	if req == nil || req.URL == nil {
		return errors.New("httpsig: nil request")
	}
	if key == nil {
		return errors.New("httpsig: nil key")
	}
	if keyID == "" || strings.ContainsAny(keyID, "\"\\") || strings.IndexFunc(keyID, func(r rune) bool { return r < 0x20 || r >= 0x7f }) >= 0 {
		// go-fed writes keyId unescaped, so refuse anything that would
		// break out of the quoted string.
		return fmt.Errorf("httpsig: keyId %q cannot be sent", keyID)
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if host == "" {
		return errors.New("httpsig: request has no host")
	}
	// net/http sends req.Host (or URL.Host) and ignores Header["Host"], but
	// the signer reads headers, so mirror the wire value there.
	req.Header.Set("Host", host)
	if req.Header.Get("Date") == "" {
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	headers := headersGET
	if body != nil {
		headers = headersPOST
		// We compute the digest of exactly these bytes; a stale value
		// from a retried request would make go-fed refuse to sign.
		req.Header.Del("Digest")
	}
	req.Header.Del("Signature")
	signer, _, err := gofed.NewSigner([]gofed.Algorithm{gofed.RSA_SHA256}, gofed.DigestSha256, headers, gofed.Signature, 0)
	if err != nil {
		return fmt.Errorf("httpsig: %w", err)
	}
	if err := signer.SignRequest(key, keyID, wireTarget(req, true), body); err != nil {
		return fmt.Errorf("httpsig: sign: %w", err)
	}
	// go-fed always advertises algorithm="hs2019"; Mastodon and our own
	// outgoing contract use "rsa-sha256". The algorithm parameter is not
	// part of the signing string, so rewriting it is safe.
	p, err := ParseSignatureHeader(req.Header.Get("Signature"))
	if err != nil {
		return fmt.Errorf("httpsig: re-reading own signature: %w", err)
	}
	p.Algorithm = "rsa-sha256"
	req.Header.Set("Signature", p.String())
	return nil
}

// wireTarget returns a shallow copy of req (sharing its Header map) whose
// URL.Path is the escaped path as written on the wire, so that go-fed's
// "(request-target)" (built from URL.Path) matches what the peer sees.
// withQuery=false drops the query string (the GoToSocial variant).
func wireTarget(req *http.Request, withQuery bool) *http.Request {
	r := new(http.Request)
	*r = *req
	u := *req.URL
	u.Path = req.URL.EscapedPath()
	if strings.HasPrefix(req.RequestURI, "/") {
		// Server side: RequestURI holds the target exactly as received,
		// which is what the sender signed, whatever escaping it chose.
		u.Path, u.RawQuery, _ = strings.Cut(req.RequestURI, "?")
	}
	if u.Path == "" {
		u.Path = "/"
	}
	u.RawPath = ""
	if !withQuery {
		u.RawQuery = ""
	}
	r.URL = &u
	return r
}

// Verify checks an incoming request signed with a draft-cavage signature:
//   - a single, strictly parseable Signature header (ErrUnsigned, ErrMalformed);
//   - algorithm rsa-sha256, hs2019 or absent, all meaning RSA-SHA256;
//   - the signed header set Mastodon requires: date; (request-target) or
//     digest; host on GET/HEAD; digest on POST or any request with a body
//     (ErrHeadersNotSigned);
//   - Date within [now-MaxAge, now+MaxSkew] (ErrStale);
//   - Digest SHA-256 equal to sha256(body) (ErrDigestMismatch);
//   - the key from keys (ErrKeyUnavailable) verifies the signature
//     (ErrBadSignature); on failure the key is resolved again with
//     refresh=true and the check retried once, to follow key rotation.
//
// For GET requests with a query string a signature over the path without
// the query is also accepted, because GoToSocial may sign either form.
// body must be the exact bytes received.
func Verify(ctx context.Context, req *http.Request, body []byte, keys KeyResolver, opts Options) (Verified, error) {
	vals := req.Header.Values("Signature")
	if len(vals) == 0 {
		return Verified{}, ErrUnsigned
	}
	if len(vals) > 1 {
		return Verified{}, fmt.Errorf("%w: more than one Signature header", ErrMalformed)
	}
	p, err := ParseSignatureHeader(vals[0])
	if err != nil {
		return Verified{}, err
	}
	switch strings.ToLower(p.Algorithm) {
	case "", "rsa-sha256", "hs2019":
	default:
		return Verified{}, fmt.Errorf("%w: unsupported algorithm %q", ErrBadSignature, p.Algorithm)
	}
	if err := checkHeaderSet(req, body, p); err != nil {
		return Verified{}, err
	}
	if err := checkTime(req, p, opts); err != nil {
		return Verified{}, err
	}
	if err := checkDigest(req, body, p); err != nil {
		return Verified{}, err
	}

	pub, owner, err := keys.ResolveKey(ctx, p.KeyID, false)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %s: %w", ErrKeyUnavailable, p.KeyID, err)
	}
	firstErr := verifyWith(req, p, pub)
	if firstErr == nil {
		return Verified{KeyID: p.KeyID, Owner: owner}, nil
	}
	// The cached key may be stale (the sender rotated it); fetch once more.
	pub, owner, err = keys.ResolveKey(ctx, p.KeyID, true)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %s: refetch after %v: %w", ErrKeyUnavailable, p.KeyID, firstErr, err)
	}
	if err := verifyWith(req, p, pub); err != nil {
		return Verified{}, fmt.Errorf("%w: %s: %v", ErrBadSignature, p.KeyID, err)
	}
	return Verified{KeyID: p.KeyID, Owner: owner}, nil
}

func checkHeaderSet(req *http.Request, body []byte, p Params) error {
	signed := make(map[string]bool, len(p.Headers))
	for _, h := range p.Headers {
		signed[h] = true
	}
	if !signed["date"] {
		return fmt.Errorf("%w: date", ErrHeadersNotSigned)
	}
	if !signed[gofed.RequestTarget] && !signed["digest"] {
		return fmt.Errorf("%w: (request-target) or digest", ErrHeadersNotSigned)
	}
	if (req.Method == http.MethodGet || req.Method == http.MethodHead) && !signed["host"] {
		return fmt.Errorf("%w: host on %s", ErrHeadersNotSigned, req.Method)
	}
	if (req.Method == http.MethodPost || len(body) > 0) && !signed["digest"] {
		return fmt.Errorf("%w: digest on a request with a body", ErrHeadersNotSigned)
	}
	hs2019 := strings.EqualFold(p.Algorithm, "hs2019")
	for _, h := range p.Headers {
		switch h {
		case gofed.RequestTarget:
		case "(created)", "(expires)":
			// As in Mastodon: these pseudo-headers belong to hs2019 only.
			if !hs2019 {
				return fmt.Errorf("%w: %s requires algorithm hs2019", ErrMalformed, h)
			}
			if h == "(created)" && p.Created == 0 || h == "(expires)" && p.Expires == 0 {
				return fmt.Errorf("%w: %s signed but its parameter is missing", ErrMalformed, h)
			}
		case "host":
			if req.Host == "" {
				return fmt.Errorf("%w: signed header host missing", ErrMalformed)
			}
		default:
			if len(req.Header.Values(h)) == 0 {
				return fmt.Errorf("%w: signed header %s missing", ErrMalformed, h)
			}
		}
	}
	return nil
}

func checkTime(req *http.Request, p Params, opts Options) error {
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	maxAge, maxSkew := opts.MaxAge, opts.MaxSkew
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	if len(req.Header.Values("Date")) != 1 {
		return fmt.Errorf("%w: need exactly one Date header", ErrMalformed)
	}
	d, err := http.ParseTime(req.Header.Get("Date"))
	if err != nil {
		return fmt.Errorf("%w: Date: %v", ErrMalformed, err)
	}
	if d.Before(now.Add(-maxAge)) {
		return fmt.Errorf("%w: Date %s is older than %s", ErrStale, d.Format(time.RFC3339), maxAge)
	}
	if d.After(now.Add(maxSkew)) {
		return fmt.Errorf("%w: Date %s is more than %s in the future", ErrStale, d.Format(time.RFC3339), maxSkew)
	}
	if p.Created != 0 && time.Unix(p.Created, 0).After(now.Add(maxSkew)) {
		return fmt.Errorf("%w: created is in the future", ErrStale)
	}
	if p.Expires != 0 && time.Unix(p.Expires, 0).Before(now) {
		return fmt.Errorf("%w: signature expired", ErrStale)
	}
	return nil
}

// checkDigest compares the Digest header's SHA-256 entry with the body. It
// runs whenever a Digest header is present, signed or not, so a request never
// carries a digest that contradicts its body.
func checkDigest(req *http.Request, body []byte, p Params) error {
	vals := req.Header.Values("Digest")
	signed := false
	for _, h := range p.Headers {
		signed = signed || h == "digest"
	}
	if len(vals) == 0 {
		if signed {
			return fmt.Errorf("%w: Digest header missing", ErrDigestMismatch)
		}
		return nil
	}
	var want []byte
	for _, part := range strings.Split(strings.Join(vals, ","), ",") {
		alg, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: Digest entry %q", ErrMalformed, part)
		}
		if !strings.EqualFold(alg, "SHA-256") {
			continue // Mastodon accepts only SHA-256 and ignores the rest
		}
		if want != nil {
			return fmt.Errorf("%w: two SHA-256 Digest entries", ErrMalformed)
		}
		b, err := base64.StdEncoding.Strict().DecodeString(val)
		if err != nil || len(b) != sha256.Size {
			return fmt.Errorf("%w: Digest SHA-256 value is not base64 of 32 bytes", ErrDigestMismatch)
		}
		want = b
	}
	if want == nil {
		return fmt.Errorf("%w: no SHA-256 entry in Digest", ErrDigestMismatch)
	}
	got := sha256.Sum256(body)
	if subtle.ConstantTimeCompare(want, got[:]) != 1 {
		return fmt.Errorf("%w", ErrDigestMismatch)
	}
	return nil
}

// verifyWith runs go-fed's verifier over the request with pub.
func verifyWith(req *http.Request, p Params, pub crypto.PublicKey) error {
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("key is %T, not RSA", pub)
	}
	// go-fed splits the header naively on commas, so hand it a canonical
	// header with a placeholder keyId: keyId is not part of the signing
	// string, and a URL keyId may legally contain commas. Host lives in
	// req.Host on the server side, but go-fed reads it from the headers.
	h := req.Header.Clone()
	h.Set("Host", req.Host)
	canon := p
	canon.KeyID = "k"
	canon.Algorithm = ""
	h.Set("Signature", canon.String())
	signsAuthz := false
	for _, name := range p.Headers {
		signsAuthz = signsAuthz || name == "authorization"
	}
	if !signsAuthz {
		// go-fed refuses requests where Authorization also looks like a
		// signature; an unsigned Authorization header is irrelevant here.
		h.Del("Authorization")
	}
	variants := []bool{true}
	if (req.Method == http.MethodGet || req.Method == http.MethodHead) && req.URL.RawQuery != "" {
		variants = append(variants, false)
	}
	var err error
	for _, withQuery := range variants {
		r := wireTarget(req, withQuery)
		r.Header = h
		var v gofed.Verifier
		if v, err = gofed.NewVerifier(r); err != nil {
			return err
		}
		if err = v.Verify(rsaPub, gofed.RSA_SHA256); err == nil {
			return nil
		}
	}
	return err
}
