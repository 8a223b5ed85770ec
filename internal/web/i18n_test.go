package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/labstack/echo/v4"
)

// readCatalogue returns a language's message ids and, for plural messages,
// their forms.
func readCatalogue(t *testing.T, lang string) map[string]any {
	t.Helper()
	b, err := fs.ReadFile(localeFS, "locales/"+lang+".toml")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := toml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.toml: %v", lang, err)
	}
	return m
}

func TestCatalogueComplete(t *testing.T) {
	langs := Languages()
	if !slices.Equal(langs, []string{"en", "es", "fr", "ko", "pt"}) {
		t.Fatalf("languages = %v, want [en es fr ko pt]", langs)
	}
	en := readCatalogue(t, "en")
	for _, lang := range langs[1:] {
		other := readCatalogue(t, lang)
		for id := range en {
			if _, ok := other[id]; !ok {
				t.Errorf("%s.toml lacks %q", lang, id)
			}
		}
		for id := range other {
			if _, ok := en[id]; !ok {
				t.Errorf("%s.toml has %q, which en.toml lacks", lang, id)
			}
		}
		// Plural messages must keep plural form in every language.
		for id, v := range en {
			if _, ok := v.(map[string]any); ok {
				if _, ok := other[id].(map[string]any); !ok {
					t.Errorf("%s.toml: %q must be a plural table like en's", lang, id)
				}
			}
		}
	}
	// Every message renders in every language, with sample data for
	// placeholders and plurals (a broken template shows here, not to users).
	for _, lang := range langs {
		for id := range readCatalogue(t, lang) {
			for _, n := range []any{1, 2, 1000000} {
				if got := TLang(lang, id, n); got == id || strings.Contains(got, "{{") {
					t.Errorf("%s %s (count %v) renders as %q", lang, id, n, got)
				}
			}
		}
	}
}

// usedIDs are the message ids referenced with a literal: {{T "id" ...}} in
// templates, web.T(c, "id") and web.TLang(l, "id") in Go.
var (
	templateUse = regexp.MustCompile(`\bT\s+"([^"]+)"`)
	goUse       = regexp.MustCompile(`\b(?:web\.)?T(?:Lang)?\(\s*[A-Za-z_][\w.]*\s*,\s*"([^"]+)"`)
)

func TestEveryUsedMessageExists(t *testing.T) {
	en := readCatalogue(t, "en")
	roots := []string{".", "../../node", "../../hub", "../../cmd", "../../internal"}
	seen := map[string]bool{}
	checked := 0
	for _, root := range roots {
		if _, err := os.Stat(root); err != nil {
			continue // node/ and hub/ may not exist yet
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "testdata" || d.Name() == "node_modules" {
					return filepath.SkipDir
				}
				return nil
			}
			abs, _ := filepath.Abs(p)
			if seen[abs] {
				return nil
			}
			seen[abs] = true
			var re *regexp.Regexp
			switch {
			case strings.HasSuffix(p, ".html"), strings.HasSuffix(p, ".tmpl"):
				re = templateUse
			case strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go"):
				re = goUse
			default:
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "//") {
					continue // examples in doc comments
				}
				for _, m := range re.FindAllStringSubmatch(line, -1) {
					if strings.HasSuffix(m[1], "_") {
						continue // a prefix completed at run time ("month_"+n)
					}
					checked++
					if _, ok := en[m[1]]; !ok {
						t.Errorf("%s uses message %q, which is not in locales/en.toml", p, m[1])
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 20 {
		t.Errorf("only %d message uses found: the scan is not reading the templates", checked)
	}
}

func TestCatalogueRequiredAreas(t *testing.T) {
	en := readCatalogue(t, "en")
	var want []string
	for _, c := range []string{"no_evidence", "not_started", "limited", "substantial", "complete"} {
		want = append(want, "completion_"+c)
	}
	for _, p := range []string{"access_to_information", "fiscal_openness", "public_service_delivery", "open_contracting",
		"citizen_participation", "anti_corruption", "open_data", "justice", "environment", "health", "education",
		"infrastructure", "gender", "budget_transparency", "public_integrity", "digital_government", "land",
		"extractives", "water_sanitation", "security"} {
		want = append(want, "policy_"+p)
	}
	for _, l := range []string{"inform", "consult", "involve", "collaborate", "empower"} {
		want = append(want, "iap2_"+l)
	}
	for _, id := range want {
		if _, ok := en[id]; !ok {
			t.Errorf("catalogue lacks %q", id)
		}
	}
}

func TestLanguageChoice(t *testing.T) {
	e := NewEcho(Options{})
	for _, tc := range []struct {
		name, query, cookie, acceptLang, want string
		setsCookie                            bool
	}{
		{name: "default", want: "en"},
		{name: "accept-language regional", acceptLang: "es-AR,es;q=0.9", want: "es"},
		{name: "accept-language q-values", acceptLang: "de;q=1, en;q=0.3, es;q=0.8", want: "es"},
		{name: "unsupported falls back", acceptLang: "de, it", want: "en"},
		{name: "accept-language fr", acceptLang: "fr-CA,fr;q=0.9,en;q=0.5", want: "fr"},
		{name: "accept-language pt-BR", acceptLang: "pt-BR", want: "pt"},
		{name: "accept-language ko", acceptLang: "ko-KR,ko;q=0.9", want: "ko"},
		{name: "accept-language q-values pick pt", acceptLang: "en;q=0.3, pt;q=0.9, fr;q=0.5", want: "pt"},
		{name: "query fr sets cookie", query: "fr", acceptLang: "es", want: "fr", setsCookie: true},
		{name: "cookie beats header", cookie: "es", acceptLang: "en", want: "es"},
		{name: "query beats cookie and sets it", query: "en", cookie: "es", acceptLang: "es", want: "en", setsCookie: true},
		{name: "unknown query ignored", query: "xx", acceptLang: "es", want: "es"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := "/"
			if tc.query != "" {
				target += "?lang=" + tc.query
			}
			r := httptest.NewRequest("GET", target, nil)
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: LangCookie, Value: tc.cookie})
			}
			if tc.acceptLang != "" {
				r.Header.Set("Accept-Language", tc.acceptLang)
			}
			w := httptest.NewRecorder()
			c := e.NewContext(r, w)
			if got := Lang(c); got != tc.want {
				t.Errorf("Lang = %q, want %q", got, tc.want)
			}
			set := strings.Contains(w.Header().Get("Set-Cookie"), LangCookie+"="+tc.want)
			if set != tc.setsCookie {
				t.Errorf("Set-Cookie = %q, want set: %v", w.Header().Get("Set-Cookie"), tc.setsCookie)
			}
		})
	}
}

