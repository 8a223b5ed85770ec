package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/french"
	"github.com/blevesearch/snowballstem/portuguese"
	"github.com/blevesearch/snowballstem/spanish"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Token is one indexed term of a text and where it stands in that text
// (byte offsets), so a hit can be highlighted where it occurs.
type Token struct {
	Term       string
	Start, End int
	// Alt marks a second form of the same word (see Analyze): it is
	// searched, not counted again in the peers' text vectors.
	Alt bool
}

// stemmers are the Snowball stemmers of the pilots' languages that the
// Snowball project ships (English, Spanish, French, Portuguese). Other
// languages (Korean, Georgian, Indonesian…) are folded but not stemmed.
var stemmers = map[string]func(*snowballstem.Env) bool{
	"en": english.Stem,
	"es": spanish.Stem,
	"fr": french.Stem,
	"pt": portuguese.Stem,
}

// stemLangs is the order query words are stemmed in: a query's language is
// unknown, so each word is looked up in every stemmed language.
var stemLangs = []string{"en", "es", "fr", "pt"}

// baseLang reduces a BCP 47 tag to its language subtag: "pt-BR" → "pt".
func baseLang(tag string) string {
	l, _, _ := strings.Cut(tag, "-")
	return strings.ToLower(l)
}

// stopWords are the function words of each stemmed language, dropped before
// weighting: IDF discounts common words, but in a corpus of a few dozen
// commitments "de" or "the" can be rare enough in one language to look
// significant. They are compared after folding.
var stopWords = func() map[string]map[string]bool {
	lists := map[string]string{
		"en": "a an and are as at be been but by for from has have in into is it its of on or our that the their this to was were will with not all more new we they which who can also",
		"es": "a al como con de del e el en entre es esta este estas estos la las lo los mas o para por que se sea ser sera sin sobre son su sus un una uno unos unas y ya le les",
		"fr": "a au aux avec ce ces cette dans de des du elle en est et il ils la le les leur leurs par plus pour qui que sa se ses son sont sur un une ou ne pas d l",
		"pt": "a ao aos as com da das de do dos e em entre na nas no nos o os ou para pela pelo por que se sem seu sua seus suas um uma umas uns",
	}
	out := map[string]map[string]bool{}
	for lang, list := range lists {
		m := map[string]bool{}
		for _, w := range strings.Fields(list) {
			m[w] = true
		}
		out[lang] = m
	}
	return out
}()

// anyStop reports whether w is a function word in any stemmed language.
func anyStop(w string) bool {
	for _, m := range stopWords {
		if m[w] {
			return true
		}
	}
	return false
}

