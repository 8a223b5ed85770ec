package web

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
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

// WantsActivityJSON reports whether the request asks for the ActivityPub
// representation of a resource: its Accept header names
// application/activity+json or application/ld+json (without a profile or with
// the ActivityStreams profile) with a higher preference than text/html. A
// browser, which lists text/html first, gets HTML; a bare */* gets HTML too.
func WantsActivityJSON(r *http.Request) bool {
	return prefers(r.Header.Get(echo.HeaderAccept), isAS)
}

// WantsJSON reports whether the request prefers any JSON type
// (application/json, activity+json, ld+json, other +json) over HTML.
func WantsJSON(r *http.Request) bool {
	return prefers(r.Header.Get(echo.HeaderAccept), isJSON)
}

// WantsHTML reports whether the client explicitly accepts HTML and prefers it
// over JSON; that is what every browser's navigation request says. Clients
// that send no Accept header, or only */*, are treated as API clients.
func WantsHTML(r *http.Request) bool {
	ranges := parseAccept(r.Header.Get(echo.HeaderAccept))
	hq, _, ok := best(ranges, isHTML)
	return ok && hq > 0 && !prefers(r.Header.Get(echo.HeaderAccept), isJSON)
}

// SetVaryAccept adds "Accept" to the response's Vary header, once. Every
// handler whose body depends on content negotiation must call it, so caches
// keep the HTML and the JSON apart.
func SetVaryAccept(c echo.Context) {
	addVary(c.Response().Header(), echo.HeaderAccept)
}

// addVary appends a field name to Vary unless it is already listed.
func addVary(h http.Header, field string) {
	for _, v := range h.Values(echo.HeaderVary) {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), field) {
				return
			}
		}
	}
	h.Add(echo.HeaderVary, field)
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
