package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

//go:embed templates/*.html
var templateFS embed.FS

// errorTemplate is the page used by the error handler. A package can
// override it by shipping its own "error.html" (Data is an ErrorPage).
const errorTemplate = "error.html"

// Context keys read by the renderer. The auth package sets "principal"; Echo's
// CSRF middleware sets "csrf"; a session layer may set "flash" (a string).
const (
	PrincipalKey = "principal"
	CSRFKey      = "csrf"
	FlashKey     = "flash"
	noticeKey    = "ogpnet.notice"
)

// Page is the data of every rendered page: the layout reads the chrome
// fields, the page template reads Data (its own view model).
type Page struct {
	Title       string // page title, already translated; the layout appends the site name
	Description string // optional <meta name="description">
	Lang        string // "en", "es", "fr", "ko", "pt": filled from the request
	Data        any    // the page's own view model
	User        any    // the logged-in principal (c.Get("principal")), nil when anonymous
	UserName    string // display name of User (see userName)
	CSRF        string // CSRF token (c.Get("csrf")) for forms
	CSRFField   string // form field name of the token
	Flash       string // one-off notice (c.Get("flash"))
	Notice      string // site-wide banner, e.g. the demo's sample-data label (see SiteNotice)
	SiteName    string // header brand
	Path        string // request path, for marking the current nav link
	Alternate   string // optional ActivityPub IRI of this page's object (<link rel="alternate">)
	LangLinks   []LangLink
	LoginURL    string // empty hides the login link
	LogoutURL   string
	RequestID   string
}

// LangLink is one entry of the language switcher: the current URL with
// ?lang= set, so switching keeps the reader on the same page without JS.
type LangLink struct {
	Code    string
	Label   string
	URL     string
	Current bool
}

// Renderer implements echo.Renderer over html/template. Each page template
// is parsed into its own copy of the layout (so every page can define
// "content", "head" and "nav"), once per language, with T and the date and
// number functions bound to that language: templates call {{T "id"}} with no
// localizer argument, even inside {{range}} and partials.
type Renderer struct {
	// SiteName is shown in the header and <title>. Default: the site_name message.
	SiteName string
	// LoginURL and LogoutURL are the auth routes; logout is a POST form
	// with the CSRF token. An empty LoginURL hides the login link.
	LoginURL, LogoutURL string
	// CSRFField is the form field of the CSRF token (Echo's CSRF middleware
	// with TokenLookup "form:_csrf").
	CSRFField string

	sets map[string]map[string]*template.Template // lang → page name → template
}

// NewRenderer parses the layout and shared partials of this package plus the
// pages of fsys matched by patterns (default "*.html"; patterns are fs.Glob
// patterns). Files whose base name starts with "_" are partials: they are
// parsed into every page (use them for {{define "nav"}} and shared blocks).
// Every other file is a page, rendered by its path in fsys ("plan.html",
// or "plan" without the extension). A page defines "content" and may
// define "head" and "nav". fsys may be nil for a renderer with only the
// built-in error page.
func NewRenderer(fsys fs.FS, patterns ...string) (*Renderer, error) {
	if len(patterns) == 0 {
		patterns = []string{"*.html"}
	}
	type file struct {
		name string
		src  string
	}
	var partials, pages []file
	if fsys != nil {
		seen := map[string]bool{}
		for _, p := range patterns {
			names, err := fs.Glob(fsys, p)
			if err != nil {
				return nil, fmt.Errorf("web: pattern %q: %w", p, err)
			}
			for _, n := range names {
				if seen[n] {
					continue
				}
				seen[n] = true
				b, err := fs.ReadFile(fsys, n)
				if err != nil {
					return nil, fmt.Errorf("web: %w", err)
				}
				if strings.HasPrefix(path.Base(n), "_") {
					partials = append(partials, file{n, string(b)})
				} else {
					pages = append(pages, file{n, string(b)})
				}
			}
		}
	}
	if !slices.ContainsFunc(pages, func(f file) bool { return f.name == errorTemplate }) {
		b, err := templateFS.ReadFile("templates/" + errorTemplate)
		if err != nil {
			return nil, err
		}
		pages = append(pages, file{errorTemplate, string(b)})
	}
	var builtins []file
	for _, n := range []string{"layout.html", "partials.html"} {
		b, err := templateFS.ReadFile("templates/" + n)
		if err != nil {
			return nil, err
		}
		builtins = append(builtins, file{n, string(b)})
	}

	r := &Renderer{LogoutURL: "/logout", LoginURL: "/login", CSRFField: "_csrf",
		sets: map[string]map[string]*template.Template{}}
	for _, lang := range Languages() {
		base := template.New("layout").Funcs(funcMap(lang))
		for _, f := range append(builtins, partials...) {
			if _, err := base.New(f.name).Parse(f.src); err != nil {
				return nil, fmt.Errorf("web: parsing %s: %w", f.name, err)
			}
		}
		set := map[string]*template.Template{}
		for _, f := range pages {
			t, err := base.Clone()
			if err != nil {
				return nil, err
			}
			if _, err := t.New(f.name).Parse(f.src); err != nil {
				return nil, fmt.Errorf("web: parsing %s: %w", f.name, err)
			}
			set[f.name] = t
		}
		r.sets[lang] = set
	}
	return r, nil
}

