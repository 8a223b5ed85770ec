package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/ogpnet/ogpnet/federation/ogp"
	"github.com/ogpnet/ogpnet/hub/discussion"
	"github.com/ogpnet/ogpnet/node/conversation"
)

// usagef returns a usageError (exit code 2, before anything is opened,
// created or bound); by convention the message starts with the flag it is
// about (--lang "!!": …).
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// isUsage reports whether err is a bad command line (exit code 2).
func isUsage(err error) bool { return errors.As(err, new(usageError)) }

// checks runs each check in order and returns the first failure.
func checks(fns ...func() error) error {
	for _, fn := range fns {
		if err := fn(); err != nil {
			return err
		}
	}
	return nil
}

// validate checks the common flags but --addr (ogpnet token binds
// nothing). The data folder is only needed by the embedded store, so it may
// be empty when --mongo-uri is given.
func (c *common) validate() error {
	return checks(
		func() error { return checkMongoURI(c.mongoURI) },
		func() error {
			if c.mongoURI == "" && strings.TrimSpace(c.data) == "" {
				return usagef("--data: a data folder is needed for the embedded store when --mongo-uri is not given")
			}
			return nil
		},
		func() error { return checkLogLevel(c.logLevel) },
		func() error {
			if c.logFormat != "json" && c.logFormat != "text" {
				return usagef("--log-format %q: must be json or text", c.logFormat)
			}
			return nil
		},
	)
}

// validate checks every flag node and hub share.
func (s *serverFlags) validate() error {
	return checks(func() error { return checkAddr("--addr", s.addr) }, s.common.validate, s.oidc.validate, func() error {
		_, err := guard(s.allow)
		return err
	}, s.pprof.validate)
}

// validate checks the login flags: all of them need --oidc-issuer, which
// needs a client id.
func (o *oidcFlags) validate() error {
	if o.issuer == "" {
		for name, v := range map[string]string{
			"--oidc-client-id": o.clientID, "--oidc-client-secret": o.clientSecret,
			"--operator-domains": o.domains, "--groups-claim": o.groupsClaim, "--operator-groups": o.groups,
		} {
			if v != "" {
				return usagef("%s: needs --oidc-issuer", name)
			}
		}
		return nil
	}
	if err := checkHTTPURL("--oidc-issuer", o.issuer, false); err != nil {
		return err
	}
	if o.clientID == "" {
		return usagef("--oidc-client-id: required with --oidc-issuer")
	}
	for _, d := range splitList(o.domains) {
		if !validHost(d) {
			return usagef("--operator-domains %q: not a domain name", d)
		}
	}
	if o.groups != "" && o.groupsClaim == "" {
		return usagef("--operator-groups: needs --groups-claim (the ID-token claim that lists groups)")
	}
	return nil
}

// checkAddr accepts host:port with a numeric port (":8080",
// "127.0.0.1:0", "[::1]:8080", "localhost:8080").
func checkAddr(flag, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("%s %q: must be host:port, e.g. :8080 or 127.0.0.1:8080", flag, addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return usagef("%s %q: the port must be a number from 0 to 65535", flag, addr)
	}
	if host != "" && !validHost(host) {
		return usagef("%s %q: %q is not a host name or IP address", flag, addr, host)
	}
	return nil
}

func checkMongoURI(uri string) error {
	if uri == "" {
		return nil
	}
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") || u.Host == "" {
		// Never echo the URI: it may carry a password.
		return usagef("--mongo-uri: must be a mongodb:// or mongodb+srv:// URI with a host")
	}
	return nil
}

func checkLogLevel(s string) error {
	switch strings.ToLower(s) {
	case "debug", "info", "warn", "error":
		return nil
	}
	var l slog.Level
	if l.UnmarshalText([]byte(s)) != nil {
		return usagef("--log-level %q: must be debug, info, warn or error", s)
	}
	return nil
}

// checkBaseURL accepts the public root of a site: http or https, a host,
// and no path, query, fragment or user info (every IRI is built on it).
func checkBaseURL(flag, s string) error { return checkHTTPURL(flag, s, true) }

func checkHTTPURL(flag, s string, root bool) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return usagef("%s %q: not a URL", flag, s)
	case u.Scheme != "http" && u.Scheme != "https":
		return usagef("%s %q: must start with https:// (or http://)", flag, s)
	case u.Host == "" || !validHost(u.Hostname()):
		return usagef("%s %q: has no valid host", flag, s)
	case u.Port() != "" && !validPort(u.Port()):
		return usagef("%s %q: bad port", flag, s)
	case u.User != nil:
		return usagef("%s %q: must not contain user info (user@)", flag, s)
	case u.RawQuery != "" || u.ForceQuery:
		return usagef("%s %q: must not have a query (?…)", flag, s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return usagef("%s %q: must not have a fragment (#…)", flag, s)
	case root && u.Path != "" && u.Path != "/":
		return usagef("%s %q: must be the site's root, without a path", flag, s)
	}
	return nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n <= 65535
}

var hostLabel = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validHost accepts an IP address or a DNS name of letters, digits and
// dashes.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if !hostLabel.MatchString(l) {
			return false
		}
	}
	return true
}

func checkSlug(flag, s string) error {
	if !ogp.ValidSlug(s) {
		return usagef("%s %q: must be lower-case letters, digits and single dashes (at most 64), e.g. jalisco", flag, s)
	}
	return nil
}

// checkLang accepts a well-formed BCP 47 tag.
func checkLang(flag, s string) error {
	if _, err := language.Parse(s); err != nil || strings.TrimSpace(s) != s {
		return usagef("%s %q: not a BCP 47 language tag (e.g. es, en, pt-BR)", flag, s)
	}
	return nil
}

// checkText accepts a short single-line text without control or
// direction-override characters.
func checkText(flag, s string, max int) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return usagef("%s: must be valid text of at most %d characters", flag, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return usagef("%s %q: must not contain control characters", flag, s)
		}
	}
	return nil
}

var handleRe = regexp.MustCompile(`^@?[A-Za-z0-9_.-]+@[^@/?#\s]+$`)

// checkMember accepts what the hub can follow: a handle (@name@host) or an
// actor URL.
func checkMember(s string) error {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		if err := checkHTTPURL("--members", s, false); err != nil {
			return err
		}
		return nil
	}
	h := strings.TrimPrefix(s, "acct:")
	if !handleRe.MatchString(h) {
		return usagef("--members %q: neither a handle like @name@host nor an actor URL", s)
	}
	host := h[strings.LastIndex(h, "@")+1:]
	if hn, port, err := net.SplitHostPort(host); err == nil {
		if !validPort(port) {
			return usagef("--members %q: bad port", s)
		}
		host = hn
	}
	if !validHost(host) {
		return usagef("--members %q: %q is not a host name", s, host)
	}
	return nil
}

func checkPositive(flag string, d time.Duration) error {
	if d <= 0 {
		return usagef("%s %s: must be positive", flag, d)
	}
	return nil
}

// checkReplies checks --replies and --reply-rate.
func checkReplies(mode string, rate int) error {
	if _, err := conversation.ParseMode(mode); err != nil {
		return usagef("--replies %q: %v", mode, err)
	}
	if rate < 1 || rate > 10000 {
		return usagef("--reply-rate %d: must be from 1 to 10000 replies per hour", rate)
	}
	return nil
}

// checkGroupPosts checks the hub's --group-posts.
func checkGroupPosts(policy string) error {
	if _, err := discussion.ParseGroupPosts(policy); err != nil {
		return usagef("--group-posts %q: %v", policy, err)
	}
	return nil
}
