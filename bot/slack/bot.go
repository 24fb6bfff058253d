// Package slack is the Slack front end: socket mode for the /briefing
// command and follow-up questions, the Web API for posting briefings and
// answers, and the Block Kit rendering of a briefing.
package slack

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
	"github.com/briefing-bot/briefing/metrics"
)

// How much work runs at once: builds are heavy (feeds, an LLM), answers
// lighter. Up to maxWaiting more of each kind wait their turn after their
// envelope was acknowledged; beyond that the work is refused.
const (
	maxBuilds  = 4
	maxAnswers = 8
	maxWaiting = 100
	// A question refused for want of room gets a short reply; those wait
	// in a queue of their own, which is larger since they are quick.
	maxBusyReplies = 2
	maxBusyWaiting = 1000
)

// httpTimeout bounds one Web API call. slack-go's own client has none, and
// the work's context has no deadline before shutdown, so a stalled
// connection would otherwise hold a post (and a scheduled slot) forever.
const httpTimeout = 30 * time.Second

// ScheduleInfo describes a schedule for /briefing help.
type ScheduleInfo struct {
	Topic, Cron, Timezone, Channel string
}

// Options configure a Bot. BotToken is required; Run needs AppToken,
// Service, Threads and Jobs, PostBriefing needs Threads; Check alone
// needs none of them, so a config check does not open the store.
type Options struct {
	BotToken, AppToken string
	// APIURL is the Web API base URL (a proxy, a test server); default
	// Slack's. A missing trailing "/" is added.
	APIURL  string
	Service briefing.Service
	Threads briefing.ThreadStore
	// Jobs records each acknowledged command and question until it is
	// answered, so that a restart resumes it.
	Jobs briefing.JobQueue
	// Feedback, when set, records readers' votes on stories and explains
	// rankings (/briefing why).
	Feedback briefing.Feedback
	// Setup, when set, lets channels set themselves up with /briefing
	// subscribe, unsubscribe and audience; Admins, when not empty, are
	// the only users who may.
	Setup     briefing.ChannelSetup
	Admins    []string
	Schedules []ScheduleInfo
	Logger    *slog.Logger
	Metrics   *metrics.Metrics
	// PostInterval paces posts to one channel; default 1s, Slack's rate.
	PostInterval time.Duration
	// UpdateInterval paces the edits that stream an answer; default 1s.
	UpdateInterval time.Duration
	// RetryWait is the first wait before a call that failed transiently
	// (HTTP 5xx, a network error) is made again; it doubles each retry.
	// Default 1s.
	RetryWait time.Duration
	Now       func() time.Time
}

// Bot talks to one Slack workspace.
type Bot struct {
	opts    Options
	api     *slack.Client
	log     *slog.Logger
	pacer   *pacer
	builds  *chat.Queue
	answers *chat.Queue
	replies *chat.Queue // busy replies to refused questions
	// commands answers the set-up commands (subscribe, list, why, …).
	commands *chat.Commands
	answerer chat.Answerer

	// connected is whether the socket-mode connection is up, for
	// readiness checks.
	connected atomic.Bool

	mu        sync.Mutex
	botUserID string // from auth.test; "" until Check succeeds
	botID     string
	// streamUnknown is set once Slack answered chat.startStream with
	// unknown_method: answers then edit a placeholder without asking.
	streamUnknown atomic.Bool
	// posting holds a lock per channel from before a briefing is posted
	// until its thread is recorded, so that a reply arriving in that
	// moment is not taken for a reply in a thread the bot did not start.
	posting map[string]*sync.RWMutex
}

// Ready reports whether the socket-mode connection is up: a nil error, or
// one saying that it is not.
func (b *Bot) Ready() error {
	if !b.connected.Load() {
		return errors.New("slack socket mode is not connected")
	}
	return nil
}

// postingLock returns the channel's lock between posting and recording.
func (b *Bot) postingLock(channel string) *sync.RWMutex {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.posting[channel]
	if !ok {
		l = new(sync.RWMutex)
		b.posting[channel] = l
	}
	return l
}

