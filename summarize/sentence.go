package summarize

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
)

// DefaultLanguage is the language of a topic that names none.
const DefaultLanguage = "en"

// Bounds of a quotable sentence, in words.
const (
	minSentenceWords = 5
	maxSentenceWords = 60
)

// languages maps ISO 639-1 codes to the detector's languages.
var languages = func() map[string]whatlanggo.Lang {
	m := map[string]whatlanggo.Lang{}
	for l := whatlanggo.Lang(0); l <= whatlanggo.Zul; l++ {
		if code := l.Iso6391(); code != "" {
			m[code] = l
		}
	}
	return m
}()

// KnownLanguage reports whether code is an ISO 639-1 code ("en", "de")
// of a language whose text can be told from others.
func KnownLanguage(code string) bool {
	_, ok := languages[code]
	return ok
}

// inLanguage reports whether text is written in the language of the ISO
// 639-1 code, or too short or mixed to tell: only a reliable detection of
// another language counts against it.
func inLanguage(text, code string) bool {
	want, ok := languages[code]
	if !ok {
		return true
	}
	info := whatlanggo.Detect(text)
	return info.Lang == want || !info.IsReliable()
}

// Readable reports whether s reads as a sentence of a briefing in the
// language of code: it starts with a capital, a digit or a quote, ends with
// a terminal mark, has balanced brackets and quotes, holds 5 to 60 words,
// and is neither a link, code or markup, feed furniture, nor an aside in
// the writer's own voice. Quotes of other people may speak in the first
// person.
func Readable(s, code string) bool {
	words := strings.Fields(s)
	if len(words) < minSentenceWords || len(words) > maxSentenceWords {
		return false
	}
	first, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsUpper(first) && !unicode.IsDigit(first) && !strings.ContainsRune(`"“‘'`, first) {
		return false
	}
	end := strings.TrimRight(s, `"'”’)]`)
	if !strings.HasSuffix(end, ".") && !strings.HasSuffix(end, "!") && !strings.HasSuffix(end, "?") ||
		strings.HasSuffix(end, "..") {
		return false
	}
	if !balanced(s) || markup.MatchString(s) || glued.MatchString(s) || isBoilerplate(s) || writersAside(s) {
		return false
	}
	return inLanguage(s, code)
}

// balanced reports whether s closes every bracket and quote it opens.
func balanced(s string) bool {
	var open []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{', '”': '“'}
	for _, r := range s {
		switch r {
		case '(', '[', '{', '“':
			open = append(open, r)
		case ')', ']', '}', '”':
			if len(open) == 0 || open[len(open)-1] != pairs[r] {
				return false
			}
			open = open[:len(open)-1]
		}
	}
	return len(open) == 0 && strings.Count(s, `"`)%2 == 0
}

// markup matches what prose does not hold: tags, code, links, markdown
// headings and hashtags.
var markup = regexp.MustCompile("[<>{}|`\\\\=]|&[a-z]+;|\\(\\)|\\b[a-z]+_[a-z_]+\\b|(^|\\s)#+(\\s|[A-Za-z])|" +
	`(?i)\bhttps?:|\bwww\.|\b[a-z0-9-]+\.(com|org|net|io|co|gov|edu)/|@[a-z0-9_]{2,}`)

// glued matches two sentences run together by a missing space, as feeds
// that drop their markup leave them: "in April.Previously".
var glued = regexp.MustCompile(`\p{Ll}{2}[.!?]\p{Lu}\p{Ll}`)

// firstPerson are the words of a writer speaking for themself.
var firstPerson = set("i", "i'm", "i've", "i'd", "i'll", "me", "my", "mine", "myself", "we", "we're",
	"we've", "we'd", "we'll", "our", "ours", "ourselves", "let's")

// writersAside reports whether s speaks in the first person outside
// quotation marks: the writer's own voice ("Let's say my father…", "in our
// tests"), not a quoted speaker's.
func writersAside(s string) bool {
	inQuote := false
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
		case r == '“':
			inQuote = true
		case r == '”':
			inQuote = false
		case !inQuote:
			b.WriteRune(r)
		}
	}
	for _, w := range strings.FieldsFunc(b.String(), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\'' && r != '’'
	}) {
		w = strings.ReplaceAll(w, "’", "'")
		if firstPerson[strings.ToLower(w)] {
			return true
		}
	}
	return false
}

// boilerplate matches phrases of feed furniture, not of news.
var boilerplate = regexp.MustCompile(`(?i)\b(read more|click here|subscribe\b|sign up|newsletter|` +
	`appeared first on|continue reading|all rights reserved|cookies?\b|follow us|share this|advertisement|` +
	`getty images|javascript|leia mais|previously:|here for details|for more details|permalink)`)

// isBoilerplate reports whether a sentence is too short to say anything,
// too long to be one sentence (text without punctuation), or feed
// furniture.
func isBoilerplate(s string) bool {
	if len(s) < 25 || len(s) > 600 || len(strings.Fields(s)) < minSentenceWords {
		return true
	}
	return boilerplate.MatchString(s)
}
