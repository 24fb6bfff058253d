package summarize

import (
	"cmp"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"

	"github.com/briefing-bot/briefing"
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

// feedSample and articleSample bound the text read to tell the language
// of a feed and of an article: a few sentences tell it as well as all.
const (
	feedSample    = 2000
	articleSample = 400
)

// foreign reports, for each article, whether it is written in another
// language than that of code: judged on its own headline and text where
// these tell reliably, else on what its feed carried among articles (a
// feed keeps to one language, and a headline alone is too short to tell).
func foreign(articles []briefing.Article, code string) []bool {
	want, ok := languages[code]
	out := make([]bool, len(articles))
	if !ok {
		return out
	}
	feedText := map[string]*strings.Builder{}
	feedOf := func(a briefing.Article) string { return cmp.Or(a.FeedURL, a.Source) }
	for _, a := range articles {
		b := feedText[feedOf(a)]
		if b == nil {
			b = &strings.Builder{}
			feedText[feedOf(a)] = b
		}
		if b.Len() < feedSample {
			b.WriteString(languageSample(a) + "\n")
		}
	}
	feedLang := map[string]bool{} // feed → foreign, for feeds whose language shows
	for i, a := range articles {
		if info := whatlanggo.Detect(languageSample(a)); info.IsReliable() {
			out[i] = info.Lang != want
			continue
		}
		f := feedOf(a)
		isForeign, known := feedLang[f]
		if !known {
			info := whatlanggo.Detect(feedText[f].String())
			isForeign = info.IsReliable() && info.Lang != want
			feedLang[f] = isForeign
		}
		out[i] = isForeign
	}
	return out
}

// languageSample is the start of an article's headline and text.
func languageSample(a briefing.Article) string {
	sample := a.Title + "\n" + a.Text
	if len(sample) <= articleSample {
		return sample
	}
	cut := articleSample
	for cut > 0 && !utf8.RuneStart(sample[cut]) {
		cut--
	}
	return sample[:cut]
}

// Readable reports whether s reads as a sentence of a briefing: it starts
// with a capital, a digit or a quote, ends with a terminal mark, has
// balanced brackets and quotes, holds 5 to 60 words, and is neither a link,
// code or markup, feed furniture, a byline, nor an aside in the writer's
// own voice. Quotes of other people may speak in the first person. Its
// language is judged with its article's (see QuotableSentences): a single
// sentence is too short to tell.
func Readable(s string) bool {
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
	return balanced(s) && !writersAside(s) && !isBoilerplate(s) && !hasMarkup(s) &&
		!glued.MatchString(s) && !byline.MatchString(s)
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

// markupChars and markupPatterns find what prose does not hold: tags,
// code, links, markdown headings and hashtags. A pattern runs only on a
// text holding its mark, as most sentences hold none.
const markupChars = "<>{}|`\\="

var markupPatterns = []struct {
	mark    string
	pattern *regexp.Regexp
}{
	{"&", regexp.MustCompile(`&[a-z]+;`)},
	{"_", regexp.MustCompile(`\b[a-z]+_[a-z_]+\b`)},
	{"#", regexp.MustCompile(`(^|\s)#+(\s|[a-z])`)},
	{"@", regexp.MustCompile(`@[a-z0-9_]{2,}`)},
	{"/", regexp.MustCompile(`\b[a-z0-9-]+\.(com|org|net|io|co|gov|edu)/`)},
}

// hasMarkup reports whether s holds a link, code or markup.
func hasMarkup(s string) bool {
	lower := strings.ToLower(s)
	if strings.ContainsAny(s, markupChars) || strings.Contains(s, "()") ||
		strings.Contains(lower, "http:") || strings.Contains(lower, "https:") || strings.Contains(lower, "www.") {
		return true
	}
	for _, m := range markupPatterns {
		if strings.Contains(lower, m.mark) && m.pattern.MatchString(lower) {
			return true
		}
	}
	return false
}

// glued matches two sentences run together by a missing space, as feeds
// that drop their markup leave them: "in April.Previously".
var glued = regexp.MustCompile(`\p{Ll}{2}[.!?]\p{Lu}\p{Ll}`)

// byline matches a writer's credit taken for a sentence: "By Ruben Schade
// in Sydney, 2023-01-11."
var byline = regexp.MustCompile(`^By \p{Lu}\p{L}+ \p{Lu}`)

// writersVoice are the words of a writer speaking for themself or to the
// reader.
var writersVoice = set("i", "i'm", "i've", "i'd", "i'll", "me", "my", "mine", "myself", "we", "we're",
	"we've", "we'd", "we'll", "our", "ours", "ourselves", "let's", "you", "your", "yours", "yourself",
	"you're", "you've", "you'll", "you'd")

// dangling are the openings of a sentence that leans on the one before it
// ("But just as important…", "Otherwise, it's…"), which a briefing quotes
// without.
var dangling = regexp.MustCompile(`^(And|But|Or|So|Also|Otherwise|Mostly|Instead|Despite that|Still|Yet|Then|Thus|Hence|Maybe|Perhaps|Finally|Anyway)\b`)

// writersAside reports whether s is the writer's aside rather than a
// statement of news: it speaks in the first or second person outside
// quotation marks ("Let's say my father…", "in our tests", "See you…"),
// asks or exclaims in the writer's voice, or leans on a sentence before it.
// A quoted speaker may do all of these.
func writersAside(s string) bool {
	if dangling.MatchString(s) {
		return true
	}
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
	own := b.String()
	if end := strings.TrimRight(own, " )]"); strings.HasSuffix(end, "?") || strings.HasSuffix(end, "!") {
		return true
	}
	for _, w := range strings.FieldsFunc(own, func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\'' && r != '’'
	}) {
		w = strings.ReplaceAll(w, "’", "'")
		if writersVoice[strings.ToLower(w)] {
			return true
		}
	}
	return false
}

// boilerplate are phrases of feed furniture, not of news; boilerplateWords
// are such words, which must stand alone ("subscribe", not "subscribers").
var (
	boilerplate = []string{"read more", "click here", "sign up", "newsletter", "appeared first on",
		"continue reading", "all rights reserved", "follow us", "share this", "advertisement", "getty images",
		"javascript", "leia mais", "previously:", "here for details", "for more details", "permalink"}
	boilerplateWords = regexp.MustCompile(`\b(subscribe|cookies?)\b`)
)

// isBoilerplate reports whether a sentence is too short to say anything,
// too long to be one sentence (text without punctuation), or feed
// furniture.
func isBoilerplate(s string) bool {
	if len(s) < 25 || len(s) > 600 || len(strings.Fields(s)) < minSentenceWords {
		return true
	}
	lower := strings.ToLower(s)
	for _, phrase := range boilerplate {
		if strings.Contains(lower, phrase) {
			return true
		}
	}
	return (strings.Contains(lower, "subscribe") || strings.Contains(lower, "cookie")) && boilerplateWords.MatchString(lower)
}
