package summarize

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/briefing-bot/briefing"
)

// Defaults for LLM budgets, in tokens.
const (
	DefaultMaxInputTokens = 12000
	DefaultArticleTokens  = 200
)

const (
	// storyPromptVersion is part of every story summary's cache key:
	// change it with the story prompt or schema.
	storyPromptVersion = "story-v1"
	// composePromptVersion is part of every composed briefing's cache key:
	// change it with the compose prompt or schema.
	composePromptVersion = "compose-v2"
	// maxStoryArticles bounds the articles one story sends: past a handful
	// of outlets, more reports of one event repeat each other.
	maxStoryArticles = 5
	// storyReplyTokens bounds a story summary.
	storyReplyTokens = 500
	// composeShareTokens is what a story's title, sources, summary and
	// facts cost in the compose prompt, as real replies run.
	composeShareTokens = 400
	// summaryTokens is about what a story summary and its facts cost; a
	// story whose material is no longer goes to the compose call as it is,
	// as condensing it would save nothing.
	summaryTokens = 250
	// storyConcurrency bounds the story calls in flight.
	storyConcurrency = 4
	// maxHeadlineChars keeps a headline to a line.
	maxHeadlineChars = 150
)

const storySystemPrompt = `You condense one news story for a briefing. The articles below report the same event.
Reply with "summary": two or three sentences on what happened and why it matters; and "facts": the story's key facts, at most six, each one sentence with the ids of the articles that state it in "sources".
Use only what the articles say; keep names, numbers and dates exact.
` + untrustedNotice

const composeSystemPrompt = `You write a team's daily news briefing from the day's stories, most important first; each story comes as a summary with facts, or as its articles.
Reply with "headline": one line of at most twelve words on the first story; "bullets": exactly three one-line takeaways, one for each of the first three stories (with fewer stories, distinct facts of the first), no two saying the same; "paragraphs": the briefing's body, one entry per story in the order given.
Tell the first story in depth, in four to six sentences: what happened, the numbers, what it means. Tell every other story in one to three sentences.
Every sentence cites in "sources" the ids of the articles (such as "a3") that state its facts, articles of its own story only; a sentence no article states does not belong in the briefing. State each fact once.
Use only what is given, add no outside knowledge, and write no URLs. For a story marked as an update, begin with what its new articles add and do not repeat what was told before.
` + untrustedNotice

// The structured-output schemas. Strict mode needs every property required
// and no others allowed.
var (
	sentencesSchema = `{"type":"object","properties":{"sentences":{"type":"array","items":{"type":"object",` +
		`"properties":{"text":{"type":"string"},"sources":{"type":"array","items":{"type":"string"}}},` +
		`"required":["text","sources"],"additionalProperties":false}}},"required":["sentences"],"additionalProperties":false}`
	storySchema = []byte(`{"type":"object","properties":{"summary":{"type":"string"},"facts":{"type":"array","items":{"type":"object",` +
		`"properties":{"text":{"type":"string"},"sources":{"type":"array","items":{"type":"string"}}},` +
		`"required":["text","sources"],"additionalProperties":false}}},"required":["summary","facts"],"additionalProperties":false}`)
)

// composeSchema is the briefing's schema; with an audience it has an
// audience_paragraph, so that the paragraph cannot be forgotten.
func composeSchema(audience bool) []byte {
	props := `"headline":{"type":"string"},` +
		`"bullets":{"type":"array","description":"exactly three","items":{"type":"string"}},` +
		`"paragraphs":{"type":"array","items":` + sentencesSchema + `}`
	required := `"headline","bullets","paragraphs"`
	if audience {
		props += `,"audience_paragraph":` + sentencesSchema
		required += `,"audience_paragraph"`
	}
	return []byte(`{"type":"object","properties":{` + props + `},"required":[` + required + `],"additionalProperties":false}`)
}

