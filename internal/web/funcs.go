package web

import (
	"fmt"
	"html/template"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/text/language"
)

// funcMap returns the template functions bound to one language:
//
//	T id [args...]      translate (see TLang for args)
//	date v              "March 5, 2025" / "5 de marzo de 2025" / "5 mars 2025" / "5 de março de 2025" / "2025년 3월 5일" (time.Time, *time.Time, "2006-01-02" or RFC 3339 string)
//	monthYear v         "March 2025" / "marzo de 2025" / "mars 2025" / "março de 2025" / "2025년 3월"
//	datetime v          date plus "15:04 UTC"
//	isoDate v           "2006-01-02", for <time datetime="...">
//	pct v               a percentage 0–100: "42%" / "42 %" (es, fr)
//	num v               thousands separators: "1,234" (en, ko) / "1.234" (es, pt) / "1 234" (fr)
//	join list sep       strings.Join over any slice
//	dict k v ...        a map for passing several values to a partial
//	sanitize s          untrusted HTML through bluemonday's UGC policy
//	static name         URL of an embedded asset with a cache-busting version
//	lang                the language code
//	add a b             integer addition (pagination)
//	langAttr code       ` lang="code"` when content is in another language than
//	                    the page (a fallback), for the element that holds it:
//	                    <span{{langAttr .NameLang}}>{{.Name}}</span>
func funcMap(lang string) template.FuncMap {
	return template.FuncMap{
		"T":         func(id string, args ...any) string { return TLang(lang, id, args...) },
		"date":      func(v any) string { return FormatDate(lang, v) },
		"monthYear": func(v any) string { return formatMonthYear(lang, v) },
		"datetime":  func(v any) string { return formatDateTime(lang, v) },
		"isoDate": func(v any) string {
			if t, ok := toTime(v); ok {
				return t.Format(time.DateOnly)
			}
			return ""
		},
		"pct":      func(v any) string { return FormatPct(lang, v) },
		"num":      func(v any) string { return FormatNum(lang, v) },
		"join":     join,
		"dict":     dict,
		"sanitize": SanitizeHTML,
		"static":   StaticURL,
		"lang":     func() string { return lang },
		"add":      func(a, b int) int { return a + b },
		"langAttr": func(code string) template.HTMLAttr { return LangAttr(lang, code) },
	}
}

// LangAttr returns the lang attribute that marks content in language code
// on a page in pageLang: empty when they are the same language (or code is
// unknown), so only a fallback is marked and screen readers switch voice
// exactly there. code is validated as a BCP 47 tag, never echoed raw.
func LangAttr(pageLang, code string) template.HTMLAttr {
	if code == "" {
		return ""
	}
	t, err := language.Parse(code)
	if err != nil {
		return ""
	}
	if b, _ := t.Base(); b.String() == baseLang(pageLang) {
		return ""
	}
	return template.HTMLAttr(` lang="` + t.String() + `"`) //nolint:gosec // a parsed BCP 47 tag: letters, digits and dashes
}

// PickLang chooses what a reader of lang sees of a text published as def
// with translations m (contentMap, nameMap, summaryMap): the translation in
// lang (or a regional form of it, es-MX for es), else def. It returns the
// text and the language it is in, "" when unknown, for LangAttr.
func PickLang[S ~string](lang string, def S, m map[string]S) (S, string) {
	if v := m[lang]; v != "" {
		return v, lang
	}
	for _, k := range sortedKeys(m) {
		if v := m[k]; v != "" && baseLang(k) == lang {
			return v, k
		}
	}
	if def == "" {
		// Only translations: the first in a stable order.
		for _, k := range sortedKeys(m) {
			if m[k] != "" {
				return m[k], k
			}
		}
		return "", ""
	}
	for _, k := range sortedKeys(m) {
		if m[k] == def {
			return def, k
		}
	}
	return def, ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// toTime accepts the date shapes the view models use.
func toTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil {
			return time.Time{}, false
		}
		return *t, !t.IsZero()
	case string:
		for _, layout := range []string{time.RFC3339Nano, time.DateOnly, "2006-01"} {
			if p, err := time.Parse(layout, t); err == nil {
				return p, true
			}
		}
	}
	return time.Time{}, false
}

