package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

// Kinds of the jobs the Slack front end records before it acknowledges a
// request.
const (
	kindCommand  = "slack.command"
	kindQuestion = "slack.question"
)

const (
	// jobLease is how long a worker holds a job before another may take
	// it over: longer than any build or answer takes.
	jobLease = 10 * time.Minute
	// resumeInterval is how often jobs that nobody holds (left by a
	// process that ended, or released after a failure) are taken up.
	resumeInterval = 30 * time.Second
	// resumeBatch is how many jobs of a kind one look takes up.
	resumeBatch = 20
	// maxJobAttempts bounds how often a job is tried before it is given up.
	maxJobAttempts = 5
)

// busyQuestionText answers a question that found the answer queue full.
const busyQuestionText = "I'm busy with other questions right now; ask again in a minute."

// commandRequest is a command job's payload: a /briefing TOPIC to build
// and post.
type commandRequest struct {
	Channel string `json:"channel"`
	User    string `json:"user"`
	Topic   string `json:"topic"`
}

// answerProgress is a question job's progress: its placeholder's ts once
// posted, or its native stream's once started.
type answerProgress struct {
	Placeholder string `json:"placeholder,omitempty"`
	Stream      string `json:"stream,omitempty"`
}

// enqueue records the request as a job, before its envelope is acked, and
// reports whether it is new. When the store fails the job still runs, in
// memory only: answering beats never answering.
func (s *session) enqueue(ctx context.Context, kind, id string, request any) (briefing.Job, bool) {
	b := s.bot
	j := briefing.Job{ID: id, Kind: kind, Attempts: 1, EnqueuedAt: b.opts.Now()}
	payload, err := json.Marshal(request)
	if err != nil {
		b.log.Error("encode job", slog.String("job", id), slog.Any("error", err))
		return j, true
	}
	j.Payload = payload
	added, err := b.opts.Jobs.Enqueue(ctx, j, jobLease)
	if err != nil {
		b.log.Error("record job; it is lost if the process ends", slog.String("job", id), slog.Any("error", err))
		return j, true
	}
	return j, added
}

// start runs j in queue q, and reports false when q is full.
func (s *session) start(q *chat.Queue, j briefing.Job) bool {
	return s.spawn(q, func(ctx context.Context) { s.bot.runJob(ctx, j) })
}

