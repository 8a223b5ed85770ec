package search_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ogpnet/ogpnet/hub/readmodel"
	"github.com/ogpnet/ogpnet/hub/search"
)

func hitIDs(r search.Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	return out
}

func commitmentIRI(slug, id string) string {
	return "http://" + slug + ".localhost:8080/commitments/" + id
}

func mustSearch(t *testing.T, x *search.ModelIndex, q search.Query) search.Result {
	t.Helper()
	r, err := x.Search(q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return r
}

// TestPayGapFindsJalisco is the case the issue reported: JAL0002's English
// description says "gender pay gap", but only titles were searched in every
// language.
func TestPayGapFindsJalisco(t *testing.T) {
	x := search.NewModelIndex(loadSample(t))
	r := mustSearch(t, x, search.Query{Text: "pay gap"})
	jal := commitmentIRI("jalisco", "JAL0002")
	if len(r.Hits) == 0 || r.Hits[0].ID != jal {
		t.Fatalf(`"pay gap" = %q, want JAL0002 first`, hitIDs(r))
	}
	// The title and the description show the matched words; the lead,
	// which repeats the description, is not shown a second time.
	c, _ := x.Model().Commitment(jal)
	title, snippets := search.Explain(c, x.Model().Timeline(jal), r.Hits[0].Terms, "en", 2)
	if !strings.Contains(string(title), "<mark>gap</mark>") || len(snippets) == 0 || snippets[0].Kind != search.KindDescription ||
		!strings.Contains(string(snippets[0].HTML), "gender <mark>pay</mark> <mark>gap</mark>") {
		t.Errorf("title %q, snippets %+v", title, snippets)
	}
	for _, s := range snippets {
		if s.Kind == search.KindLead {
			t.Errorf("the lead repeats the description: %+v", snippets)
		}
	}
	// Its Spanish words, with and without accents, and an inflected form.
	for _, q := range []string{"brecha salarial", "BRECHA SALARIAL", "igualdad salarial", "mujeres", "mujer"} {
		if r := mustSearch(t, x, search.Query{Text: q}); !slices.Contains(hitIDs(r), jal) {
			t.Errorf("%q = %q, want JAL0002 among them", q, hitIDs(r))
		}
	}
}

// TestFoldingAndStemming: accents and case are folded and words stemmed in
// the text's language, at indexing and query time alike.
func TestFoldingAndStemming(t *testing.T) {
	x := search.NewModelIndex(loadSample(t))
	for _, c := range []struct{ a, b string }{
		{"participación", "participacion"},
		{"Participatory budgeting", "participatory budget"},
		{"registers", "register"},
		{"participação", "participacao"},
	} {
		ra, rb := mustSearch(t, x, search.Query{Text: c.a, Limit: search.MaxLimit}), mustSearch(t, x, search.Query{Text: c.b, Limit: search.MaxLimit})
		if ra.Total == 0 || !slices.Equal(hitIDs(ra), hitIDs(rb)) {
			t.Errorf("%q finds %q, %q finds %q: want the same, not empty", c.a, hitIDs(ra), c.b, hitIDs(rb))
		}
	}
}

// TestEveryCommitmentFoundByADistinctiveWord is the "done when": for
// every demo commitment, in every text field and every language it carries,
// the field's most distinctive word (the one fewest commitments contain)
// finds the commitment.
func TestEveryCommitmentFoundByADistinctiveWord(t *testing.T) {
	m := loadSample(t)
	x := search.NewModelIndex(m)
	var docs []search.Doc
	m.Each(func(c readmodel.Commitment) bool {
		docs = append(docs, search.DocOf(c, m.Timeline(c.ID)))
		return true
	})
	if len(docs) != 70 {
		t.Fatalf("the sample has %d commitments, want 70", len(docs))
	}
	df := map[string]int{}
	for _, d := range docs {
		seen := map[string]bool{}
		for _, f := range d.Fields {
			for _, tok := range search.Analyze(f.Text, f.Lang) {
				if !seen[tok.Term] {
					seen[tok.Term] = true
					df[tok.Term]++
				}
			}
		}
	}
	langs := map[string]int{}
	checked := 0
	for _, d := range docs {
		for _, f := range d.Fields {
			word := distinctiveWord(f, df)
			if word == "" {
				continue
			}
			checked++
			langs[f.Lang]++
			if !found(t, x, word, d.ID) {
				t.Errorf("%s: the %s word %q (%s, %s) does not find it", d.ID, f.Lang, word, f.Kind, f.Text)
			}
		}
	}
	for _, l := range []string{"en", "es", "fr", "pt", "ko", "ka", "id"} {
		if langs[l] == 0 {
			t.Errorf("no %s text checked (checked per language: %v)", l, langs)
		}
	}
	t.Logf("%d field texts checked, per language: %v", checked, langs)
}

// distinctiveWord is the word of f whose rarest index term is in the
// fewest commitments (longer words first on ties); "" when f has no word
// of at least four letters (two for Hangul).
func distinctiveWord(f search.Field, df map[string]int) string {
	best, bestDF := "", 0
	for _, w := range strings.FieldsFunc(f.Text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) }) {
		n := utf8.RuneCountInString(w)
		hangul := strings.ContainsFunc(w, func(r rune) bool { return unicode.Is(unicode.Hangul, r) })
		if n < 4 && !(hangul && n >= 2) {
			continue
		}
		toks := search.Analyze(w, f.Lang)
		if len(toks) == 0 {
			continue
		}
		rarest := 0
		for _, tok := range toks {
			if d := df[tok.Term]; rarest == 0 || d < rarest {
				rarest = d
			}
		}
		if best == "" || rarest < bestDF || rarest == bestDF && len(w) > len(best) {
			best, bestDF = w, rarest
		}
	}
	return best
}

