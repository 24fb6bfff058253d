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
	DefaultArticleTokens  = 300
)

const (
	// storyPromptVersion is part of every story summary's cache key:
	// change it with the story prompt or schema.
	storyPromptVersion = "story-v1"
	// maxStoryArticles bounds the articles one story sends: past a handful
	// of outlets, more reports of one event repeat each other.
	maxStoryArticles = 5
	// storyReplyTokens bounds a story summary.
	storyReplyTokens = 500
	// composeShareTokens is what a story's title, sources, summary and
	// facts cost in the compose prompt, as real replies run.
	composeShareTokens = 400
	// storyConcurrency bounds the story calls in flight.
	storyConcurrency = 4
	// maxHeadlineChars keeps a headline to a line.
	maxHeadlineChars = 150
)

const storySystemPrompt = `You condense one news story for a briefing. The articles below report the same event.
Reply with "summary": two or three sentences on what happened and why it matters; and "facts": the story's key facts, at most six, each one sentence with the ids of the articles that state it in "sources".
Use only what the articles say; keep names, numbers and dates exact.
` + untrustedNotice

const composeSystemPrompt = `You write a team's daily news briefing from summaries of the day's stories, most important first.
Reply with "headline": one line of at most twelve words on the most important story; "bullets": exactly three one-line takeaways; "paragraphs": the briefing's body, one paragraph of two to four sentences per story in the order given.
Every sentence cites in "sources" the ids of the articles (such as "a3") whose facts it states; a sentence no fact supports does not belong in the briefing.
Use only the summaries and facts given, add no outside knowledge, and write no URLs. For a story marked as an update, lead with what is new.
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
// The result is verified, not trusted: sentences citing no article of the
// briefing are dropped, and when fewer than half survive, or the headline
// is missing, the whole briefing is left to Fallback. Falling back for the
// whole briefing rather than per story is simpler, and a model that fails
// half its citations is not to be trusted with the rest either. Any error
// from the Completer falls back the same way.
type LLM struct {
	Completer briefing.Completer
	// Cache keeps story summaries across runs; nil disables it.
	Cache briefing.Cache
	// Fallback writes the briefing when the LLM cannot: the Offline
	// summarizer.
	Fallback Summarizer
	// MaxInputTokens bounds the prompts of one briefing (≈ 4 characters a
	// token); the lowest-ranked stories lose material first.
	MaxInputTokens int
	// ArticleTokens bounds each article's lead; a story's later articles
	// get half, as they mostly repeat the first.
	ArticleTokens int
	// Audience is who reads the briefing, unless the topic names one.
	Audience string
	Logger   *slog.Logger
	Now      func() time.Time
}

var _ Summarizer = (*LLM)(nil)

// storyInput is one story as the story prompt carries it.
type storyInput struct {
	story    briefing.Story
	articles []briefing.Article
	leads    []string
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
	// back to URLs.
	idOf := map[string]string{}
	urlOf := map[string]string{}
	for _, in := range inputs {
		for _, a := range in.articles {
			if _, ok := idOf[a.ID]; !ok {
				id := fmt.Sprintf("a%d", len(idOf)+1)
				idOf[a.ID], urlOf[id] = id, a.URL
			}
		}
	}
	audience := cmp.Or(topic.Audience, l.Audience)
	c, err := l.Completer.Complete(ctx, briefing.CompletionRequest{
		Messages:   composeMessages(inputs, summaries, idOf, audience),
		SchemaName: "briefing",
		Schema:     composeSchema(audience != ""),
		MaxTokens:  600 + 250*len(inputs),
	})
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	usage = usage.Add(c.Usage)
	var out composed
	if err := json.Unmarshal([]byte(c.Text), &out); err != nil {
		return nil, fmt.Errorf("compose: the reply does not match the schema: %w", err)
	}
	if audience == "" {
		out.AudienceParagraph = nil // not asked for
	}
	b, err := verify(out, urlOf)
	if err != nil {
		return nil, err
	}
	b.Topic, b.TopicName = topic.ID, topic.Name
	b.GeneratedAt = l.now()
	b.Summarizer = "llm:" + c.Provider
	b.Stories = stories
	b.Usage = usage
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
	for _, s := range stories {
		in := storyInput{story: s}
		for i, a := range leadOrder(s.Articles) {
			if i == maxStoryArticles {
				break
			}
			limit := articleTokens
			if i > 0 {
				limit /= 2
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
// prompt, and its summary in the compose prompt.
func storyCost(in storyInput) int {
	var b strings.Builder
	writeStoryArticles(&b, in)
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
	// A Completer that names its providers and models (llm.Pool does)
	// puts them in the cache keys, so that a new model writes new
	// summaries.
	fingerprint := ""
	if f, ok := l.Completer.(interface{ Fingerprint() string }); ok {
		fingerprint = f.Fingerprint()
	}
	summaries := make([]storySummary, len(inputs))
	usages := make([]briefing.Usage, len(inputs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(storyConcurrency)
	for i, in := range inputs {
		key := storyCacheKey(fingerprint, in)
		if s, ok := l.cachedSummary(key); ok {
			summaries[i] = s
			continue
		}
		g.Go(func() error {
			s, usage, err := l.summarizeStory(gctx, in)
			if err != nil {
				return fmt.Errorf("story %q: %w", in.story.Title, err)
			}
			summaries[i], usages[i] = s, usage
			l.cacheSummary(key, s)
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

func (l *LLM) cachedSummary(key string) (storySummary, bool) {
	if l.Cache == nil {
		return storySummary{}, false
	}
	data, ok, err := l.Cache.Get(key)
	if err != nil {
		l.logger().Warn("story summary cache read failed", slog.String("key", key), slog.Any("error", err))
		return storySummary{}, false
	}
	var s storySummary
	if !ok || json.Unmarshal(data, &s) != nil {
		return storySummary{}, false
	}
	return s, true
}

func (l *LLM) cacheSummary(key string, s storySummary) {
	if l.Cache == nil {
		return
	}
	data, err := json.Marshal(s)
	if err == nil {
		err = l.Cache.Put(key, data)
	}
	if err != nil {
		l.logger().Warn("story summary cache write failed", slog.String("key", key), slog.Any("error", err))
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
		user.WriteString(">\nTitle: " + neutralize(in.story.Title) + "\nSources:")
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

// verify turns the model's briefing into paragraphs citing URLs. A
// sentence whose sources name no article of the briefing is dropped, and
// consecutive sentences of a paragraph citing the same articles become one
// passage. It fails when the headline or bullets are missing or fewer than
// half the sentences survive.
func verify(out composed, urlOf map[string]string) (*briefing.Briefing, error) {
	allowed := map[string]bool{}
	for _, u := range urlOf {
		allowed[u] = true
	}
	b := &briefing.Briefing{Headline: clipHeadline(scrubURLs(out.Headline, allowed))}
	for _, bullet := range out.Bullets {
		if bullet = scrubURLs(strings.Join(strings.Fields(bullet), " "), allowed); bullet != "" && len(b.Bullets) < 3 {
			b.Bullets = append(b.Bullets, bullet)
		}
	}
	paragraphs := out.Paragraphs
	if out.AudienceParagraph != nil {
		paragraphs = append(paragraphs, *out.AudienceParagraph)
	}
	total, kept := 0, 0
	for _, p := range paragraphs {
		var last *briefing.Paragraph
		for _, s := range p.Sentences {
			total++
			text := scrubURLs(strings.Join(strings.Fields(s.Text), " "), allowed)
			var urls []string
			for _, id := range s.Sources {
				if u, ok := urlOf[strings.Trim(id, "[] ")]; ok && !slices.Contains(urls, u) {
					urls = append(urls, u)
				}
			}
			if text == "" || len(urls) == 0 {
				continue
			}
			kept++
			if last != nil && sameSet(last.Sources, urls) {
				last.Text += " " + text
				continue
			}
			b.Paragraphs = append(b.Paragraphs, briefing.Paragraph{Text: text, Sources: urls})
			last = &b.Paragraphs[len(b.Paragraphs)-1]
		}
	}
	switch {
	case b.Headline == "":
		return nil, errors.New("verify: the briefing has no headline")
	case len(b.Bullets) == 0:
		return nil, errors.New("verify: the briefing has no bullets")
	case total == 0 || kept*2 < total:
		return nil, fmt.Errorf("verify: only %d of %d sentences cite articles of the briefing", kept, total)
	}
	return b, nil
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
