package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// MaxRedirects is how many redirects a fetch follows before giving up.
const MaxRedirects = 5

// DefaultTimeout is used by NewClient when timeout <= 0 (GoToSocial's
// default for remote requests).
const DefaultTimeout = 10 * time.Second

// ErrTooManyRedirects is returned after more than MaxRedirects redirects.
var ErrTooManyRedirects = errors.New("fetch: too many redirects")

// NewClient returns an *http.Client for requests to other servers. Its
// dialer resolves names itself and refuses loopback, private (RFC 1918, ULA
// fc00::/7), link-local (169.254/16, fe80::/10), unspecified, multicast,
// CGNAT (100.64/10) and other special-purpose targets unless g allows them;
// the check runs on resolved addresses inside the dialer, so DNS rebinding
// cannot slip past it. Each connect is bounded to 5 s and the whole request
// to timeout. At most MaxRedirects redirects are followed, each hop dialled
// through the same checks. Only https is allowed, and plain http only to
// *.localhost names with DevLocalhost or to hosts inside g.Allow.
// Environment proxies are ignored: a proxy would dial for us, unchecked.
func NewClient(g Guard, timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	// MaxIdleConns: a fan-out POSTs to every follower's host, and a pool
	// smaller than the hosts means re-dialling (with TLS, a handshake) the
	// rest on every publish: with 256 and 500 hosts, dialling was about a
	// tenth of the fan-out's process CPU (docs/benchmarks.md, fan-out).
	// Idle connections close after IdleConnTimeout.
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            g.dialContext(dialer),
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    dialTimeout,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: &schemeGuard{next: tr},
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return fmt.Errorf("%w (%d)", ErrTooManyRedirects, MaxRedirects)
			}
			return nil
		},
	}
}

// schemeGuard refuses schemes other than http and https, and marks plain
// http requests so the dialer can hold them to the stricter address rule.
// The Transport pools connections per scheme, so a connection dialled for
// https is never reused for http or the other way round.
type schemeGuard struct{ next http.RoundTripper }

func (s *schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.URL.Scheme {
	case "https":
		return s.next.RoundTrip(req)
	case "http":
		return s.next.RoundTrip(req.WithContext(context.WithValue(req.Context(), plainHTTPKey{}, true)))
	default:
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%w: scheme %q", ErrForbiddenAddress, req.URL.Scheme)
	}
}
