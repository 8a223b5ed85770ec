package api

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/search"
	"github.com/ogpnet/ogpnet/internal/web"
)

// PathSearch is the full-text search.
const PathSearch = "/api/v1/search"

// Search paging limits.
const (
	defaultSearchLimit = search.DefaultLimit
	// maxSearchPage bounds how deep paging goes (page × limit hits).
	maxSearchPage = 500
	// snippetsPerHit is how many highlighted texts a hit carries.
	snippetsPerHit = 2
)

// HighlightJSON is one text of a hit with the matched words marked.
type HighlightJSON struct {
	Field string `json:"field"` // title, lead, description, problem, objective, milestone, progress, institution
	Lang  string `json:"lang"`  // BCP 47 tag; "" when the node did not say
	// HTML is the text HTML-escaped, with <mark> around the matched words
	// and … where it was cut: safe to insert as HTML as it is.
	HTML template.HTML `json:"html"`
}

// SearchHitJSON is one commitment found.
type SearchHitJSON struct {
	Commitment CommitmentJSON  `json:"commitment"`
	Score      float64         `json:"score"` // BM25, higher is better
	Title      template.HTML   `json:"titleHtml"`
	Highlights []HighlightJSON `json:"highlights"`
}

// searchQuery reads q, pilot (repeatable), theme, page and limit.
func searchQuery(q url.Values) (search.Query, int, error) {
	text := strings.TrimSpace(q.Get("q"))
	if text == "" {
		return search.Query{}, 0, badRequest("q: give the words to search for")
	}
	limit, err := limitOf(q, defaultSearchLimit, search.MaxLimit)
	if err != nil {
		return search.Query{}, 0, err
	}
	page := 1
	if s := q.Get("page"); s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 1 || page > maxSearchPage {
			return search.Query{}, 0, badRequest("page: want 1 to " + strconv.Itoa(maxSearchPage))
		}
	}
	sq := search.Query{Text: text, Area: strings.TrimSpace(q.Get(readmodel.ParamTheme)), Offset: (page - 1) * limit, Limit: limit}
	for _, p := range q[readmodel.ParamPilot] {
		if p = strings.TrimSpace(p); p != "" {
			sq.Pilots = append(sq.Pilots, p)
		}
	}
	return sq, page, nil
}

// search serves GET /api/v1/search: commitments containing every word of
// q in any of their texts and languages, best first (hub/search).
func (h *handlers) search(c echo.Context) error {
	q := c.QueryParams()
	sq, page, err := searchQuery(q)
	if err != nil {
		return err
	}
	res, err := h.Search.Search(sq)
	if errors.Is(err, search.ErrQuery) {
		return badRequest("q: " + strings.TrimPrefix(err.Error(), search.ErrQuery.Error()+": "))
	} else if err != nil {
		return err
	}
	lang := q.Get("lang")
	if lang == "" {
		lang = web.Lang(c)
	}
	items := make([]SearchHitJSON, 0, len(res.Hits))
	for _, hit := range res.Hits {
		cm, ok := h.Model.Commitment(hit.ID)
		if !ok {
			continue // hidden since the index last synced
		}
		title, snippets := search.Explain(cm, h.Model.Timeline(cm.ID), hit.Terms, lang, snippetsPerHit)
		item := SearchHitJSON{Commitment: ToCommitment(cm), Score: hit.Score, Title: title, Highlights: []HighlightJSON{}}
		for _, s := range snippets {
			item.Highlights = append(item.Highlights, HighlightJSON{Field: string(s.Kind), Lang: s.Lang, HTML: s.HTML})
		}
		items = append(items, item)
	}
	var next *string
	if sq.Offset+len(res.Hits) < res.Total && page < maxSearchPage {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("page", strconv.Itoa(page+1))
		nq.Set("limit", strconv.Itoa(sq.Limit))
		u := h.BaseURL + PathSearch + "?" + nq.Encode()
		next = &u
	}
	return c.JSON(http.StatusOK, map[string]any{
		"query": sq.Text, "words": nonNil(res.Words), "total": res.Total, "page": page, "limit": sq.Limit,
		"items": items, "next": next,
	})
}
