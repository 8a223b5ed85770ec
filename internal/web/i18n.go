package web

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/labstack/echo/v4"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var localeFS embed.FS

// DefaultLang is the language used when nothing in the request chooses one.
const DefaultLang = "en"

// LangCookie is the cookie that remembers a language chosen with ?lang=.
const LangCookie = "lang"

// Context keys set by the i18n middleware.
const (
	ctxLang      = "web.lang"
	ctxLocalizer = "web.localizer"
	ctxSiteLang  = "web.siteLang"
)

// catalogue is the shared, process-wide message bundle. It is built once from
// the embedded files: it never changes at run time, and a broken file must
// stop the process at start rather than show message ids to users (the
// completeness test catches it first).
var catalogue = mustLoadCatalogue()

type loadedCatalogue struct {
	bundle     *i18n.Bundle
	langs      []string // e.g. ["en", "es", "fr", "ko", "pt"], DefaultLang first
	tags       []language.Tag
	matcher    language.Matcher
	localizers map[string]*i18n.Localizer
}

func mustLoadCatalogue() *loadedCatalogue {
	c, err := loadCatalogue(localeFS, "locales")
	if err != nil {
		panic("web: i18n catalogue: " + err.Error())
	}
	return c
}

// loadCatalogue reads every <lang>.toml under dir; the file name is the
// language, so adding a language is adding a file.
func loadCatalogue(fsys fs.FS, dir string) (*loadedCatalogue, error) {
	b := i18n.NewBundle(language.MustParse(DefaultLang))
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := fs.Glob(fsys, path.Join(dir, "*.toml"))
	if err != nil {
		return nil, err
	}
	c := &loadedCatalogue{bundle: b, localizers: map[string]*i18n.Localizer{}}
	for _, f := range files {
		buf, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		if _, err := b.ParseMessageFileBytes(buf, path.Base(f)); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		c.langs = append(c.langs, strings.TrimSuffix(path.Base(f), ".toml"))
	}
	if !slices.Contains(c.langs, DefaultLang) {
		return nil, fmt.Errorf("no %s.toml", DefaultLang)
	}
	// The default language goes first: language.NewMatcher falls back to the
	// first tag when nothing matches.
	slices.SortFunc(c.langs, func(a, b string) int {
		switch {
		case a == DefaultLang:
			return -1
		case b == DefaultLang:
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, l := range c.langs {
		c.tags = append(c.tags, language.MustParse(l))
		c.localizers[l] = i18n.NewLocalizer(b, l, DefaultLang)
	}
	c.matcher = language.NewMatcher(c.tags)
	return c, nil
}

// Languages returns the catalogue's languages, the default ("en") first.
func Languages() []string { return slices.Clone(catalogue.langs) }

// SupportedLang reports whether lang has a catalogue.
func SupportedLang(lang string) bool { return slices.Contains(catalogue.langs, lang) }

// matchAcceptLanguage picks the best supported language for an
// Accept-Language header (q-values and regional variants such as es-MX are
// handled by x/text's matcher), or fallback when the header names none.
func matchAcceptLanguage(header, fallback string) string {
	if header == "" {
		return fallback
	}
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return fallback
	}
	_, idx, conf := catalogue.matcher.Match(tags...)
	if conf == language.No {
		return fallback
	}
	return catalogue.langs[idx]
}

// SiteLang makes lang the site's default UI language (a node's own
// language): readers whose ?lang=, cookie and Accept-Language choose none
// of the catalogue's languages get it instead of English. NewEcho installs
// it from Options.DefaultLang, before everything else, so that even errors
// raised early speak it. A lang without a catalogue changes nothing.
func SiteLang(lang string) echo.MiddlewareFunc {
	lang = baseLang(lang)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if !SupportedLang(lang) {
			return next
		}
		return func(c echo.Context) error {
			c.Set(ctxSiteLang, lang)
			return next(c)
		}
	}
}

// baseLang reduces a BCP 47 tag to its language ("es-MX" → "es").
func baseLang(tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return tag
	}
	b, _ := t.Base()
	return b.String()
}

