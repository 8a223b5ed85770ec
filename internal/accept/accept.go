// Package accept answers the content-negotiation questions that the
// ActivityPub engine and the web layer both ask (does this client want the
// ActivityPub document, JSON, or HTML; is this an ActivityPub body), from
// the raw header values, with q-values and the client's order respected.
// One implementation, so an actor, an object and an error page negotiate
// alike.
package accept

import (
	"mime"
	"strconv"
	"strings"
)

// ASProfile is the JSON-LD profile that marks application/ld+json as
// ActivityStreams (ActivityPub §3.2).
const ASProfile = "https://www.w3.org/ns/activitystreams"

// mediaRange is one element of an Accept header.
type mediaRange struct {
	typ, sub string
	params   map[string]string
	q        float64
	index    int // position in the header, to break ties by the client's order
}

// parseAccept splits an Accept header into media ranges. Malformed elements
// are skipped rather than failing the whole header: clients send odd headers
// and a best effort beats a 406.
func parseAccept(header string) []mediaRange {
	var out []mediaRange
	for i, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			// mime.ParseMediaType rejects "*" alone (sent by some old clients).
			if strings.HasPrefix(part, "*") && !strings.HasPrefix(part, "*/") {
				mt, params = "*/*", map[string]string{}
			} else {
				continue
			}
		}
		typ, sub, ok := strings.Cut(mt, "/")
		if !ok {
			continue
		}
		q := 1.0
		if qs, ok := params["q"]; ok {
			v, err := strconv.ParseFloat(qs, 64)
			if err != nil || v < 0 || v > 1 {
				continue
			}
			q = v
			delete(params, "q")
		}
		out = append(out, mediaRange{typ: typ, sub: sub, params: params, q: q, index: i})
	}
	return out
}

// best returns the highest q (and the earliest position among equals) of the
// ranges that match; found is false when none does.
func best(ranges []mediaRange, match func(mediaRange) bool) (q float64, index int, found bool) {
	index = -1
	for _, r := range ranges {
		if !match(r) {
			continue
		}
		if !found || r.q > q || (r.q == q && r.index < index) {
			q, index, found = r.q, r.index, true
		}
	}
	return q, index, found
}

// isAS reports whether the range names an ActivityStreams document:
// application/activity+json, or application/ld+json with no profile or with
// the ActivityStreams profile among its (space-separated) profiles.
func isAS(r mediaRange) bool {
	if r.typ != "application" {
		return false
	}
	switch r.sub {
	case "activity+json":
		return true
	case "ld+json":
		p, ok := r.params["profile"]
		if !ok {
			return true
		}
		for _, one := range strings.Fields(p) {
			if one == ASProfile {
				return true
			}
		}
	}
	return false
}

// isJSON reports whether the range is application/json or any +json type
// (which includes the ActivityStreams types).
func isJSON(r mediaRange) bool {
	return r.typ == "application" && (r.sub == "json" || strings.HasSuffix(r.sub, "+json"))
}

// isHTML reports whether the range names an HTML page, explicitly (text/html,
// application/xhtml+xml) or through text/*. The full wildcard */* is left
// out on purpose: a client that says only */* has expressed no preference.
func isHTML(r mediaRange) bool {
	return (r.typ == "text" && (r.sub == "html" || r.sub == "*")) ||
		(r.typ == "application" && r.sub == "xhtml+xml")
}

// prefers reports whether the client asks for a type that match accepts
// over HTML: it must name such a type with q > 0, with a higher q than any
// HTML type or the same q and an earlier place in the header.
func prefers(header string, match func(mediaRange) bool) bool {
	ranges := parseAccept(header)
	q, idx, ok := best(ranges, match)
	if !ok || q == 0 {
		return false
	}
	hq, hidx, hok := best(ranges, isHTML)
	if !hok || hq < q {
		return true
	}
	return hq == q && idx < hidx
}

// WantsActivityJSON reports whether an Accept header asks for the
// ActivityPub representation: application/activity+json or
// application/ld+json (without a profile or with the ActivityStreams
// profile) preferred over text/html. A browser, which lists text/html
// first, gets HTML; a bare */* gets HTML too.
func WantsActivityJSON(accept string) bool { return prefers(accept, isAS) }

// WantsJSON reports whether an Accept header prefers any JSON type
// (application/json, activity+json, ld+json, other +json) over HTML.
func WantsJSON(accept string) bool { return prefers(accept, isJSON) }

// WantsHTML reports whether an Accept header explicitly accepts HTML and
// prefers it over JSON; that is what every browser's navigation request
// says. No header, or only */*, means an API client.
func WantsHTML(accept string) bool {
	hq, _, ok := best(parseAccept(accept), isHTML)
	return ok && hq > 0 && !prefers(accept, isJSON)
}

// IsAPContentType reports whether a request Content-Type is an ActivityPub
// one, for inbox checks: application/activity+json, or application/ld+json
// with the ActivityStreams profile or no profile, each with an optional
// charset. A profile that names something else is rejected, as is a charset
// other than UTF-8 (JSON is UTF-8, RFC 8259).
func IsAPContentType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return false
	}
	typ, sub, _ := strings.Cut(mt, "/")
	return isAS(mediaRange{typ: typ, sub: sub, params: params})
}
