package slack

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
)

// Metadata event types of the bot's posts. A posted briefing's payload
// names its slot or job, so that FindPosted and a resumed job recognise
// it; a reply's names its job and step.
const (
	eventBriefingPosted = "briefing_posted"
	eventBriefingReply  = "briefing_reply"
)

// minRetryAfter guards against a 429 without a usable wait.
const minRetryAfter = time.Second

// historyPageSize is how many messages one conversations.history call asks
// for; Slack caps it lower for some apps and pages on.
const historyPageSize = 100

// pacer spaces calls per key (a channel) by interval, in the order they
// asked, and holds a key back after Slack said to wait.
type pacer struct {
	interval time.Duration
	mu       sync.Mutex
	next     map[string]time.Time
}

func newPacer(interval time.Duration) *pacer {
	return &pacer{interval: interval, next: map[string]time.Time{}}
}

// wait reserves key's next slot and sleeps until it comes or ctx ends.
func (p *pacer) wait(ctx context.Context, key string) error {
	p.mu.Lock()
	now := time.Now()
	at := p.next[key]
	if at.Before(now) {
		at = now
	}
	p.next[key] = at.Add(p.interval)
	p.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// hold keeps key's next slot at least d away.
func (p *pacer) hold(key string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := time.Now().Add(d); until.After(p.next[key]) {
		p.next[key] = until
	}
}

// paced runs call in key's queue. On HTTP 429 it waits Retry-After and runs
// call again; any other outcome, failure included, is final, because a
// message whose post may have landed must not be posted twice.
func (b *Bot) paced(ctx context.Context, key string, call func() error) error {
	for {
		if err := b.pacer.wait(ctx, key); err != nil {
			return err
		}
		err := call()
		limited, ok := errors.AsType[*slack.RateLimitedError](err)
		if !ok {
			return err
		}
		b.log.Warn("slack rate limited; retrying", slog.String("queue", key),
			slog.Duration("retry_after", limited.RetryAfter))
		b.pacer.hold(key, max(limited.RetryAfter, minRetryAfter))
	}
}

// postMessage posts through channel's queue and returns the message's ts.
// It makes one attempt: see postOnce for a post that retries.
func (b *Bot) postMessage(ctx context.Context, channel string, opts ...slack.MsgOption) (string, error) {
	var ts string
	err := b.paced(ctx, channel, func() error {
		var err error
		_, ts, err = b.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("chat.postMessage to %s: %w", channel, postFailure(channel, err))
	}
	return ts, nil
}

// updateMessage replaces a message's text, retrying transient failures:
// an edit may be repeated. Edits have a queue of their own per channel:
// Slack's one-message-per-second pacing is for new messages, and an
// answer's edits must not hold back the next question's placeholder.
func (b *Bot) updateMessage(ctx context.Context, channel, ts, text string) error {
	err := b.retrying(ctx, "chat.update", func(bool) error {
		return b.paced(ctx, "update:"+channel, func() error {
			_, _, _, err := b.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(text, false))
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("chat.update %s in %s: %w", ts, channel, err)
	}
	return nil
}

// postEphemeral shows text to one user in channel, through its queue.
func (b *Bot) postEphemeral(ctx context.Context, channel, user, text string) error {
	err := b.paced(ctx, channel, func() error {
		_, err := b.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false))
		return err
	})
	if err != nil {
		return fmt.Errorf("chat.postEphemeral to %s in %s: %w", user, channel, err)
	}
	return nil
}

func threadKey(channel, ts string) string { return "slack:" + channel + ":" + ts }

// PostBriefing posts br to channel as one top-level message (Block Kit and
// notification text) carrying metadata {event_type: "briefing_posted",
// event_payload: {"briefing_id", "topic", "slot"}}, with slotKey "" outside
// a schedule. It goes through the channel's paced queue, waits out 429s and
// retries transient failures after looking for its own post. It records the
// thread so that replies become follow-ups, and returns the message's ts.
// Once the message is posted it returns its ts and no error: failing to
// record the thread is logged, since posting again would repeat the
// briefing.
func (b *Bot) PostBriefing(ctx context.Context, channel string, br *briefing.Briefing, slotKey string) (string, error) {
	if br == nil || b.opts.Threads == nil {
		return "", errors.New("post briefing: needs a briefing and Options.Threads")
	}
	if slotKey == "" {
		// Any other post is told apart by a name of its own.
		return b.postBriefing(ctx, channel, br, "command", postMark{key: "post", value: rand.Text()}, false)
	}
	return b.postBriefing(ctx, channel, br, "scheduled", postMark{key: "slot", value: slotKey}, false)
}

// postBriefing posts br once: mark names this post among the bot's
// briefings (a slot, a job), so that a retry, or a resumed job when
// lookFirst is set, finds the post before posting again.
func (b *Bot) postBriefing(ctx context.Context, channel string, br *briefing.Briefing, kind string, mark postMark, lookFirst bool) (string, error) {
	posting := b.postingLock(channel)
	posting.Lock()
	defer posting.Unlock()
	mark.eventType = eventBriefingPosted
	mark.extra = map[string]any{"briefing_id": br.ID, "topic": br.Topic}
	ts, err := b.postOnce(ctx, channel, "", mark, lookFirst,
		slack.MsgOptionText(notificationText(br), false),
		slack.MsgOptionBlocks(Blocks(br)...),
		slack.MsgOptionDisableLinkUnfurl())
	b.opts.Metrics.Posted("slack", kind, err)
	if err != nil {
		return "", fmt.Errorf("post briefing %s: %w", br.ID, err)
	}
	b.log.Info("briefing posted", slog.String("channel", channel), slog.String("ts", ts),
		slog.String("briefing_id", br.ID), slog.String("topic", br.Topic), slog.String(mark.key, mark.value))
	b.recordThread(channel, ts, br.ID, br.Topic)
	return ts, nil
}

// recordThread records a posted briefing's thread so that its replies
// become follow-ups. A failure is logged: the post stands.
func (b *Bot) recordThread(channel, ts, briefingID, topic string) {
	thread := briefing.Thread{Key: threadKey(channel, ts), BriefingID: briefingID, Topic: topic}
	if err := b.opts.Threads.PutThread(thread); err != nil {
		b.log.Error("record briefing thread; its replies will not be follow-ups",
			slog.String("thread", thread.Key), slog.Any("error", err))
	}
}

// PostNote posts to channel the one line saying that a schedule's slot
// has nothing new there, with a link to the last briefing there. It
// carries the slot in its metadata as a briefing does, so that a slot
// noted before a crash is not noted twice, and returns the message's ts.
func (b *Bot) PostNote(ctx context.Context, channel string, quiet *briefing.Quiet, slotKey string) (string, error) {
	text := b.quietText(ctx, b.log, quiet)
	posting := b.postingLock(channel)
	posting.Lock()
	defer posting.Unlock()
	mark := postMark{eventType: eventBriefingPosted, key: "slot", value: slotKey,
		extra: map[string]any{"briefing_id": "", "topic": quiet.Topic.ID}}
	ts, err := b.postOnce(ctx, channel, "", mark, false, slack.MsgOptionText(text, false), slack.MsgOptionDisableLinkUnfurl())
	b.opts.Metrics.Posted("slack", "note", err)
	if err != nil {
		return "", fmt.Errorf("post note on %s: %w", quiet.Topic.ID, err)
	}
	b.log.Info("quiet note posted", slog.String("channel", channel), slog.String("ts", ts),
		slog.String("topic", quiet.Topic.ID), slog.String("slot", slotKey))
	return ts, nil
}

// FindPosted looks through channel's history since that time for a
// briefing this bot posted for slotKey, so a slot claimed before a crash is
// not posted twice. A briefing found gets its thread recorded and its
// stories marked told, which the crash may have left undone.
func (b *Bot) FindPosted(ctx context.Context, channel, slotKey string, since time.Time) (string, bool, error) {
	if slotKey == "" {
		return "", false, errors.New("find posted briefing: empty slot key")
	}
	mark := postMark{eventType: eventBriefingPosted, key: "slot", value: slotKey}
	m, found, err := b.findOwn(ctx, channel, "", since, mark)
	if err != nil || !found {
		return "", false, err
	}
	b.recoverBriefing(ctx, channel, m)
	return m.Timestamp, true, nil
}

// recoverBriefing records what posting briefing message m should have
// been followed by: its thread, and its stories as told.
func (b *Bot) recoverBriefing(ctx context.Context, channel string, m slack.Message) {
	id, _ := m.Metadata.EventPayload["briefing_id"].(string)
	topic, _ := m.Metadata.EventPayload["topic"].(string)
	log := b.log.With(slog.String("channel", channel), slog.String("ts", m.Timestamp), slog.String("briefing_id", id))
	if id == "" {
		// A note that a slot had nothing new: no thread, nothing told.
		return
	}
	br, err := b.opts.Service.Briefing(ctx, id)
	if err != nil {
		log.Error("read a recovered briefing; its stories stay untold", slog.Any("error", err))
	} else {
		topic = br.Topic
		if err := b.opts.Service.MarkPosted(ctx, br, briefing.Post{Destination: briefing.SlackDestination(channel), MessageID: m.Timestamp}); err != nil {
			log.Error("mark recovered briefing posted", slog.Any("error", err))
		}
	}
	b.recordThread(channel, m.Timestamp, id, topic)
	log.Info("found a briefing posted before a restart; recorded its thread")
}

// postMark names one of the bot's posts in its message metadata, so that
// the post can be found again: event type, and the payload entry key =
// value that tells it apart (a slot, a job's step), besides extra entries.
type postMark struct {
	eventType  string
	key, value string
	extra      map[string]any
}

func (p postMark) metadata() slack.SlackMetadata {
	payload := map[string]any{p.key: p.value}
	for k, v := range p.extra {
		payload[k] = v
	}
	return slack.SlackMetadata{EventType: p.eventType, EventPayload: payload}
}

func (p postMark) matches(m slack.Message) bool {
	return m.Metadata.EventType == p.eventType && m.Metadata.EventPayload[p.key] == p.value
}

// postOnce posts a message marked with mark in channel (in thread threadTS
// when set) and returns its ts. After a transient failure, and first of
// all when lookFirst is set, it looks for its own post: the failed attempt
// may have landed, and an earlier process may have posted it.
func (b *Bot) postOnce(ctx context.Context, channel, threadTS string, mark postMark, lookFirst bool, opts ...slack.MsgOption) (string, error) {
	opts = append(opts, slack.MsgOptionMetadata(mark.metadata()))
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	since := b.opts.Now().Add(-clockSkew)
	var ts string
	err := b.retrying(ctx, "chat.postMessage", func(retry bool) error {
		if retry || lookFirst {
			m, found, err := b.findOwn(ctx, channel, threadTS, since, mark)
			if err != nil {
				return err
			}
			if found {
				ts = m.Timestamp
				b.log.Info("found an earlier attempt's post", slog.String("channel", channel), slog.String("ts", ts),
					slog.String(mark.key, mark.value))
				return nil
			}
		}
		var err error
		ts, err = b.postMessage(ctx, channel, opts...)
		return err
	})
	return ts, err
}

// clockSkew is the margin for the clocks of this host and Slack when
// searching history for a post made after a time taken here.
const clockSkew = time.Minute

// findOwn looks for the bot's message marked with mark: in channel's
// history since that time, or in the thread threadTS when set.
func (b *Bot) findOwn(ctx context.Context, channel, threadTS string, since time.Time, mark postMark) (slack.Message, bool, error) {
	_, botID, err := b.identity(ctx)
	if err != nil {
		return slack.Message{}, false, err
	}
	var found slack.Message
	match := func(msgs []slack.Message) bool {
		for _, m := range msgs {
			if m.BotID == botID && mark.matches(m) {
				found = m
				return true
			}
		}
		return false
	}
	if threadTS != "" {
		ok, err := b.searchReplies(ctx, channel, threadTS, match)
		return found, ok, err
	}
	ok, err := b.searchHistory(ctx, channel, since, match)
	return found, ok, err
}

// searchHistory pages through channel's history since that time until
// match reports a hit.
func (b *Bot) searchHistory(ctx context.Context, channel string, since time.Time, match func([]slack.Message) bool) (bool, error) {
	params := &slack.GetConversationHistoryParameters{
		ChannelID: channel, Limit: historyPageSize, IncludeAllMetadata: true, Inclusive: true,
	}
	if !since.IsZero() {
		params.Oldest = fmt.Sprintf("%d.%06d", since.Unix(), since.Nanosecond()/1000)
	}
	for {
		var page *slack.GetConversationHistoryResponse
		err := b.retrying(ctx, "conversations.history", func(bool) error {
			return b.paced(ctx, "history:"+channel, func() error {
				var err error
				page, err = b.api.GetConversationHistoryContext(ctx, params)
				return err
			})
		})
		if err != nil {
			return false, fmt.Errorf("conversations.history of %s: %w", channel, err)
		}
		if match(page.Messages) {
			return true, nil
		}
		if !page.HasMore || page.ResponseMetaData.NextCursor == "" {
			return false, nil
		}
		params.Cursor = page.ResponseMetaData.NextCursor
	}
}

// searchReplies pages through a thread until match reports a hit.
func (b *Bot) searchReplies(ctx context.Context, channel, threadTS string, match func([]slack.Message) bool) (bool, error) {
	params := &slack.GetConversationRepliesParameters{
		ChannelID: channel, Timestamp: threadTS, Limit: historyPageSize, IncludeAllMetadata: true,
	}
	for {
		var msgs []slack.Message
		var more bool
		var next string
		err := b.retrying(ctx, "conversations.replies", func(bool) error {
			return b.paced(ctx, "history:"+channel, func() error {
				var err error
				msgs, more, next, err = b.api.GetConversationRepliesContext(ctx, params)
				return err
			})
		})
		if err != nil {
			return false, fmt.Errorf("conversations.replies of %s in %s: %w", threadTS, channel, err)
		}
		if match(msgs) {
			return true, nil
		}
		if !more || next == "" {
			return false, nil
		}
		params.Cursor = next
	}
}

// maxTransientRetries bounds the retries of one call after transient
// failures; the work then fails, to be resumed later.
const maxTransientRetries = 4

// retrying runs attempt, and again after a transient failure (HTTP 5xx, a
// network error, Slack's own internal errors) with exponential back-off
// from Options.RetryWait, at most maxTransientRetries more times. attempt
// learns whether it is a retry: a post then first looks for itself.
func (b *Bot) retrying(ctx context.Context, method string, attempt func(retry bool) error) error {
	wait := b.opts.RetryWait
	err := attempt(false)
	for try := 1; try <= maxTransientRetries && transient(err) && ctx.Err() == nil; try++ {
		b.log.Warn("slack call failed; retrying", slog.String("method", method), slog.Duration("in", wait),
			slog.Int("retry", try), slog.Any("error", err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		wait *= 2
		err = attempt(true)
	}
	return err
}

// transient reports whether err may pass if the call is made again.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if status, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return status.Code >= 500
	}
	if resp, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		switch resp.Err {
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
			return true
		}
		return false
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED)
}
