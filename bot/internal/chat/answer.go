package chat

import (
	"context"
	"log/slog"
	"time"

	"github.com/briefing-bot/briefing"
)

// AnswerView shows one answer in a chat while it is being written; each
// platform has its own (a native stream, an edited placeholder, a reply).
type AnswerView interface {
	// Set is the answer's onDelta: text is the whole answer so far.
	Set(text string)
	// Halt stops showing drafts and waits for a call in flight.
	Halt()
	// Fail shows text, a failure told to the reader, as the answer.
	Fail(ctx context.Context, text string) error
	// Finish shows the whole answer with its sources.
	Finish(ctx context.Context, ans briefing.Answer) error
}

// FollowUp is a question asked in a chat, and where its turn is kept.
type FollowUp struct {
	Question briefing.Question
	// Thread is the key of the briefing's thread that keeps the turn; ""
	// keeps none (a mention outside a briefing's thread).
	Thread string
	// Recorded says an earlier attempt kept the turn already.
	Recorded bool
}

// Answerer answers follow-ups for a chat front end.
type Answerer struct {
	Service briefing.Service
	Threads briefing.ThreadStore
	Now     func() time.Time
}

// Answer asks the question, shows the answer in view as it is written,
// and keeps the turn before showing the whole answer, so that a reply to
// the answer has it as context however fast it comes. It returns the
// answer, the error answering gave (shown in view as a sentence for the
// reader, unless ctx ended), and the error showing it.
func (a Answerer) Answer(ctx context.Context, log *slog.Logger, view AnswerView, f FollowUp) (ans briefing.Answer, answerErr, showErr error) {
	q := f.Question
	ans, answerErr = a.Service.Answer(ctx, q, view.Set)
	view.Halt()
	if answerErr != nil {
		if ctx.Err() != nil {
			return ans, answerErr, nil
		}
		log.Error("answer follow-up", slog.String("briefing_id", q.BriefingID), slog.String("topic", q.Topic), slog.Any("error", answerErr))
		return ans, answerErr, view.Fail(ctx, briefing.ErrorMessage(answerErr))
	}
	if f.Thread != "" && !f.Recorded {
		if err := a.Threads.AppendTurn(f.Thread, briefing.Turn{Question: q.Text, Answer: ans.Text, At: a.Now()}); err != nil {
			log.Error("record follow-up turn", slog.String("thread", f.Thread), slog.Any("error", err))
		}
	}
	return ans, nil, view.Finish(ctx, ans)
}