// found pages through a search for word until id appears.
func found(t *testing.T, x *search.ModelIndex, word, id string) bool {
	for off := 0; ; off += search.MaxLimit {
		r := mustSearch(t, x, search.Query{Text: word, Offset: off, Limit: search.MaxLimit})
		if slices.Contains(hitIDs(r), id) {
			return true
		}
		if off+search.MaxLimit >= r.Total {
			return false
		}
	}
}

func TestFiltersAndPaging(t *testing.T) {
	x := search.NewModelIndex(loadSample(t))
	all := mustSearch(t, x, search.Query{Text: "participation", Limit: search.MaxLimit})
	if all.Total < 10 {
		t.Fatalf("participation: %d hits, want many", all.Total)
	}
	madrid := "http://madrid.localhost:8080/users/madrid"
	r := mustSearch(t, x, search.Query{Text: "participation", Pilots: []string{madrid}})
	if r.Total == 0 || r.Total >= all.Total {
		t.Fatalf("filtered by Madrid: %d of %d", r.Total, all.Total)
	}
	for _, id := range hitIDs(r) {
		if !strings.HasPrefix(id, "http://madrid.") {
			t.Errorf("pilot filter let %s through", id)
		}
	}
	r = mustSearch(t, x, search.Query{Text: "participation", Area: "Budget"})
	if r.Total == 0 || r.Total >= all.Total {
		t.Fatalf("filtered by area budget: %d of %d", r.Total, all.Total)
	}
	if r := mustSearch(t, x, search.Query{Text: "participation", Area: "no-such-area"}); r.Total != 0 {
		t.Errorf("an unknown area matches %d", r.Total)
	}
	// Pages of 5 cover the whole ranking once, in order.
	var paged []string
	for off := 0; off < all.Total; off += 5 {
		p := mustSearch(t, x, search.Query{Text: "participation", Offset: off, Limit: 5})
		if p.Total != all.Total {
			t.Fatalf("page total %d, want %d", p.Total, all.Total)
		}
		paged = append(paged, hitIDs(p)...)
	}
	if !slices.Equal(paged, hitIDs(all)) {
		t.Errorf("pages differ from the full ranking")
	}
}

func TestQueryLimitsAreRefused(t *testing.T) {
	x := search.NewModelIndex(loadSample(t))
	for _, q := range []search.Query{
		{Text: strings.Repeat("a", search.MaxQueryBytes+1)},
		{Text: strings.Repeat("word ", search.MaxWords+1)},
		{Text: "water", Limit: search.MaxLimit + 1},
		{Text: "water", Offset: -1},
	} {
		if _, err := x.Search(q); err == nil {
			t.Errorf("query %.40q… was accepted", q.Text)
		}
	}
	// Only function words: nothing to search, no error.
	r, err := x.Search(search.Query{Text: "the of de la"})
	if err != nil || r.Total != 0 || len(r.Words) != 0 {
		t.Errorf("function words only: %+v, %v", r, err)
	}
}

func TestKoreanBigrams(t *testing.T) {
	x := search.New()
	x.Put(search.Doc{ID: "seoul", Fields: []search.Field{{Kind: search.KindTitle, Lang: "ko", Text: "지하철을 이용하는 시민 참여"}}})
	x.Put(search.Doc{ID: "other", Fields: []search.Field{{Kind: search.KindTitle, Lang: "ko", Text: "예산 정보 공개"}}})
	for _, q := range []string{"지하철", "시민", "지하철 참여"} {
		r, err := x.Search(search.Query{Text: q})
		if err != nil || !slices.Equal(hitIDs(r), []string{"seoul"}) {
			t.Errorf("%q = %q, %v; want seoul only", q, hitIDs(r), err)
		}
	}
	h, n := search.Highlight(search.Field{Lang: "ko", Text: "지하철을 이용하는"}, []string{"지하", "하철"}, 0)
	if n != 2 || string(h) != "<mark>지하철</mark>을 이용하는" {
		t.Errorf("Highlight = %q, %d", h, n)
	}
}

