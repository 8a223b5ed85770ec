package api

import (
	"encoding/xml"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// feedSize is the number of entries in a feed.
const feedSize = 50

// Atom 1.0 (RFC 4287), only the elements we fill.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      string         `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published,omitempty"`
	Links      []atomLink     `xml:"link"`
	Author     atomPerson     `xml:"author"`
	Categories []atomCategory `xml:"category"`
	Content    *atomText      `xml:"content,omitempty"`
}

type feedItem struct {
	at    time.Time
	entry atomEntry
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// feed serves /feed.atom: every pilot's new commitments and progress
// updates, newest first; the filter grammar narrows it (?pilot=<actor IRI>,
// ?theme=<policy area>, …).
// Content is the hub's sanitised HTML, escaped once more by encoding/xml as
// Atom's type="html" requires.
func (h *handlers) feed(c echo.Context) error {
	f, err := filterOf(c.QueryParams())
	if err != nil {
		return err
	}
	f.Sort = readmodel.SortLastUpdate
	title := h.Title
	for _, actor := range f.Pilots {
		p, ok := h.Model.Pilot(actor)
		if !ok {
			return echo.NewHTTPError(http.StatusNotFound, "no such pilot")
		}
		title += " — " + p.Name
	}
	if f.Theme != "" {
		title += " — " + f.Theme
	}
	// The feed's id is its canonical URL: the filter as Values writes it
	// (the order is always by activity, so sort is left out).
	self := h.BaseURL + PathFeed
	q := f.Values()
	q.Del(readmodel.ParamSort)
	if len(q) > 0 {
		self += "?" + q.Encode()
	}
	var items []feedItem
	var cursor string
	// Walk commitments by latest activity; each contributes itself and its
	// updates. Stop once enough entries are certainly the newest.
	for len(items) < 4*feedSize {
		page, err := h.Model.Commitments(f, cursor, readmodel.MaxLimit)
		if err != nil {
			return err
		}
		for _, cm := range page.Items {
			items = append(items, commitmentEntry(cm))
			for _, u := range h.Model.Timeline(cm.ID) {
				items = append(items, updateEntry(cm, u))
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	slices.SortStableFunc(items, func(a, b feedItem) int { return b.at.Compare(a.at) })
	if len(items) > feedSize {
		items = items[:feedSize]
	}
	updated := h.Model.Totals().LastIngest
	if len(items) > 0 {
		updated = items[0].at
	}
	if updated.IsZero() {
		updated = time.Unix(0, 0)
	}
	doc := atomFeed{
		ID: self, Title: title, Updated: atomTime(updated),
		Links:  []atomLink{{Rel: "self", Type: "application/atom+xml", Href: self}, {Rel: "alternate", Type: "text/html", Href: h.BaseURL + "/"}},
		Author: atomPerson{Name: h.Title, URI: h.BaseURL},
	}
	for _, it := range items {
		doc.Entries = append(doc.Entries, it.entry)
	}
	body, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/atom+xml; charset=utf-8", append([]byte(xml.Header), body...))
}

func commitmentEntry(cm readmodel.Commitment) feedItem {
	at := cm.Updated
	if at.IsZero() {
		at = cm.Published
	}
	if at.IsZero() {
		at = cm.Received
	}
	e := atomEntry{
		ID: cm.ID, Title: cm.PilotName + ": " + cm.Name.Default, Updated: atomTime(at),
		Links:  []atomLink{{Rel: "alternate", Type: "text/html", Href: cm.URL}},
		Author: atomPerson{Name: cm.PilotName, URI: cm.Pilot},
	}
	if !cm.Published.IsZero() {
		e.Published = atomTime(cm.Published)
	}
	for _, t := range cm.Themes {
		e.Categories = append(e.Categories, atomCategory{Term: t})
	}
	body := string(cm.SummaryHTML.Default)
	if body == "" {
		body = string(cm.ContentHTML.Default)
	}
	e.Content = &atomText{Type: "html", Body: body}
	return feedItem{at: at, entry: e}
}

func updateEntry(cm readmodel.Commitment, u readmodel.Update) feedItem {
	at := u.Updated
	if at.IsZero() {
		at = u.Published
	}
	if at.IsZero() {
		at = u.Date.Time()
	}
	e := atomEntry{
		ID: u.ID, Title: cm.PilotName + ": " + cm.Name.Default + " (" + string(u.Date) + ")", Updated: atomTime(at),
		Links:   []atomLink{{Rel: "alternate", Type: "text/html", Href: u.URL}, {Rel: "related", Href: cm.URL}},
		Author:  atomPerson{Name: cm.PilotName, URI: cm.Pilot},
		Content: &atomText{Type: "html", Body: string(u.ContentHTML.Default)},
	}
	if !u.Published.IsZero() {
		e.Published = atomTime(u.Published)
	}
	return feedItem{at: at, entry: e}
}