// LLM writes briefings with an LLM, in two steps. First each story is
// condensed, from its articles' lead paragraphs, into a summary and cited
// facts; these are cached, so a story that has not changed costs nothing
// the next time. Then one call composes the briefing from the summaries,
// every sentence citing articles.
//
// The result is verified, not trusted, story by story: a sentence keeps
// only the sources that are articles of its story and is dropped when none
// is left. A story the model left out, or whose sentences mostly failed,
// gets the Offline summarizer's passages instead, so that one story the
// model garbled does not cost the others their LLM text. The whole
// briefing is left to Fallback only when the model's briefing is unusable
// as a whole: no headline or bullets, a reply off the schema, or no story
// left with LLM text (a briefing of offline passages is marked offline).
// Any error from the Completer falls back the same way.
type LLM struct {
	Completer briefing.Completer
	// Cache keeps story summaries across runs; nil disables it.
	Cache briefing.Cache
	// Fallback writes the whole briefing when the LLM cannot: the Offline
	// summarizer. A single story that fails verification gets the Offline
	// summarizer's passages whatever Fallback is.
	Fallback briefing.Summarizer
	// MaxInputTokens bounds the prompts of one briefing (≈ 4 characters a
	// token); the lowest-ranked stories lose material first.
	MaxInputTokens int
	// ArticleTokens bounds each article's lead; a story's later articles
	// get a quarter, about their lead sentence: they mostly repeat the first,
	// and their leads say what each adds.
	ArticleTokens int
	// Audience is who reads the briefing, unless the topic names one.
	Audience string
	Logger   *slog.Logger
	Now      func() time.Time
}

var _ briefing.Summarizer = (*LLM)(nil)

// storyInput is one story as the story prompt carries it.
type storyInput struct {
	story briefing.Story
	// rank is the story's index among the stories to summarize.
	rank     int
	articles []briefing.Article
	leads    []string
}

// direct reports whether the story's material is no longer than a summary,
// so that it goes to the compose call as it is, with no story call.
func (in storyInput) direct() bool {
	total := 0
	for _, lead := range in.leads {
		total += estimateTokens(lead)
	}
	return total <= summaryTokens
}

// storySummary is a story's condensed form; in the cache its facts cite
// articles by Article.ID, in replies by the prompt's local ids.
type storySummary struct {
	Summary string      `json:"summary"`
	Facts   []citedText `json:"facts"`
}

type citedText struct {
	Text    string   `json:"text"`
	Sources []string `json:"sources"`
}

type citedSentences struct {
	Sentences []citedText `json:"sentences"`
}

type composed struct {
	Headline          string           `json:"headline"`
	Bullets           []string         `json:"bullets"`
	Paragraphs        []citedSentences `json:"paragraphs"`
	AudienceParagraph *citedSentences  `json:"audience_paragraph,omitempty"`
}

// Summarize writes the briefing of stories, ranked best first.
func (l *LLM) Summarize(ctx context.Context, topic briefing.Topic, stories []briefing.Story) (*briefing.Briefing, error) {
	b, err := l.summarize(ctx, topic, stories)
	if err == nil {
		return b, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("summarize %s: %w", topic.ID, ctx.Err())
	}
	l.logger().Warn("llm briefing failed; using the fallback summarizer",
		slog.String("topic", topic.ID), slog.Any("error", err))
	if l.Fallback == nil {
		return nil, fmt.Errorf("summarize %s: %w", topic.ID, err)
	}
	return l.Fallback.Summarize(ctx, topic, stories)
}

