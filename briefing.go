// Package briefing holds the domain of the briefing bot: articles collected
// from feeds, the stories they cluster into, and the briefings written from
// them. It imports only the standard library; the subpackages implement the
// interfaces declared here and cmd/briefing wires them together.
package briefing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Article is one item collected from a feed, normalised for summarizing.
type Article struct {
	// ID is stable across fetches: derived from the canonical URL, or from
	// the feed and the item's guid/title when the item has no link.
	ID  string `json:"id"`
	URL string `json:"url"`
	// Title and Text are plain text; Text keeps paragraph breaks as "\n\n".
	Title string `json:"title"`
	Text  string `json:"text,omitempty"`
	// Source is the publisher's domain without "www." ("cnbc.com"): what a
	// citation shows. SourceName is the feed's own title ("CNBC").
	Source     string `json:"source"`
	SourceName string `json:"source_name,omitempty"`
	FeedURL    string `json:"feed_url,omitempty"`
	// Feeds are the URLs of every feed that carried the article (the same
	// story syndicated), kept by the store: topics select articles by feed.
	Feeds []string `json:"feeds,omitempty"`
	// Topics are the ids of the topics whose feeds carried this article.
	Topics []string `json:"topics,omitempty"`
	// Published is the feed's time for the item, else the time first seen.
	Published time.Time `json:"published"`
	Fetched   time.Time `json:"fetched"`
}