// New validates opts and returns a Bot; it makes no network call.
func New(opts Options) (*Bot, error) {
	switch {
	case opts.BotToken == "":
		return nil, invalidf("slack.bot_token is empty; set it to the app's bot token (xoxb-…)")
	case !strings.HasPrefix(opts.BotToken, "xoxb-"):
		return nil, invalidf("slack.bot_token must be a bot token starting with \"xoxb-\" (the Bot User OAuth Token)")
	case opts.AppToken != "" && !strings.HasPrefix(opts.AppToken, "xapp-"):
		return nil, invalidf("slack.app_token must be an app-level token starting with \"xapp-\" (with the connections:write scope)")
	}
	if opts.APIURL != "" {
		u, err := url.Parse(opts.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, invalidf("slack.api_url %q is not an http(s) URL", opts.APIURL)
		}
		if !strings.HasSuffix(opts.APIURL, "/") {
			opts.APIURL += "/" // slack-go appends method names verbatim
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PostInterval <= 0 {
		opts.PostInterval = time.Second
	}
	if opts.UpdateInterval <= 0 {
		opts.UpdateInterval = time.Second
	}
	if opts.RetryWait <= 0 {
		opts.RetryWait = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger.With(slog.String("platform", "slack"))
	clientOpts := []slack.Option{
		slack.OptionHTTPClient(&http.Client{Timeout: httpTimeout}),
		slack.OptionAppLevelToken(opts.AppToken),
		slack.OptionLog(slackLog(log)),
		slack.OptionDebug(debugging(log)),
	}
	if opts.APIURL != "" {
		clientOpts = append(clientOpts, slack.OptionAPIURL(opts.APIURL))
	}
	b := &Bot{
		opts:    opts,
		posting: map[string]*sync.RWMutex{},
		api:     slack.New(opts.BotToken, clientOpts...),
		log:     log,
		pacer:   newPacer(opts.PostInterval),
		builds:  chat.NewQueue(maxBuilds, maxWaiting, log),
		answers: chat.NewQueue(maxAnswers, maxWaiting, log),
		replies: chat.NewQueue(maxBusyReplies, maxBusyWaiting, log),
	}
	b.answerer = chat.Answerer{Service: opts.Service, Threads: opts.Threads, Now: opts.Now}
	b.commands = &chat.Commands{Service: opts.Service, Setup: opts.Setup, Feedback: opts.Feedback, Admins: opts.Admins,
		Logger: log, Markup: slackMarkup}
	for name, q := range map[string]*chat.Queue{kindCommand: b.builds, kindQuestion: b.answers, "slack.busy": b.replies} {
		q.Observe(func(running, waiting int) { opts.Metrics.Queued(name, running, waiting) })
	}
	return b, nil
}

// slackLog bridges slack-go's logger to slog. slack-go only logs in debug
// mode, so debugging switches that on when the logger wants debug records.
func slackLog(log *slog.Logger) *stdlog.Logger {
	return slog.NewLogLogger(log.Handler(), slog.LevelDebug)
}

func debugging(log *slog.Logger) bool { return log.Enabled(context.Background(), slog.LevelDebug) }

// Check calls auth.test and remembers the bot's user id and bot id, which
// tell its own messages and mentions apart. Its errors are sentences that
// name slack.bot_token.
func (b *Bot) Check(ctx context.Context) error {
	resp, err := b.api.AuthTestContext(ctx)
	if err != nil {
		return authFailure("slack.bot_token", "auth.test", b.endpoint(), err)
	}
	b.mu.Lock()
	b.botUserID, b.botID = resp.UserID, resp.BotID
	b.mu.Unlock()
	b.log.Info("slack auth ok", slog.String("team", resp.Team), slog.String("bot_user", resp.UserID),
		slog.String("bot_id", resp.BotID))
	return nil
}

// identity returns the bot's user id and bot id, calling Check the first
// time.
func (b *Bot) identity(ctx context.Context) (userID, botID string, err error) {
	b.mu.Lock()
	userID, botID = b.botUserID, b.botID
	b.mu.Unlock()
	if userID != "" {
		return userID, botID, nil
	}
	if err := b.Check(ctx); err != nil {
		return "", "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.botUserID, b.botID, nil
}

func (b *Bot) endpoint() string {
	if b.opts.APIURL != "" {
		return b.opts.APIURL
	}
	return slack.APIURL
}

// userError is an error whose briefing.Error carries a sentence fit for a
// person, while the cause stays in the chain for errors.Is and the log.
type userError struct {
	safe  *briefing.Error
	cause error
}

func (e *userError) Error() string   { return e.safe.Message }
func (e *userError) Unwrap() []error { return []error{e.safe, e.cause} }

func invalidf(format string, args ...any) error {
	return briefing.Errorf(briefing.EINVALID, format, args...)
}

// authFailure explains why Slack refused or could not be reached with the
// token at key. A refused token is EINVALID; anything else may pass and is
// EINTERNAL.
func authFailure(key, method, endpoint string, err error) error {
	code, msg := briefing.EINVALID, ""
	var resp slack.SlackErrorResponse
	var status slack.StatusCodeError
	var limited *slack.RateLimitedError
	switch {
	case errors.As(err, &resp) && (resp.Err == "invalid_auth" || resp.Err == "not_authed"):
		msg = fmt.Sprintf("Slack rejected %s (%s) in %s: check that it is the current token of the installed app", key, resp.Err, method)
	case errors.As(err, &resp) && resp.Err == "token_revoked":
		msg = fmt.Sprintf("Slack says %s was revoked (token_revoked): reinstall the app and use its new token", key)
	case errors.As(err, &resp) && resp.Err == "account_inactive":
		msg = fmt.Sprintf("Slack says the workspace or app behind %s is inactive (account_inactive)", key)
	case errors.As(err, &resp):
		msg = fmt.Sprintf("Slack refused %s with %s (%s)", method, key, resp.Err)
	case errors.As(err, &limited):
		code = briefing.EINTERNAL
		msg = fmt.Sprintf("Slack is rate limiting %s; it asked to wait %s", method, limited.RetryAfter)
	case errors.As(err, &status):
		code = briefing.EINTERNAL
		msg = fmt.Sprintf("Slack answered %s at %s with HTTP %d", method, endpoint, status.Code)
	default:
		code = briefing.EINTERNAL
		msg = fmt.Sprintf("cannot reach Slack at %s for %s: %v", endpoint, method, err)
	}
	return &userError{safe: briefing.Errorf(code, "%s", msg), cause: err}
}

// postFailure turns Slack's answer to a post into a sentence for the person
// who asked, where Slack's error code has a known remedy.
func postFailure(channel string, err error) error {
	var resp slack.SlackErrorResponse
	if !errors.As(err, &resp) {
		return err
	}
	var msg string
	switch resp.Err {
	case "not_in_channel", "channel_not_found":
		msg = "I can't post in this channel; invite me to it (/invite @briefing) and try again."
	case "is_archived":
		msg = "This channel is archived, so I can't post in it."
	case "restricted_action", "restricted_action_read_only_channel", "restricted_action_non_threadable_channel":
		msg = "This channel doesn't allow me to post here."
	default:
		return err
	}
	return &userError{safe: briefing.Errorf(briefing.EINVALID, "%s", msg), cause: fmt.Errorf("%s: %w", channel, err)}
}