func (l *LLM) summarize(ctx context.Context, topic briefing.Topic, stories []briefing.Story) (*briefing.Briefing, error) {
	if l.Completer == nil {
		return nil, errors.New("no LLM is configured")
	}
	inputs := l.plan(stories)
	if len(inputs) == 0 {
		return nil, errors.New("no story has an article")
	}
	summaries, usage, err := l.summarizeStories(ctx, inputs)
	if err != nil {
		return nil, err
	}

	// Ids run across the briefing in story order; the verifier maps them
	// back to URLs, story by story.
	// The verifier also checks each citation against what the model was
	// given of the article: its headline and lead.
	idOf := map[string]string{}
	urlOf := map[string]string{}
	given := map[string]evidence{}
	storyURLs := make([]map[string]string, len(inputs))
	for i, in := range inputs {
		storyURLs[i] = map[string]string{}
		for ai, a := range in.articles {
			id, ok := idOf[a.ID]
			if !ok {
				id = fmt.Sprintf("a%d", len(idOf)+1)
				idOf[a.ID], urlOf[id] = id, a.URL
				given[id] = evidenceOf(a.Title, in.leads[ai])
			}
			storyURLs[i][id] = urlOf[id]
		}
	}
	audience := cmp.Or(topic.Audience, l.Audience)
	req := briefing.CompletionRequest{
		Messages:   composeMessages(inputs, summaries, idOf, audience),
		SchemaName: "briefing",
		Schema:     composeSchema(audience != ""),
		MaxTokens:  600 + 250*len(inputs),
	}
	// The same summaries and audience compose the same briefing, so an
	// unchanged re-run costs no tokens; a reply is cached only once it
	// has passed verification.
	key := composeCacheKey(l.fingerprint(), req)
	var c briefing.Completion
	cached := l.cacheGet(key, &c)
	if !cached {
		if c, err = l.Completer.Complete(ctx, req); err != nil {
			return nil, fmt.Errorf("compose: %w", err)
		}
		usage = usage.Add(c.Usage)
	}
	var out composed
	if err := json.Unmarshal([]byte(c.Text), &out); err != nil {
		return nil, fmt.Errorf("compose: the reply does not match the schema: %w", err)
	}
	if audience == "" {
		out.AudienceParagraph = nil // not asked for
	}
	v, err := verify(out, citations{storyURLs: storyURLs, urlOf: urlOf, given: given, audience: audience})
	if err != nil {
		return nil, err
	}
	if !cached {
		l.cachePut(key, briefing.Completion{Text: c.Text, Provider: c.Provider})
	}
	b := &briefing.Briefing{
		Topic:       topic.ID,
		TopicName:   topic.Name,
		GeneratedAt: l.now(),
		Summarizer:  "llm:" + c.Provider,
		Headline:    v.headline,
		Bullets:     v.bullets,
		Stories:     stories,
		Usage:       usage,
	}
	var offline *extract // built once, for the first story that needs it
	for i, in := range inputs {
		passages := v.stories[i]
		if passages == nil {
			l.logger().Warn("llm text of a story failed verification; using the offline summarizer's passages",
				slog.String("topic", topic.ID), slog.String("story", in.story.ID), slog.String("title", in.story.Title))
			if offline == nil {
				// Over every story, as the Offline summarizer weighs terms.
				offline = newExtract(stories, topic.Language)
			}
			passages = offline.storyPassages(in.rank)
		}
		for _, p := range passages {
			p.Story = in.rank
			b.Paragraphs = append(b.Paragraphs, p)
		}
	}
	for _, p := range v.audience {
		p.Story = briefing.NoStory
		b.Paragraphs = append(b.Paragraphs, p)
	}
	return b, nil
}

func (l *LLM) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Logger
}

func (l *LLM) now() time.Time {
	if l.Now == nil {
		return time.Now()
	}
	return l.Now()
}

// plan chooses each story's articles and leads within MaxInputTokens:
// first every story keeps at most maxStoryArticles articles, one per
// outlet first; then, from the lowest-ranked story up, stories are cut to
// three articles, then to one, then dropped, until the prompts fit.
func (l *LLM) plan(stories []briefing.Story) []storyInput {
	articleTokens := cmp.Or(l.ArticleTokens, DefaultArticleTokens)
	budget := cmp.Or(l.MaxInputTokens, DefaultMaxInputTokens) - estimateTokens(composeSystemPrompt)
	var inputs []storyInput
	for rank, s := range stories {
		in := storyInput{story: s, rank: rank}
		ordered := leadOrder(s.Articles)
		if s.Update {
			// An update is about its new articles: they go first, and the
			// first gets the full lead.
			slices.SortStableFunc(ordered, func(a, b briefing.Article) int {
				return compareBool(!slices.Contains(s.NewArticles, a.ID), !slices.Contains(s.NewArticles, b.ID))
			})
		}
		for i, a := range ordered {
			if i == maxStoryArticles {
				break
			}
			limit := articleTokens
			if i > 0 {
				limit /= 4
			}
			in.articles = append(in.articles, a)
			in.leads = append(in.leads, clipTokens(compactText(a.Text), limit))
		}
		if len(in.articles) > 0 {
			inputs = append(inputs, in)
		}
	}
	costs := make([]int, len(inputs))
	total := 0
	for i := range inputs {
		costs[i] = storyCost(inputs[i])
		total += costs[i]
	}
	for _, keep := range []int{3, 1} {
		for i := len(inputs) - 1; i >= 0 && total > budget; i-- {
			n := min(keep, len(inputs[i].articles))
			inputs[i].articles, inputs[i].leads = inputs[i].articles[:n], inputs[i].leads[:n]
			total -= costs[i]
			costs[i] = storyCost(inputs[i])
			total += costs[i]
		}
	}
	for len(inputs) > 1 && total > budget {
		total -= costs[len(inputs)-1]
		inputs = inputs[:len(inputs)-1]
	}
	if len(inputs) == 1 && total > budget {
		lead := inputs[0].leads[0]
		inputs[0].leads[0] = clipTokens(lead, max(estimateTokens(lead)-(total-budget), 0))
	}
	return inputs
}

