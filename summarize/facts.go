package summarize

import (
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/briefing-bot/briefing"
)

// Shares of a sentence's content words that a source must hold to back it.
// An extractive summarizer quotes, so another article backs the quote only
// when it says nearly the same; an LLM paraphrases, so its source is held
// to the sentence's numbers and names and a third of its words.
const (
	quoteSupportShare      = 0.6
	paraphraseSupportShare = 1.0 / 3
	// sameFactJaccard is the content-word overlap at which two sentences
	// state the same thing.
	sameFactJaccard = 0.5
	// sameFactShorterShare of the shorter sentence's content words, when
	// they are at least sameFactMinCommon, make a restatement too.
	sameFactShorterShare = 0.5
	sameFactMinCommon    = 4
	// sameNumberJaccard is the overlap at which two sentences giving the
	// same number give it of the same thing.
	sameNumberJaccard = 0.25
)

// facts are what a sentence states, in the terms that can be checked
// against a source: its numbers, its proper names and its content words.
type facts struct {
	numbers []string
	names   []string
	terms   []string
}

// numberPattern matches the figures of a text: "640", "$1,200", "2.4",
// but not the digits of names such as "na-east-1" or "x86".
var numberPattern = regexp.MustCompile(`(?:^|[\s$€£(“"])(\d[\d,]*(?:\.\d+)?)`)

// numbersOf lists the figures of s, thousands separators dropped, so that
// "14,000" and "14000" are one number.
func numbersOf(s string) []string {
	var out []string
	for _, m := range numberPattern.FindAllStringSubmatch(s, -1) {
		n := strings.TrimRight(strings.ReplaceAll(m[1], ",", ""), ".,")
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// factsOf reads the facts of sentence s. Its names are the capitalised
// content words past its first word (which any sentence capitalises), and
// acronyms anywhere.
func factsOf(s string) facts {
	s = strings.TrimPrefix(s, updatePrefix)
	f := facts{numbers: numbersOf(s), terms: uniqueTerms(s)}
	for i, field := range strings.Fields(s) {
		opensQuote := strings.ContainsAny(field[:1], `"'“‘(`)
		for _, w := range contentWords(field) {
			if !w.capital || (i == 0 || opensQuote) && !isAcronym(field) {
				continue
			}
			if !slices.Contains(f.names, w.term) {
				f.names = append(f.names, w.term)
			}
		}
	}
	return f
}

func isAcronym(field string) bool {
	letters := 0
	for _, r := range field {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 2
}

func uniqueTerms(s string) []string {
	terms := Terms(s)
	slices.Sort(terms)
	return slices.Compact(terms)
}

// evidence is what a source says, as sets of terms and numbers.
type evidence struct {
	terms   map[string]bool
	numbers map[string]bool
}

// evidenceOf gathers the terms and numbers of texts (a headline, a text).
func evidenceOf(texts ...string) evidence {
	e := evidence{terms: map[string]bool{}, numbers: map[string]bool{}}
	for _, t := range texts {
		for _, term := range Terms(t) {
			e.terms[term] = true
		}
		for _, n := range numbersOf(t) {
			e.numbers[n] = true
		}
	}
	return e
}

// articleEvidence is what an article says in its headline and text.
func articleEvidence(a briefing.Article) evidence { return evidenceOf(a.Title, a.Text) }

// supports reports whether a source backs a sentence of facts f: it holds
// every number and every name of the sentence, and at least share of its
// content words. Both summarizers cite a source only when it does.
func (e evidence) supports(f facts, share float64) bool {
	for _, n := range f.numbers {
		if !e.numbers[n] {
			return false
		}
	}
	for _, n := range f.names {
		if !e.terms[n] {
			return false
		}
	}
	if len(f.terms) == 0 {
		return true
	}
	held := 0
	for _, t := range f.terms {
		if e.terms[t] {
			held++
		}
	}
	return float64(held) >= share*float64(len(f.terms))
}

// sameFact reports whether two sentences state the same thing: most of
// their content words are shared (or most of the shorter one's, when that
// is several words), or they give the same number of the same name or in
// much the same words.
func sameFact(a, b facts) bool {
	common := 0
	for _, t := range a.terms {
		if _, found := slices.BinarySearch(b.terms, t); found {
			common++
		}
	}
	union := len(a.terms) + len(b.terms) - common
	if union == 0 {
		return false
	}
	jaccard := float64(common) / float64(union)
	shorter := min(len(a.terms), len(b.terms))
	switch {
	case jaccard >= sameFactJaccard:
		return true
	case common >= sameFactMinCommon && float64(common) >= sameFactShorterShare*float64(shorter):
		return true
	}
	return shareAny(a.numbers, b.numbers) && (shareAny(a.names, b.names) || jaccard >= sameNumberJaccard)
}

func shareAny(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// Supports reports whether article a states sentence s as a citation of
// the offline summarizer must: every number and name of s, and most of its
// content words, are in the article's headline or text. It measures how
// far a briefing's citations can be trusted.
func Supports(a briefing.Article, s string) bool {
	return articleEvidence(a).supports(factsOf(s), quoteSupportShare)
}

// SameFact reports whether sentences a and b state the same thing, as
// a briefing must not: most of their content words are shared, or they
// give the same number of the same thing.
func SameFact(a, b string) bool { return sameFact(factsOf(a), factsOf(b)) }
