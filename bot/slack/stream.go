package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

// Native streaming (chat.startStream, appendStream, stopStream) shows an
// answer as it is written without editing a message over and over. Text is
// buffered: an append goes out once streamChunk characters are waiting or
// the oldest waited UpdateInterval, and never sooner than UpdateInterval
// after the previous one, as Slack's own SDKs pace it.
const (
	streamChunk = 250
	// maxMarkdownText is Slack's limit on one call's markdown_text.
	maxMarkdownText = 12000
	// answerFeedbackAction is the action_id of an answer's feedback buttons.
	answerFeedbackAction = "answer_feedback"
)

// openAnswer starts the answer's message in m's thread: a native stream
// where Slack allows one, else a placeholder that edits stream into. A
// workspace that does not know chat.startStream is not asked again. A
// resumed job takes up the message its earlier attempt started: a stream
// that process left is stopped and then edited like a placeholder.
func (b *Bot) openAnswer(ctx context.Context, log *slog.Logger, j briefing.Job, m message, progress answerProgress) (chat.AnswerView, error) {
	threadTS := m.replyTo()
	if progress.Stream != "" {
		if _, _, err := b.api.StopStreamContext(ctx, m.Channel, progress.Stream); err != nil {
			log.Debug("stop the stream of an earlier attempt", slog.Any("error", err))
		}
		return b.placeholderIn(ctx, log, j, m.Channel, threadTS, progress.Stream), nil
	}
	if progress.Placeholder == "" && !b.streamUnknown.Load() {
		view, err := b.startStream(ctx, log, m.Channel, threadTS, m.User, m.Team)
		if err == nil {
			progress.Stream = view.ts
			b.checkpoint(ctx, log, j, progress)
			return view, nil
		}
		var refused slack.SlackErrorResponse
		if errors.As(err, &refused) && refused.Err == "unknown_method" {
			b.streamUnknown.Store(true)
		}
		log.Info("native streaming refused; editing a placeholder instead", slog.Any("error", err))
	}
	if progress.Placeholder == "" {
		ts, err := b.reply(ctx, j, m.Channel, threadTS, "placeholder", placeholderText)
		if err != nil {
			return nil, fmt.Errorf("post answer placeholder: %w", err)
		}
		progress.Placeholder = ts
		b.checkpoint(ctx, log, j, progress)
	}
	return b.placeholderIn(ctx, log, j, m.Channel, threadTS, progress.Placeholder), nil
}

// checkpoint records a question job's progress; a failure only costs a
// resumed job a second message.
func (b *Bot) checkpoint(ctx context.Context, log *slog.Logger, j briefing.Job, progress answerProgress) {
	data, err := json.Marshal(progress)
	if err == nil {
		err = b.opts.Jobs.Checkpoint(ctx, j.ID, data)
	}
	if err != nil {
		log.Error("record answer progress", slog.Any("error", err))
	}
}

// nativeAnswer is an answer streamed with chat.appendStream.
type nativeAnswer struct {
	bot      *Bot
	log      *slog.Logger
	channel  string
	ts       string
	interval time.Duration

	mu     sync.Mutex
	latest string
	wake   chan struct{}
	quit   chan struct{}
	done   chan struct{}

	// sent is the part of the answer appended so far, and broken stops
	// appending after a refused append or a draft that no longer extends
	// sent; both belong to the appending goroutine until done is closed.
	sent   string
	broken bool
}