// FeedState is what the collector remembers about one feed between runs.
type FeedState struct {
	URL          string    `json:"url"`
	Title        string    `json:"title,omitempty"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Failures     int       `json:"failures,omitempty"`
	LastError    string    `json:"last_error,omitempty"`
	NextAttempt  time.Time `json:"next_attempt,omitempty"`
	LastSuccess  time.Time `json:"last_success,omitempty"`
}

// Topic is a subject a team follows: its feeds and how a briefing is cut.
type Topic struct {
	ID         string
	Name       string
	Feeds      []string
	Keywords   []string
	Window     time.Duration
	MaxStories int
	Audience   string
	FullText   bool
	// Language is the ISO 639-1 code of the language briefings quote
	// ("en" when empty); articles in other languages are kept but not
	// quoted.
	Language string
}

// Story is one event, told by one or more articles.
type Story struct {
	// ID fingerprints the story by its earliest article, so that the same
	// event keeps its id while new articles join it.
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Articles []Article `json:"articles"`
	Score    float64   `json:"score,omitempty"`
	// Update marks a story that an earlier posted briefing already told and
	// that has new articles since.
	Update bool `json:"update,omitempty"`
	// NewArticles are the IDs of an Update story's articles that no posted
	// briefing told: what the update is about.
	NewArticles []string `json:"new_articles,omitempty"`
}

// Paragraph is a passage of the briefing and the articles it rests on.
// Sources are article URLs, every one of them an article of the briefing.
type Paragraph struct {
	Text    string   `json:"text"`
	Sources []string `json:"sources"`
	// Story is the index in Briefing.Stories of the story the passage
	// tells, so that renderers can show each story as a section; -1 marks
	// a passage about the briefing as a whole (the audience paragraph).
	Story int `json:"story"`
}

// NoStory is Paragraph.Story of a passage that tells no single story.
const NoStory = -1

// Usage counts LLM tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Add returns the sum of two usages.
func (u Usage) Add(o Usage) Usage {
	return Usage{u.PromptTokens + o.PromptTokens, u.CompletionTokens + o.CompletionTokens}
}

// SummarizerOffline names the extractive summarizer in Briefing.Summarizer.
const SummarizerOffline = "offline"

// Briefing is the product: a headline, three bullets and cited paragraphs.
type Briefing struct {
	ID          string    `json:"id"`
	Topic       string    `json:"topic"`
	TopicName   string    `json:"topic_name,omitempty"`
	GeneratedAt time.Time `json:"generated_at"`
	// Summarizer is "offline" or "llm:<provider name>".
	Summarizer string      `json:"summarizer"`
	Headline   string      `json:"headline"`
	Bullets    []string    `json:"bullets"`
	Paragraphs []Paragraph `json:"paragraphs"`
	Stories    []Story     `json:"stories"`
	Usage      Usage       `json:"usage"`
}

// ArticleByURL finds the briefing's article with that URL.
func (b *Briefing) ArticleByURL(url string) (Article, bool) {
	for _, s := range b.Stories {
		for _, a := range s.Articles {
			if a.URL == url {
				return a, true
			}
		}
	}
	return Article{}, false
}

// SourcesLabel counts the distinct articles the briefing drew on, for
// readers: "1 source", "14 sources".
func (b *Briefing) SourcesLabel() string {
	seen := map[string]bool{}
	for _, s := range b.Stories {
		for _, a := range s.Articles {
			seen[a.URL] = true
		}
	}
	if len(seen) == 0 {
		for _, p := range b.Paragraphs {
			for _, u := range p.Sources {
				seen[u] = true
			}
		}
	}
	if len(seen) == 1 {
		return "1 source"
	}
	return fmt.Sprintf("%d sources", len(seen))
}

// SummarizerLabel names what wrote the briefing, for readers: "offline
// summary" or "LLM summary (primary)".
func (b *Briefing) SummarizerLabel() string {
	switch {
	case b.Summarizer == SummarizerOffline:
		return "offline summary"
	case strings.HasPrefix(b.Summarizer, "llm:"):
		return "LLM summary (" + strings.TrimPrefix(b.Summarizer, "llm:") + ")"
	case b.Summarizer == "":
		return "summary"
	}
	return b.Summarizer
}

// Turn is one follow-up question and its answer in a briefing's thread.
type Turn struct {
	Question string    `json:"question"`
	Answer   string    `json:"answer"`
	At       time.Time `json:"at"`
}

// Thread ties a chat thread to the briefing it discusses.
type Thread struct {
	// Key names the thread on its platform, e.g. "slack:C123:1700000000.000100".
	Key        string `json:"key"`
	BriefingID string `json:"briefing_id,omitempty"`
	Topic      string `json:"topic"`
	Turns      []Turn `json:"turns,omitempty"`
	// Posted is when the briefing was posted. A chat without threads takes
	// follow-ups to its latest briefing only for a while after it.
	Posted time.Time `json:"posted,omitzero"`
}

// Question is a follow-up asked about a briefing.
type Question struct {
	Text string
	// Topic is used when there is no briefing: the answer then comes from
	// the topic's recent articles.
	Topic      string
	BriefingID string
	History    []Turn
}

// Answer is the reply to a Question. Every URL in Sources was collected.
type Answer struct {
	Text       string   `json:"text"`
	Sources    []string `json:"sources"`
	Summarizer string   `json:"summarizer"`
	Usage      Usage    `json:"usage"`
}

// BuildOptions tune one briefing build.
type BuildOptions struct {
	// MaxStories overrides the topic's limit when non-nil; 0 keeps every
	// story in the window.
	MaxStories *int
	// Offline skips fetching feeds and uses what the store holds.
	Offline bool
	// Audience overrides the topic's audience, for a schedule that sets one.
	Audience string
	// For is the destination key the briefing is for ("slack:C123"): the
	// stories already told there are left out, and a topic with nothing
	// else gives a *Quiet error of reason QuietNothingNew. Empty leaves
	// nothing out, as a preview does.
	For string
}

// Destination keys name where briefings go; what was told is remembered
// per destination, so a post in one never changes what another gets.

// SlackDestination is the destination key of a Slack channel.
func SlackDestination(channel string) string { return "slack:" + channel }

// TeamsDestination is the destination key of a Teams conversation (a
// channel without its thread part, a personal or group chat).
func TeamsDestination(conversation string) string { return "teams:" + conversation }

// WebhookDestination is the destination key of a webhook. The URL holds
// its secret, so the key carries a short hash of it, never the URL.
func WebhookDestination(url string) string {
	sum := sha256.Sum256([]byte(url))
	return "webhook:" + hex.EncodeToString(sum[:6])
}

// Post is a briefing delivered to one destination.
type Post struct {
	Destination string    `json:"destination"`
	Topic       string    `json:"topic"`
	BriefingID  string    `json:"briefing_id"`
	At          time.Time `json:"at"`
	// MessageID names the posted message on its platform (a Slack ts, a
	// Teams activity id) when known, so that a reply can link to it.
	MessageID string `json:"message_id,omitempty"`
}

// Reasons a topic has nothing to brief, in Quiet.Reason.
const (
	// QuietNothingNew: every story in the window was told to the destination.
	QuietNothingNew = "nothing_new"
	// QuietFeedsFailed: no article is stored and every feed failed.
	QuietFeedsFailed = "feeds_failed"
	// QuietNoArticles: the feeds answered but carried no article.
	QuietNoArticles = "no_articles"
	// QuietTooOld: every stored article is older than topics[].window.
	QuietTooOld = "too_old"
	// QuietNoKeywordMatch: topics[].keywords matched none of the articles.
	QuietNoKeywordMatch = "no_keyword_match"
)

// Quiet is the error Build returns when a topic has nothing to brief. Its
// Message says why and names the setting or fact to change; it unwraps to
// an *Error of code EEMPTY with that message.
type Quiet struct {
	Reason  string
	Topic   Topic
	Message string
	// Last is the latest post of the topic to the destination, for
	// QuietNothingNew.
	Last *Post
}

func (q *Quiet) Error() string { return q.Message }

func (q *Quiet) Unwrap() error { return &Error{Code: EEMPTY, Message: q.Message} }

// Service is what chat front ends need: topics, briefings and answers.
type Service interface {
	Topics() []Topic
	Topic(id string) (Topic, bool)
	Build(ctx context.Context, topicID string, opts BuildOptions) (*Briefing, error)
	// MarkPosted records that b was posted to p.Destination, so that later
	// briefings for that destination do not repeat it; p.Topic,
	// p.BriefingID and p.At default to b's topic, id and the time now.
	MarkPosted(ctx context.Context, b *Briefing, p Post) error
	Briefing(ctx context.Context, id string) (*Briefing, error)
	Answer(ctx context.Context, q Question, onDelta func(text string)) (Answer, error)
}

// FeedStore is what the collector needs from storage.
type FeedStore interface {
	Feed(url string) (FeedState, error)
	PutFeed(FeedState) error
	// PutArticles stores new articles and returns how many were new.
	PutArticles([]Article) (int, error)
	// Article returns a stored article; the collector skips fetching the
	// page of an article it already has. A missing one is ENOTFOUND.
	Article(id string) (Article, error)
	// ClaimFetch claims the next fetch of the feed at url for lease by
	// the store's clock, unless a claim of it holds: of the replicas
	// collecting one interval, one fetches each feed.
	ClaimFetch(url string, lease time.Duration) (bool, error)
}

// FeedStatus is how one feed's collection went.
type FeedStatus string

// The statuses of a FeedResult.
const (
	FeedNew       FeedStatus = "new"       // new articles were stored
	FeedUnchanged FeedStatus = "unchanged" // 304, or nothing new in the feed
	FeedFailed    FeedStatus = "failed"    // see FeedResult.Err
	FeedSkipped   FeedStatus = "skipped"   // in back-off after failures
)

// FeedResult is the outcome of collecting one (topic, feed).
type FeedResult struct {
	Topic   string
	FeedURL string
	Title   string // feed title when known
	Status  FeedStatus
	Items   int // items in the feed; 0 when a 304 said it is unchanged
	New     int // articles newly stored
	// Err is a clear reason for a failed feed ("HTTP 500 Internal Server
	// Error", "not a feed: an HTML page", "feed body exceeds 10 MiB"), and
	// for a skipped one the back-off and the last error.
	Err      error
	Duration time.Duration
}

// Collector fetches the feeds of topics into st. A broken feed is a
// FeedResult, not an error: the error is the store's or the context's,
// returned with the results of the feeds that finished. progress, when
// non-nil, is called as each feed finishes, from one goroutine at a time.
type Collector interface {
	Collect(ctx context.Context, st FeedStore, topics []Topic, progress func(FeedResult)) ([]FeedResult, error)
}

// Summarizer writes a briefing from ranked stories.
type Summarizer interface {
	Summarize(ctx context.Context, topic Topic, stories []Story) (*Briefing, error)
}

// Answerer answers a follow-up question about b, or (b nil) from the
// topic's recent articles. onDelta, when set, receives the growing text of
// a streamed answer.
type Answerer interface {
	Answer(ctx context.Context, b *Briefing, q Question, onDelta func(text string)) (Answer, error)
}

// Message is one chat message sent to an LLM.
type Message struct {
	Role    string // "system", "user" or "assistant"
	Content string
}

// CompletionRequest asks an LLM for one completion.
type CompletionRequest struct {
	Messages []Message
	// SchemaName and Schema ask for structured output (a JSON schema);
	// providers without json_schema support get the schema in the prompt.
	SchemaName string
	Schema     []byte
	MaxTokens  int
}

// Completion is an LLM's answer.
type Completion struct {
	Text     string
	Provider string
	Usage    Usage
}

// Completer is an LLM: providers tried in order, with failover.
type Completer interface {
	Complete(ctx context.Context, req CompletionRequest) (Completion, error)
	// Stream calls onDelta with the whole text so far each time it grows.
	Stream(ctx context.Context, req CompletionRequest, onDelta func(text string)) (Completion, error)
}

// ArticleStore reads stored articles.
type ArticleStore interface {
	Article(id string) (Article, error)
	// TopicArticles returns the topic's articles published in [since, until),
	// newest first.
	TopicArticles(topic string, since, until time.Time) ([]Article, error)
}

// BriefingStore keeps built briefings and what posted briefings told.
type BriefingStore interface {
	// PutBriefing stores b, replacing a briefing with its ID; a briefing
	// without an ID gets one that sorts by time, set on b.
	PutBriefing(b *Briefing) error
	// Briefing returns a stored briefing; a missing one is ENOTFOUND.
	Briefing(id string) (*Briefing, error)
	// LatestBriefing returns the topic's briefing generated last, or
	// ENOTFOUND.
	LatestBriefing(topic string) (*Briefing, error)
	// RecordTold remembers the articles of b's stories as told to
	// p.Destination (required), and p as b.Topic's latest post there;
	// p.Topic, p.BriefingID and p.At default to b.Topic, b.ID and the
	// store's clock.
	RecordTold(b *Briefing, p Post) error
	// Told returns the ids of the topic's articles told to destination.
	Told(topic, destination string) (map[string]bool, error)
	// LastPost returns the topic's latest post to destination, if any.
	LastPost(topic, destination string) (Post, bool, error)
}

// FeedIndex reads articles by the feeds that carried them: a topic's
// articles are those of its feeds, so that a feed added to a topic brings
// what the store already has of it.
type FeedIndex interface {
	// FeedArticles returns the articles carried by any of feeds and
	// published in [since, until), newest first, each once.
	FeedArticles(feeds []string, since, until time.Time) ([]Article, error)
}

// Pruner deletes what is past the store's retention.
type Pruner interface {
	// Prune returns how many articles it deleted.
	Prune(now time.Time) (int, error)
}

// Store is everything the program keeps. store (bbolt, one process) and
// store/postgres (any number of replicas) implement it, and
// store/storetest holds both to the same behaviour.
type Store interface {
	FeedStore
	ArticleStore
	FeedIndex
	BriefingStore
	Pruner
	Cache
	Ledger
	ThreadStore
	EventLog
	JobQueue
	VoteStore
	SubscriptionStore
	// Ping reports whether the store can be used, for readiness checks.
	Ping(ctx context.Context) error
	Close() error
}

// Cache keeps derived values, such as LLM story summaries, across runs.
type Cache interface {
	Get(key string) ([]byte, bool, error)
	Put(key string, value []byte) error
}

// SlotState is where a schedule slot stands in the post ledger.
type SlotState string

const (
	SlotClaimed SlotState = "claimed"
	SlotPosted  SlotState = "posted"
	// SlotQuiet is a slot done without a briefing: nothing was new for
	// its destinations (a note may have been posted instead).
	SlotQuiet SlotState = "quiet"
)

// Slot is one firing of a schedule, tracked so that it is posted at most
// once, also across a crash and restart.
type Slot struct {
	// Key is "<schedule id>@<slot time RFC 3339 UTC>".
	Key        string    `json:"key"`
	Schedule   string    `json:"schedule"`
	Time       time.Time `json:"time"`
	State      SlotState `json:"state"`
	Channel    string    `json:"channel,omitempty"`
	MessageTS  string    `json:"message_ts,omitempty"`
	BriefingID string    `json:"briefing_id,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
	// LeaseUntil is how long a claim holds: past it (or released, or its
	// holder known gone) another process may claim the slot again. Zero
	// holds until released.
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	// Attempts counts the claims taken on the slot; above 1 an earlier
	// attempt may have posted it already.
	Attempts int `json:"attempts,omitempty"`
}

