package fetch

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/httpsig"
)

var (
	keysOnce          sync.Once
	appKey, remoteKey *rsa.PrivateKey
	remotePEM, appPEM string
)

func testKeys(t *testing.T) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if appKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if remoteKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		remotePEM, _ = httpsig.PublicKeyPEM(&remoteKey.PublicKey)
		appPEM, _ = httpsig.PublicKeyPEM(&appKey.PublicKey)
	})
}

const appKeyID = "http://hub.localhost/application#main-key"

type staticKey struct{ pub crypto.PublicKey }

func (k staticKey) ResolveKey(context.Context, string, bool) (crypto.PublicKey, string, error) {
	return k.pub, "http://hub.localhost/application", nil
}

// apServer is a loopback ActivityPub server reached as http://NAME.localhost:PORT
// (DevLocalhost). It demands a valid signature on every GET, as GoToSocial
// does, and records what it saw.
type apServer struct {
	*httptest.Server
	base   string
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	seen   []seenReq
}

type seenReq struct {
	path, accept, ua string
	headers          []string
	sigErr           error
}

func newAPServer(t *testing.T, name string) *apServer {
	t.Helper()
	testKeys(t)
	s := &apServer{routes: map[string]http.HandlerFunc{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sr := seenReq{path: r.URL.RequestURI(), accept: r.Header.Get("Accept"), ua: r.Header.Get("User-Agent")}
		_, sr.sigErr = httpsig.Verify(r.Context(), r, nil, staticKey{&appKey.PublicKey}, httpsig.Options{})
		if p, err := httpsig.ParseSignatureHeader(r.Header.Get("Signature")); err == nil {
			sr.headers = p.Headers
		}
		s.mu.Lock()
		s.seen = append(s.seen, sr)
		h := s.routes[r.URL.Path]
		s.mu.Unlock()
		if sr.sigErr != nil {
			http.Error(w, "signature required", http.StatusUnauthorized)
			return
		}
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	s.base = "http://" + name + ".localhost:" + s.URL[strings.LastIndex(s.URL, ":")+1:]
	return s
}

func (s *apServer) handle(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[path] = h
}

// doc serves body with an ActivityPub content type.
func (s *apServer) doc(path, body string) {
	s.handle(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/activity+json; charset=utf-8")
		io.WriteString(w, body)
	})
}

func (s *apServer) requests() []seenReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenReq(nil), s.seen...)
}

func newFetcher(g Guard) *Fetcher {
	return &Fetcher{Client: NewClient(g, 3*time.Second), KeyID: appKeyID, Key: appKey, UserAgent: "ogpnet-test/1"}
}

