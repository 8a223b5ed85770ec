package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/internal/accept"
)

// ASProfile is the JSON-LD profile that marks application/ld+json as
// ActivityStreams (ActivityPub §3.2).
const ASProfile = accept.ASProfile

// WantsActivityJSON reports whether the request asks for the ActivityPub
// representation of a resource (see accept.WantsActivityJSON).
func WantsActivityJSON(r *http.Request) bool {
	return accept.WantsActivityJSON(r.Header.Get(echo.HeaderAccept))
}

// WantsJSON reports whether the request prefers any JSON type over HTML.
func WantsJSON(r *http.Request) bool { return accept.WantsJSON(r.Header.Get(echo.HeaderAccept)) }

// WantsHTML reports whether the client explicitly accepts HTML and prefers it
// over JSON. Clients that send no Accept header, or only */*, are treated as
// API clients.
func WantsHTML(r *http.Request) bool { return accept.WantsHTML(r.Header.Get(echo.HeaderAccept)) }

// IsAPContentType reports whether a request Content-Type is an ActivityPub
// one (see accept.IsAPContentType).
func IsAPContentType(ct string) bool { return accept.IsAPContentType(ct) }

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
