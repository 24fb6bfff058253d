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

// Limits of the offline briefing's parts, in bytes.
const (
	maxHeadline = 149
	maxBullet   = 200
	maxPassages = 4
	// redundantSimilarity is the cosine above which a sentence repeats one
	// already chosen and is skipped.
	redundantSimilarity = 0.5
	// supportSimilarity is the cosine above which another article of the
	// story says nearly the same as a passage, and is cited with it.
	supportSimilarity = 0.4
	// maxSupport bounds the other articles a passage cites.
	maxSupport = 2
	// leadSentences bounds the sentences read per article: news puts what
	// matters first.
	leadSentences = 12
	// headlinePenalty scales the centrality of a headline standing in for
	// an article's missing text.
	headlinePenalty = 0.6
)

// Summarize writes a briefing of stories, which come ranked and cut to the
// topic's size. The headline is the lead story's most central headline;
// with three or more stories the bullets are the top three stories' most
// central sentences, else the lead story's key sentences. Each story gets
// one to four passages: its most central sentences (by TF-IDF similarity to
// the centroid of the story's sentences, slightly favouring leads), a
// sentence too similar to one already chosen skipped, a sentence followed
// by another chosen one of the same paragraph joined with it. A passage
// cites its article and every other article of the story with a sentence
// or headline nearly the same. An article without text offers its headline
// as its sentence. A story marked Update starts with "Update: ".
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
	x := newExtract(stories)
	b := &briefing.Briefing{
		Topic:       topic.ID,
		TopicName:   topic.Name,
		GeneratedAt: now(),
		Summarizer:  briefing.SummarizerOffline,
		Stories:     stories,
		Headline:    clip(storyHeadline(stories[lead]), maxHeadline),
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
		if ss := ArticleSentences(a); len(ss) > 0 {
			return ss[0]
		}
	}
	return ""
}

// extract holds the candidate sentences of a briefing's stories.
type extract struct {
	stories []briefing.Story
	// byStory lists each story's candidates, most central first.
	byStory [][]*candidate
	// titles are the vectors of each story's article headlines.
	titles [][]Vector
}

// candidate is a sentence that may be quoted.
type candidate struct {
	text                  string
	article, para, offset int // offset counts sentences within the article
	vector                Vector
	score                 float64
	headline              bool // the article's headline, standing in for its text
}

