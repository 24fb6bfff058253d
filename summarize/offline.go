package summarize

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/briefing-bot/briefing"
)

// Offline is the extractive summarizer: no LLM, nothing invented. Every
// passage it writes is quoted from an article it cites.
type Offline struct {
	// Now gives GeneratedAt; nil means time.Now.
	Now func() time.Time
}

var _ briefing.Summarizer = Offline{}

// Limits of the offline briefing's parts, in bytes and sentences.
const (
	maxHeadline = 149
	maxBullet   = 200
	// leadStorySentences and storySentences bound what the lead story and
	// every other story tell: the lead in depth, the others in brief.
	leadStorySentences = 6
	storySentences     = 2
	// maxSupport bounds the other articles a passage cites.
	maxSupport = 2
	// leadSentences bounds the sentences read per article: news puts what
	// matters first.
	leadSentences = 12
	// headlinePenalty scales the centrality of a headline standing in for
	// an article's missing text.
	headlinePenalty = 0.6
	// factBonus is how much a sentence's centrality grows for the numbers
	// and names it adds to what the briefing already says, so that the
	// figures a reader needs are not crowded out by the most typical
	// sentence restated.
	factBonus = 0.2
	// maxFactBonus bounds the new facts that count.
	maxFactBonus = 3
)

// updatePrefix opens the first passage of a story told before.
const updatePrefix = "Update: "

// Summarize writes a briefing of stories, which come ranked and cut to the
// topic's size, in the topic's language. The headline is the lead story's
// headline. The lead story is told in depth, up to six sentences; every
// other story in one or two. A story's sentences are picked greedily by
// centrality (TF-IDF similarity to the centroid of the story's sentences,
// slightly favouring leads) raised for the numbers and names they add, and
// no sentence states what one picked before already says. Only readable
// sentences (see Readable) of articles in the topic's language are
// quoted; an article without any offers its headline. A passage cites the article it quotes
// and the other articles of the story that state its facts too.
//
// A story marked Update tells only what its new articles say, starting
// "Update: " with what they add to the articles told before. With three
// or more stories the bullets are one sentence of each of the top three,
// else the lead story's distinct facts.
func (o Offline) Summarize(ctx context.Context, topic briefing.Topic, stories []briefing.Story) (*briefing.Briefing, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lead := slices.IndexFunc(stories, func(s briefing.Story) bool { return len(s.Articles) > 0 })
	if lead < 0 {
		name := cmp.Or(topic.Name, topic.ID)
		return nil, briefing.Errorf(briefing.ENOTFOUND, "no new articles for %s in the last %s", name, shortDuration(cmp.Or(topic.Window, defaultWindow)))
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	x := newExtract(stories, topic.Language)
	b := &briefing.Briefing{
		Topic:       topic.ID,
		TopicName:   topic.Name,
		GeneratedAt: now(),
		Summarizer:  briefing.SummarizerOffline,
		Stories:     stories,
		Headline:    clip(storyHeadline(stories[x.lead]), maxHeadline),
	}
	for i := range stories {
		b.Paragraphs = append(b.Paragraphs, x.storyPassages(i)...)
	}
	b.Bullets = x.bullets(b.Headline)
	return b, nil
}

// shortDuration writes d as people do: "24h", not "24h0m0s".
func shortDuration(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

// storyHeadline is a story's title cleaned of its publisher's name, or the
// first article's headline when the story has no title.
func storyHeadline(s briefing.Story) string {
	for _, a := range s.Articles {
		if a.Title == s.Title && s.Title != "" {
			return CleanTitle(a)
		}
	}
	if s.Title != "" {
		return strings.Join(strings.Fields(s.Title), " ")
	}
	for _, a := range s.Articles {
		if t := CleanTitle(a); t != "" {
			return t
		}
	}
	for _, a := range s.Articles {
		if ss := Sentences(a.Text); len(ss) > 0 {
			return ss[0]
		}
	}
	return ""
}

// extract holds the candidate sentences of a briefing's stories and what
// the briefing has said so far.
type extract struct {
	stories []briefing.Story
	// lead is the index of the lead story, told in depth: the first with
	// a sentence to quote, else the first with an article.
	lead int
	// byStory lists each story's candidates, most central first.
	byStory [][]*candidate
	// evidence is what each article of each story says, read when first
	// needed (see said).
	evidence [][]*evidence
	// said are the sentences quoted so far, in the order quoted, and
	// firstSaid the first of each story.
	said      []*candidate
	firstSaid map[int]*candidate
}

// candidate is a sentence that may be quoted.
type candidate struct {
	text                  string
	article, para, offset int // offset counts sentences within the article
	vector                Vector
	score                 float64
	headline              bool // the article's headline, standing in for its text
	facts                 facts
}

func newExtract(stories []briefing.Story, language string) *extract {
	language = cmp.Or(language, DefaultLanguage)
	x := &extract{
		stories:   stories,
		byStory:   make([][]*candidate, len(stories)),
		evidence:  make([][]*evidence, len(stories)),
		firstSaid: map[int]*candidate{},
	}
	var all []briefing.Article
	for _, s := range stories {
		all = append(all, s.Articles...)
	}
	other := foreign(all, language)
	var docs [][]string
	titles := make([][]Vector, len(stories))
	for i, s := range stories {
		for ai, a := range s.Articles {
			x.byStory[i] = append(x.byStory[i], articleCandidates(a, ai, leadSentences, other[0])...)
			other = other[1:]
			docs = append(docs, Terms(a.Title))
		}
	}
	for _, cs := range x.byStory {
		for _, c := range cs {
			docs = append(docs, Terms(c.text))
		}
	}
	x.lead = slices.IndexFunc(x.byStory, func(cs []*candidate) bool { return len(cs) > 0 })
	if x.lead < 0 {
		x.lead = max(0, slices.IndexFunc(stories, func(s briefing.Story) bool { return len(s.Articles) > 0 }))
	}
	m := NewTFIDF(docs)
	for i, s := range stories {
		x.evidence[i] = make([]*evidence, len(s.Articles))
		for _, a := range s.Articles {
			titles[i] = append(titles[i], m.Vector(Terms(a.Title)))
		}
		vs := slices.Clone(titles[i])
		for _, c := range x.byStory[i] {
			c.vector = m.Vector(Terms(c.text))
			c.facts = factsOf(c.text)
			vs = append(vs, c.vector)
		}
		centroid := Centroid(vs)
		for _, c := range x.byStory[i] {
			c.score = Cosine(c.vector, centroid) * (1 - 0.03*float64(min(c.offset, 10)))
			if c.headline {
				// A headline is short and all keywords, so it is always
				// central; a sentence of text says more.
				c.score *= headlinePenalty
			}
		}
		slices.SortStableFunc(x.byStory[i], func(a, b *candidate) int {
			return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.article, b.article), cmp.Compare(a.offset, b.offset))
		})
	}
	return x
}

