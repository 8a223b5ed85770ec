package fetch

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestGuardCheckAddr(t *testing.T) {
	forbidden := []string{
		"127.0.0.1", "127.1.2.3", "::1", "10.1.2.3", "172.16.5.4", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "169.254.0.1", "fe80::1", "fc00::1", "fd12:3456::1", "100.64.0.1", "100.127.255.254",
		"0.0.0.0", "::", "224.0.0.1", "239.255.255.250", "ff02::1", "255.255.255.255", "198.18.0.1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
		"64:ff9b::a00:1",   // NAT64 of 10.0.0.1
		"64:ff9b::7f00:1",  // NAT64 of 127.0.0.1
		"2002:7f00:1::1",   // 6to4 of 127.0.0.1
		"2002:a9fe:a9fe::", // 6to4 of 169.254.169.254
	}
	allowed := []string{
		"93.184.216.34", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111",
		"64:ff9b::5db8:d822", // NAT64 of a public address
	}
	var g Guard
	for _, s := range forbidden {
		if err := g.CheckAddr("remote.example", netip.MustParseAddr(s)); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("%s: got %v, want ErrForbiddenAddress", s, err)
		}
	}
	for _, s := range allowed {
		if err := g.CheckAddr("remote.example", netip.MustParseAddr(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}

	loop := netip.MustParseAddr("127.0.0.1")
	dev := Guard{DevLocalhost: true}
	for host, ok := range map[string]bool{
		"jalisco.localhost": true, "localhost": true, "HUB.LOCALHOST.": true,
		"127.0.0.1": false, "evil.example": false, "localhost.evil.example": false,
	} {
		err := dev.CheckAddr(host, loop)
		if ok != (err == nil) {
			t.Errorf("DevLocalhost, %s -> 127.0.0.1: got %v", host, err)
		}
	}
	if err := dev.CheckAddr("jalisco.localhost", netip.MustParseAddr("10.0.0.1")); err == nil {
		t.Error("DevLocalhost allowed a private address for a localhost name")
	}

	op := Guard{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	if err := op.CheckAddr("gts.internal", netip.MustParseAddr("10.1.2.3")); err != nil {
		t.Errorf("Allow 10/8: %v", err)
	}
	if err := op.CheckAddr("gts.internal", netip.MustParseAddr("192.168.0.1")); err == nil {
		t.Error("Allow 10/8 let 192.168/16 through")
	}
}

// countingServer is a loopback server that counts the requests it receives,
// to show that refused targets were never contacted.
func countingServer(t *testing.T, tls bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, r.Host)
	})
	var s *httptest.Server
	if tls {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s, &hits
}

func fakeDNS(m map[string][]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, s := range m[host] {
			out = append(out, netip.MustParseAddr(s))
		}
		if out == nil {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return out, nil
	}
}

func TestClientRefusesInternalTargets(t *testing.T) {
	srv, hits := countingServer(t, false)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]

	// Control: the server is reachable by an unguarded client.
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	hits.Store(0)

	g := Guard{Lookup: fakeDNS(map[string][]string{
		"rebind.example": {"127.0.0.1"},
		"mixed.example":  {"93.184.216.34", "10.0.0.1"},
		"meta.example":   {"169.254.169.254"},
		"v6.example":     {"::1"},
	})}
	c := NewClient(g, 2*time.Second)
	for _, u := range []string{
		srv.URL,                       // 127.0.0.1 literal
		"https://[::1]:" + port + "/", // IPv6 loopback
		"http://10.1.2.3/",            // RFC 1918
		"http://169.254.169.254/latest/meta-data/", // cloud metadata
		"http://localhost:" + port + "/",           // localhost without DevLocalhost
		"http://jalisco.localhost:" + port + "/",
		"https://rebind.example:" + port + "/", // hostname resolving to loopback
		"https://mixed.example:" + port + "/",  // one bad address spoils the answer
		"https://meta.example/",
		"https://v6.example:" + port + "/",
		"http://[::ffff:127.0.0.1]:" + port + "/",
	} {
		expectRefused(t, c, u)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("refused targets were contacted %d times", n)
	}
}

func TestClientSchemes(t *testing.T) {
	g := Guard{Lookup: fakeDNS(map[string][]string{"public.example": {"93.184.216.34"}})}
	c := NewClient(g, 2*time.Second)
	for _, u := range []string{"http://public.example/", "ftp://public.example/x", "file:///etc/passwd"} {
		expectRefused(t, c, u)
	}
}

// expectRefused asserts that the guarded client c refuses to fetch u, for
// the guard's reason.
func expectRefused(t *testing.T, c *http.Client, u string) {
	t.Helper()
	resp, err := c.Get(u)
	if err == nil {
		resp.Body.Close()
		t.Errorf("%s: fetched, want refusal", u)
		return
	}
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("%s: got %v, want ErrForbiddenAddress", u, err)
	}
}

func TestClientAllowedTargets(t *testing.T) {
	srv, hits := countingServer(t, false)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]

	t.Run("Allow 127.0.0.1/32", func(t *testing.T) {
		c := NewClient(Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, 2*time.Second)
		resp, err := c.Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || hits.Load() != 1 {
			t.Fatalf("status %d hits %d", resp.StatusCode, hits.Load())
		}
	})
	t.Run("DevLocalhost dials 127.0.0.1 and keeps Host", func(t *testing.T) {
		c := NewClient(Guard{DevLocalhost: true}, 2*time.Second)
		resp, err := c.Get("http://jalisco.localhost:" + port + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "jalisco.localhost:"+port {
			t.Fatalf("server saw Host %q", body)
		}
		// DevLocalhost is for localhost names only, not loopback literals.
		if resp, err := c.Get(srv.URL); err == nil || !errors.Is(err, ErrForbiddenAddress) {
			if err == nil {
				resp.Body.Close()
			}
			t.Fatalf("127.0.0.1 literal under DevLocalhost: %v", err)
		}
	})
	t.Run("https to an allowed IPv6 loopback", func(t *testing.T) {
		ln, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			t.Skip("no IPv6 loopback:", err)
		}
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		s.Listener = ln
		s.StartTLS()
		defer s.Close()
		c := NewClient(Guard{Allow: []netip.Prefix{netip.MustParsePrefix("::1/128")}}, 2*time.Second)
		c.Transport.(*schemeGuard).next.(*http.Transport).TLSClientConfig = s.Client().Transport.(*http.Transport).TLSClientConfig
		resp, err := c.Get(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestClientRedirectLimit(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/again", http.StatusFound)
	}))
	defer srv.Close()
	c := NewClient(Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, 2*time.Second)
	_, err := c.Get(srv.URL)
	if !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("got %v", err)
	}
	if n := hits.Load(); n != MaxRedirects+1 {
		t.Fatalf("%d requests, want %d", n, MaxRedirects+1)
	}
}
