package slack

import (
	"context"
	"log/slog"
	"strings"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
)

// storyFeedbackAction is the action_id of a story's feedback buttons; the
// block's id names the briefing and the story: "vote|<briefing>|<story>".
const (
	storyFeedbackAction = "story_feedback"
	voteBlockPrefix     = "vote|"
)

// storyVotes puts feedback buttons after each story's last section of a
// briefing's message, for readers to say "more/less like this".
type storyVotes struct {
	br   *briefing.Briefing
	last int // the story of the sections added last
}

func (v *storyVotes) valid(story int) bool {
	return v.br.ID != "" && story >= 0 && story < len(v.br.Stories) && v.br.Stories[story].ID != ""
}

// needs is how many blocks of buttons showing p commits to: those of
// the story before when p starts another, and those of p's own story.
func (v *storyVotes) needs(p briefing.Paragraph) int {
	n := 0
	if v.valid(v.last) && v.last != p.Story {
		n++
	}
	if v.valid(p.Story) {
		n++
	}
	return n
}

// end appends the buttons of the story shown last when next is another
// one, and returns the blocks and the room left.
func (v *storyVotes) end(blocks []slack.Block, next, room int) ([]slack.Block, int) {
	if next == v.last {
		return blocks, room
	}
	if v.valid(v.last) {
		blocks = append(blocks, v.block(v.last))
		room--
	}
	v.last = next
	return blocks, room
}

func (v *storyVotes) block(story int) slack.Block {
	b := feedbackBlock(storyFeedbackAction, "More like this", "Less like this")
	b.BlockID = voteBlockPrefix + v.br.ID + "|" + v.br.Stories[story].ID
	return b
}

// vote records a reader's click on a story's feedback buttons.
func (b *Bot) vote(ctx context.Context, cb slack.InteractionCallback, action *slack.BlockAction) {
	log := b.log.With(slog.String("channel", cb.Channel.ID), slog.String("user", cb.User.ID), slog.String("block", action.BlockID))
	ids, ok := strings.CutPrefix(action.BlockID, voteBlockPrefix)
	briefingID, storyID, ok2 := strings.Cut(ids, "|")
	value := map[string]int{votePositive: 1, voteNegative: -1}[action.Value]
	if !ok || !ok2 || value == 0 {
		log.Warn("feedback not understood", slog.String("value", action.Value))
		return
	}
	if b.opts.Feedback == nil {
		log.Debug("feedback ignored: votes are not kept")
		return
	}
	dest := briefing.SlackDestination(cb.Channel.ID)
	if err := b.opts.Feedback.Vote(ctx, dest, briefingID, storyID, cb.User.ID, value); err != nil {
		log.Error("record vote", slog.Any("error", err))
	}
}

// interactive records the votes in an acked block_actions payload.
func (s *session) interactive(ctx context.Context, cb slack.InteractionCallback) {
	b := s.bot
	if cb.Type != slack.InteractionTypeBlockActions {
		return
	}
	// A vote is one small write: done at once, like the ack before it.
	for _, a := range cb.ActionCallback.BlockActions {
		switch a.ActionID {
		case storyFeedbackAction:
			b.vote(ctx, cb, a)
		case answerFeedbackAction:
			b.log.Info("answer feedback", slog.String("channel", cb.Channel.ID), slog.String("user", cb.User.ID),
				slog.String("message", cb.Container.MessageTs), slog.String("value", a.Value))
		}
	}
}