// Ledger records schedule slots: claimed before posting, posted after.
type Ledger interface {
	// ClaimSlot records s as claimed for lease (0: until released) by the
	// store's clock, unless its key is known and done, or claimed by
	// another whose lease holds; it returns the stored slot and whether
	// this call claimed it. Of any number of callers, also in several
	// processes, one wins a claim.
	ClaimSlot(s Slot, lease time.Duration) (Slot, bool, error)
	// ReleaseSlot ends the lease on a claimed slot, so that a retry may
	// claim it at once; a done or unknown slot is left alone.
	ReleaseSlot(key string) error
	// UnfinishedSlots returns the schedule's slots claimed and not done
	// whose time is at or after since, oldest first.
	UnfinishedSlots(schedule string, since time.Time) ([]Slot, error)
	// MarkSlotPosted records where the slot's briefing was posted.
	MarkSlotPosted(key, channel, messageTS, briefingID string) error
	// MarkSlotQuiet records the slot as done with nothing new to post.
	MarkSlotQuiet(key string) error
	Slot(key string) (Slot, bool, error)
	// LastSlot returns the newest slot of a schedule.
	LastSlot(schedule string) (Slot, bool, error)
}

// ThreadStore keeps chat threads and their follow-ups across restarts.
type ThreadStore interface {
	PutThread(Thread) error
	Thread(key string) (Thread, bool, error)
	AppendTurn(key string, t Turn) error
}