// storyCost estimates the tokens a story costs the briefing: its story
// prompt and its summary in the compose prompt, or its articles there.
func storyCost(in storyInput) int {
	var b strings.Builder
	writeStoryArticles(&b, in)
	if in.direct() {
		return estimateTokens(b.String()) + estimateTokens(`<story n="00">`+"\nTitle: "+in.story.Title+"\n</story>\n")
	}
	return estimateTokens(storySystemPrompt) + estimateTokens(b.String()) + composeShareTokens
}

// leadOrder puts a story's first article from each outlet ahead of the
// outlets' further articles, earliest first within each group, so that
// trimming a story keeps its sources diverse.
func leadOrder(articles []briefing.Article) []briefing.Article {
	seen := map[string]bool{}
	var first, rest []briefing.Article
	for _, a := range articles {
		if seen[a.Source] {
			rest = append(rest, a)
			continue
		}
		seen[a.Source] = true
		first = append(first, a)
	}
	return append(first, rest...)
}

func writeStoryArticles(b *strings.Builder, in storyInput) {
	for i, a := range in.articles {
		a.Text = in.leads[i]
		writeArticle(b, fmt.Sprintf("a%d", i+1), a, estimateTokens(a.Text))
	}
}

// summarizeStories condenses every story, from the cache when it can.
func (l *LLM) summarizeStories(ctx context.Context, inputs []storyInput) ([]storySummary, briefing.Usage, error) {
	fingerprint := l.fingerprint()
	summaries := make([]storySummary, len(inputs))
	usages := make([]briefing.Usage, len(inputs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(storyConcurrency)
	for i, in := range inputs {
		if in.direct() {
			continue
		}
		key := storyCacheKey(fingerprint, in)
		if l.cacheGet(key, &summaries[i]) {
			continue
		}
		g.Go(func() error {
			s, usage, err := l.summarizeStory(gctx, in)
			if err != nil {
				return fmt.Errorf("story %q: %w", in.story.Title, err)
			}
			summaries[i], usages[i] = s, usage
			l.cachePut(key, s)
			return nil
		})
	}
	err := g.Wait()
	var total briefing.Usage
	for _, u := range usages {
		total = total.Add(u)
	}
	return summaries, total, err
}

// summarizeStory asks for one story's summary and maps its citations from
// the prompt's ids to article IDs.
func (l *LLM) summarizeStory(ctx context.Context, in storyInput) (storySummary, briefing.Usage, error) {
	var user strings.Builder
	writeStoryArticles(&user, in)
	c, err := l.Completer.Complete(ctx, briefing.CompletionRequest{
		Messages: []briefing.Message{
			{Role: "system", Content: storySystemPrompt},
			{Role: "user", Content: user.String()},
		},
		SchemaName: "story",
		Schema:     storySchema,
		MaxTokens:  storyReplyTokens,
	})
	if err != nil {
		return storySummary{}, briefing.Usage{}, err
	}
	var s storySummary
	if err := json.Unmarshal([]byte(c.Text), &s); err != nil {
		return storySummary{}, c.Usage, fmt.Errorf("the reply does not match the schema: %w", err)
	}
	facts := s.Facts[:0]
	for _, f := range s.Facts {
		var ids []string
		for _, src := range f.Sources {
			if a, ok := storyArticle(src, in.articles); ok && !slices.Contains(ids, a.ID) {
				ids = append(ids, a.ID)
			}
		}
		if len(ids) > 0 && strings.TrimSpace(f.Text) != "" {
			facts = append(facts, citedText{Text: f.Text, Sources: ids})
		}
	}
	s.Facts = facts
	return s, c.Usage, nil
}

// storyArticle returns the article that a story prompt's id (a1, a2…)
// names.
func storyArticle(id string, articles []briefing.Article) (briefing.Article, bool) {
	digits, ok := strings.CutPrefix(strings.TrimSpace(id), "a")
	n, err := strconv.Atoi(digits)
	if !ok || err != nil || n < 1 || n > len(articles) {
		return briefing.Article{}, false
	}
	return articles[n-1], true
}

// storyCacheKey names a story summary by everything it was made from.
func storyCacheKey(fingerprint string, in storyInput) string {
	h := sha256.New()
	for _, part := range []string{storyPromptVersion, fingerprint} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	for i, a := range in.articles {
		for _, part := range []string{a.ID, a.Title, a.Source, in.leads[i]} {
			h.Write([]byte(part))
			h.Write([]byte{0})
		}
	}
	return "llm-story:" + hex.EncodeToString(h.Sum(nil))
}

// fingerprint names the Completer's providers and models when it can
// (llm.Pool does), so that cache keys change with the model.
func (l *LLM) fingerprint() string {
	if f, ok := l.Completer.(interface{ Fingerprint() string }); ok {
		return f.Fingerprint()
	}
	return ""
}

// composeCacheKey names a composed briefing by everything it was made from.
func composeCacheKey(fingerprint string, req briefing.CompletionRequest) string {
	h := sha256.New()
	for _, part := range []string{composePromptVersion, fingerprint, string(req.Schema)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	for _, m := range req.Messages {
		h.Write([]byte(m.Role + "\x00" + m.Content + "\x00"))
	}
	return "llm-compose:" + hex.EncodeToString(h.Sum(nil))
}

// cacheGet reads a cached JSON value into v and reports whether it did.
func (l *LLM) cacheGet(key string, v any) bool {
	if l.Cache == nil {
		return false
	}
	data, ok, err := l.Cache.Get(key)
	if err != nil {
		l.logger().Warn("llm cache read failed", slog.String("key", key), slog.Any("error", err))
		return false
	}
	return ok && json.Unmarshal(data, v) == nil
}

// cachePut stores v as JSON; a failure costs tokens next time, nothing more.
func (l *LLM) cachePut(key string, v any) {
	if l.Cache == nil {
		return
	}
	data, err := json.Marshal(v)
	if err == nil {
		err = l.Cache.Put(key, data)
	}
	if err != nil {
		l.logger().Warn("llm cache write failed", slog.String("key", key), slog.Any("error", err))
	}
}

// composeMessages lays out the summaries as story sections citing the
// briefing-wide article ids.
func composeMessages(inputs []storyInput, summaries []storySummary, idOf map[string]string, audience string) []briefing.Message {
	system := composeSystemPrompt
	if audience != "" {
		system += "\nThe briefing is read by " + audience + `. In "audience_paragraph", write one paragraph that begins "For ` +
			audience + `," and says what the news means for them, each sentence citing its articles like the others.`
	}
	var user strings.Builder
	for i, in := range inputs {
		fmt.Fprintf(&user, "<story n=\"%d\"", i+1)
		if in.story.Update {
			user.WriteString(` update="true"`)
		}
		user.WriteString(">\nTitle: " + neutralize(in.story.Title) + "\n")
		if in.story.Update {
			// What the update is about: the articles no briefing told.
			var fresh []string
			for _, a := range in.articles {
				if slices.Contains(in.story.NewArticles, a.ID) {
					fresh = append(fresh, idOf[a.ID])
				}
			}
			if len(fresh) > 0 {
				user.WriteString("New articles: " + strings.Join(fresh, ", ") + "\n")
			}
		}
		if in.direct() {
			for ai, a := range in.articles {
				a.Text = in.leads[ai]
				writeArticle(&user, idOf[a.ID], a, estimateTokens(a.Text))
			}
			user.WriteString("</story>\n")
			continue
		}
		user.WriteString("Sources:")
		for _, a := range in.articles {
			fmt.Fprintf(&user, " %s (%s)", idOf[a.ID], neutralize(a.Source))
		}
		user.WriteString("\nSummary: " + neutralize(summaries[i].Summary) + "\nFacts:\n")
		for _, f := range summaries[i].Facts {
			var ids []string
			for _, src := range f.Sources {
				if id, ok := idOf[src]; ok {
					ids = append(ids, id)
				}
			}
			fmt.Fprintf(&user, "- %s [%s]\n", neutralize(f.Text), strings.Join(ids, ", "))
		}
		user.WriteString("</story>\n")
	}
	return []briefing.Message{{Role: "system", Content: system}, {Role: "user", Content: user.String()}}
}

// verified is the model's briefing as far as it survived verification.
type verified struct {
	headline string
	bullets  []string
	// stories holds each composed story's passages, nil for a story the
	// model left out or whose sentences mostly failed verification.
	stories  [][]briefing.Paragraph
	audience []briefing.Paragraph
}

// citations are what a composed briefing may cite: urlOf maps every
// prompt id to its URL, storyURLs[n] does so for the n-th story's articles
// only, and given holds what the model was given of each article. audience
// opens the audience paragraph.
type citations struct {
	storyURLs []map[string]string
	urlOf     map[string]string
	given     map[string]evidence
	audience  string
}

// verify turns the model's briefing into passages citing URLs. The model's
// n-th paragraph is the n-th story's, as the prompt asks, and may cite only
// that story's articles; the audience paragraph may cite any article of
// the briefing. A citation stands only when the article states the
// sentence's numbers and names and a third of its words; a sentence left
// without one is dropped, and so is one stating a fact said before. A
// story keeps its text when at least half its sentences survive. It fails
// when the headline or bullets are missing or no story keeps its text and
// no audience passage survives: then nothing the model wrote is grounded.
func verify(out composed, c citations) (verified, error) {
	allowed := map[string]bool{}
	for _, u := range c.urlOf {
		allowed[u] = true
	}
	v := verified{headline: clipHeadline(scrubURLs(out.Headline, allowed)), stories: make([][]briefing.Paragraph, len(c.storyURLs))}
	var bulletFacts []facts
	for _, bullet := range out.Bullets {
		bullet = scrubURLs(strings.Join(strings.Fields(bullet), " "), allowed)
		f := factsOf(bullet)
		if bullet == "" || len(v.bullets) == 3 || slices.ContainsFunc(bulletFacts, func(g facts) bool { return sameFact(f, g) }) {
			continue // empty, one too many, or a takeaway stated already
		}
		v.bullets = append(v.bullets, bullet)
		bulletFacts = append(bulletFacts, f)
	}
	var said []facts
	survived := 0
	for i, p := range out.Paragraphs[:min(len(out.Paragraphs), len(c.storyURLs))] {
		passages, kept := c.passages(p, c.storyURLs[i], allowed, &said, "")
		if kept > 0 && kept*2 >= len(p.Sentences) {
			v.stories[i] = passages
			survived += kept
		}
	}
	if out.AudienceParagraph != nil {
		var kept int
		v.audience, kept = c.passages(*out.AudienceParagraph, c.urlOf, allowed, &said, "For "+c.audience+",")
		survived += kept
	}
	switch {
	case v.headline == "":
		return verified{}, errors.New("verify: the briefing has no headline")
	case len(v.bullets) == 0:
		return verified{}, errors.New("verify: the briefing has no bullets")
	case survived == 0:
		return verified{}, errors.New("verify: no story keeps sentences citing its own articles")
	}
	return v, nil
}

// passages keeps the sentences of p that cite an article of urlOf (prompt
// id to URL) stating them, with those articles' URLs as sources, and
// reports how many it kept. A sentence stating a fact of said is left out
// but counts as kept: it is true, only told already. Consecutive sentences
// citing the same articles become one passage. allowed are the URLs a
// sentence may mention; prefix, when a sentence starts with it, is the
// paragraph's opening rather than a fact to check.
func (c citations) passages(p citedSentences, urlOf map[string]string, allowed map[string]bool, said *[]facts, prefix string) ([]briefing.Paragraph, int) {
	var passages []briefing.Paragraph
	kept := 0
	for _, s := range p.Sentences {
		text := scrubURLs(strings.Join(strings.Fields(s.Text), " "), allowed)
		f := factsOf(strings.TrimPrefix(text, prefix))
		var urls []string
		for _, id := range s.Sources {
			id = strings.Trim(id, "[] ")
			if u, ok := urlOf[id]; ok && !slices.Contains(urls, u) && c.given[id].supports(f, paraphraseSupportShare) {
				urls = append(urls, u)
			}
		}
		if text == "" || len(urls) == 0 {
			continue
		}
		kept++
		if slices.ContainsFunc(*said, func(g facts) bool { return sameFact(f, g) }) {
			continue
		}
		*said = append(*said, f)
		if n := len(passages); n > 0 && sameSet(passages[n-1].Sources, urls) {
			passages[n-1].Text += " " + text
			continue
		}
		passages = append(passages, briefing.Paragraph{Text: text, Sources: urls})
	}
	return passages, kept
}

func clipHeadline(h string) string {
	h = strings.Join(strings.Fields(h), " ")
	if len([]rune(h)) <= maxHeadlineChars {
		return h
	}
	return clipTokens(h, maxHeadlineChars/charsPerToken-1)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
