package peers

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// stopWords are dropped before weighting. IDF already discounts common
// words, but the pilot corpus is small (about 70 commitments), where "de" or
// "the" can be rare enough in one language to look significant; so the
// function words of the pilots' languages go explicitly.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, list := range []string{
		// English
		"the and for with from that this into are was were will been its their our of to in on by an or as at be is it not all more new",
		// Spanish
		"el la los las del de en con por para que una uno unos unas sus su al se lo como mas sobre entre y o a e u es son sera este esta estos estas",
		// French
		"le les des du et en pour par avec dans une un sur au aux ce cette ces qui que est sont leur leurs plus",
		// Portuguese
		"os as do da dos das em com por para que uma um sobre ao aos na nas no nos pela pelo seu sua",
	} {
		for _, w := range strings.Fields(list) {
			m[w] = true
		}
	}
	return m
}()

// foldAccents returns a transformer that removes combining marks after NFD
// decomposition, so "participación" and "participacion" are one term
// (authors type both). A transformer keeps state, so each call gets its own.
func foldAccents() transform.Transformer {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

// Tokens splits text into normalised terms: lower case, accents folded,
// letters and digits only, stop words and very short words dropped,
// and a light plural strip. The stemming is deliberately naive: it only has
// to make "registry/registries" and "portal/portales" meet across the
// pilots' languages, and a wrong merge costs little in a ranking.
func Tokens(text string) []string {
	folded, _, err := transform.String(foldAccents(), strings.ToLower(text))
	if err != nil {
		folded = strings.ToLower(text)
	}
	words := strings.FieldsFunc(folded, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := words[:0]
	for _, w := range words {
		if short(w) || stopWords[w] {
			continue
		}
		w = stem(w)
		if stopWords[w] {
			continue
		}
		out = append(out, w)
	}
	return out
}

// short reports words too short to carry meaning in alphabetic scripts
// (one or two letters: "a", "de", "to"). In syllabic and ideographic
// scripts (Hangul for Seoul, Han) two characters are a full word, so only
// single characters are dropped there.
func short(w string) bool {
	r := []rune(w)
	switch {
	case len(r) < 2:
		return true
	case len(r) == 2:
		return r[0] < 0x1100 // below Hangul Jamo: alphabetic scripts
	}
	return false
}

// stem strips common English and Romance plural endings.
func stem(w string) string {
	n := len(w)
	switch {
	case n > 5 && strings.HasSuffix(w, "ies"):
		return w[:n-3] + "y"
	case n > 5 && strings.HasSuffix(w, "es") && strings.ContainsRune("lnrsz", rune(w[n-3])):
		// portales → portal, registros stays, procesos → proceso (below)
		return w[:n-2]
	case n > 4 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:n-1]
	}
	return w
}
