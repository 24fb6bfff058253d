package summarize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/briefing-bot/briefing"
)

// Terms splits text into lower-case content words: letters and digits,
// stop words dropped, plural and possessive endings folded so that
// "Amazon's clouds" and "amazon cloud" share their terms.
func Terms(text string) []string {
	words := contentWords(text)
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = w.term
	}
	if len(terms) == 0 {
		return nil
	}
	return terms
}

// word is a content word and whether it was written capitalised, which in
// headlines marks the names that tell one event from another.
type word struct {
	term    string
	capital bool
}

// contentWords is Terms keeping each word's capitalisation.
func contentWords(text string) []word {
	var words []word
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '’'
	}) {
		w = strings.Trim(w, "'’")
		first, _ := utf8.DecodeRuneInString(w)
		lower := strings.ToLower(w)
		lower = strings.TrimSuffix(strings.TrimSuffix(lower, "'s"), "’s")
		if utf8.RuneCountInString(lower) < 2 || stopWords[lower] {
			continue
		}
		words = append(words, word{term: stem(lower), capital: unicode.IsUpper(first)})
	}
	return words
}

// stem folds the English endings that most often split one word into two
// terms in headlines. A full stemmer conflates too much for short texts.
func stem(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && strings.HasSuffix(w, "sses"):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") &&
		!strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:len(w)-1]
	}
	return w
}

// Sentences splits plain text into sentences. It breaks after '.', '!' or
// '?' followed by a space and an upper-case letter, digit or quote, and at
// paragraph breaks, but not after common abbreviations or initials
// ("U.S.", "Mr.", "J. Smith").
func Sentences(text string) []string {
	var out []string
	for _, para := range strings.Split(text, "\n\n") {
		para = strings.Join(strings.Fields(para), " ")
		start := 0
		for i := 0; i < len(para); i++ {
			c := para[i]
			if c != '.' && c != '!' && c != '?' {
				continue
			}
			end := i + 1
			for end < len(para) && strings.ContainsRune(`"'”’)`, rune(para[end])) {
				end++
			}
			if end+1 >= len(para) || para[end] != ' ' {
				continue
			}
			next, _ := utf8.DecodeRuneInString(para[end+1:])
			if !unicode.IsUpper(next) && !unicode.IsDigit(next) && !strings.ContainsRune(`"“‘'`, next) {
				continue
			}
			if c == '.' && isAbbreviation(para[start:i]) {
				continue
			}
			if s := strings.TrimSpace(para[start:end]); s != "" {
				out = append(out, s)
			}
			start = end + 1
			i = end
		}
		if s := strings.TrimSpace(para[start:]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// isAbbreviation reports whether the text before a period ends in a word
// that the period abbreviates rather than ends a sentence with.
func isAbbreviation(before string) bool {
	word := before
	if i := strings.LastIndexByte(before, ' '); i >= 0 {
		word = before[i+1:]
	}
	if utf8.RuneCountInString(word) == 1 || strings.Contains(word, ".") {
		return true // an initial ("J.") or a dotted abbreviation ("U.S.")
	}
	return abbreviations[strings.ToLower(word)]
}

var abbreviations = set("mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "inc", "corp", "co",
	"ltd", "vs", "etc", "no", "gen", "gov", "sen", "rep", "jan", "feb", "mar", "apr", "jun",
	"jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "est")

var stopWords = set("a", "about", "above", "after", "again", "against", "all", "am", "an", "and",
	"any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between",
	"both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each",
	"few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers",
	"herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its",
	"itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of",
	"off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own",
	"same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs",
	"them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to",
	"too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which",
	"while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
	"says", "said", "say", "new", "also", "may", "might", "must", "us", "via", "amid", "per",
	"get", "gets", "got", "make", "makes", "made", "one", "two", "like", "report", "reports",
	"according", "yet", "still", "s", "t", "vs")

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// titleSeparators set a publisher's name off a headline: "Fed holds rates
// - Reuters", "Azure outage | CNBC".
var titleSeparators = []string{" - ", " | ", " – ", " — ", " :: "}

// CleanTitle returns an article's headline on one line, without the
// publisher's name that many feeds append to it. Only a suffix naming the
// article's own source goes: in "Bank of England moving on rates - Carney"
// the suffix says who spoke.
func CleanTitle(a briefing.Article) string {
	title := strings.Join(strings.Fields(a.Title), " ")
	cut := -1
	for _, sep := range titleSeparators {
		if i := strings.LastIndex(title, sep); i > cut {
			cut = i
		}
	}
	if cut <= 0 {
		return title
	}
	suffix := alphanumeric(title[cut:])
	for _, name := range []string{a.SourceName, a.Source, sourceLabel(a.Source)} {
		name = alphanumeric(name)
		if len(name) >= 3 && len(suffix) >= 3 && (strings.Contains(name, suffix) || strings.Contains(suffix, name)) {
			return strings.TrimSpace(title[:cut])
		}
	}
	return title
}

// sourceLabel is a domain's name without its public suffix, near enough:
// "cnbc.com" → "cnbc", "bbc.co.uk" → "bbc".
func sourceLabel(domain string) string {
	labels := strings.Split(strings.TrimPrefix(domain, "www."), ".")
	for len(labels) > 1 && len(labels[len(labels)-1]) <= 3 {
		labels = labels[:len(labels)-1]
	}
	return labels[len(labels)-1]
}

// alphanumeric lower-cases s and keeps only its letters and digits, so that
// "The Wall Street Journal" and "wsj" compare as words do.
func alphanumeric(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// clip shortens s to at most max bytes, cutting at a word boundary and
// marking the cut with an ellipsis.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if i := strings.LastIndexByte(s[:cut], ' '); i > cut/2 {
		cut = i
	}
	return strings.TrimRight(s[:cut], " ,;:-–—") + ellipsis
}
