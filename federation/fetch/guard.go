// Package fetch dereferences remote ActivityPub documents safely: an
// SSRF-guarded http.Client (addresses checked after DNS resolution, in the
// dialer), signed GETs, size caps, a redirect limit, and the rule that a
// fetched document's id must equal the IRI asked for.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is returned when a target address or scheme is not
// allowed by the Guard.
var ErrForbiddenAddress = errors.New("fetch: forbidden target address")

// Guard decides which addresses outgoing connections may reach.
type Guard struct {
	// DevLocalhost: hostnames "localhost" and "*.localhost" resolve to
	// 127.0.0.1 (the demo and dev mode) and loopback is allowed for them
	// only. Plain http is allowed for those names.
	DevLocalhost bool
	// Allow lists extra prefixes the operator allows (e.g. 10.0.0.0/8).
	// Plain http is allowed to hosts whose addresses all fall in Allow.
	Allow []netip.Prefix
	// Lookup resolves a hostname; nil means net.DefaultResolver. Tests use
	// it to simulate DNS answers that point at internal addresses.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// blocked lists special-purpose ranges that remote input must never reach
// (IANA special-purpose registries, RFC 6890 and successors).
var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network", incl. unspecified
		"10.0.0.0/8",      // RFC 1918
		"100.64.0.0/10",   // CGNAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, incl. cloud metadata 169.254.169.254
		"172.16.0.0/12",   // RFC 1918
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // 6to4 relay anycast
		"192.168.0.0/16",  // RFC 1918
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, incl. broadcast
		"::/96",           // unspecified, loopback, IPv4-compatible
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard
		"2001::/23",       // IETF protocol assignments (Teredo, ORCHID…)
		"2001:db8::/32",   // documentation
		"3fff::/20",       // documentation
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"fec0::/10",       // deprecated site-local
		"ff00::/8",        // multicast
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

var (
	nat64    = netip.MustParsePrefix("64:ff9b::/96")
	sixToFou = netip.MustParsePrefix("2002::/16")
)

// IsLocalhostName reports whether host is "localhost" or ends in
// ".localhost" (RFC 6761: such names are loopback whatever DNS says).
func IsLocalhostName(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// CheckAddr reports whether a connection to ip, resolved from host, is
// allowed. It returns an error wrapping ErrForbiddenAddress when not.
func (g Guard) CheckAddr(host string, ip netip.Addr) error {
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address for %s", ErrForbiddenAddress, host)
	}
	if g.allowListed(ip) {
		return nil
	}
	if ip.IsLoopback() && g.DevLocalhost && IsLocalhostName(host) {
		return nil
	}
	if isBlocked(ip) {
		return fmt.Errorf("%w: %s resolves to %s", ErrForbiddenAddress, host, ip)
	}
	return nil
}

func (g Guard) allowListed(ip netip.Addr) bool {
	for _, p := range g.Allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func isBlocked(ip netip.Addr) bool {
	for _, p := range blocked {
		if p.Contains(ip) {
			return true
		}
	}
	// Translation prefixes carry an IPv4 address inside; judge that one,
	// or 64:ff9b::7f00:1 would reach 127.0.0.1 through a NAT64 gateway.
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		return isBlocked(netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFou.Contains(ip):
		return isBlocked(netip.AddrFrom4([4]byte(b[2:6])))
	}
	return false
}

// plainHTTPKey marks a dial made for an http:// (not https) request.
type plainHTTPKey struct{}

// resolve returns the addresses host stands for, without consulting DNS for
// IP literals and localhost names.
func (g Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	if IsLocalhostName(host) {
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}, nil
	}
	lookup := g.Lookup
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	ips, err := lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("fetch: no addresses for %s", host)
	}
	return ips, nil
}

// dialContext resolves the name itself, refuses the dial if any resolved
// address is forbidden (a mixed answer is a rebinding tell), and connects to
// the checked address, so DNS cannot change between check and use. The
// dialer's Control hook checks the socket address once more.
func (g Guard) dialContext(base *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips, err := g.resolve(ctx, host)
		if err != nil {
			return nil, err
		}
		plain, _ := ctx.Value(plainHTTPKey{}).(bool)
		for _, ip := range ips {
			if err := g.CheckAddr(host, ip); err != nil {
				return nil, err
			}
			if plain && !g.allowListed(ip.WithZone("").Unmap()) && !(g.DevLocalhost && IsLocalhostName(host)) {
				return nil, fmt.Errorf("%w: plain http to %s (%s) is not allowed", ErrForbiddenAddress, host, ip)
			}
		}
		d := *base
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrForbiddenAddress, err)
			}
			return g.CheckAddr(host, ap.Addr())
		}
		var firstErr error
		for _, ip := range ips {
			conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.WithZone("").Unmap().String(), port))
			if err == nil {
				return conn, nil
			}
			if firstErr == nil {
				firstErr = err
			}
			if ctx.Err() != nil {
				break
			}
		}
		return nil, firstErr
	}
}

// dialTimeout bounds each TCP connect.
const dialTimeout = 5 * time.Second