// EventLog remembers delivered chat events so a redelivery is handled once.
type EventLog interface {
	// FirstDelivery records id and reports whether it was new; ids older
	// than the log's horizon are forgotten.
	FirstDelivery(id string, now time.Time) (bool, error)
}

// Job is acknowledged chat work not yet done: a slash command's briefing,
// an answer to a question. It is recorded before its request is
// acknowledged, so that a process that dies leaves it to the next one.
type Job struct {
	// ID names the request (e.g. "slack:msg:C123:1700000000.000100"), so
	// that a request delivered twice is one job.
	ID string `json:"id"`
	// Kind says which worker runs it, e.g. "slack.question".
	Kind string `json:"kind"`
	// Payload is the request, encoded by the front end that enqueued it.
	Payload json.RawMessage `json:"payload"`
	// Progress is what the job recorded of its steps (its placeholder's
	// ts, the briefing it built), so that whoever resumes it continues
	// rather than repeats.
	Progress json.RawMessage `json:"progress,omitempty"`
	// Attempts counts the leases taken on the job, the enqueuer's included.
	Attempts   int       `json:"attempts"`
	EnqueuedAt time.Time `json:"enqueued_at"`
}

// JobQueue holds acknowledged chat work until it is done, so that it is
// done at least once however the process ends; each step of a job makes
// itself idempotent (a post looks for itself before posting again), so that
// the chat sees it once. A job is leased to one worker at a time: the one
// that enqueued it, then whoever claims it after the lease ran out.
type JobQueue interface {
	// Enqueue records j as pending, leased to the caller for lease,
	// unless a job with its ID was enqueued before (pending, or done
	// within the queue's horizon of an hour); it reports whether it
	// recorded j. The caller then runs j.
	Enqueue(ctx context.Context, j Job, lease time.Duration) (bool, error)
	// Claim leases up to limit pending jobs of kind whose lease has run
	// out, oldest first, each for lease, and counts an attempt on each.
	// A backend may know a lease holder has ended earlier (bbolt: the file
	// lock proves an earlier process gone).
	Claim(ctx context.Context, kind string, lease time.Duration, limit int) ([]Job, error)
	// Checkpoint replaces a pending job's Progress.
	Checkpoint(ctx context.Context, id string, progress json.RawMessage) error
	// Release ends the lease on a pending job, so that it can be claimed
	// at once (its worker is stopping, or has no room for it).
	Release(ctx context.Context, id string) error
	// Done ends a job for good. Done on an unknown job is no error.
	Done(ctx context.Context, id string) error
	// PendingJobs counts the jobs not done, leased or not.
	PendingJobs(ctx context.Context) (int, error)
}