// TestHighlightEscapesFirst: the text is escaped, then only <mark> is
// added, so text that looks like markup never becomes markup.
func TestHighlightEscapesFirst(t *testing.T) {
	f := search.Field{Lang: "en", Text: `<script>alert("pay")</script> & the gender pay gap`}
	h, n := search.Highlight(f, []string{"pay", "gap"}, 0)
	want := `&lt;script&gt;alert(&#34;<mark>pay</mark>&#34;)&lt;/script&gt; &amp; the gender <mark>pay</mark> <mark>gap</mark>`
	if string(h) != want || n != 2 {
		t.Errorf("Highlight =\n%s (%d)\nwant\n%s", h, n, want)
	}
	long := strings.Repeat("filler words here ", 40) + "the pay gap " + strings.Repeat("more words after ", 40)
	h, _ = search.Highlight(search.Field{Lang: "en", Text: long}, []string{"pay"}, 100)
	if !strings.HasPrefix(string(h), "…") || !strings.HasSuffix(string(h), "…") || !strings.Contains(string(h), "<mark>pay</mark>") ||
		utf8.RuneCountInString(string(h)) > 140 {
		t.Errorf("cut snippet = %q", h)
	}
}

// TestIndexFollowsTheModel: edits, new progress text, removals and hidden
// pilots reach the index at the next query.
func TestIndexFollowsTheModel(t *testing.T) {
	m := loadSample(t)
	x := search.NewModelIndex(m)
	jal := commitmentIRI("jalisco", "JAL0002")
	if r := mustSearch(t, x, search.Query{Text: "zeppelin"}); r.Total != 0 {
		t.Fatalf("zeppelin found before it was written: %q", hitIDs(r))
	}
	c, _ := m.Commitment(jal)
	tl := m.Timeline(jal)
	if len(tl) == 0 {
		t.Fatal("JAL0002 has no progress updates")
	}
	u := tl[0]
	m.ApplyUpdate(c.Pilot, readmodelUpdate(u, "<p>Surveyed by zeppelin.</p>"))
	if r := mustSearch(t, x, search.Query{Text: "zeppelin"}); !slices.Equal(hitIDs(r), []string{jal}) {
		t.Errorf("edited progress text not searched: %q", hitIDs(r))
	}
	m.Remove(u.ID)
	if r := mustSearch(t, x, search.Query{Text: "zeppelin"}); r.Total != 0 {
		t.Errorf("removed progress text still found: %q", hitIDs(r))
	}
	m.SetPilot(readmodel.PilotInfo{Actor: c.Pilot, Name: "Jalisco", State: readmodel.StateSuspended})
	if r := mustSearch(t, x, search.Query{Text: "pay gap"}); slices.Contains(hitIDs(r), jal) {
		t.Errorf("a suspended pilot's commitment is found")
	}
	m.SetPilot(readmodel.PilotInfo{Actor: c.Pilot, Name: "Jalisco", State: readmodel.StateActive})
	if r := mustSearch(t, x, search.Query{Text: "pay gap"}); !slices.Contains(hitIDs(r), jal) {
		t.Errorf("a resumed pilot's commitment is not found")
	}
	m.Remove(jal)
	if r := mustSearch(t, x, search.Query{Text: "pay gap"}); slices.Contains(hitIDs(r), jal) {
		t.Errorf("a deleted commitment is found")
	}
}

// TestAccentsAndInflections: Snowball stems the word as written (it needs
// the accents), and a reader who types without them, or another
// inflection, still finds it.
func TestAccentsAndInflections(t *testing.T) {
	x := search.New()
	put := func(id, lang, text string) {
		x.Put(search.Doc{ID: id, Fields: []search.Field{{Kind: search.KindDescription, Lang: lang, Text: text}}})
	}
	put("es-singular", "es", "Transparencia en la contratación pública")
	put("es-plural", "es", "Portal de contrataciones")
	put("pt", "pt", "Mais participação cidadã")
	put("fr", "fr", "Sécurité des données ouvertes")
	for q, want := range map[string][]string{
		"contratación":   {"es-plural", "es-singular"},
		"contratacion":   {"es-plural", "es-singular"},
		"contrataciones": {"es-plural", "es-singular"},
		"participacao":   {"pt"},
		"participações":  {"pt"},
		"securite":       {"fr"},
		"donnees":        {"fr"},
	} {
		r, err := x.Search(search.Query{Text: q})
		got := hitIDs(r)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q = %q, %v; want %q", q, got, err, want)
		}
	}
}
