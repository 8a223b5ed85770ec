package httpsig

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gofed "github.com/go-fed/httpsig"
)

var (
	keyOnce      sync.Once
	keyA, keyB   *rsa.PrivateKey
	testKeyID    = "https://node.example/users/plan#main-key"
	testOwner    = "https://node.example/users/plan"
	activityBody = []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://node.example/activities/1","type":"Create","actor":"https://node.example/users/plan"}`)
)

// testKeys returns two distinct RSA-2048 keys, generated once per run.
func testKeys(tb testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	tb.Helper()
	keyOnce.Do(func() {
		var err error
		if keyA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if keyB, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return keyA, keyB
}

// resolver is a KeyResolver whose answers depend on refresh, and which
// records the calls it received.
type resolver struct {
	mu     sync.Mutex
	cached crypto.PublicKey // answer for refresh=false
	fresh  crypto.PublicKey // answer for refresh=true
	err    error
	calls  []bool
}

func (r *resolver) ResolveKey(_ context.Context, keyID string, refresh bool) (crypto.PublicKey, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, refresh)
	if r.err != nil {
		return nil, "", r.err
	}
	if refresh {
		return r.fresh, testOwner, nil
	}
	return r.cached, testOwner, nil
}

func fixed(pub crypto.PublicKey) *resolver { return &resolver{cached: pub, fresh: pub} }

type result struct {
	v   Verified
	err error
}

// verifyServer is a real HTTP server on loopback whose handler runs Verify
// on every request and reports the outcome.
type verifyServer struct {
	*httptest.Server
	keys    KeyResolver
	opts    Options
	results chan result
}

func newVerifyServer(t *testing.T, keys KeyResolver, opts Options) *verifyServer {
	t.Helper()
	s := &verifyServer{keys: keys, opts: opts, results: make(chan result, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			s.results <- result{err: err}
			return
		}
		v, err := Verify(r.Context(), r, body, s.keys, s.opts)
		s.results <- result{v, err}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.Close)
	return s
}

// send sends req with body over HTTP and returns what the server's Verify said.
func (s *verifyServer) send(t *testing.T, req *http.Request, body []byte) (Verified, error) {
	t.Helper()
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	res := <-s.results
	if (res.err == nil) != (resp.StatusCode == http.StatusAccepted) {
		t.Fatalf("status %d does not match verify error %v", resp.StatusCode, res.err)
	}
	return res.v, res.err
}

func newReq(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSignVerifyRoundTrip(t *testing.T) {
	a, _ := testKeys(t)
	s := newVerifyServer(t, fixed(&a.PublicKey), Options{})

	t.Run("POST", func(t *testing.T) {
		req := newReq(t, http.MethodPost, s.URL+"/users/plan/inbox")
		req.Header.Set("Content-Type", "application/activity+json")
		if err := Sign(req, activityBody, testKeyID, a); err != nil {
			t.Fatal(err)
		}
		p, err := ParseSignatureHeader(req.Header.Get("Signature"))
		if err != nil {
			t.Fatal(err)
		}
		if p.Algorithm != "rsa-sha256" || strings.Join(p.Headers, " ") != "(request-target) host date digest" {
			t.Fatalf("algorithm %q headers %q", p.Algorithm, p.Headers)
		}
		v, err := s.send(t, req, activityBody)
		if err != nil {
			t.Fatal(err)
		}
		if v.KeyID != testKeyID || v.Owner != testOwner {
			t.Fatalf("verified %+v", v)
		}
	})
	t.Run("GET", func(t *testing.T) {
		req := newReq(t, http.MethodGet, s.URL+"/users/plan/outbox")
		if err := Sign(req, nil, testKeyID, a); err != nil {
			t.Fatal(err)
		}
		if got := req.Header.Get("Digest"); got != "" {
			t.Fatalf("GET carries Digest %q", got)
		}
		p, _ := ParseSignatureHeader(req.Header.Get("Signature"))
		if strings.Join(p.Headers, " ") != "(request-target) host date" {
			t.Fatalf("headers %q", p.Headers)
		}
		if _, err := s.send(t, req, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("escaped path", func(t *testing.T) {
		// The signed request-target must be the escaped path on the wire.
		req := newReq(t, http.MethodPost, s.URL+"/commitments/a%20b/%C3%A9t%C3%A9")
		if err := Sign(req, activityBody, testKeyID, a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.send(t, req, activityBody); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("keyId with comma", func(t *testing.T) {
		const odd = "https://node.example/keys/a,b#main-key"
		req := newReq(t, http.MethodPost, s.URL+"/inbox")
		if err := Sign(req, activityBody, odd, a); err != nil {
			t.Fatal(err)
		}
		v, err := s.send(t, req, activityBody)
		if err != nil || v.KeyID != odd {
			t.Fatalf("v=%+v err=%v", v, err)
		}
	})
}

// goFedSign signs with an explicit header list, bypassing our Sign, to build
// requests that a careless or hostile peer could send.
func goFedSign(t *testing.T, req *http.Request, body []byte, key *rsa.PrivateKey, headers ...string) {
	t.Helper()
	req.Header.Set("Host", req.URL.Host)
	if req.Header.Get("Date") == "" {
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	signer, _, err := gofed.NewSigner([]gofed.Algorithm{gofed.RSA_SHA256}, gofed.DigestSha256, headers, gofed.Signature, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.SignRequest(key, testKeyID, req, body); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyRejects sends requests that a careless or hostile peer could
// send and checks the reason each is refused for.
func TestVerifyRejects(t *testing.T) {
	a, b := testKeys(t)
	now := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(http.TimeFormat) }
	cases := []struct {
		name     string
		keys     *resolver     // default: a's public key
		get      bool          // a GET of the actor, not a POST of activityBody to its inbox
		unsigned bool          // send no signature at all
		headers  []string      // sign exactly these headers with go-fed, not with Sign
		date     time.Duration // Date this far from now, set before signing
		signFor  string        // the path the signature is made for, if not the request's
		after    func(req *http.Request)
		body     []byte // the body sent, if not the one signed
		want     error
		refresh  bool // whether a key refresh must have been attempted
	}{
		{name: "no signature", unsigned: true, want: ErrUnsigned},
		{name: "wrong key", keys: fixed(&b.PublicKey), want: ErrBadSignature, refresh: true},
		{name: "body tampered", body: bytes.Replace(activityBody, []byte("Create"), []byte("Delete"), 1), want: ErrDigestMismatch},
		{name: "date 13h old", date: -13 * time.Hour, want: ErrStale},
		{name: "date 2h in the future", date: 2 * time.Hour, want: ErrStale},
		{name: "POST without digest signed", headers: []string{"(request-target)", "host", "date"}, want: ErrHeadersNotSigned},
		{name: "GET without host signed", get: true, headers: []string{"(request-target)", "date"}, want: ErrHeadersNotSigned},
		{name: "date not signed", headers: []string{"(request-target)", "host", "digest"}, want: ErrHeadersNotSigned},
		{name: "malformed header", want: ErrMalformed, after: func(req *http.Request) {
			req.Header.Set("Signature", `keyId="`+testKeyID+`",headers="(request-target) host date digest",signature="not base64!"`)
		}},
		{name: "unsupported algorithm", want: ErrBadSignature, after: func(req *http.Request) {
			p, _ := ParseSignatureHeader(req.Header.Get("Signature"))
			p.Algorithm = "hmac-sha256"
			req.Header.Set("Signature", p.String())
		}},
		{name: "key unavailable", keys: &resolver{err: errors.New("404 from key host")}, want: ErrKeyUnavailable},
		{name: "signed for another path", signFor: "/users/other/inbox", want: ErrBadSignature, refresh: true},
		{name: "date replaced after signing", want: ErrBadSignature, refresh: true, after: func(req *http.Request) {
			req.Header.Set("Date", now(-time.Minute))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = fixed(&a.PublicKey)
			}
			s := newVerifyServer(t, keys, Options{})
			method, path, body := http.MethodPost, "/users/plan/inbox", activityBody
			if tc.get {
				method, path, body = http.MethodGet, "/users/plan", nil
			}
			req := newReq(t, method, s.URL+cmp.Or(tc.signFor, path))
			if tc.date != 0 {
				req.Header.Set("Date", now(tc.date))
			}
			switch {
			case tc.unsigned:
			case tc.headers != nil:
				var signed []byte // go-fed adds a Digest header for any body it is given
				if slices.Contains(tc.headers, "digest") {
					signed = body
				}
				goFedSign(t, req, signed, a, tc.headers...)
			default:
				must(t, Sign(req, body, testKeyID, a))
			}
			req.URL.Path = path
			if tc.after != nil {
				tc.after(req)
			}
			if tc.body != nil {
				body = tc.body
			}
			_, err := s.send(t, req, body)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.refresh && (len(keys.calls) != 2 || !keys.calls[1]) {
				t.Fatalf("resolver calls %v, want [false true]", keys.calls)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestVerifyWindow pins the window edges with an injected clock, so the
// rejections above are shown to come from the window and not elsewhere.
func TestVerifyWindow(t *testing.T) {
	a, _ := testKeys(t)
	date := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		now  time.Time
		want error
	}{
		{date.Add(11*time.Hour + 59*time.Minute), nil},
		{date.Add(12*time.Hour + time.Second), ErrStale},
		{date.Add(-59 * time.Minute), nil},
		{date.Add(-61 * time.Minute), ErrStale},
	}
	for _, tc := range cases {
		now := tc.now
		s := newVerifyServer(t, fixed(&a.PublicKey), Options{Now: func() time.Time { return now }})
		req := newReq(t, http.MethodPost, s.URL+"/inbox")
		req.Header.Set("Date", date.Format(http.TimeFormat))
		must(t, Sign(req, activityBody, testKeyID, a))
		if _, err := s.send(t, req, activityBody); !errors.Is(err, tc.want) {
			t.Errorf("now=date%+v: got %v, want %v", now.Sub(date), err, tc.want)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	old, current := testKeys(t)
	keys := &resolver{cached: &old.PublicKey, fresh: &current.PublicKey}
	s := newVerifyServer(t, keys, Options{})
	req := newReq(t, http.MethodPost, s.URL+"/inbox")
	must(t, Sign(req, activityBody, testKeyID, current))
	v, err := s.send(t, req, activityBody)
	if err != nil {
		t.Fatal(err)
	}
	if v.Owner != testOwner {
		t.Fatalf("owner %q", v.Owner)
	}
	if len(keys.calls) != 2 || keys.calls[0] || !keys.calls[1] {
		t.Fatalf("resolver calls %v, want [false true]", keys.calls)
	}

	t.Run("through KeyCache", func(t *testing.T) {
		clock := time.Now()
		var fetches int
		cache := NewKeyCache(func(ctx context.Context, keyID string) (crypto.PublicKey, string, error) {
			fetches++
			if fetches == 1 {
				return &old.PublicKey, testOwner, nil
			}
			return &current.PublicKey, testOwner, nil
		}, 10, time.Hour)
		cache.Now = func() time.Time { return clock }
		// Warm the cache with the old key, as an earlier delivery would.
		if _, _, err := cache.ResolveKey(context.Background(), testKeyID, false); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Minute) // past MinRefresh
		s.keys = cache
		req := newReq(t, http.MethodPost, s.URL+"/inbox")
		must(t, Sign(req, activityBody, testKeyID, current))
		if _, err := s.send(t, req, activityBody); err != nil {
			t.Fatal(err)
		}
		if fetches != 2 {
			t.Fatalf("%d fetches, want 2", fetches)
		}
	})
}

// TestQueryStringVariants: the query is part of a GET's signed
// request-target, but a peer that signs a GET without its query (as some
// do) is accepted; any other change is not.
func TestQueryStringVariants(t *testing.T) {
	a, _ := testKeys(t)
	s := newVerifyServer(t, fixed(&a.PublicKey), Options{})
	for _, tc := range []struct {
		name, method string
		signed       string // path and query the signature is made for
		sent         string // query sent
		want         error
	}{
		{"signed with query", http.MethodGet, "/users/plan/outbox?page=true&max_id=42", "page=true&max_id=42", nil},
		{"GET signed without query", http.MethodGet, "/users/plan/outbox", "page=true&max_id=42", nil},
		{"GET signed with another query", http.MethodGet, "/users/plan/outbox?page=1", "page=2", ErrBadSignature},
		{"POST signed without query", http.MethodPost, "/inbox", "x=1", ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.method == http.MethodPost {
				body = activityBody
			}
			req := newReq(t, tc.method, s.URL+tc.signed)
			must(t, Sign(req, body, testKeyID, a))
			req.URL.RawQuery = tc.sent
			if _, err := s.send(t, req, body); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestGoFedVerifiesOurSignature checks Sign's output with go-fed's own
// verifier and recomputes the Digest and Date independently.
func TestGoFedVerifiesOurSignature(t *testing.T) {
	a, b := testKeys(t)
	type seen struct {
		goFedErr, wrongKeyErr error
		digest, date, sig     string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		r.Header.Set("Host", r.Host) // go-fed reads host from the header map
		var out seen
		v, err := gofed.NewVerifier(r)
		if err != nil {
			out.goFedErr = err
		} else {
			if v.KeyId() != testKeyID {
				out.goFedErr = errors.New("keyId " + v.KeyId())
			} else {
				out.goFedErr = v.Verify(&a.PublicKey, gofed.RSA_SHA256)
			}
			out.wrongKeyErr = v.Verify(&b.PublicKey, gofed.RSA_SHA256)
		}
		out.digest, out.date, out.sig = r.Header.Get("Digest"), r.Header.Get("Date"), r.Header.Get("Signature")
		got <- out
	}))
	defer srv.Close()

	req := newReq(t, http.MethodPost, srv.URL+"/users/plan/inbox")
	req.Header.Set("Content-Type", "application/activity+json")
	must(t, Sign(req, activityBody, testKeyID, a))
	req.Body = io.NopCloser(bytes.NewReader(activityBody))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := <-got
	if out.goFedErr != nil {
		t.Fatalf("go-fed rejects our signature: %v", out.goFedErr)
	}
	if out.wrongKeyErr == nil {
		t.Fatal("go-fed accepted our signature with another key")
	}
	sum := sha256.Sum256(activityBody)
	if want := "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:]); out.digest != want {
		t.Fatalf("Digest %q, want %q", out.digest, want)
	}
	if d, err := time.Parse(http.TimeFormat, out.date); err != nil || !strings.HasSuffix(out.date, " GMT") || time.Since(d) > time.Minute {
		t.Fatalf("Date %q is not a current RFC 7231 date (%v)", out.date, err)
	}
	if !strings.Contains(out.sig, `algorithm="rsa-sha256"`) || !strings.Contains(out.sig, `headers="(request-target) host date digest"`) {
		t.Fatalf("Signature %q", out.sig)
	}
}

// TestVerifyHandBuiltGoToSocialSignature builds a GoToSocial-shaped
// signature without go-fed (signing string by hand, hs2019, keyId without a
// fragment) and checks that Verify accepts it and rejects a one-bit change.
func TestVerifyHandBuiltGoToSocialSignature(t *testing.T) {
	a, _ := testKeys(t)
	const gtsKey = "https://gts.example/users/alice/main-key"
	s := newVerifyServer(t, fixed(&a.PublicKey), Options{})
	build := func(flip bool) *http.Request {
		req := newReq(t, http.MethodPost, s.URL+"/users/plan/inbox")
		date := time.Now().UTC().Format(http.TimeFormat)
		sum := sha256.Sum256(activityBody)
		digest := "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
		signing := "(request-target): post /users/plan/inbox\nhost: " + req.URL.Host + "\ndate: " + date + "\ndigest: " + digest
		h := sha256.Sum256([]byte(signing))
		sig, err := rsa.SignPKCS1v15(rand.Reader, a, crypto.SHA256, h[:])
		must(t, err)
		if flip {
			sig[10] ^= 1
		}
		req.Header.Set("Date", date)
		req.Header.Set("Digest", digest)
		req.Header.Set("Signature", `keyId="`+gtsKey+`",algorithm="hs2019",headers="(request-target) host date digest",signature="`+base64.StdEncoding.EncodeToString(sig)+`"`)
		return req
	}
	v, err := s.send(t, build(false), activityBody)
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyID != gtsKey {
		t.Fatalf("keyId %q", v.KeyID)
	}
	if _, err := s.send(t, build(true), activityBody); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("flipped bit: got %v", err)
	}
}

func BenchmarkSign(b *testing.B) {
	key, _ := testKeys(b)
	body := bytes.Repeat([]byte("x"), 2048)
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "https://hub.example/inbox", nil)
		if err := Sign(req, body, testKeyID, key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	key, _ := testKeys(b)
	body := bytes.Repeat([]byte("x"), 2048)
	req := httptest.NewRequest(http.MethodPost, "https://hub.example/inbox", nil)
	if err := Sign(req, body, testKeyID, key); err != nil {
		b.Fatal(err)
	}
	req.Header.Del("Host") // as a server sees it: host in req.Host only
	keys := fixed(&key.PublicKey)
	ctx := context.Background()
	for b.Loop() {
		keys.calls = keys.calls[:0]
		if _, err := Verify(ctx, req, body, keys, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
