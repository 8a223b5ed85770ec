package pages

import (
	"net/url"
)

// Paths of the hub's HTML pages. Other hub packages (feeds, the API's
// "html" links) use the functions below rather than building URLs, so the
// scheme can change in one place.
const (
	PathHome            = "/"
	PathPilots          = "/pilots"
	PathPilot           = "/pilots/:handle"
	PathPilotCommitment = "/pilots/:handle/commitments/:key"
	PathPilotByIRI      = "/pilot"
	PathCommitment      = "/commitment"
	PathCompare         = "/compare"
	PathSideBySide      = "/compare/commitments"
	PathSearch          = "/search"
	PathStaff           = "/staff/members"
	PathStaffAdd        = "/staff/members/add"
	PathStaffAction     = "/staff/members/action"
	PathAssets          = "/hub-assets/*"
)

// CommitmentPath returns the hub page of a commitment by IRI: it answers a
// commitment that has no readable path, and redirects (301) to the readable
// one otherwise (see links.go).
func CommitmentPath(id string) string {
	return PathCommitment + "?id=" + url.QueryEscape(id)
}

// SideBySidePath returns the side-by-side comparison of the commitments ids.
func SideBySidePath(ids ...string) string {
	q := url.Values{}
	for _, id := range ids {
		q.Add("c", id)
	}
	return PathSideBySide + "?" + q.Encode()
}

// withQuery links to path with query q (none when empty), at the fragment
// when one is given.
func withQuery(path string, q url.Values, fragment string) string {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	if fragment != "" {
		path += "#" + fragment
	}
	return path
}

// pageLinks are a cursor-paged list's links: to the page after next (when
// there is one) and back to the first (when the reader is past it); q is
// the list's query without the cursor.
func pageLinks(path string, q url.Values, next, cursor, fragment string) (nextURL, firstURL string) {
	if next != "" {
		nq := url.Values{"cursor": {next}}
		for k, v := range q {
			nq[k] = v
		}
		nextURL = withQuery(path, nq, fragment)
	}
	if cursor != "" {
		firstURL = withQuery(path, q, fragment)
	}
	return nextURL, firstURL
}

// ComparePathTheme returns the comparison page filtered to one theme.
func ComparePathTheme(theme string) string {
	return PathCompare + "?theme=" + url.QueryEscape(theme)
}

// Feed and export paths served by hub/api (kept as strings here so that
// hub/api may import this package for its HTML links without a cycle).
const (
	pathFeed       = "/feed.atom"
	pathExportCSV  = "/exports/commitments.csv"
	pathExportJSON = "/exports/commitments.json"
	pathAPIPilots  = "/api/v1/pilots"
	pathAPIList    = "/api/v1/commitments"
)

// FeedPath returns the Atom feed of one pilot (actor IRI) or one theme;
// both empty gives the global feed.
func FeedPath(pilot, theme string) string {
	q := url.Values{}
	if pilot != "" {
		q.Set("pilot", pilot)
	}
	if theme != "" {
		q.Set("theme", theme)
	}
	if len(q) == 0 {
		return pathFeed
	}
	return pathFeed + "?" + q.Encode()
}