// QuotableSentences returns the sentences of an article that a briefing
// in the language of code (ISO 639-1, "" for English) may quote: readable
// ones (see Readable), none when the article is in another language. An
// article whose text has none offers its cleaned headline, made a
// sentence, when that reads as one.
func QuotableSentences(a briefing.Article, code string) []string {
	var out []string
	code = cmp.Or(code, DefaultLanguage)
	for _, c := range articleCandidates(a, 0, 0, foreign([]briefing.Article{a}, code)[0]) {
		out = append(out, c.text)
	}
	return out
}

// articleCandidates are the first limit (0: all) quotable sentences of
// article a, the ai-th of its story, or its headline when it has none;
// none when the article is in another language (foreign).
func articleCandidates(a briefing.Article, ai, limit int, foreign bool) []*candidate {
	if foreign {
		return nil
	}
	var cs []*candidate
	offset := 0
	for pi, para := range strings.Split(a.Text, "\n\n") {
		for _, s := range Sentences(para) {
			if offset == limit && limit > 0 {
				return cs
			}
			offset++
			if Readable(s) {
				cs = append(cs, &candidate{text: s, article: ai, para: pi, offset: offset - 1})
			}
		}
	}
	if len(cs) == 0 {
		if t := headlineSentence(a); Readable(t) {
			cs = append(cs, &candidate{text: t, article: ai, headline: true})
		}
	}
	return cs
}

// headlineSentence is an article's cleaned headline ending as a sentence.
func headlineSentence(a briefing.Article) string {
	t := CleanTitle(a)
	if t == "" || strings.ContainsAny(t[len(t)-1:], ".!?") {
		return t
	}
	return t + "."
}

// says is what article ai of story i says.
func (x *extract) says(i, ai int) *evidence {
	if x.evidence[i][ai] == nil {
		e := articleEvidence(x.stories[i].Articles[ai])
		x.evidence[i][ai] = &e
	}
	return x.evidence[i][ai]
}

// pick chooses up to n more of story i's candidates that from admits (nil:
// all), greedily: the most central, raised for the numbers and names it
// adds, among those that state nothing the briefing has said.
func (x *extract) pick(i, n int, from func(*candidate) bool) []*candidate {
	var picked []*candidate
	for len(picked) < n {
		var best *candidate
		bestScore := 0.0
		for _, c := range x.byStory[i] {
			if from != nil && !from(c) || x.repeats(c) {
				continue
			}
			if score := c.score * (1 + factBonus*float64(min(x.newFacts(c), maxFactBonus))); best == nil || score > bestScore {
				best, bestScore = c, score
			}
		}
		if best == nil {
			break
		}
		picked = append(picked, best)
		x.said = append(x.said, best)
		if x.firstSaid[i] == nil {
			x.firstSaid[i] = best
		}
	}
	return picked
}

// repeats reports whether c states what the briefing already said.
func (x *extract) repeats(c *candidate) bool {
	for _, s := range x.said {
		if c == s || c.text == s.text || sameFact(c.facts, s.facts) {
			return true
		}
	}
	return false
}