// resume takes up, now and every resumeInterval until ctx ends, the jobs
// that nobody holds: those of a process that ended, and those released
// after a failure.
func (s *session) resume(ctx context.Context) {
	t := time.NewTicker(resumeInterval)
	defer t.Stop()
	for {
		s.resumeKind(ctx, kindCommand, s.bot.builds)
		s.resumeKind(ctx, kindQuestion, s.bot.answers)
		if n, err := s.bot.opts.Jobs.PendingJobs(ctx); err == nil {
			s.bot.opts.Metrics.Pending(n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *session) resumeKind(ctx context.Context, kind string, q *chat.Queue) {
	b := s.bot
	jobs, err := b.opts.Jobs.Claim(ctx, kind, jobLease, resumeBatch)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("look for unfinished jobs", slog.String("kind", kind), slog.Any("error", err))
		}
		return
	}
	for _, j := range jobs {
		b.log.Info("resuming unfinished job", slog.String("job", j.ID), slog.Int("attempt", j.Attempts))
		if !s.start(q, j) {
			if err := b.opts.Jobs.Release(ctx, j.ID); err != nil {
				b.log.Error("release job", slog.String("job", j.ID), slog.Any("error", err))
			}
		}
	}
}

// runJob does j and records how it ended: done, or released for a later
// attempt when it failed transiently or the process is stopping.
func (b *Bot) runJob(ctx context.Context, j briefing.Job) {
	log := b.log.With(slog.String("job", j.ID), slog.Int("attempt", j.Attempts))
	var err error
	switch j.Kind {
	case kindCommand:
		err = b.runCommand(ctx, log, j)
	case kindQuestion:
		err = b.runQuestion(ctx, log, j)
	default:
		err = fmt.Errorf("unknown job kind %q", j.Kind)
	}
	b.settle(ctx, log, j, err)
}

func (b *Bot) settle(ctx context.Context, log *slog.Logger, j briefing.Job, err error) {
	record := context.WithoutCancel(ctx)
	if err != nil && (ctx.Err() != nil || transient(err)) && j.Attempts < maxJobAttempts {
		log.Warn("job unfinished; it will be resumed", slog.Any("error", err))
		if err := b.opts.Jobs.Release(record, j.ID); err != nil {
			log.Error("release job", slog.Any("error", err))
		}
		return
	}
	if err != nil {
		log.Error("job failed; giving up", slog.Any("error", err))
	}
	if err := b.opts.Jobs.Done(record, j.ID); err != nil {
		log.Error("record job done", slog.Any("error", err))
	}
}

// runCommand builds the topic's briefing and posts it where the command
// was typed. A resumed job first looks for its post: then it only records
// what the post should have been followed by. A failure other than a
// transient one of Slack's is told to the user.
func (b *Bot) runCommand(ctx context.Context, log *slog.Logger, j briefing.Job) error {
	var c commandRequest
	if err := json.Unmarshal(j.Payload, &c); err != nil {
		return fmt.Errorf("decode command job: %w", err)
	}
	log = log.With(slog.String("topic", c.Topic), slog.String("channel", c.Channel), slog.String("user", c.User))
	mark := postMark{eventType: eventBriefingPosted, key: "job", value: j.ID}
	if j.Attempts > 1 {
		m, found, err := b.findOwn(ctx, c.Channel, "", j.EnqueuedAt.Add(-clockSkew), mark)
		if err != nil {
			return err
		}
		if found {
			b.recoverBriefing(ctx, c.Channel, m)
			return nil
		}
	}
	dest := briefing.SlackDestination(c.Channel)
	br, err := b.opts.Service.Build(ctx, c.Topic, briefing.BuildOptions{For: dest})
	if err != nil {
		// Nothing to brief (or a failure to build): the asker is told
		// why, and the channel gets no post.
		chat.LogBuildFailure(log, err)
		if err := b.postEphemeral(ctx, c.Channel, c.User, b.quietText(ctx, log, err)); err != nil {
			log.Error("tell user why there is no briefing", slog.Any("error", err))
		}
		return nil
	}
	// Looked for above already; a retry inside looks again.
	ts, err := b.postBriefing(ctx, c.Channel, br, "command", mark, false)
	if transient(err) || ctx.Err() != nil {
		return err
	}
	if err != nil {
		log.Error("briefing for /briefing failed", slog.Any("error", err))
		if err := b.postEphemeral(ctx, c.Channel, c.User, Escape(briefing.ErrorMessage(err))); err != nil {
			log.Error("tell user the briefing failed", slog.Any("error", err))
		}
		return nil
	}
	if err := b.opts.Service.MarkPosted(ctx, br, briefing.Post{Destination: dest, MessageID: ts}); err != nil {
		log.Error("mark briefing posted", slog.String("briefing_id", br.ID), slog.Any("error", err))
	}
	return nil
}

// runQuestion answers a question job.
func (b *Bot) runQuestion(ctx context.Context, log *slog.Logger, j briefing.Job) error {
	var m message
	if err := json.Unmarshal(j.Payload, &m); err != nil {
		return fmt.Errorf("decode question job: %w", err)
	}
	var progress answerProgress
	if len(j.Progress) > 0 {
		if err := json.Unmarshal(j.Progress, &progress); err != nil {
			return fmt.Errorf("decode question job progress: %w", err)
		}
	}
	return b.followUp(ctx, log.With(slog.String("channel", m.Channel), slog.String("ts", m.TS)), j, m, progress)
}

// replyMark names a job's reply by its step, e.g. "placeholder", "part-2".
func replyMark(j briefing.Job, step string) postMark {
	return postMark{eventType: eventBriefingReply, key: "job", value: j.ID + "#" + step}
}

// reply posts a job's reply text in the thread once: a resumed job first
// looks for the reply its earlier attempt may have posted.
func (b *Bot) reply(ctx context.Context, j briefing.Job, channel, threadTS, step, text string) (string, error) {
	return b.postOnce(ctx, channel, threadTS, replyMark(j, step), j.Attempts > 1,
		slack.MsgOptionText(text, false), slack.MsgOptionDisableLinkUnfurl())
}

// busy tells the asker of a question that found the answer queue full to
// ask again, and ends its job. When even the replies are full the job is
// left for a later look to answer.
func (s *session) busy(ctx context.Context, j briefing.Job, m message) {
	b := s.bot
	log := b.log.With(slog.String("job", j.ID), slog.String("channel", m.Channel), slog.String("ts", m.TS))
	ok := s.spawn(b.replies, func(ctx context.Context) {
		_, err := b.reply(ctx, j, m.Channel, m.replyTo(), "busy", busyQuestionText)
		b.opts.Metrics.Posted("slack", "busy", err)
		b.settle(ctx, log, j, err)
	})
	if !ok {
		log.Warn("question left for later: every queue is full")
		if err := b.opts.Jobs.Release(ctx, j.ID); err != nil {
			log.Error("release job", slog.Any("error", err))
		}
	}
}
