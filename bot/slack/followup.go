package slack

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

const (
	placeholderText = "_Looking into it…_"
	// maxAnswerText is one reply's share of a long answer; the rest
	// continues in further replies.
	maxAnswerText = 3500
	emptyQuestion = "Ask me a question in this thread, e.g. “what does this mean for us?”"
)

// message is a chat message that may be a question for the bot: the
// payload of a question job.
type message struct {
	EventID  string `json:"event_id"`
	Channel  string `json:"channel"`
	User     string `json:"user"`
	Text     string `json:"text"`
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts,omitempty"`
	// Team is the asker's workspace, which a native stream names.
	Team string `json:"team,omitempty"`
	// Addressed is set for mentions and direct messages: answered even
	// outside the bot's threads.
	Addressed bool `json:"addressed,omitempty"`
}

// replyTo is the thread the answer goes in: the message's own, else a new
// one under it.
func (m message) replyTo() string {
	if m.ThreadTS != "" {
		return m.ThreadTS
	}
	return m.TS
}

// inThread reports whether m is a reply in a thread.
func (m message) inThread() bool { return m.ThreadTS != "" && m.ThreadTS != m.TS }

// event handles an Events API envelope. A message that may be a question
// is recorded as a job before the envelope is acked, and answered after.
// The job is named by the message, so that a redelivered envelope, and a
// mention delivered both as message and as app_mention, are one job.
func (s *session) event(ctx context.Context, received time.Time, req *socketmode.Request, api slackevents.EventsAPIEvent) {
	b := s.bot
	callback, ok := api.Data.(*slackevents.EventsAPICallbackEvent)
	m, candidate := message{}, false
	if api.Type == slackevents.CallbackEvent && ok {
		m, candidate = b.candidate(callback.EventID, api.InnerEvent.Data)
	}
	if candidate {
		m.Team = callback.TeamID
	}
	if !candidate || !b.mayAnswer(m) {
		s.ack(ctx, received, req.EnvelopeID, nil)
		b.log.Debug("event ignored", slog.String("envelope_id", req.EnvelopeID), slog.String("type", api.InnerEvent.Type))
		return
	}
	j, added := s.enqueue(ctx, kindQuestion, "slack:msg:"+m.Channel+":"+m.TS, m)
	s.ack(ctx, received, req.EnvelopeID, nil)
	if !added {
		b.log.Debug("already handled", slog.String("event_id", m.EventID), slog.Int("retry_attempt", req.RetryAttempt))
		return
	}
	if !s.start(b.answers, j) {
		b.opts.Metrics.Refused(kindQuestion)
		b.log.Warn("question refused: too many queued", slog.String("event_id", m.EventID),
			slog.String("channel", m.Channel), slog.String("ts", m.TS))
		s.busy(ctx, j, m)
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
		// A mention comes as this message too: it is addressed either way,
		// so that whichever event comes first makes the same job.
		mentioned := self != "" && strings.Contains(ev.Text, "<@"+self)
		return message{EventID: eventID, Channel: ev.Channel, User: ev.User, Text: ev.Text,
			TS: ev.TimeStamp, ThreadTS: ev.ThreadTimeStamp, Addressed: direct || mentioned}, true
	case *slackevents.AppMentionEvent:
		if ev.BotID != "" || ev.User == "" || ev.User == self || ev.Edited != nil {
			return message{}, false
		}
		return message{EventID: eventID, Channel: ev.Channel, User: ev.User, Text: ev.Text,
			TS: ev.TimeStamp, ThreadTS: ev.ThreadTimeStamp, Addressed: true}, true
	}
	return message{}, false
}

// mayAnswer decides, before the ack and without waiting, whether m may be
// a question: addressed to the bot, a reply in a known thread, or a reply
// in a channel where a briefing is being posted (its thread may not be
// recorded yet). The job decides for good.
func (b *Bot) mayAnswer(m message) bool {
	if m.Addressed {
		return true
	}
	if !m.inThread() {
		return false
	}
	_, known, err := b.opts.Threads.Thread(threadKey(m.Channel, m.ThreadTS))
	if err != nil || known {
		return true
	}
	posting := b.postingLock(m.Channel)
	if !posting.TryRLock() {
		return true
	}
	posting.RUnlock()
	return false
}

// followUp answers m if it is a question for the bot: a reply in a
// briefing's thread, or a mention anywhere.
func (b *Bot) followUp(ctx context.Context, log *slog.Logger, j briefing.Job, m message, progress answerProgress) error {
	var thread briefing.Thread
	known := false
	if m.inThread() {
		var err error
		thread, known, err = b.opts.Threads.Thread(threadKey(m.Channel, m.ThreadTS))
		if err == nil && !known {
			// The briefing may have been posted but not yet recorded.
			posting := b.postingLock(m.Channel)
			posting.RLock()
			thread, known, err = b.opts.Threads.Thread(threadKey(m.Channel, m.ThreadTS))
			posting.RUnlock()
		}
		if err != nil {
			log.Error("look up thread", slog.Any("error", err))
		}
	}
	if !known && !m.Addressed {
		log.Debug("reply in a thread the bot did not start; ignored")
		return nil
	}
	q := briefing.Question{Text: b.questionText(m.Text)}
	if q.Text == "" {
		_, err := b.reply(ctx, j, m.Channel, m.replyTo(), "hint", emptyQuestion)
		return err
	}
	key := ""
	if known {
		key = threadKey(m.Channel, m.ThreadTS)
		q.BriefingID, q.Topic, q.History = thread.BriefingID, thread.Topic, thread.Turns
	} else {
		q.Topic = b.mentionedTopic(q.Text)
	}
	return b.answer(ctx, log, j, m, key, q, progress)
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

// answer shows the answer in the thread as it is written (see
// openAnswer) and finishes it with its sources; a resumed job finishes the
// message its earlier attempt started rather than start another.
func (b *Bot) answer(ctx context.Context, log *slog.Logger, j briefing.Job, m message, key string, q briefing.Question, progress answerProgress) error {
	start := time.Now()
	view, err := b.openAnswer(ctx, log, j, m, progress)
	if err != nil {
		b.opts.Metrics.Posted("slack", "answer", err)
		return fmt.Errorf("start answer: %w", err)
	}
	// A resumed job kept the turn already when the thread's last turn is
	// this question.
	recorded := j.Attempts > 1 && lastQuestion(q.History) == q.Text
	ans, answerErr, err := b.answerer.Answer(ctx, log, view, chat.FollowUp{Question: q, Thread: key, Recorded: recorded})
	if answerErr != nil {
		if ctx.Err() == nil {
			b.opts.Metrics.Posted("slack", "answer", answerErr)
			return err
		}
		return answerErr
	}
	b.opts.Metrics.Posted("slack", "answer", err)
	if err != nil {
		return fmt.Errorf("post answer: %w", err)
	}
	log.Info("follow-up answered", slog.String("thread", m.replyTo()), slog.String("briefing_id", q.BriefingID),
		slog.String("topic", q.Topic), slog.Int("sources", len(ans.Sources)), slog.Duration("took", time.Since(start)))
	return nil
}

func lastQuestion(turns []briefing.Turn) string {
	if len(turns) == 0 {
		return ""
	}
	return turns[len(turns)-1].Question
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
