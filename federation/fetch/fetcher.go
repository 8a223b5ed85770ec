package fetch

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/ogpnet/ogpnet/federation/httpsig"
	"github.com/ogpnet/ogpnet/internal/jsonlimit"
)

// DefaultMaxBytes caps a fetched document when Fetcher.MaxBytes is 0.
const DefaultMaxBytes = 1 << 20

// AcceptActivityPub is the Accept header sent on every fetch.
const AcceptActivityPub = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

// Errors returned (wrapped) by Fetcher.Get.
var (
	// ErrContentType: the response is not application/activity+json or
	// application/ld+json.
	ErrContentType = errors.New("fetch: not an ActivityPub content type")
	// ErrTooLarge: the response exceeds Fetcher.MaxBytes.
	ErrTooLarge = errors.New("fetch: response too large")
	// ErrIDMismatch: the document's top-level id is not the IRI requested.
	ErrIDMismatch = errors.New("fetch: document id does not match the requested IRI")
	// ErrStatus: the final response was not 200; see StatusError.
	ErrStatus = errors.New("fetch: unexpected HTTP status")
	// ErrInvalidDocument: the body is not a JSON object with a string id.
	ErrInvalidDocument = errors.New("fetch: invalid ActivityPub document")
	// ErrInvalidIRI: the IRI is not an absolute http(s) URL.
	ErrInvalidIRI = errors.New("fetch: invalid IRI")
)

// StatusError reports a non-200 final response. errors.Is(err, ErrStatus)
// holds for it; use errors.As to read the code (404 and 410 mean the object
// is gone).
type StatusError struct {
	Code int
	URL  string
}

// Error describes the answer.
func (e *StatusError) Error() string {
	return fmt.Sprintf("fetch: %s answered %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// Is makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Is(target error) bool { return target == ErrStatus }

// IsGone reports whether err is a 404 or 410 answer.
func IsGone(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.Code == http.StatusNotFound || se.Code == http.StatusGone)
}

// Fetcher dereferences ActivityPub IRIs.
type Fetcher struct {
	// Client should come from NewClient; nil uses a shared NewClient(Guard{}, 0).
	Client *http.Client
	// KeyID and Key are the application actor's key: every GET is signed
	// with them (GoToSocial and Mastodon's authorized fetch demand it).
	// A nil Key sends unsigned GETs.
	KeyID string
	Key   *rsa.PrivateKey
	// MaxBytes caps the response body (default 1 MiB).
	MaxBytes int64
	// UserAgent is sent on every request when non-empty.
	UserAgent string
}

var defaultClient = sync.OnceValue(func() *http.Client { return NewClient(Guard{}, 0) })

// Get fetches an ActivityPub document and returns its raw bytes. It sends
// a signed GET with an AP Accept header, follows up to MaxRedirects
// redirects (re-signing each hop, since the signature covers the target),
// and requires a 200 answer with an AP content type (application/json and
// text/html are refused), a body within MaxBytes, and a JSON object whose
// top-level "id" equals iri exactly (CVE-2024-23832: a document may only
// speak for its own IRI). A fragment in iri is not sent, and the id is
// compared with iri as given; callers fetching fragment IRIs strip it.
func (f *Fetcher) Get(ctx context.Context, iri string) ([]byte, error) {
	body, id, err := f.get(ctx, iri)
	if err != nil {
		return nil, err
	}
	if id != iri {
		return nil, fmt.Errorf("%w: fetched %s, document id %q", ErrIDMismatch, iri, id)
	}
	return body, nil
}

// get fetches iri with every check of Get except the id comparison, and
// returns the document's id for the caller to judge.
func (f *Fetcher) get(ctx context.Context, iri string) ([]byte, string, error) {
	target, err := parseIRI(iri)
	if err != nil {
		return nil, "", err
	}
	client := f.Client
	if client == nil {
		client = defaultClient()
	}
	// Follow redirects here rather than in the client, so each hop is
	// signed for its own request-target.
	noFollow := *client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	for hop := 0; ; hop++ {
		resp, err := f.do(ctx, &noFollow, target)
		if err != nil {
			return nil, "", err
		}
		if isRedirect(resp.StatusCode) {
			loc := resp.Header.Get("Location")
			drain(resp)
			if hop >= MaxRedirects {
				return nil, "", fmt.Errorf("%w: more than %d fetching %s", ErrTooManyRedirects, MaxRedirects, iri)
			}
			next, err := target.Parse(loc)
			if err != nil || loc == "" {
				return nil, "", fmt.Errorf("%w: bad redirect Location %q from %s", ErrInvalidIRI, loc, target)
			}
			if target, err = parseIRI(next.String()); err != nil {
				return nil, "", err
			}
			continue
		}
		body, err := f.read(resp, iri)
		if err != nil {
			return nil, "", err
		}
		// The shape first: every reader after this one (ogp.Parse, the
		// backfill's page decoding) builds values per element.
		if err := jsonlimit.Activity.Check(body); err != nil {
			return nil, "", fmt.Errorf("%w: %s: %v", ErrInvalidDocument, iri, err)
		}
		id, err := documentID(body)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %s: %v", ErrInvalidDocument, iri, err)
		}
		return body, id, nil
	}
}