// resolveLang chooses the request's language: ?lang= (remembered in a
// cookie), then the cookie, then Accept-Language, then the site's own
// language (SiteLang), then English.
func resolveLang(c echo.Context) string {
	r := c.Request()
	if q := r.URL.Query().Get("lang"); q != "" && SupportedLang(q) {
		if ck, err := r.Cookie(LangCookie); err != nil || ck.Value != q {
			c.SetCookie(&http.Cookie{
				Name:     LangCookie,
				Value:    q,
				Path:     "/",
				MaxAge:   int((365 * 24 * time.Hour).Seconds()),
				HttpOnly: true, // only the server reads it
				SameSite: http.SameSiteLaxMode,
				Secure:   r.TLS != nil,
			})
		}
		return q
	}
	if ck, err := r.Cookie(LangCookie); err == nil && SupportedLang(ck.Value) {
		return ck.Value
	}
	site, _ := c.Get(ctxSiteLang).(string)
	if site == "" {
		site = DefaultLang
	}
	return matchAcceptLanguage(r.Header.Get("Accept-Language"), site)
}

// I18n is the middleware that chooses the request's language and puts it
// and its localizer in the context. NewEcho installs it; Lang, Localizer and T
// also work without it (they resolve lazily), which matters for errors raised
// before it runs, e.g. by the body limit.
func I18n() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			lang := Lang(c)
			c.Response().Header().Set("Content-Language", lang)
			return next(c)
		}
	}
}

// Lang returns the request's language code ("en", "es", "fr", "ko", "pt").
func Lang(c echo.Context) string {
	if l, ok := c.Get(ctxLang).(string); ok {
		return l
	}
	l := resolveLang(c)
	c.Set(ctxLang, l)
	c.Set(ctxLocalizer, catalogue.localizers[l])
	return l
}

// Localizer returns the go-i18n localizer of the request's language, for
// callers that need go-i18n features beyond T.
func Localizer(c echo.Context) *i18n.Localizer {
	if l, ok := c.Get(ctxLocalizer).(*i18n.Localizer); ok {
		return l
	}
	return catalogue.localizers[Lang(c)]
}

// T translates message id into the request's language. See TLang for args.
func T(c echo.Context, id string, args ...any) string {
	return localize(Localizer(c), id, args...)
}

// TLang translates message id into lang (falling back to English) outside a
// request, e.g. for feeds or federation payloads (nameMap). args are either
//   - nothing;
//   - a number (the plural count, also available as {{.Count}}), optionally
//     followed by key/value pairs;
//   - key/value pairs ("Name", x, "Date", y) for {{.Name}}, {{.Date}};
//   - one map[string]any of template data.
//
// A missing id comes back as the id itself, so it is visible rather than
// blank; the catalogue test keeps that from reaching users.
func TLang(lang, id string, args ...any) string {
	l, ok := catalogue.localizers[lang]
	if !ok {
		l = catalogue.localizers[DefaultLang]
	}
	return localize(l, id, args...)
}

func localize(l *i18n.Localizer, id string, args ...any) string {
	cfg := &i18n.LocalizeConfig{MessageID: id}
	data := map[string]any{}
	if len(args) == 1 {
		if m, ok := args[0].(map[string]any); ok {
			cfg.TemplateData = m
			args = nil
		}
	}
	if len(args)%2 == 1 {
		cfg.PluralCount = args[0]
		data["Count"] = args[0]
		args = args[1:]
	}
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok {
			data[k] = args[i+1]
		}
	}
	if cfg.TemplateData == nil && len(data) > 0 {
		cfg.TemplateData = data
	}
	s, err := l.Localize(cfg)
	if err != nil && s == "" {
		return id
	}
	return s
}