func TestTLangArgs(t *testing.T) {
	for _, tc := range []struct {
		lang, id string
		args     []any
		want     string
	}{
		{"en", "common_commitments", []any{1}, "1 commitment"},
		{"en", "common_commitments", []any{12}, "12 commitments"},
		{"es", "common_commitments", []any{12}, "12 compromisos"},
		{"es", "auth_logged_in_as", []any{"Name", "Ana"}, "Sesión iniciada como Ana"},
		{"en", "pager_page_of", []any{map[string]any{"Page": 2, "Pages": 5}}, "Page 2 of 5"},
		{"fr", "common_commitments", []any{1}, "1 engagement"},
		{"fr", "common_commitments", []any{12}, "12 engagements"},
		{"fr", "auth_logged_in_as", []any{"Name", "Ana"}, "Connecté en tant que Ana"},
		{"pt", "common_commitments", []any{1}, "1 compromisso"},
		{"pt", "common_commitments", []any{12}, "12 compromissos"},
		{"pt", "pager_page_of", []any{map[string]any{"Page": 2, "Pages": 5}}, "Página 2 de 5"},
		{"ko", "common_commitments", []any{1}, "과제 1개"},
		{"ko", "common_commitments", []any{12}, "과제 12개"},
		{"ko", "pager_page_of", []any{map[string]any{"Page": 2, "Pages": 5}}, "5페이지 중 2페이지"},
		{"de", "nav_home", nil, "Home"}, // unknown language: English
		{"es", "no_such_id", nil, "no_such_id"},
	} {
		if got := TLang(tc.lang, tc.id, tc.args...); got != tc.want {
			t.Errorf("TLang(%s, %s, %v) = %q, want %q", tc.lang, tc.id, tc.args, got, tc.want)
		}
	}
}

// TestPluralForms checks every plural message has exactly the CLDR forms
// go-i18n asks for in each language (fr and pt: one, many, other; ko: other).
func TestPluralForms(t *testing.T) {
	want := map[string][]string{
		"en": {"one", "other"},
		"es": {"many", "one", "other"},
		"fr": {"many", "one", "other"},
		"pt": {"many", "one", "other"},
		"ko": {"other"},
	}
	for _, lang := range Languages() {
		forms, ok := want[lang]
		if !ok {
			t.Errorf("no expected plural forms for %s", lang)
			continue
		}
		for id, v := range readCatalogue(t, lang) {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			var got []string
			for k := range m {
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, forms) {
				t.Errorf("%s %s: plural forms %v, want %v", lang, id, got, forms)
			}
		}
	}
}