// Vote is one reader's feedback on a story of a briefing posted to a
// destination. A reader has one vote per story there: the last one cast.
type Vote struct {
	Destination string `json:"destination"`
	StoryID     string `json:"story_id"`
	User        string `json:"user"`
	// Value is +1 (more like this) or -1 (less like this).
	Value      int    `json:"value"`
	BriefingID string `json:"briefing_id,omitempty"`
	// Sources and Terms are the story's publishers and title terms, what
	// the vote moves the destination's ranking by.
	Sources []string  `json:"sources,omitempty"`
	Terms   []string  `json:"terms,omitempty"`
	At      time.Time `json:"at"`
}

// VoteStore keeps readers' votes.
type VoteStore interface {
	// PutVote records v, replacing the same user's vote on the same story
	// in the same destination.
	PutVote(v Vote) error
	// Votes returns the destination's votes cast at or after since.
	Votes(destination string, since time.Time) ([]Vote, error)
}

// Feedback is what chat front ends need to let readers tune the ranking
// of a destination's briefings.
type Feedback interface {
	// Vote records a reader's vote on story storyID of briefing
	// briefingID, posted to destination.
	Vote(ctx context.Context, destination, briefingID, storyID, user string, value int) error
	// Why explains the order of the stories of the briefing last posted
	// to destination, one line per story.
	Why(ctx context.Context, destination string) ([]string, error)
}

