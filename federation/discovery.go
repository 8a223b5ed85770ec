package federation

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// webfinger answers RFC 7033 lookups for acct:<username>@<host> and for the
// actor IRI itself (Mastodon looks both up).
func (s *Server) webfinger(c echo.Context) error {
	resource := c.QueryParam("resource")
	if resource == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "missing resource parameter")
	}
	var user, host string
	switch {
	case strings.HasPrefix(resource, "acct:"):
		acct := strings.TrimPrefix(strings.TrimPrefix(resource, "acct:"), "@")
		at := strings.LastIndex(acct, "@")
		if at <= 0 || at == len(acct)-1 {
			return echo.NewHTTPError(http.StatusBadRequest, "resource must look like acct:user@host")
		}
		user, host = acct[:at], acct[at+1:]
	case strings.HasPrefix(resource, "http://") || strings.HasPrefix(resource, "https://"):
		switch resource {
		case s.ActorID(), s.BaseURL() + "/@" + s.cfg.Username:
			user, host = s.cfg.Username, s.base.Host
		case s.AppID():
			user, host = s.base.Hostname(), s.base.Host
		default:
			return echo.NewHTTPError(http.StatusNotFound, "no such resource on this server")
		}
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "resource must be an acct: URI or an http(s) URL")
	}
	if !strings.EqualFold(host, s.base.Host) && !strings.EqualFold(host, s.base.Hostname()) {
		return echo.NewHTTPError(http.StatusNotFound, "resource is not on this server")
	}
	subject := "acct:" + s.cfg.Username + "@" + s.base.Host
	href := s.ActorID()
	switch {
	case strings.EqualFold(user, s.cfg.Username):
	case strings.EqualFold(user, s.base.Hostname()):
		subject, href = "acct:"+s.base.Hostname()+"@"+s.base.Host, s.AppID()
	default:
		return echo.NewHTTPError(http.StatusNotFound, "no such user on this server")
	}
	jrd := map[string]any{
		"subject": subject,
		"aliases": []string{href},
		"links": []map[string]string{
			{"rel": "self", "type": ContentType, "href": href},
			{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": href},
		},
	}
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return jsonAs(c, http.StatusOK, "application/jrd+json; charset=utf-8", jrd)
}

func (s *Server) hostMeta(c echo.Context) error {
	body := `<?xml version="1.0" encoding="UTF-8"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Link rel="lrdd" template="` +
		s.BaseURL() + `/.well-known/webfinger?resource={uri}"/></XRD>`
	return c.Blob(http.StatusOK, "application/xrd+xml; charset=utf-8", []byte(body))
}

// nodeinfoLinks is the NodeInfo discovery document, with the FEP-2677 link
// to the application actor.
func (s *Server) nodeinfoLinks(c echo.Context) error {
	return jsonAs(c, http.StatusOK, "application/json", map[string]any{
		"links": []map[string]string{
			{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": s.BaseURL() + "/nodeinfo/2.1"},
			{"rel": "https://www.w3.org/ns/activitystreams#Application", "href": s.AppID()},
		},
	})
}

func (s *Server) nodeinfo(c echo.Context) error {
	version := s.cfg.Version
	if version == "" {
		version = "dev"
	}
	return jsonAs(c, http.StatusOK,
		`application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"`,
		map[string]any{
			"version":           "2.1",
			"software":          map[string]any{"name": s.cfg.Software, "version": version, "homepage": "https://github.com/ogpnet/ogpnet"},
			"protocols":         []string{"activitypub"},
			"services":          map[string]any{"inbound": []string{}, "outbound": []string{"atom1.0"}},
			"openRegistrations": false,
			// One actor per server: the government (node) or the community (hub).
			"usage":    map[string]any{"users": map[string]int{"total": 1, "activeMonth": 1, "activeHalfyear": 1}},
			"metadata": map[string]any{"nodeName": s.cfg.Name, "actorType": s.cfg.ActorType},
		})
}