func (b *Bot) startStream(ctx context.Context, log *slog.Logger, channel, threadTS, asker, team string) (*nativeAnswer, error) {
	var ts string
	err := b.paced(ctx, channel, func() error {
		var err error
		_, ts, err = b.api.StartStreamContext(ctx, channel, slack.MsgOptionTS(threadTS),
			slack.MsgOptionRecipientUserID(asker), slack.MsgOptionRecipientTeamID(team))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("chat.startStream in %s: %w", channel, err)
	}
	s := &nativeAnswer{bot: b, log: log.With(slog.String("stream_ts", ts)), channel: channel, ts: ts,
		interval: b.opts.UpdateInterval, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go s.appendLoop(ctx)
	return s, nil
}

func (s *nativeAnswer) Set(text string) {
	s.mu.Lock()
	s.latest = text
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ready is the settled text of the draft not yet appended: up to its last
// white space, since the word being written may still turn into a
// citation or a link that is scrubbed.
func (s *nativeAnswer) ready() string {
	s.mu.Lock()
	draft := s.latest
	s.mu.Unlock()
	if !strings.HasPrefix(draft, s.sent) {
		s.broken = true
		return ""
	}
	end := strings.LastIndexAny(draft, " \n\t") + 1
	if end <= len(s.sent) {
		return ""
	}
	return draft[len(s.sent):end]
}

// appendLoop appends settled text until finish or fail stop it.
func (s *nativeAnswer) appendLoop(ctx context.Context) {
	defer close(s.done)
	var last, waiting time.Time // the previous append; since when text waits
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		chunk := ""
		if !s.broken {
			chunk = s.ready()
		}
		due := time.Time{}
		if chunk != "" {
			if waiting.IsZero() {
				waiting = time.Now()
			}
			due = last.Add(s.interval)
			if utf8.RuneCountInString(chunk) < streamChunk {
				due = later(due, waiting.Add(s.interval))
			}
			if !time.Now().Before(due) {
				s.append(ctx, chunk)
				last, waiting = time.Now(), time.Time{}
				continue
			}
			timer.Reset(time.Until(due))
		}
		select {
		case <-s.quit:
			return
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// append sends chunk; a refused append ends appending, and the rest of
// the answer comes with chat.stopStream.
func (s *nativeAnswer) append(ctx context.Context, chunk string) {
	for _, part := range markdownParts(Escape(chunk)) {
		if _, _, err := s.bot.api.AppendStreamContext(ctx, s.channel, s.ts, slack.MsgOptionMarkdownText(part)); err != nil {
			s.log.Warn("chat.appendStream failed; the rest comes when the answer is done", slog.Any("error", err))
			s.broken = true
			return
		}
	}
	s.sent += chunk
}

// markdownParts cuts text into pieces Slack takes in one call.
func markdownParts(text string) []string {
	if text == "" {
		return nil
	}
	return splitText(text, maxMarkdownText)
}

// Halt ends appending and waits for an append in flight.
func (s *nativeAnswer) Halt() {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	<-s.done
}

func (s *nativeAnswer) Fail(ctx context.Context, text string) error {
	if s.sent != "" {
		text = "\n\n" + text
	}
	return s.close(ctx, Escape(text), nil)
}

// finish appends what the stream has not shown and stops it with the
// sources and feedback buttons. A final text that does not extend what was
// streamed (a draft's link that the answer dropped) replaces the message.
func (s *nativeAnswer) Finish(ctx context.Context, ans briefing.Answer) error {
	text := strings.TrimSpace(ans.Text)
	if text == "" {
		text = "_No answer came back._"
	}
	blocks := answerBlocks(ans)
	rest, extends := strings.CutPrefix(text, s.sent)
	if !extends {
		rest = ""
	}
	parts := markdownParts(Escape(rest))
	for len(parts) > 1 {
		if _, _, err := s.bot.api.AppendStreamContext(ctx, s.channel, s.ts, slack.MsgOptionMarkdownText(parts[0])); err != nil {
			return fmt.Errorf("chat.appendStream %s in %s: %w", s.ts, s.channel, err)
		}
		parts = parts[1:]
	}
	last := ""
	if len(parts) == 1 {
		last = parts[0]
	}
	if err := s.close(ctx, last, blocks); err != nil {
		return err
	}
	if extends {
		return nil
	}
	s.log.Info("streamed draft differs from the answer; replacing it")
	err := s.bot.paced(ctx, "update:"+s.channel, func() error {
		_, _, _, err := s.bot.api.UpdateMessageContext(ctx, s.channel, s.ts,
			slack.MsgOptionText(truncate(Escape(text), maxAnswerText), false), slack.MsgOptionBlocks(blocks...))
		return err
	})
	if err != nil {
		return fmt.Errorf("chat.update %s in %s: %w", s.ts, s.channel, err)
	}
	return nil
}

// close stops the stream with a last text and blocks.
func (s *nativeAnswer) close(ctx context.Context, text string, blocks []slack.Block) error {
	opts := []slack.MsgOption{}
	if text != "" {
		opts = append(opts, slack.MsgOptionMarkdownText(text))
	}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	err := s.bot.paced(ctx, "update:"+s.channel, func() error {
		_, _, err := s.bot.api.StopStreamContext(ctx, s.channel, s.ts, opts...)
		return err
	})
	if err != nil {
		return fmt.Errorf("chat.stopStream %s in %s: %w", s.ts, s.channel, err)
	}
	return nil
}

// answerBlocks end a streamed answer: its sources and feedback buttons.
func answerBlocks(ans briefing.Answer) []slack.Block {
	var blocks []slack.Block
	if links := sourceLinks(nil, ans.Sources); len(links) > 0 {
		blocks = append(blocks, mrkdwnSection("Sources: "+strings.Join(links, ", ")))
	}
	return append(blocks, feedbackBlock(answerFeedbackAction, "Good answer", "Bad answer"))
}

// Feedback button values: a vote up or down.
const (
	votePositive = "positive"
	voteNegative = "negative"
)

// feedbackBlock is a context_actions block with 👍/👎 feedback buttons.
func feedbackBlock(actionID, goodLabel, badLabel string) *slack.ContextActionsBlock {
	button := func(emoji, label, value string) *slack.FeedbackButton {
		return slack.NewFeedbackButton(slack.NewTextBlockObject(slack.PlainTextType, emoji, true, false), value).
			WithAccessibilityLabel(label)
	}
	return slack.NewContextActionsBlock("", slack.NewFeedbackButtonsBlockElement(actionID,
		button("👍", goodLabel, votePositive), button("👎", badLabel, voteNegative)))
}

// placeholderAnswer is an answer shown by editing a placeholder reply:
// where Slack refuses native streaming.
type placeholderAnswer struct {
	bot      *Bot
	job      briefing.Job
	channel  string
	threadTS string
	ts       string
	stream   *stream
}

func (b *Bot) placeholderIn(ctx context.Context, log *slog.Logger, j briefing.Job, channel, threadTS, ts string) *placeholderAnswer {
	return &placeholderAnswer{bot: b, job: j, channel: channel, threadTS: threadTS, ts: ts,
		stream: b.streamInto(ctx, log, channel, ts)}
}

func (p *placeholderAnswer) Set(text string) { p.stream.set(text) }

func (p *placeholderAnswer) Halt() { p.stream.stop() }

func (p *placeholderAnswer) Fail(ctx context.Context, text string) error {
	return p.bot.updateMessage(ctx, p.channel, p.ts, Escape(text))
}

// finish replaces the placeholder with the answer; a long one continues
// in further replies.
func (p *placeholderAnswer) Finish(ctx context.Context, ans briefing.Answer) error {
	parts := answerParts(ans)
	err := p.bot.updateMessage(ctx, p.channel, p.ts, parts[0])
	for i, part := range parts[1:] {
		if err != nil {
			break
		}
		_, err = p.bot.reply(ctx, p.job, p.channel, p.threadTS, fmt.Sprintf("part-%d", i+2), part)
	}
	return err
}