// newFacts counts the numbers and names of c that no sentence said so far
// holds, a number twice: figures are what a reader most needs kept.
func (x *extract) newFacts(c *candidate) int {
	n := 0
	for weight, kind := range [][]string{c.facts.names, c.facts.numbers} {
		for _, f := range kind {
			if !slices.ContainsFunc(x.said, func(s *candidate) bool {
				return slices.Contains(s.facts.numbers, f) || slices.Contains(s.facts.names, f)
			}) {
				n += 1 + weight
			}
		}
	}
	return n
}

// storyPassages is story i's part of the offline briefing. The LLM
// summarizer takes it too, for a story whose LLM text fails verification.
func (x *extract) storyPassages(i int) []briefing.Paragraph {
	s := x.stories[i]
	n := storySentences
	if i == x.lead {
		n = leadStorySentences
	}
	n = min(n, 1+len(s.Articles))
	if !s.Update {
		return x.passages(i, x.pick(i, n, nil))
	}
	// A story stored before new articles were listed counts all as new.
	isNew := func(c *candidate) bool {
		return len(s.NewArticles) == 0 || slices.Contains(s.NewArticles, s.Articles[c.article].ID)
	}
	// The passages say what the new articles add: sentences that no
	// article told before states.
	adds := func(c *candidate) bool {
		if !isNew(c) {
			return false
		}
		for ai, a := range s.Articles {
			if !slices.Contains(s.NewArticles, a.ID) && len(s.NewArticles) > 0 && x.says(i, ai).supports(c.facts, quoteSupportShare) {
				return false
			}
		}
		return true
	}
	picked := x.pick(i, 1, adds)
	if len(picked) == 0 {
		picked = x.pick(i, 1, isNew)
	}
	if len(picked) == 0 {
		return nil // nothing new that reads well; the old sentences were told
	}
	picked = append(picked, x.pick(i, n-1, adds)...)
	passages := x.passages(i, picked)
	passages[0].Text = updatePrefix + passages[0].Text
	return passages
}

// passages quotes story i's picked sentences in the order picked, each
// with the articles that back it.
func (x *extract) passages(i int, picked []*candidate) []briefing.Paragraph {
	// A picked sentence followed in its paragraph by another picked one
	// takes it along: two sentences read better than two lone halves.
	next := make(map[*candidate]*candidate)
	for _, c := range picked {
		for _, d := range picked {
			if d.article == c.article && d.para == c.para && d.offset == c.offset+1 && !c.headline {
				next[c] = d
			}
		}
	}
	joined := make(map[*candidate]bool)
	for _, d := range next {
		joined[d] = true
	}
	var out []briefing.Paragraph
	for _, c := range picked {
		if joined[c] {
			continue
		}
		p := briefing.Paragraph{Text: c.text, Sources: x.support(i, c), Story: i}
		if d := next[c]; d != nil {
			p.Text += " " + d.text
			// Both sentences must be backed by every source of the passage.
			p.Sources = slices.DeleteFunc(p.Sources, func(u string) bool { return !slices.Contains(x.support(i, d), u) })
		}
		out = append(out, p)
	}
	return out
}

// support lists the URLs of the articles of story i that back candidate c:
// its own first, then up to maxSupport others that state its facts too
// (every number and name and most of its words), so that a passage names
// only outlets that say it.
func (x *extract) support(i int, c *candidate) []string {
	s := x.stories[i]
	sources := []string{s.Articles[c.article].URL}
	for ai, a := range s.Articles {
		if len(sources) > maxSupport {
			break
		}
		if !slices.Contains(sources, a.URL) && x.says(i, ai).supports(c.facts, quoteSupportShare) {
			sources = append(sources, a.URL)
		}
	}
	return sources
}

// bullets are one sentence of each of the top three stories or, with
// fewer stories, the lead story's distinct facts (then the others'),
// never the headline again and never two stating the same fact; none
// when no story has a sentence to quote.
func (x *extract) bullets(headline string) []string {
	var chosen []*candidate
	fits := func(c *candidate) bool {
		return c.text != headline && !slices.ContainsFunc(chosen, func(b *candidate) bool { return c == b || sameFact(c.facts, b.facts) })
	}
	// A story's bullet is the first sentence the briefing quoted of it,
	// else its most central that fits a bullet whole, else its most
	// central, clipped.
	bulletOf := func(i int) *candidate {
		if c := x.firstSaid[i]; c != nil && fits(c) && len(c.text) <= maxBullet {
			return c
		}
		var first *candidate
		for _, c := range x.byStory[i] {
			if !fits(c) {
				continue
			}
			if len(c.text) <= maxBullet {
				return c
			}
			if first == nil {
				first = c
			}
		}
		return first
	}
	var told []int // the stories with something to say
	for i, cs := range x.byStory {
		if len(cs) > 0 {
			told = append(told, i)
		}
	}
	if len(told) >= 3 {
		for _, i := range told[:3] {
			if c := bulletOf(i); c != nil {
				chosen = append(chosen, c)
			}
		}
	} else {
		for _, i := range told {
			for len(chosen) < 3 {
				c := bulletOf(i)
				if c == nil {
					break
				}
				chosen = append(chosen, c)
			}
		}
	}
	var bullets []string
	for _, c := range chosen {
		bullets = append(bullets, clip(strings.Join(strings.Fields(c.text), " "), maxBullet))
	}
	return bullets
}
