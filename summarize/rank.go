package summarize

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/briefing-bot/briefing"
)

// Rank weights. A story's score is its number of distinct sources, plus up
// to 1 for recency, plus keywordBonus per topic keyword it matches: an
// event that one more outlet reports outranks a fresher one, and among
// stories as widely told the newest leads.
const (
	keywordBonus = 0.5
	// defaultWindow stands in for a topic without a window when recency
	// decays: its half-life is half the window.
	defaultWindow = 24 * time.Hour
)

// Rank scores stories and orders them best first: distinct sources weigh
// most, then recency (halving every half window since the story's newest
// article), then how many of the topic's keywords the story matches. It
// sets Story.Score on copies and returns every story; ties go to the story
// with the newer newest article, then to the smaller ID. Stories with no
// article in the topic's language come last, whatever their score: a
// briefing can tell them only by their headlines.
func Rank(stories []briefing.Story, topic briefing.Topic, now time.Time) []briefing.Story {
	return RankFor(stories, topic, now, Feedback{})
}

// RankFor ranks as Rank does, with what a destination's readers voted
// added to each score (see Feedback.Adjust).
func RankFor(stories []briefing.Story, topic briefing.Topic, now time.Time, fb Feedback) []briefing.Story {
	type ranking struct {
		story   briefing.Story
		foreign bool
	}
	var all []briefing.Article
	for _, s := range stories {
		all = append(all, s.Articles...)
	}
	other := foreign(all, cmp.Or(topic.Language, DefaultLanguage))
	rs := make([]ranking, len(stories))
	for i, s := range stories {
		s.Score = Explain(s, topic, now, fb).Total()
		rs[i] = ranking{story: s, foreign: !slices.Contains(other[:len(s.Articles)], false)}
		other = other[len(s.Articles):]
	}
	slices.SortStableFunc(rs, func(x, y ranking) int {
		a, b := x.story, y.story
		return cmp.Or(compareBool(x.foreign, y.foreign), cmp.Compare(b.Score, a.Score), newest(b).Compare(newest(a)), cmp.Compare(a.ID, b.ID))
	})
	ranked := make([]briefing.Story, len(rs))
	for i, r := range rs {
		ranked[i] = r.story
	}
	return ranked
}

// ScoreParts are what a story's score is made of.
type ScoreParts struct {
	Sources  int     // distinct publishers
	Recency  float64 // 1 when new, halving every half window
	Keywords float64 // keywordBonus per topic keyword matched
	Feedback float64 // what the destination's votes add, within ±MaxFeedback
	// FeedbackWhy names the source and term whose votes weigh most.
	FeedbackWhy string
}

// Total is the story's score.
func (p ScoreParts) Total() float64 {
	return float64(p.Sources) + p.Recency + p.Keywords + p.Feedback
}

// Explain scores s for topic at now with a destination's feedback.
func Explain(s briefing.Story, topic briefing.Topic, now time.Time, fb Feedback) ScoreParts {
	window := topic.Window
	if window <= 0 {
		window = defaultWindow
	}
	age := max(0, now.Sub(newest(s)))
	p := ScoreParts{
		Sources:  distinctSources(s),
		Recency:  math.Exp2(-float64(age) / float64(window/2)),
		Keywords: keywordBonus * float64(newKeywordMatcher(topic.Keywords).storyMatches(s)),
	}
	p.Feedback, p.FeedbackWhy = fb.Adjust(s)
	return p
}

// newest is the publication time of a story's newest article.
func newest(s briefing.Story) time.Time {
	var t time.Time
	for _, a := range s.Articles {
		if a.Published.After(t) {
			t = a.Published
		}
	}
	return t
}

// distinctSources counts a story's publishers: by domain, else by feed
// title, else by URL host.
func distinctSources(s briefing.Story) int {
	seen := make(map[string]bool, len(s.Articles))
	for _, a := range s.Articles {
		seen[sourceKey(a)] = true
	}
	return len(seen)
}

func sourceKey(a briefing.Article) string {
	switch {
	case a.Source != "":
		return strings.ToLower(strings.TrimPrefix(a.Source, "www."))
	case a.SourceName != "":
		return strings.ToLower(a.SourceName)
	}
	host := a.URL
	if _, rest, ok := strings.Cut(host, "://"); ok {
		host = rest
	}
	host, _, _ = strings.Cut(host, "/")
	return strings.ToLower(strings.TrimPrefix(host, "www."))
}

// FilterKeywords keeps the articles whose title or text matches at least
// one keyword, in their order; no keywords keep them all. A keyword
// matches where it appears as a whole word or phrase, any case ("AWS",
// "C++", "machine learning"), or where the text has all its terms, plural
// or singular ("outage" matches "outages").
func FilterKeywords(articles []briefing.Article, keywords []string) []briefing.Article {
	m := newKeywordMatcher(keywords)
	if len(m.keywords) == 0 {
		return slices.Clone(articles)
	}
	var kept []briefing.Article
	for _, a := range articles {
		if m.articleMatches(a, nil) > 0 {
			kept = append(kept, a)
		}
	}
	return kept
}

// keywordMatcher matches a topic's keywords against articles.
type keywordMatcher struct {
	keywords []keyword
}

type keyword struct {
	lower string   // the keyword, lower-cased, for whole-word matching
	terms []string // its Terms, all of which must appear for a term match
}

func newKeywordMatcher(keywords []string) keywordMatcher {
	var m keywordMatcher
	for _, k := range keywords {
		k = strings.Join(strings.Fields(k), " ")
		if k == "" {
			continue
		}
		m.keywords = append(m.keywords, keyword{lower: strings.ToLower(k), terms: Terms(k)})
	}
	return m
}

// storyMatches counts the keywords that some article of s matches.
func (m keywordMatcher) storyMatches(s briefing.Story) int {
	if len(m.keywords) == 0 {
		return 0
	}
	matched := make([]bool, len(m.keywords))
	for _, a := range s.Articles {
		m.articleMatches(a, matched)
	}
	n := 0
	for _, ok := range matched {
		if ok {
			n++
		}
	}
	return n
}

// articleMatches counts the keywords that article a matches and marks them
// in matched when it is not nil.
func (m keywordMatcher) articleMatches(a briefing.Article, matched []bool) int {
	text := strings.ToLower(a.Title + "\n" + a.Text)
	var terms map[string]bool
	n := 0
	for i, k := range m.keywords {
		ok := containsWord(text, k.lower)
		if !ok && len(k.terms) > 0 {
			if terms == nil {
				terms = make(map[string]bool)
				for _, t := range Terms(text) {
					terms[t] = true
				}
			}
			ok = true
			for _, t := range k.terms {
				ok = ok && terms[t]
			}
		}
		if ok {
			n++
			if matched != nil {
				matched[i] = true
			}
		}
	}
	return n
}

// containsWord reports whether phrase occurs in text with no letter or
// digit touching either end.
func containsWord(text, phrase string) bool {
	for from := 0; ; {
		i := strings.Index(text[from:], phrase)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(phrase)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if !isWordRune(before) && !isWordRune(after) {
			return true
		}
		from = start + 1
	}
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