// FormatDate formats a date in lang's long form ("March 5, 2025", "5 de
// marzo de 2025", "5 mars 2025", "5 de março de 2025", "2025년 3월 5일"),
// or "—" when v is zero or not a date. The pattern and month names come
// from the catalogue (date_format, month_N); French writes the first of the
// month as an ordinal ("1er mars 2025").
func FormatDate(lang string, v any) string {
	t, ok := toTime(v)
	if !ok {
		return TLang(lang, "date_none")
	}
	day := strconv.Itoa(t.Day())
	if lang == "fr" && t.Day() == 1 {
		day = "1er"
	}
	return TLang(lang, "date_format", "Day", day, "Month", TLang(lang, "month_"+strconv.Itoa(int(t.Month()))), "Year", t.Year())
}

func formatMonthYear(lang string, v any) string {
	t, ok := toTime(v)
	if !ok {
		return TLang(lang, "date_none")
	}
	return TLang(lang, "date_month_year", "Month", TLang(lang, "month_"+strconv.Itoa(int(t.Month()))), "Year", t.Year())
}

func formatDateTime(lang string, v any) string {
	t, ok := toTime(v)
	if !ok {
		return TLang(lang, "date_none")
	}
	t = t.UTC()
	return TLang(lang, "date_time_format", "Date", FormatDate(lang, t), "Time", t.Format("15:04")+" UTC")
}

// toFloat converts any Go number to float64.
func toFloat(v any) (float64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	}
	return 0, false
}

// FormatPct formats a percentage given on a 0–100 scale, rounded to an
// integer: "42%" in English, Portuguese and Korean, "42 %" in Spanish (RAE
// spacing) and French (a no-break space before the sign).
func FormatPct(lang string, v any) string {
	f, ok := toFloat(v)
	if !ok || math.IsNaN(f) {
		return TLang(lang, "date_none")
	}
	n := strconv.FormatFloat(math.Round(f), 'f', 0, 64)
	if lang == "es" || lang == "fr" {
		return n + "\u00a0%"
	}
	return n + "%"
}

// FormatNum formats an integer part with the language's thousands
// separator ("1,234" in English and Korean, "1.234" in Spanish and
// Portuguese, "1 234" with a narrow no-break space in French); fractions keep
// up to one decimal with the language's decimal mark.
func FormatNum(lang string, v any) string {
	f, ok := toFloat(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprint(v)
	}
	thousands, decimal := ",", "."
	switch lang {
	case "es", "pt":
		thousands, decimal = ".", ","
	case "fr":
		thousands, decimal = "\u202f", ","
	}
	neg := f < 0
	f = math.Abs(f)
	s := strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, d := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(thousands)
		}
		b.WriteRune(d)
	}
	out := b.String()
	if frac != "" {
		out += decimal + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// join joins the elements of any slice with sep, formatting non-strings with fmt.
func join(list any, sep string) string {
	rv := reflect.ValueOf(list)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return fmt.Sprint(list)
	}
	parts := make([]string, rv.Len())
	for i := range parts {
		parts[i] = fmt.Sprint(rv.Index(i).Interface())
	}
	return strings.Join(parts, sep)
}

// dict builds a map from key/value pairs, for calling a partial with more
// than one value: {{template "x" dict "Page" $ "Item" .}}.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// ugc is bluemonday's policy for user-generated content; it is safe for
// concurrent use once built.
var ugc = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	// Links in federated content point elsewhere: do not pass our ranking on
	// and do not let the target page reach back through window.opener.
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	return p
}()

// SanitizeHTML cleans untrusted HTML (commitment descriptions, federated
// content) with bluemonday's UGC policy and returns it as template.HTML,
// safe to insert into a page.
func SanitizeHTML(s string) template.HTML {
	return template.HTML(ugc.Sanitize(s)) //nolint:gosec // sanitized just above
}
