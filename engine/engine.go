// Package engine is the news desk: it collects a topic's feeds, clusters
// and ranks the stories, leaves out what posted briefings already told,
// has them summarized, and answers follow-up questions. It implements
// briefing.Service for the chat front ends and the command line.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/metrics"
	"github.com/briefing-bot/briefing/summarize"
)

var (
	_ briefing.Service      = (*Engine)(nil)
	_ briefing.ArticleStore = (*Engine)(nil)
)

// Store is what the engine keeps: feeds and articles it collects,
// briefings it builds and what posted briefings told.
type Store interface {
	briefing.FeedStore
	briefing.ArticleStore
	briefing.FeedIndex
	briefing.BriefingStore
	briefing.Pruner
}

// Options wire an Engine. Store, Collector, Summarizer and Answerer are
// required.
type Options struct {
	Topics     []briefing.Topic
	Store      Store
	Collector  briefing.Collector
	Summarizer briefing.Summarizer
	Answerer   briefing.Answerer
	Logger     *slog.Logger
	Metrics    *metrics.Metrics
	Now        func() time.Time
	// FreshFor lets Build skip fetching a topic collected less than this
	// long ago: the daemon collects on an interval, and a /briefing
	// should not wait for every feed again.
	FreshFor time.Duration
	// Votes, when set, keeps readers' votes, which tune each
	// destination's ranking; without it rankings are the topics' alone.
	Votes briefing.VoteStore
}

// Engine builds briefings and answers questions about them.
type Engine struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time

	mu        sync.Mutex
	collected map[string]time.Time // topic id → when its feeds were last fetched
}