// Subscription is a destination's set-up of a topic made in chat: the
// times it gets the topic's briefing, and the audience its briefings are
// written for.
type Subscription struct {
	Destination string `json:"destination"`
	// Address reaches the destination beyond its key: a Teams
	// conversation's serviceUrl.
	Address string `json:"address,omitempty"`
	Topic   string `json:"topic"`
	// Cron is a five-field cron spec or a descriptor (@daily, @every 1h)
	// read in Timezone (an IANA name); "" when only the audience is set.
	Cron     string `json:"cron,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	Audience string `json:"audience,omitempty"`
	// By is who made the last change, as the platform names them.
	By        string    `json:"by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SubscriptionStore keeps the subscriptions made in chat.
type SubscriptionStore interface {
	// PutSubscription records s, replacing the destination's set-up of
	// the same topic.
	PutSubscription(s Subscription) error
	// DeleteSubscription forgets the destination's set-up of the topic;
	// an unknown one is no error.
	DeleteSubscription(destination, topic string) error
	// Subscriptions returns every stored subscription.
	Subscriptions() ([]Subscription, error)
}

// ChannelSetup changes what a destination gets, for commands in chat.
// Every change returns what now holds and is logged with who made it.
type ChannelSetup interface {
	// Subscribe makes sub.Destination get sub.Topic's briefing at
	// sub.Cron in sub.Timezone; the audience set before is kept.
	Subscribe(ctx context.Context, sub Subscription) (Subscription, error)
	// Unsubscribe stops destination's subscription to topic.
	Unsubscribe(ctx context.Context, destination, topic, by string) error
	// SetAudience sets the audience of destination's briefings of topic.
	SetAudience(ctx context.Context, destination, topic, audience, by string) (Subscription, error)
	// Subscriptions returns destination's set-up, topic by topic.
	Subscriptions(destination string) ([]Subscription, error)
}
