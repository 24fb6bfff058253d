package slack

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/briefing-bot/briefing"
)

const (
	placeholderText = "_Looking into it…_"
	// maxAnswerText is one reply's share of a long answer; the rest
	// continues in further replies.
	maxAnswerText = 3500
	emptyQuestion = "Ask me a question in this thread, e.g. “what does this mean for us?”"
)

// message is a chat message that may be a question for the bot.
type message struct {
	eventID  string
	channel  string
	user     string
	text     string
	ts       string
	threadTS string
	// addressed is set for app_mention events and direct messages: answered
	// even outside the bot's threads.
	addressed bool
}

// event handles an acked Events API envelope.
func (s *session) event(req *socketmode.Request, api slackevents.EventsAPIEvent) {
	b := s.bot
	callback, ok := api.Data.(*slackevents.EventsAPICallbackEvent)
	if api.Type != slackevents.CallbackEvent || !ok {
		return
	}
	m, ok := b.candidate(callback.EventID, api.InnerEvent.Data)
	if !ok {
		b.log.Debug("event ignored", slog.String("event_id", callback.EventID), slog.String("type", api.InnerEvent.Type))
		return
	}
	if req.RetryAttempt > 0 {
		b.log.Debug("event redelivered", slog.String("event_id", m.eventID), slog.Int("retry_attempt", req.RetryAttempt),
			slog.String("retry_reason", req.RetryReason))
	}
	if !s.spawn(b.answers, func(ctx context.Context) { b.followUp(ctx, m) }) {
		b.log.Warn("message dropped: too many questions queued", slog.String("event_id", m.eventID),
			slog.String("channel", m.channel), slog.String("ts", m.ts))
	}
}

// candidate keeps the events that may be questions: people's new messages
// in threads, and mentions. Edits, deletions, other subtypes and every
// bot's messages are dropped.
func (b *Bot) candidate(eventID string, data any) (message, bool) {
	b.mu.Lock()
	self := b.botUserID
	b.mu.Unlock()
	switch ev := data.(type) {
	case *slackevents.MessageEvent:
		// A reply also sent to the channel is still a reply.
		plain := ev.SubType == "" || ev.SubType == slack.MsgSubTypeThreadBroadcast
		inThread := ev.ThreadTimeStamp != "" && ev.ThreadTimeStamp != ev.TimeStamp
		// Everything said in a direct message is said to the bot, which
		// Slack does not mark as a mention there.
		direct := ev.ChannelType == "im"
		if !plain || !(inThread || direct) || ev.BotID != "" || ev.User == "" || ev.User == self {
			return message{}, false
		}
		return message{eventID: eventID, channel: ev.Channel, user: ev.User, text: ev.Text,
			ts: ev.TimeStamp, threadTS: ev.ThreadTimeStamp, addressed: direct}, true
	case *slackevents.AppMentionEvent:
		if ev.BotID != "" || ev.User == "" || ev.User == self || ev.Edited != nil {
			return message{}, false
		}
		return message{eventID: eventID, channel: ev.Channel, user: ev.User, text: ev.Text,
			ts: ev.TimeStamp, threadTS: ev.ThreadTimeStamp, addressed: true}, true
	}
	return message{}, false
}

// followUp answers m if it is a question for the bot: a reply in a
// briefing's thread, or a mention anywhere. Each message is answered once,
// however often and in how many events Slack delivers it.
func (b *Bot) followUp(ctx context.Context, m message) {
	log := b.log.With(slog.String("channel", m.channel), slog.String("ts", m.ts), slog.String("event_id", m.eventID))
	var thread briefing.Thread
	known := false
	if m.threadTS != "" && m.threadTS != m.ts {
		var err error
		thread, known, err = b.opts.Threads.Thread(threadKey(m.channel, m.threadTS))
		if err == nil && !known {
			// The briefing may have been posted but not yet recorded.
			posting := b.postingLock(m.channel)
			posting.RLock()
			thread, known, err = b.opts.Threads.Thread(threadKey(m.channel, m.threadTS))
			posting.RUnlock()
		}
		if err != nil {
			log.Error("look up thread", slog.Any("error", err))
		}
	}
	if !known && !m.addressed {
		log.Debug("reply in a thread the bot did not start; ignored")
		return
	}
	if !b.firstDelivery(log, m) {
		return
	}
	replyTo := m.threadTS
	if replyTo == "" {
		replyTo = m.ts
	}
	q := briefing.Question{Text: b.questionText(m.text)}
	if q.Text == "" {
		if _, err := b.postMessage(ctx, m.channel, slack.MsgOptionText(emptyQuestion, false), slack.MsgOptionTS(replyTo)); err != nil {
			log.Error("post hint", slog.Any("error", err))
		}
		return
	}
	key := ""
	if known {
		key = threadKey(m.channel, m.threadTS)
		q.BriefingID, q.Topic, q.History = thread.BriefingID, thread.Topic, thread.Turns
	} else {
		q.Topic = b.mentionedTopic(q.Text)
	}
	b.answer(ctx, log, m.channel, replyTo, key, q)
}

// firstDelivery records m's event and message and reports whether neither
// was seen: Slack redelivers envelopes, and delivers a mention in a thread
// both as message and as app_mention.
func (b *Bot) firstDelivery(log *slog.Logger, m message) bool {
	now := b.opts.Now()
	for _, id := range []string{"event:" + m.eventID, "msg:" + m.channel + ":" + m.ts} {
		first, err := b.opts.Events.FirstDelivery(id, now)
		if err != nil {
			// Answering twice beats never answering.
			log.Error("record delivery", slog.String("id", id), slog.Any("error", err))
			continue
		}
		if !first {
			log.Debug("already handled", slog.String("id", id))
			return false
		}
	}
	return true
}