func TestFormatsPerLanguage(t *testing.T) {
	d := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	first := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ lang, date, first, monthYear, pct, num string }{
		{"en", "December 3, 2026", "March 1, 2026", "December 2026", "42%", "1,234,567.5"},
		{"es", "3 de diciembre de 2026", "1 de marzo de 2026", "diciembre de 2026", "42\u00a0%", "1.234.567,5"},
		{"fr", "3 décembre 2026", "1er mars 2026", "décembre 2026", "42\u00a0%", "1\u202f234\u202f567,5"},
		{"pt", "3 de dezembro de 2026", "1 de março de 2026", "dezembro de 2026", "42%", "1.234.567,5"},
		{"ko", "2026년 12월 3일", "2026년 3월 1일", "2026년 12월", "42%", "1,234,567.5"},
	} {
		if got := FormatDate(tc.lang, d); got != tc.date {
			t.Errorf("%s date = %q, want %q", tc.lang, got, tc.date)
		}
		if got := FormatDate(tc.lang, first); got != tc.first {
			t.Errorf("%s date = %q, want %q", tc.lang, got, tc.first)
		}
		if got := formatMonthYear(tc.lang, d); got != tc.monthYear {
			t.Errorf("%s monthYear = %q, want %q", tc.lang, got, tc.monthYear)
		}
		if got := FormatPct(tc.lang, 42.4); got != tc.pct {
			t.Errorf("%s pct = %q, want %q", tc.lang, got, tc.pct)
		}
		if got := FormatNum(tc.lang, 1234567.5); got != tc.num {
			t.Errorf("%s num = %q, want %q", tc.lang, got, tc.num)
		}
	}
}

// TestSiteLanguage: a server with its own language (a Spanish-speaking
// node) speaks it to readers whose request chooses no catalogue language,
// while Accept-Language, the cookie and ?lang= still win; a site language
// without a catalogue (Georgian) leaves English as the default.
func TestSiteLanguage(t *testing.T) {
	for _, tc := range []struct {
		name, site, query, cookie, acceptLang, want string
	}{
		{name: "no header: the node's language", site: "es", want: "es"},
		{name: "regional site tag", site: "pt-BR", want: "pt"},
		{name: "unsupported header: the node's language", site: "ko", acceptLang: "de, it", want: "ko"},
		{name: "accept-language wins", site: "es", acceptLang: "en-GB,en;q=0.9", want: "en"},
		{name: "cookie wins", site: "es", cookie: "fr", want: "fr"},
		{name: "switch wins", site: "es", query: "pt", acceptLang: "es", want: "pt"},
		{name: "site without a catalogue", site: "ka", want: "en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEcho(Options{DefaultLang: tc.site})
			e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, Lang(c)) })
			target := "/"
			if tc.query != "" {
				target += "?lang=" + tc.query
			}
			r := httptest.NewRequest("GET", target, nil)
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: LangCookie, Value: tc.cookie})
			}
			if tc.acceptLang != "" {
				r.Header.Set("Accept-Language", tc.acceptLang)
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if got := w.Body.String(); got != tc.want {
				t.Errorf("language = %q, want %q", got, tc.want)
			}
			if got := w.Header().Get("Content-Language"); got != tc.want {
				t.Errorf("Content-Language = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPluralCounts: counts agree with their nouns by each language's CLDR
// rules, also where one sentence carries two counts (each pluralised on its
// own): never "1 commitments, 1 pilots".
func TestPluralCounts(t *testing.T) {
	for _, tc := range []struct {
		lang     string
		matched  int
		pilots   int
		want     string
		wantHalf string
	}{
		{"en", 1, 1, "1 commitment from 1 pilot matches.", "1 pilot"},
		{"en", 2, 3, "2 commitments from 3 pilots match.", "3 pilots"},
		{"es", 1, 1, "Coincide 1 compromiso de 1 piloto.", "1 piloto"},
		{"es", 5, 2, "Coinciden 5 compromisos de 2 pilotos.", "2 pilotos"},
		{"fr", 0, 1, "0 engagement de 1 pilote correspond.", "1 pilote"}, // French "one" covers 0 and 1
		{"pt", 2, 2, "2 compromissos de 2 pilotos correspondem.", "2 pilotos"},
		{"ko", 1, 2, "시범 정부 2곳의 과제 1개가 조건에 맞습니다.", "시범 정부 2곳"}, // no plural in Korean
	} {
		pilots := TLang(tc.lang, "common_pilots", tc.pilots)
		if pilots != tc.wantHalf {
			t.Errorf("%s common_pilots(%d) = %q, want %q", tc.lang, tc.pilots, pilots, tc.wantHalf)
		}
		if got := TLang(tc.lang, "hub_matched_n", tc.matched, "Pilots", pilots); got != tc.want {
			t.Errorf("%s hub_matched_n(%d, %d) = %q, want %q", tc.lang, tc.matched, tc.pilots, got, tc.want)
		}
	}
	if got := TLang("en", "hub_totals_n", "Pilots", TLang("en", "common_pilots", 1), "Commitments", TLang("en", "common_commitments", 1),
		"Updates", TLang("en", "common_progress_updates_n", 2)); got != "1 pilot · 1 commitment · 2 progress updates" {
		t.Errorf("hub_totals_n = %q", got)
	}
}