// New returns an Engine over opts.
func New(opts Options) *Engine {
	e := &Engine{opts: opts, log: opts.Logger, now: opts.Now, collected: map[string]time.Time{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e
}

// Topics returns the configured topics in config order.
func (e *Engine) Topics() []briefing.Topic { return e.opts.Topics }

// Topic finds a topic by id.
func (e *Engine) Topic(id string) (briefing.Topic, bool) {
	for _, t := range e.opts.Topics {
		if t.ID == id {
			return t, true
		}
	}
	return briefing.Topic{}, false
}

func (e *Engine) topic(id string) (briefing.Topic, error) {
	if t, ok := e.Topic(id); ok {
		return t, nil
	}
	ids := make([]string, len(e.opts.Topics))
	for i, t := range e.opts.Topics {
		ids[i] = t.ID
	}
	return briefing.Topic{}, briefing.Errorf(briefing.ENOTFOUND, "There is no topic %q. Known topics: %s.", id, strings.Join(ids, ", "))
}

// Collect fetches the feeds of topics (all topics when none are given)
// once.
func (e *Engine) Collect(ctx context.Context, topics []briefing.Topic, progress func(briefing.FeedResult)) ([]briefing.FeedResult, error) {
	if len(topics) == 0 {
		topics = e.opts.Topics
	}
	results, err := e.opts.Collector.Collect(ctx, e.opts.Store, topics, progress)
	if err != nil {
		return results, fmt.Errorf("collect: %w", err)
	}
	e.mu.Lock()
	for _, t := range topics {
		e.collected[t.ID] = e.now()
	}
	e.mu.Unlock()
	return results, nil
}

// Prune deletes what is past retention. The daemon's collect loop and the
// collect command call it, not every build that fetches a topic.
func (e *Engine) Prune() {
	if n, err := e.opts.Store.Prune(e.now()); err != nil {
		e.log.Warn("prune articles", slog.Any("error", err))
	} else if n > 0 {
		e.log.Info("pruned articles past retention", slog.Int("articles", n))
	}
}

// Build writes a briefing of the topic's stories in its window and stores
// it; with opts.For, of those not yet told to that destination. Only
// MarkPosted makes stories count as told, so previews never hide stories
// from the next posted briefing. A topic with nothing to brief gives a
// *briefing.Quiet error.
func (e *Engine) Build(ctx context.Context, topicID string, opts briefing.BuildOptions) (*briefing.Briefing, error) {
	start := time.Now()
	topic, err := e.topic(topicID)
	if err != nil {
		return nil, err
	}
	if opts.Audience != "" {
		topic.Audience = opts.Audience
	}
	if !opts.Offline && !e.fresh(topic.ID) {
		if _, err := e.Collect(ctx, []briefing.Topic{topic}, nil); err != nil {
			return nil, err
		}
	}
	stories, err := e.selectStories(topic, opts.MaxStories, opts.For)
	if quiet := (*briefing.Quiet)(nil); errors.As(err, &quiet) {
		e.opts.Metrics.NothingToBrief(quiet.Reason)
	}
	if err != nil {
		return nil, err
	}
	b, err := e.opts.Summarizer.Summarize(ctx, topic, stories)
	if err != nil {
		return nil, fmt.Errorf("summarize %s: %w", topic.ID, err)
	}
	b.Topic, b.TopicName = topic.ID, topic.Name
	if b.GeneratedAt.IsZero() {
		b.GeneratedAt = e.now()
	}
	if err := e.opts.Store.PutBriefing(b); err != nil {
		return nil, fmt.Errorf("store briefing: %w", err)
	}
	e.opts.Metrics.Built(b.Summarizer, time.Since(start))
	e.log.Info("built briefing", slog.String("topic", topic.ID), slog.String("briefing", b.ID),
		slog.String("summarizer", b.Summarizer), slog.Int("stories", len(b.Stories)),
		slog.Int("prompt_tokens", b.Usage.PromptTokens), slog.Duration("took", time.Since(start)))
	return b, nil
}

// fresh reports whether the topic's feeds were fetched within FreshFor.
func (e *Engine) fresh(topicID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	last, ok := e.collected[topicID]
	return ok && e.now().Sub(last) < e.opts.FreshFor
}

// futureSkew admits articles dated a little ahead of our clock: a feed
// whose server clock runs fast (or that dates items in a wrong zone) would
// otherwise have its newest items left out until the clocks agree.
const futureSkew = time.Hour

// selectStories returns the topic's ranked stories in its window, without
// those already told to destination (none left out when it is empty);
// maxStories overrides the topic's limit (0: all). No story is a *Quiet
// error that says why.
func (e *Engine) selectStories(topic briefing.Topic, maxStories *int, destination string) ([]briefing.Story, error) {
	now := e.now()
	inWindow, err := e.opts.Store.FeedArticles(topic.Feeds, now.Add(-topic.Window), now.Add(futureSkew))
	if err != nil {
		return nil, fmt.Errorf("read %s articles: %w", topic.ID, err)
	}
	articles := summarize.FilterKeywords(inWindow, topic.Keywords)
	if len(articles) == 0 {
		return nil, e.whyEmpty(topic, len(inWindow))
	}
	stories := summarize.RankFor(summarize.Cluster(articles, summarize.ClusterOptions{}), topic, now, e.feedback(destination, now))
	if destination != "" {
		told, err := e.opts.Store.Told(topic.ID, destination)
		if err != nil {
			return nil, fmt.Errorf("read told stories of %s: %w", topic.ID, err)
		}
		if stories = summarize.Remember(stories, told); len(stories) == 0 {
			return nil, e.nothingNew(topic, destination)
		}
	}
	limit := topic.MaxStories
	if maxStories != nil {
		limit = *maxStories
	}
	if limit > 0 && len(stories) > limit {
		stories = stories[:limit]
	}
	return stories, nil
}

// whyEmpty explains a topic without an article to brief, given how many
// articles of its window the keywords left out.
func (e *Engine) whyEmpty(topic briefing.Topic, inWindow int) error {
	quiet := func(reason, format string, args ...any) error {
		return &briefing.Quiet{Reason: reason, Topic: topic, Message: fmt.Sprintf(format, args...)}
	}
	if inWindow > 0 {
		return quiet(briefing.QuietNoKeywordMatch,
			"None of the %d %s articles of the last %s mention %s; widen topics[].keywords of %s.",
			inWindow, topic.Name, formatWindow(topic.Window), quoteAll(topic.Keywords), topic.ID)
	}
	failed, firstErr := 0, ""
	for _, url := range topic.Feeds {
		st, err := e.opts.Store.Feed(url)
		if err != nil {
			return fmt.Errorf("read state of feed %s: %w", url, err)
		}
		if st.LastError != "" {
			failed++
			if firstErr == "" {
				firstErr = fmt.Sprintf("%s: %s", url, st.LastError)
			}
		}
	}
	if failed > 0 && failed == len(topic.Feeds) {
		return quiet(briefing.QuietFeedsFailed, "No %s articles: all %d feeds of topic %s failed, the first with %s. Fix or replace topics[].feeds.",
			topic.Name, failed, topic.ID, firstErr)
	}
	older, err := e.opts.Store.FeedArticles(topic.Feeds, time.Time{}, e.now().Add(-topic.Window))
	if err != nil {
		return fmt.Errorf("read older %s articles: %w", topic.ID, err)
	}
	if len(older) > 0 {
		return quiet(briefing.QuietTooOld, "All %d stored %s articles are older than topics[].window (%s); the newest is from %s. Widen the window of %s to include them.",
			len(older), topic.Name, formatWindow(topic.Window), older[0].Published.Format("2006-01-02 15:04 MST"), topic.ID)
	}
	return quiet(briefing.QuietNoArticles, "No %s articles are stored yet: the feeds of topic %s have carried none (%d of %d failed). Check topics[].feeds, or run `briefing collect`.",
		topic.Name, topic.ID, failed, len(topic.Feeds))
}

// nothingNew is the *Quiet error for a destination that was told every
// story of the topic's window.
func (e *Engine) nothingNew(topic briefing.Topic, destination string) error {
	q := &briefing.Quiet{Reason: briefing.QuietNothingNew, Topic: topic,
		Message: fmt.Sprintf("Nothing new on %s since the last briefing here.", topic.Name)}
	last, found, err := e.opts.Store.LastPost(topic.ID, destination)
	if err != nil {
		return fmt.Errorf("read last post of %s to %s: %w", topic.ID, destination, err)
	}
	if found {
		q.Last = &last
		q.Message = fmt.Sprintf("Nothing new on %s since the briefing at %s.", topic.Name, e.clockTime(last.At))
	}
	return q
}

// clockTime says when t was for a reader: the time of day, with the date
// when it was not today.
func (e *Engine) clockTime(t time.Time) string {
	now := e.now()
	t = t.In(now.Location())
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04 MST")
	}
	return t.Format("15:04 MST on Jan 2")
}

func quoteAll(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(quoted, ", ")
}

// MarkPosted makes b's stories count as told to p.Destination.
func (e *Engine) MarkPosted(_ context.Context, b *briefing.Briefing, p briefing.Post) error {
	if err := e.opts.Store.RecordTold(b, p); err != nil {
		return fmt.Errorf("record told stories of briefing %s: %w", b.ID, err)
	}
	return nil
}

// TopicArticles returns the articles of the topic's feeds published in
// [since, until), newest first: the answerer's view of a topic.
func (e *Engine) TopicArticles(topicID string, since, until time.Time) ([]briefing.Article, error) {
	topic, err := e.topic(topicID)
	if err != nil {
		return nil, err
	}
	return e.opts.Store.FeedArticles(topic.Feeds, since, until)
}

// Article returns a stored article.
func (e *Engine) Article(id string) (briefing.Article, error) { return e.opts.Store.Article(id) }

// Briefing returns a stored briefing.
func (e *Engine) Briefing(_ context.Context, id string) (*briefing.Briefing, error) {
	return e.opts.Store.Briefing(id)
}

// Answer answers a follow-up about q.BriefingID, or else about the latest
// briefing of q.Topic, or else from the topic's recent articles.
func (e *Engine) Answer(ctx context.Context, q briefing.Question, onDelta func(string)) (briefing.Answer, error) {
	var b *briefing.Briefing
	var err error
	switch {
	case q.BriefingID != "":
		b, err = e.opts.Store.Briefing(q.BriefingID)
	case q.Topic != "":
		if _, err = e.topic(q.Topic); err != nil {
			return briefing.Answer{}, err
		}
		b, err = e.opts.Store.LatestBriefing(q.Topic)
		if briefing.ErrorCode(err) == briefing.ENOTFOUND {
			b, err = nil, nil
		}
	default:
		return briefing.Answer{}, briefing.Errorf(briefing.EINVALID, "Name a topic or a briefing to ask about.")
	}
	if err != nil {
		return briefing.Answer{}, err
	}
	if b != nil && q.Topic == "" {
		q.Topic = b.Topic
	}
	return e.opts.Answerer.Answer(ctx, b, q, onDelta)
}

func formatWindow(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return d.String()
}
