package summarize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terms splits text into lower-case content words: letters and digits,
// stop words dropped, plural and possessive endings folded so that
// "Amazon's clouds" and "amazon cloud" share their terms.
func Terms(text string) []string {
	var terms []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '’'
	}) {
		w = strings.ToLower(strings.Trim(w, "'’"))
		w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s")
		if utf8.RuneCountInString(w) < 2 || stopWords[w] {
			continue
		}
		terms = append(terms, stem(w))
	}
	return terms
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