// foldWord lower-cases w and removes its accents (combining marks after
// NFD decomposition), so "Participación" and "participacion" are one word:
// authors and readers type both. Stemming runs on the folded word, at
// indexing and at query time alike, so both sides agree.
func foldWord(w string) string {
	w = strings.ToLower(w)
	if isASCII(w) {
		return w
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, w)
	if err != nil {
		return w
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// stem returns the Snowball stem of a folded word in lang, or the word
// itself for a language without a stemmer.
func stem(w, lang string) string {
	fn, ok := stemmers[lang]
	if !ok {
		return w
	}
	env := snowballstem.NewEnv(w)
	fn(env)
	if s := env.Current(); s != "" {
		return s
	}
	return w
}

// bigramScript reports runes of scripts written without spaces between
// words, or with particles glued to them (Hangul for Seoul, and Han, Kana).
// Runs of them are indexed as overlapping character pairs (bigrams): no
// Korean stemmer is kept in Go, and bigrams make "지하철" meet "지하철을"
// (the noun with its object particle) without one.
func bigramScript(r rune) bool {
	return unicode.Is(unicode.Hangul, r) || unicode.Is(unicode.Han, r) ||
		unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// segment is a run of word characters: a word, or a run of a bigram script.
type segment struct {
	text       string
	start, end int
	bigrams    bool
}

// segments splits text into words and bigram-script runs.
func segments(text string) []segment {
	var out []segment
	start, kind := -1, false
	flush := func(end int) {
		if start >= 0 {
			out = append(out, segment{text: text[start:end], start: start, end: end, bigrams: kind})
			start = -1
		}
	}
	for i, r := range text {
		if !wordRune(r) {
			flush(i)
			continue
		}
		// A combining mark belongs to the run it follows.
		k := bigramScript(r)
		if start >= 0 && k != kind && !unicode.IsMark(r) {
			flush(i)
		}
		if start < 0 {
			start, kind = i, k
		}
	}
	flush(len(text))
	return out
}

// Analyze splits text written in lang (a BCP 47 tag; "" when unknown) into
// index terms: words lower-cased, function words dropped (those of every
// stemmed language, as in queries, whose language is unknown: "esta" is
// dropped from Portuguese text too, so the two agree), stemmed with lang's
// Snowball stemmer when there is one, and folded (no accents);
// bigram-script runs as character bigrams. Single letters are dropped.
//
// Snowball's Spanish, Portuguese and French stemmers need the accents
// ("contratación" → "contrat", "contratacion" → "contratacion"), so a word
// is stemmed as written and then folded; when stemming the folded word
// gives another term (as for "contratación"), that term is indexed too, as
// an Alt token, so that a reader who types without accents finds the word.
func Analyze(text, lang string) []Token {
	lang = baseLang(lang)
	var out []Token
	for _, s := range segments(text) {
		if s.bigrams {
			out = appendBigrams(out, s)
			continue
		}
		lw := strings.ToLower(s.text)
		w := foldWord(lw)
		if utf8.RuneCountInString(w) < 2 && !isDigits(w) || anyStop(w) {
			continue
		}
		a := foldWord(stem(lw, lang))
		out = append(out, Token{Term: a, Start: s.start, End: s.end})
		if b := stem(w, lang); b != a {
			out = append(out, Token{Term: b, Start: s.start, End: s.end, Alt: true})
		}
	}
	return out
}

func isDigits(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return w != ""
}

// appendBigrams adds a bigram-script run's character pairs (a lone
// character as itself).
func appendBigrams(out []Token, s segment) []Token {
	type pos struct{ at, size int }
	var rs []pos
	for i, r := range s.text {
		if unicode.IsMark(r) && len(rs) > 0 {
			rs[len(rs)-1].size += utf8.RuneLen(r)
			continue
		}
		rs = append(rs, pos{i, utf8.RuneLen(r)})
	}
	if len(rs) == 1 {
		return append(out, Token{Term: foldWord(s.text), Start: s.start, End: s.end})
	}
	for i := 0; i+1 < len(rs); i++ {
		a, b := rs[i], rs[i+1]
		out = append(out, Token{Term: foldWord(s.text[a.at : b.at+b.size]), Start: s.start + a.at, End: s.start + b.at + b.size})
	}
	return out
}

// accentSuffixes are the accented word endings of the stemmed languages
// that readers most often type without their accent.
var accentSuffixes = map[string][]struct{ plain, accented string }{
	"es": {{"cion", "ción"}, {"sion", "sión"}},
	"pt": {{"cao", "ção"}, {"coes", "ções"}, {"sao", "são"}},
	"fr": {{"ee", "ée"}, {"ees", "ées"}, {"ite", "ité"}, {"ites", "ités"}},
}

// clause is one required part of a query: the terms any of which satisfy
// it (the word's forms in every stemmed language, and the folded word).
type clause struct {
	word  string
	terms []string
}

// parseQuery turns what a reader typed into required clauses. The query's
// language is unknown, so a word is looked up as the folded word itself
// (which matches text in languages without a stemmer) and as its stem in
// each stemmed language; it matches a commitment when any of them does.
// Function words of any language are dropped; a bigram-script word
// requires every one of its bigrams.
func parseQuery(q string) []clause {
	var out []clause
	for _, s := range segments(q) {
		if s.bigrams {
			for _, t := range appendBigrams(nil, s) {
				out = append(out, clause{word: t.Term, terms: []string{t.Term}})
			}
			continue
		}
		lw := strings.ToLower(s.text)
		w := foldWord(lw)
		if utf8.RuneCountInString(w) < 2 && !isDigits(w) || anyStop(w) {
			continue
		}
		c := clause{word: w, terms: []string{w}}
		add := func(t string) {
			if !contains(c.terms, t) {
				c.terms = append(c.terms, t)
			}
		}
		for _, l := range stemLangs {
			add(foldWord(stem(lw, l)))
			add(stem(w, l))
			// A reader who leaves out the accent of a common suffix
			// ("participacion") gets the accented word's stem too.
			for _, r := range accentSuffixes[l] {
				if base, ok := strings.CutSuffix(w, r.plain); ok {
					add(foldWord(stem(base+r.accented, l)))
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