// Pages returns the names of the pages this renderer knows, sorted.
func (r *Renderer) Pages() []string {
	var names []string
	for n := range r.sets[DefaultLang] {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Render implements echo.Renderer. data may be a Page (or *Page), whose
// chrome fields are filled from the request, or anything else, which
// becomes Page.Data.
func (r *Renderer) Render(w io.Writer, name string, data any, c echo.Context) error {
	var p Page
	switch d := data.(type) {
	case Page:
		p = d
	case *Page:
		p = *d
	default:
		p = Page{Data: data}
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := r.renderTo(buf, c, name, p); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Respond renders page name into memory and answers it with status: one
// pooled buffer, and a template error becomes a clean 500 because nothing
// was written yet.
func (r *Renderer) Respond(c echo.Context, status int, name string, p Page) error {
	buf := getBuffer()
	defer putBuffer(buf) // HTMLBlob has written the bytes when it returns
	if err := r.renderTo(buf, c, name, p); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// renderBuffers are reused by every page: a large hub's page renders to
// hundreds of kilobytes, and growing a new buffer to that size on every
// request was a third of what the comparison page allocated (allocation
// paces the garbage collector, which marks the whole heap each time).
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer: a buffer grown beyond this (a rare huge page) is left
// to the collector rather than kept.
const maxPooledBuffer = 4 << 20

// getBuffer returns an empty buffer from the pool pages render into; give
// it back with putBuffer once nothing refers to its bytes any more.
func getBuffer() *bytes.Buffer { return renderBuffers.Get().(*bytes.Buffer) }

// putBuffer returns b to the pool.
func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	renderBuffers.Put(b)
}

// renderBytes fills the page's chrome and executes the page into memory,
// so a template error never leaves a half-written response.
func (r *Renderer) renderBytes(c echo.Context, name string, p Page) ([]byte, error) {
	var buf bytes.Buffer
	if err := r.renderTo(&buf, c, name, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// renderTo is renderBytes into buf.
func (r *Renderer) renderTo(buf *bytes.Buffer, c echo.Context, name string, p Page) error {
	p = r.fill(c, p)
	set := r.sets[p.Lang]
	if set == nil {
		set = r.sets[DefaultLang]
	}
	t, ok := set[name]
	if !ok {
		t, ok = set[name+".html"]
	}
	if !ok {
		return fmt.Errorf("web: no page template %q", name)
	}
	if err := t.ExecuteTemplate(buf, "layout", p); err != nil {
		return fmt.Errorf("web: rendering %s: %w", name, err)
	}
	h := c.Response().Header()
	// The same URL renders differently per language (and per session).
	addVary(h, "Accept-Language")
	addVary(h, "Cookie")
	return nil
}

// fill sets the chrome fields of p from the request, keeping any the caller set.
func (r *Renderer) fill(c echo.Context, p Page) Page {
	p.Lang = Lang(c)
	if p.User == nil {
		p.User = c.Get(PrincipalKey)
	}
	if p.UserName == "" {
		p.UserName = userName(p.User)
	}
	if p.CSRF == "" {
		p.CSRF, _ = c.Get(CSRFKey).(string)
	}
	if p.CSRFField == "" {
		p.CSRFField = r.CSRFField
	}
	if p.Flash == "" {
		p.Flash, _ = c.Get(FlashKey).(string)
	}
	if p.Notice == "" {
		if id, _ := c.Get(noticeKey).(string); id != "" {
			p.Notice = T(c, id)
		}
	}
	if p.SiteName == "" {
		p.SiteName = r.SiteName
		if p.SiteName == "" {
			p.SiteName = T(c, "site_name")
		}
	}
	if p.LoginURL == "" {
		p.LoginURL = r.LoginURL
	}
	if p.LogoutURL == "" {
		p.LogoutURL = r.LogoutURL
	}
	u := c.Request().URL
	p.Path = u.Path
	p.LangLinks = langLinks(u, p.Lang)
	if p.RequestID == "" {
		p.RequestID = requestID(c)
	}
	return p
}

// langLinks builds the language switcher for URL u.
func langLinks(u *url.URL, current string) []LangLink {
	var out []LangLink
	for _, l := range Languages() {
		q := u.Query()
		q.Set("lang", l)
		out = append(out, LangLink{
			Code:    l,
			Label:   strings.ToUpper(l),
			URL:     (&url.URL{Path: u.Path, RawQuery: q.Encode()}).String(),
			Current: l == current,
		})
	}
	return out
}

// userName returns a display name for a principal: its DisplayName() or
// String() method, or the value itself when it is a string.
func userName(u any) string {
	switch v := u.(type) {
	case nil:
		return ""
	case interface{ DisplayName() string }:
		return v.DisplayName()
	case fmt.Stringer:
		return v.String()
	case string:
		return v
	}
	return ""
}

// Render renders page name with status: it wraps data in a Page with the
// given (already translated) title; the renderer fills the rest.
func Render(c echo.Context, status int, name, title string, data any) error {
	return c.Render(status, name, Page{Title: title, Data: data})
}

var (
	defaultOnce sync.Once
	defaultRend *Renderer
)

// defaultRenderer is the renderer with only the built-in pages, used when
// no Renderer was configured.
func defaultRenderer() *Renderer {
	defaultOnce.Do(func() {
		r, err := NewRenderer(nil)
		if err != nil {
			panic("web: built-in templates: " + err.Error())
		}
		defaultRend = r
	})
	return defaultRend
}

// SiteNotice shows the message msgID as a banner on every page: the demo
// labels every server's pages as illustrative sample data with it.
func SiteNotice(msgID string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(noticeKey, msgID)
			return next(c)
		}
	}
}