func TestGetSignedAndChecked(t *testing.T) {
	s := newAPServer(t, "jalisco")
	iri := s.base + "/commitments/JAL0001"
	s.doc("/commitments/JAL0001", `{"@context":"https://www.w3.org/ns/activitystreams","type":"Article","id":"`+iri+`","name":"x"}`)
	f := newFetcher(Guard{DevLocalhost: true})

	body, err := f.Get(context.Background(), iri)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"name":"x"`) {
		t.Fatalf("body %s", body)
	}
	reqs := s.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.sigErr != nil {
		t.Fatalf("server could not verify our GET: %v", r.sigErr)
	}
	if strings.Join(r.headers, " ") != "(request-target) host date" {
		t.Fatalf("signed headers %q", r.headers)
	}
	if r.accept != AcceptActivityPub || r.ua != "ogpnet-test/1" {
		t.Fatalf("accept %q ua %q", r.accept, r.ua)
	}

	// The same server refuses an unsigned fetch, so the check above has teeth.
	unsigned := newFetcher(Guard{DevLocalhost: true})
	unsigned.Key = nil
	if _, err := unsigned.Get(context.Background(), iri); !errors.Is(err, ErrStatus) {
		t.Fatalf("unsigned GET: %v", err)
	}

	// And without DevLocalhost the same IRI is refused before any request.
	before := len(s.requests())
	if _, err := newFetcher(Guard{}).Get(context.Background(), iri); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("no DevLocalhost: %v", err)
	}
	if len(s.requests()) != before {
		t.Fatal("refused fetch reached the server")
	}
}

func TestGetRejections(t *testing.T) {
	s := newAPServer(t, "ontario")
	f := newFetcher(Guard{DevLocalhost: true})
	f.MaxBytes = 4096
	ctx := context.Background()

	withType := func(ct, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			io.WriteString(w, body)
		}
	}
	idDoc := func(path string) string { return `{"id":"` + s.base + path + `","type":"Note"}` }

	s.handle("/json", withType("application/json", idDoc("/json")))
	s.handle("/html", withType("text/html; charset=utf-8", idDoc("/html")))
	s.handle("/notype", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil
		io.WriteString(w, idDoc("/notype"))
	})
	s.handle("/ldjson", withType(`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, idDoc("/ldjson")))
	s.handle("/other-id", withType("application/activity+json", idDoc("/elsewhere")))
	s.handle("/prefix-id", withType("application/activity+json", `{"id":"`+s.base+`/prefix-id/x"}`))
	s.handle("/no-id", withType("application/activity+json", `{"type":"Note"}`))
	s.handle("/dup-id", withType("application/activity+json", `{"id":"`+s.base+`/dup-id","id":"https://evil.example/x"}`))
	s.handle("/array", withType("application/activity+json", `[{"id":"`+s.base+`/array"}]`))
	s.handle("/trailing", withType("application/activity+json", idDoc("/trailing")+`{}`))
	big := `{"id":"` + s.base + `/big","pad":"` + strings.Repeat("a", 5000) + `"}`
	s.handle("/big", withType("application/activity+json", big))
	s.handle("/big-chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/activity+json")
		for range 10 {
			io.WriteString(w, strings.Repeat(" ", 1000))
			w.(http.Flusher).Flush() // no Content-Length: the cap must hold while streaming
		}
	})
	s.handle("/gone", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
	s.handle("/broken", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })

	cases := []struct {
		path string
		want error
	}{
		{"/ldjson", nil},
		{"/json", ErrContentType},
		{"/html", ErrContentType},
		{"/notype", ErrContentType},
		{"/other-id", ErrIDMismatch},
		{"/prefix-id", ErrIDMismatch},
		{"/no-id", ErrInvalidDocument},
		{"/dup-id", ErrInvalidDocument},
		{"/array", ErrInvalidDocument},
		{"/trailing", ErrInvalidDocument},
		{"/big", ErrTooLarge},
		{"/big-chunked", ErrTooLarge},
		{"/gone", ErrStatus},
		{"/missing", ErrStatus},
		{"/broken", ErrStatus},
	}
	for _, tc := range cases {
		_, err := f.Get(ctx, s.base+tc.path)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.path, err, tc.want)
		}
	}
	_, err := f.Get(ctx, s.base+"/gone")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 410 || !IsGone(err) {
		t.Errorf("gone: %v", err)
	}
	if _, err := f.Get(ctx, s.base+"/missing"); !IsGone(err) {
		t.Errorf("404 not detected as gone: %v", err)
	}
	if _, err := f.Get(ctx, s.base+"/broken"); IsGone(err) {
		t.Errorf("500 detected as gone")
	}
	for _, bad := range []string{"ftp://x.localhost/a", "/relative", "http://user:pw@x.localhost/a", "https://"} {
		if _, err := f.Get(ctx, bad); !errors.Is(err, ErrInvalidIRI) {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}

func TestGetRedirects(t *testing.T) {
	s := newAPServer(t, "seoul")
	f := newFetcher(Guard{DevLocalhost: true})
	ctx := context.Background()
	iri := s.base + "/hop/0"
	for i := range MaxRedirects {
		s.handle(fmt.Sprintf("/hop/%d", i), func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", i+1), http.StatusFound)
		})
	}
	s.doc(fmt.Sprintf("/hop/%d", MaxRedirects), `{"id":"`+iri+`"}`)

	t.Run("five hops, each signed", func(t *testing.T) {
		before := len(s.requests())
		if _, err := f.Get(ctx, iri); err != nil {
			t.Fatal(err)
		}
		reqs := s.requests()[before:]
		if len(reqs) != MaxRedirects+1 {
			t.Fatalf("%d requests", len(reqs))
		}
		for _, r := range reqs {
			if r.sigErr != nil {
				t.Fatalf("%s: %v", r.path, r.sigErr)
			}
		}
	})
	t.Run("final id must be the IRI asked for", func(t *testing.T) {
		if _, err := f.Get(ctx, s.base+"/hop/2"); !errors.Is(err, ErrIDMismatch) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("too many", func(t *testing.T) {
		s.handle("/loop", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/loop", http.StatusMovedPermanently)
		})
		if _, err := f.Get(ctx, s.base+"/loop"); !errors.Is(err, ErrTooManyRedirects) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("to internal addresses", func(t *testing.T) {
		other, hits := countingServer(t, false)
		for _, loc := range []string{"http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data/", other.URL + "/x", "http://[::1]:1/x"} {
			s.handle("/to-internal", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, loc, http.StatusFound) })
			if _, err := f.Get(ctx, s.base+"/to-internal"); !errors.Is(err, ErrForbiddenAddress) {
				t.Errorf("redirect to %s: got %v", loc, err)
			}
		}
		if hits.Load() != 0 {
			t.Fatal("redirect target on 127.0.0.1 was contacted")
		}
	})
}

// TestGetRefusesCostlyShapes: a fetched document within the size cap but
// with an array over jsonlimit.Activity's items (or too deep) is refused
// before anyone decodes it, and the error names the limit.
func TestGetRefusesCostlyShapes(t *testing.T) {
	s := newAPServer(t, "lagos")
	f := newFetcher(Guard{DevLocalhost: true})
	serve := func(path, extra string) {
		s.handle(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/activity+json")
			io.WriteString(w, `{"id":"`+s.base+path+`","type":"Note",`+extra+`}`)
		})
	}
	serve("/wide", `"tag":[`+strings.Repeat(`"a",`, 1000)+`"a"]`)
	serve("/deep", `"x":`+strings.Repeat("[", 33)+strings.Repeat("]", 33))
	serve("/fine", `"tag":[`+strings.Repeat(`"a",`, 999)+`"a"]`)
	for path, want := range map[string]string{"/wide": "an array has more than 1000 items", "/deep": "nested deeper than 32 levels"} {
		_, err := f.Get(context.Background(), s.base+path)
		if !errors.Is(err, ErrInvalidDocument) || err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if _, err := f.Get(context.Background(), s.base+"/fine"); err != nil {
		t.Errorf("1,000 items: %v", err)
	}
}