func (f *Fetcher) do(ctx context.Context, c *http.Client, target *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidIRI, err)
	}
	req.Header.Set("Accept", AcceptActivityPub)
	if f.UserAgent != "" {
		req.Header.Set("User-Agent", f.UserAgent)
	}
	if f.Key != nil {
		if err := httpsig.Sign(req, nil, f.KeyID, f.Key); err != nil {
			return nil, err
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", target, err)
	}
	return resp, nil
}

func (f *Fetcher) read(resp *http.Response, iri string) ([]byte, error) {
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Code: resp.StatusCode, URL: iri}
	}
	if err := checkContentType(resp.Header.Get("Content-Type")); err != nil {
		return nil, fmt.Errorf("%s: %w", iri, err)
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %s declares %d bytes, limit %d", ErrTooLarge, iri, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: reading body: %w", iri, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: %s exceeds %d bytes", ErrTooLarge, iri, limit)
	}
	return body, nil
}

// drain discards a little of an unread body so the connection can be
// reused, then closes it. The cap keeps a hostile server from making us
// read forever.
func drain(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// parseIRI accepts absolute http(s) URLs with a host and no user info, and
// returns them without the fragment (never sent on the wire).
func parseIRI(iri string) (*url.URL, error) {
	u, err := url.Parse(iri)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidIRI, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return nil, fmt.Errorf("%w: %q", ErrInvalidIRI, iri)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// checkContentType accepts the two ActivityPub media types. Plain
// application/json is refused on purpose: it is what user uploads and
// unrelated APIs serve, which is how attribution gets spoofed.
func checkContentType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrContentType, ct)
	}
	switch mt {
	case "application/activity+json", "application/ld+json":
		return nil
	}
	return fmt.Errorf("%w: %q", ErrContentType, ct)
}

// documentID returns the top-level "id" of a JSON object. It rejects
// duplicate top-level keys, since parsers disagree on which copy wins and
// a checked id must be the id every later reader sees.
func documentID(b []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return "", errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	var id string
	haveID := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		key, ok := tok.(string)
		if !ok {
			return "", errors.New("bad object key")
		}
		if seen[key] {
			return "", fmt.Errorf("duplicate key %s", strconv.Quote(key))
		}
		seen[key] = true
		if key == "id" {
			if err := dec.Decode(&id); err != nil {
				return "", fmt.Errorf("id is not a string: %v", err)
			}
			haveID = true
			continue
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", err
		}
	}
	if _, err := dec.Token(); err != nil { // closing brace
		return "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("trailing data after the JSON object")
	}
	if !haveID || id == "" {
		return "", errors.New("missing id")
	}
	return id, nil
}
