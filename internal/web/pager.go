package web

import (
	"net/http"
	"net/url"
	"strconv"
)

// Pager is the state of a paginated list, rendered by the "pagination"
// partial: {{template "pagination" .Data.Pager}}.
type Pager struct {
	Page, Pages, PerPage, Total int
	u                           url.URL
}

// NewPager reads ?page= from the request (1-based, clamped to the valid
// range) for a list of total items shown perPage at a time.
func NewPager(r *http.Request, total, perPage int) Pager {
	if perPage < 1 {
		perPage = 20
	}
	pages := max(1, (total+perPage-1)/perPage)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = min(max(page, 1), pages)
	return Pager{Page: page, Pages: pages, PerPage: perPage, Total: total, u: *r.URL}
}

// Offset is the index of the first item of the page, for the store query.
func (p Pager) Offset() int { return (p.Page - 1) * p.PerPage }

// From and To are the 1-based positions of the first and last items shown.
func (p Pager) From() int { return min(p.Offset()+1, p.Total) }

// To is the 1-based position of the last item shown.
func (p Pager) To() int { return min(p.Offset()+p.PerPage, p.Total) }

// HasPrev reports whether there is a previous page.
func (p Pager) HasPrev() bool { return p.Page > 1 }

// HasNext reports whether there is a next page.
func (p Pager) HasNext() bool { return p.Page < p.Pages }

// PrevURL is the URL of the previous page (other query parameters kept).
func (p Pager) PrevURL() string { return p.URL(p.Page - 1) }

// NextURL is the URL of the next page.
func (p Pager) NextURL() string { return p.URL(p.Page + 1) }

// URL returns the URL of page n.
func (p Pager) URL(n int) string {
	q := p.u.Query()
	if n <= 1 {
		q.Del("page")
	} else {
		q.Set("page", strconv.Itoa(n))
	}
	return (&url.URL{Path: p.u.Path, RawQuery: q.Encode()}).String()
}
