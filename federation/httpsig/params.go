package httpsig

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Limits on the Signature header. They bound the work an unauthenticated
// sender can make us do before any key is fetched or any RSA operation runs.
const (
	// MaxHeaderLen is the longest Signature header accepted (8 KiB).
	MaxHeaderLen = 8 << 10
	// maxParams caps the number of parameters; real headers carry 4 to 6.
	maxParams = 16
	// maxSignedHeaders caps the headers="…" list.
	maxSignedHeaders = 32
	// maxSignatureLen is the largest decoded signature: an RSA-8192 signature.
	maxSignatureLen = 1024
)

// Params is the parsed Signature header (draft-cavage-http-signatures-12).
type Params struct {
	// KeyID is the keyId parameter, an IRI in ActivityPub.
	KeyID string
	// Algorithm is the algorithm parameter as sent ("" when absent).
	Algorithm string
	// Headers is the lower-cased list of signed headers, in signing order.
	// When the parameter is absent it holds the draft's default: "(created)"
	// for hs2019 and "date" otherwise (the same default as Mastodon).
	Headers []string
	// Signature is the decoded signature bytes.
	Signature []byte
	// Created and Expires are the (created)/(expires) parameters, 0 when absent.
	Created, Expires int64
}

// ParseSignatureHeader parses a Signature header value strictly: parameters
// are name=token or name="quoted-string" separated by commas; duplicate
// parameters, values over MaxHeaderLen, bad base64, empty keyId or signature,
// and malformed header lists are rejected with ErrMalformed. Unknown
// parameters are ignored, as the draft requires.
func ParseSignatureHeader(v string) (Params, error) {
	var p Params
	if len(v) > MaxHeaderLen {
		return p, fmt.Errorf("%w: signature header longer than %d bytes", ErrMalformed, MaxHeaderLen)
	}
	raw, err := splitParams(v)
	if err != nil {
		return p, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var headers string
	var haveHeaders bool
	for _, kv := range raw {
		val := kv[1]
		switch kv[0] {
		case "keyId":
			p.KeyID = val
		case "algorithm":
			p.Algorithm = val
		case "headers":
			headers, haveHeaders = val, true
		case "signature":
			sig, err := base64.StdEncoding.Strict().DecodeString(val)
			if err != nil {
				return Params{}, fmt.Errorf("%w: signature is not base64: %v", ErrMalformed, err)
			}
			if len(sig) > maxSignatureLen {
				return Params{}, fmt.Errorf("%w: signature longer than %d bytes", ErrMalformed, maxSignatureLen)
			}
			p.Signature = sig
		case "created", "expires":
			n, err := parseUnix(val)
			if err != nil {
				return Params{}, fmt.Errorf("%w: %s: %v", ErrMalformed, kv[0], err)
			}
			if kv[0] == "created" {
				p.Created = n
			} else {
				p.Expires = n
			}
		}
	}
	if p.KeyID == "" {
		return Params{}, fmt.Errorf("%w: missing keyId", ErrMalformed)
	}
	if len(p.Signature) == 0 {
		return Params{}, fmt.Errorf("%w: missing signature", ErrMalformed)
	}
	if haveHeaders {
		if p.Headers, err = parseHeaderList(headers); err != nil {
			return Params{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	} else if strings.EqualFold(p.Algorithm, "hs2019") {
		p.Headers = []string{"(created)"}
	} else {
		p.Headers = []string{"date"}
	}
	return p, nil
}

// String formats p as a Signature header value. Parsing the result yields p
// again (the fuzz test checks this).
func (p Params) String() string {
	var b strings.Builder
	b.WriteString(`keyId=`)
	writeQuoted(&b, p.KeyID)
	if p.Algorithm != "" {
		b.WriteString(`,algorithm=`)
		writeQuoted(&b, p.Algorithm)
	}
	if p.Created != 0 {
		b.WriteString(",created=" + strconv.FormatInt(p.Created, 10))
	}
	if p.Expires != 0 {
		b.WriteString(",expires=" + strconv.FormatInt(p.Expires, 10))
	}
	b.WriteString(`,headers=`)
	writeQuoted(&b, strings.Join(p.Headers, " "))
	b.WriteString(`,signature="`)
	b.WriteString(base64.StdEncoding.EncodeToString(p.Signature))
	b.WriteString(`"`)
	return b.String()
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

func parseUnix(v string) (int64, error) {
	if v == "" || len(v) > 19 {
		return 0, fmt.Errorf("bad timestamp %q", v)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("bad timestamp %q", v)
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad timestamp %q", v)
	}
	return n, nil
}

// parseHeaderList splits headers="…" on single spaces (the draft's grammar)
// and lower-cases the names. Names must be HTTP tokens or one of the
// draft's pseudo-headers, so no name can smuggle a separator into the
// signing string.
func parseHeaderList(v string) ([]string, error) {
	if v == "" {
		return nil, fmt.Errorf("empty headers list")
	}
	parts := strings.Split(v, " ")
	if len(parts) > maxSignedHeaders {
		return nil, fmt.Errorf("more than %d signed headers", maxSignedHeaders)
	}
	seen := make(map[string]bool, len(parts))
	out := make([]string, 0, len(parts))
	for _, h := range parts {
		h = strings.ToLower(h)
		switch {
		case h == "(request-target)" || h == "(created)" || h == "(expires)":
		case isToken(h):
		default:
			return nil, fmt.Errorf("bad header name %q in headers list", h)
		}
		if seen[h] {
			return nil, fmt.Errorf("header %q listed twice", h)
		}
		seen[h] = true
		out = append(out, h)
	}
	return out, nil
}

// splitParams tokenises `name=value, name="value"` into pairs.
func splitParams(s string) ([][2]string, error) {
	var out [][2]string
	seen := map[string]bool{}
	i := 0
	skipOWS := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	skipOWS()
	if i == len(s) {
		return nil, fmt.Errorf("empty signature header")
	}
	for {
		start := i
		for i < len(s) && isTchar(s[i]) {
			i++
		}
		name := s[start:i]
		if name == "" {
			return nil, fmt.Errorf("expected parameter name at offset %d", i)
		}
		if i == len(s) || s[i] != '=' {
			return nil, fmt.Errorf("expected '=' after %q", name)
		}
		i++
		var val string
		if i < len(s) && s[i] == '"' {
			i++
			var b strings.Builder
			closed := false
			for i < len(s) {
				c := s[i]
				switch {
				case c == '"':
					closed = true
				case c == '\\':
					i++
					if i == len(s) || !isQdtext(s[i]) && s[i] != '"' && s[i] != '\\' {
						return nil, fmt.Errorf("bad escape in %q", name)
					}
					b.WriteByte(s[i])
				case isQdtext(c):
					b.WriteByte(c)
				default:
					return nil, fmt.Errorf("control or non-ASCII byte in %q", name)
				}
				i++
				if closed {
					break
				}
			}
			if !closed {
				return nil, fmt.Errorf("unterminated value for %q", name)
			}
			val = b.String()
		} else {
			start := i
			for i < len(s) && isTchar(s[i]) {
				i++
			}
			val = s[start:i]
			if val == "" {
				return nil, fmt.Errorf("empty value for %q", name)
			}
		}
		key := strings.ToLower(name)
		if seen[key] {
			return nil, fmt.Errorf("duplicate parameter %q", name)
		}
		seen[key] = true
		out = append(out, [2]string{name, val})
		if len(out) > maxParams {
			return nil, fmt.Errorf("more than %d parameters", maxParams)
		}
		skipOWS()
		if i == len(s) {
			return out, nil
		}
		if s[i] != ',' {
			return nil, fmt.Errorf("expected ',' after %q", name)
		}
		i++
		skipOWS()
		if i == len(s) {
			return nil, fmt.Errorf("trailing comma")
		}
	}
}

// isTchar reports whether c is an RFC 9110 token character.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// isQdtext reports whether c may appear unescaped in a quoted string. Only
// printable ASCII is allowed: keyIds are URLs and everything else is base64
// or header names, so rejecting obs-text costs nothing and keeps the value
// safe to log.
func isQdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == '!' || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E)
}
