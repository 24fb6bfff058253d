package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
)

// eventBriefingPosted is the metadata event type of a posted briefing; its
// payload's "slot" lets FindPosted recognise a schedule slot's post.
const eventBriefingPosted = "briefing_posted"

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

// updateMessage replaces a message's text. Edits have a queue of their own
// per channel: Slack's one-message-per-second pacing is for new messages,
// and an answer's edits must not hold back the next question's placeholder.
func (b *Bot) updateMessage(ctx context.Context, channel, ts, text string) error {
	err := b.paced(ctx, "update:"+channel, func() error {
		_, _, _, err := b.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(text, false))
		return err
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
// event_payload: {"briefing_id", "slot"}}, with slotKey "" outside a
// schedule. It goes through the channel's paced queue and waits out 429s. It
// records the thread so that replies become follow-ups, and returns the
// message's ts. Once the message is posted it returns its ts and no error:
// failing to record the thread is logged, since posting again would repeat
// the briefing.
func (b *Bot) PostBriefing(ctx context.Context, channel string, br *briefing.Briefing, slotKey string) (string, error) {
	if br == nil || b.opts.Threads == nil {
		return "", errors.New("post briefing: needs a briefing and Options.Threads")
	}
	kind := "command"
	if slotKey != "" {
		kind = "scheduled"
	}
	posting := b.postingLock(channel)
	posting.Lock()
	defer posting.Unlock()
	meta := slack.SlackMetadata{EventType: eventBriefingPosted,
		EventPayload: map[string]any{"briefing_id": br.ID, "slot": slotKey}}
	ts, err := b.postMessage(ctx, channel,
		slack.MsgOptionText(notificationText(br), false),
		slack.MsgOptionBlocks(Blocks(br)...),
		slack.MsgOptionMetadata(meta),
		slack.MsgOptionDisableLinkUnfurl())
	b.opts.Metrics.Posted("slack", kind, err)
	if err != nil {
		return "", fmt.Errorf("post briefing %s: %w", br.ID, err)
	}
	b.log.Info("briefing posted", slog.String("channel", channel), slog.String("ts", ts),
		slog.String("briefing_id", br.ID), slog.String("topic", br.Topic), slog.String("slot", slotKey))
	thread := briefing.Thread{Key: threadKey(channel, ts), BriefingID: br.ID, Topic: br.Topic}
	if err := b.opts.Threads.PutThread(thread); err != nil {
		b.log.Error("record briefing thread; its replies will not be follow-ups",
			slog.String("thread", thread.Key), slog.Any("error", err))
	}
	return ts, nil
}

// FindPosted looks through channel's history since that time for a
// briefing this bot posted for slotKey, so a slot claimed before a crash is
// not posted twice.
func (b *Bot) FindPosted(ctx context.Context, channel, slotKey string, since time.Time) (string, bool, error) {
	if slotKey == "" {
		return "", false, errors.New("find posted briefing: empty slot key")
	}
	_, botID, err := b.identity(ctx)
	if err != nil {
		return "", false, err
	}
	params := &slack.GetConversationHistoryParameters{
		ChannelID: channel, Limit: historyPageSize, IncludeAllMetadata: true, Inclusive: true,
	}
	if !since.IsZero() {
		params.Oldest = fmt.Sprintf("%d.%06d", since.Unix(), since.Nanosecond()/1000)
	}
	for {
		var page *slack.GetConversationHistoryResponse
		err := b.paced(ctx, "history:"+channel, func() error {
			var err error
			page, err = b.api.GetConversationHistoryContext(ctx, params)
			return err
		})
		if err != nil {
			return "", false, fmt.Errorf("find slot %s in %s: conversations.history: %w", slotKey, channel, err)
		}
		for _, m := range page.Messages {
			if m.BotID == botID && m.Metadata.EventType == eventBriefingPosted && m.Metadata.EventPayload["slot"] == slotKey {
				return m.Timestamp, true, nil
			}
		}
		if !page.HasMore || page.ResponseMetaData.NextCursor == "" {
			return "", false, nil
		}
		params.Cursor = page.ResponseMetaData.NextCursor
	}
}