// questionText is the question without the bot's mention, unescaped.
func (b *Bot) questionText(text string) string {
	b.mu.Lock()
	self := b.botUserID
	b.mu.Unlock()
	if self != "" {
		mention := "<@" + self
		for {
			i := strings.Index(text, mention)
			if i < 0 {
				break
			}
			end := strings.IndexByte(text[i:], '>')
			if end < 0 {
				break
			}
			text = text[:i] + text[i+end+1:]
		}
	}
	return strings.TrimSpace(unescape.Replace(text))
}

// mentionedTopic is the topic a mention names by id or name, else the first.
func (b *Bot) mentionedTopic(text string) string {
	topics := b.opts.Service.Topics()
	lower := strings.ToLower(text)
	for _, word := range strings.FieldsFunc(lower, func(r rune) bool { return !isWordRune(r) }) {
		for _, t := range topics {
			if strings.EqualFold(t.ID, word) {
				return t.ID
			}
		}
	}
	for _, t := range topics {
		if t.Name != "" && strings.Contains(lower, strings.ToLower(t.Name)) {
			return t.ID
		}
	}
	if len(topics) > 0 {
		return topics[0].ID
	}
	return ""
}

func isWordRune(r rune) bool {
	return r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > utf8.RuneSelf
}

// answer posts a placeholder in the thread at once, streams the answer
// into it, and finishes it with the answer and its sources; a long answer
// continues in further replies.
func (b *Bot) answer(ctx context.Context, log *slog.Logger, channel, threadTS, key string, q briefing.Question) {
	start := time.Now()
	placeholder, err := b.postMessage(ctx, channel, slack.MsgOptionText(placeholderText, false), slack.MsgOptionTS(threadTS),
		slack.MsgOptionDisableLinkUnfurl())
	if err != nil {
		b.opts.Metrics.Posted("slack", "answer", err)
		log.Error("post answer placeholder", slog.Any("error", err))
		return
	}
	stream := b.streamInto(ctx, log, channel, placeholder)
	ans, err := b.opts.Service.Answer(ctx, q, stream.set)
	stream.stop()
	if err != nil {
		b.opts.Metrics.Posted("slack", "answer", err)
		log.Error("answer follow-up", slog.String("briefing_id", q.BriefingID), slog.String("topic", q.Topic), slog.Any("error", err))
		if err := b.updateMessage(ctx, channel, placeholder, Escape(briefing.ErrorMessage(err))); err != nil {
			log.Error("show answer failure", slog.Any("error", err))
		}
		return
	}
	// Recorded before it is shown, so that a reply to the answer has it as
	// context however fast it comes.
	if key != "" {
		if err := b.opts.Threads.AppendTurn(key, briefing.Turn{Question: q.Text, Answer: ans.Text, At: b.opts.Now()}); err != nil {
			log.Error("record follow-up turn", slog.String("thread", key), slog.Any("error", err))
		}
	}
	parts := answerParts(ans)
	err = b.updateMessage(ctx, channel, placeholder, parts[0])
	for _, part := range parts[1:] {
		if err != nil {
			break
		}
		_, err = b.postMessage(ctx, channel, slack.MsgOptionText(part, false), slack.MsgOptionTS(threadTS),
			slack.MsgOptionDisableLinkUnfurl())
	}
	b.opts.Metrics.Posted("slack", "answer", err)
	if err != nil {
		log.Error("post answer", slog.Any("error", err))
		return
	}
	log.Info("follow-up answered", slog.String("thread", threadTS), slog.String("briefing_id", q.BriefingID),
		slog.String("topic", q.Topic), slog.Int("sources", len(ans.Sources)), slog.Duration("took", time.Since(start)))
}

// answerParts renders an answer as reply texts of at most maxAnswerText,
// the last ending with its sources as links.
func answerParts(ans briefing.Answer) []string {
	text := Escape(strings.TrimSpace(ans.Text))
	if text == "" {
		text = "_No answer came back._"
	}
	parts := splitText(text, maxAnswerText)
	links := sourceLinks(nil, ans.Sources)
	if len(links) == 0 {
		return parts
	}
	sources := "Sources: " + strings.Join(links, ", ")
	last := len(parts) - 1
	if utf8.RuneCountInString(parts[last])+2+utf8.RuneCountInString(sources) <= maxAnswerText {
		parts[last] += "\n\n" + sources
		return parts
	}
	return append(parts, sources)
}

// stream shows a growing answer in its placeholder, editing it at most
// once per UpdateInterval. Edits are best effort: the final update follows.
type stream struct {
	mu     sync.Mutex
	latest string
	quit   chan struct{}
	done   chan struct{}
}

func (b *Bot) streamInto(ctx context.Context, log *slog.Logger, channel, ts string) *stream {
	s := &stream{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(b.opts.UpdateInterval)
		defer tick.Stop()
		shown := ""
		for {
			select {
			case <-s.quit:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			s.mu.Lock()
			text := s.latest
			s.mu.Unlock()
			if text == "" || text == shown {
				continue
			}
			shown = text
			partial := truncate(Escape(text), maxAnswerText-2) + " …"
			if _, _, _, err := b.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(partial, false)); err != nil {
				log.Debug("stream answer", slog.Any("error", err))
			}
		}
	}()
	return s
}

// set is the onDelta callback: text is the whole answer so far.
func (s *stream) set(text string) {
	s.mu.Lock()
	s.latest = text
	s.mu.Unlock()
}

// stop ends the streaming and waits for an edit in flight.
func (s *stream) stop() {
	close(s.quit)
	<-s.done
}