func newExtract(stories []briefing.Story) *extract {
	x := &extract{stories: stories, byStory: make([][]*candidate, len(stories)), titles: make([][]Vector, len(stories))}
	var docs [][]string
	for i, s := range stories {
		for ai, a := range s.Articles {
			x.byStory[i] = append(x.byStory[i], articleCandidates(a, ai, leadSentences)...)
			docs = append(docs, Terms(a.Title))
		}
	}
	for _, cs := range x.byStory {
		for _, c := range cs {
			docs = append(docs, Terms(c.text))
		}
	}
	m := NewTFIDF(docs)
	for i, s := range stories {
		for _, a := range s.Articles {
			x.titles[i] = append(x.titles[i], m.Vector(Terms(a.Title)))
		}
		vs := slices.Clone(x.titles[i])
		for _, c := range x.byStory[i] {
			c.vector = m.Vector(Terms(c.text))
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

// ArticleSentences returns the sentences of an article's text worth
// quoting: boilerplate ("Read more", "The post … appeared first on …",
// bare links, fragments) left out. An article whose text has none gives
// its cleaned headline instead, so that every article has something to say.
func ArticleSentences(a briefing.Article) []string {
	var out []string
	for _, c := range articleCandidates(a, 0, 0) {
		out = append(out, c.text)
	}
	return out
}

// articleCandidates are the first limit (0: all) quotable sentences of
// article a, the ai-th of its story, or its headline when it has none.
func articleCandidates(a briefing.Article, ai, limit int) []*candidate {
	var cs []*candidate
	for pi, para := range strings.Split(a.Text, "\n\n") {
		for _, s := range Sentences(para) {
			if len(cs) == limit && limit > 0 {
				return cs
			}
			if !isBoilerplate(s) {
				cs = append(cs, &candidate{text: s, article: ai, para: pi, offset: len(cs)})
			}
		}
	}
	if len(cs) == 0 {
		if t := CleanTitle(a); t != "" {
			cs = append(cs, &candidate{text: t, article: ai, headline: true})
		}
	}
	return cs
}

// central picks up to n of story i's candidates, most central first,
// skipping any too similar to one picked before.
func (x *extract) central(i, n int, skip func(*candidate) bool) []*candidate {
	var picked []*candidate
	for _, c := range x.byStory[i] {
		if len(picked) == n {
			break
		}
		if skip != nil && skip(c) || redundant(c, picked) {
			continue
		}
		picked = append(picked, c)
	}
	return picked
}

func redundant(c *candidate, picked []*candidate) bool {
	for _, p := range picked {
		if c.text == p.text || Cosine(c.vector, p.vector) >= redundantSimilarity {
			return true
		}
	}
	return false
}

// storyPassages is story i's part of the offline briefing. The LLM
// summarizer takes it too, for a story whose LLM text fails verification.
func (x *extract) storyPassages(i int) []briefing.Paragraph {
	s := x.stories[i]
	passages := x.passages(i, min(maxPassages, 1+len(s.Articles)))
	if s.Update && len(passages) > 0 {
		passages[0].Text = "Update: " + passages[0].Text
	}
	return passages
}

// passages quotes up to n of story i's most central sentences, in the
// order of their centrality, each with the articles that back it.
func (x *extract) passages(i, n int) []briefing.Paragraph {
	picked := x.central(i, n, nil)
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
			for _, u := range x.support(i, d) {
				if !slices.Contains(p.Sources, u) {
					p.Sources = append(p.Sources, u)
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// support lists the URLs of the articles of story i that back candidate c:
// its own first, then the others with a sentence or headline nearly the
// same, most similar first, at most maxSupport of them, so that a passage
// names the outlets that say it rather than every outlet of the story.
func (x *extract) support(i int, c *candidate) []string {
	s := x.stories[i]
	type backer struct {
		url        string
		similarity float64
	}
	var backers []backer
	for ai, a := range s.Articles {
		if ai == c.article || a.URL == s.Articles[c.article].URL {
			continue
		}
		best := Cosine(c.vector, x.titles[i][ai])
		for _, d := range x.byStory[i] {
			if d.article == ai {
				best = max(best, Cosine(c.vector, d.vector))
			}
		}
		if best >= supportSimilarity && !slices.ContainsFunc(backers, func(b backer) bool { return b.url == a.URL }) {
			backers = append(backers, backer{a.URL, best})
		}
	}
	slices.SortStableFunc(backers, func(a, b backer) int { return cmp.Compare(b.similarity, a.similarity) })
	sources := []string{s.Articles[c.article].URL}
	for _, b := range backers[:min(len(backers), maxSupport)] {
		sources = append(sources, b.url)
	}
	return sources
}

// bullets are one line for each of the top three stories or, with fewer
// stories, the lead story's key sentences (then the others'), never the
// headline again.
func (x *extract) bullets(headline string) []string {
	var bullets []string
	add := func(c *candidate) {
		if c != nil && len(bullets) < 3 {
			bullets = append(bullets, clip(strings.Join(strings.Fields(c.text), " "), maxBullet))
		}
	}
	notHeadline := func(c *candidate) bool { return c.text == headline }
	var told []int // the stories with something to say
	for i, cs := range x.byStory {
		if len(cs) > 0 {
			told = append(told, i)
		}
	}
	if len(told) >= 3 {
		for _, i := range told[:3] {
			add(x.bulletSentence(i, notHeadline))
		}
		return bullets
	}
	for _, i := range told {
		for _, c := range x.central(i, 3, notHeadline) {
			add(c)
		}
	}
	if len(bullets) == 0 {
		bullets = append(bullets, headline)
	}
	return bullets
}

// bulletSentence is story i's most central sentence that fits a bullet
// whole, else its most central one, else its headline.
func (x *extract) bulletSentence(i int, skip func(*candidate) bool) *candidate {
	var first *candidate
	for _, c := range x.byStory[i] {
		if skip(c) {
			continue
		}
		if len(c.text) <= maxBullet {
			return c
		}
		if first == nil {
			first = c
		}
	}
	if first == nil {
		return &candidate{text: storyHeadline(x.stories[i])}
	}
	return first
}
