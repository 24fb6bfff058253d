package teams

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

// teamsMarkup writes chat command replies in Teams markdown.
var teamsMarkup = chat.Markup{
	Escape:  EscapeMarkdown,
	Bold:    func(s string) string { return "**" + s + "**" },
	Code:    func(s string) string { return "`" + s + "`" },
	Mention: EscapeMarkdown,
	Command: "briefing ",
	Bullet:  "- ",
	ID:      func(s string) string { return "**" + s + "**" },
	Break:   "\n\n",
}

const helpIntro = "Mention me with **briefing TOPIC** (or just the topic) and I reply with a news briefing; " +
	"mention me in a reply to its thread to ask a follow-up. **subscribe cloud weekdays 08:00 Europe/Berlin**, " +
	"**unsubscribe cloud**, **list**, **audience cloud TEXT**, **topics** and **why** set this channel up."

// user names who sent a: the AAD object id that chat.admins lists, else
// the channel account id.
func user(a activity) string {
	if a.From.AADObjectID != "" {
		return a.From.AADObjectID
	}
	return a.From.ID
}

// setupCommand starts a set-up command (see chat.Commands) if text is one,
// and reports whether it was.
// Outside a thread only: in one, the words are a follow-up question.
func (b *Bot) setupCommand(log *slog.Logger, a activity, text string) (taken, isCommand bool) {
	fields := strings.Fields(text)
	if len(fields) > 0 && strings.EqualFold(fields[0], "briefing") {
		fields = fields[1:]
	}
	if !b.commands.Handles(fields) {
		return false, false
	}
	base, _ := splitConversation(a.Conversation.ID)
	r := chat.Request{Destination: briefing.TeamsDestination(base), User: user(a), Address: a.ServiceURL}
	return b.spawn(b.answers, func(ctx context.Context) {
		if b.firstDelivery(log, a) {
			reply, _ := b.commands.Answer(ctx, r, fields)
			b.replyText(ctx, log, a, reply, "command")
		}
	}), true
}

// voteValue is the data of a story's feedback button (Action.Submit),
// which Teams sends back as the activity's value.
type voteValue struct {
	Action   string `json:"action"`
	Briefing string `json:"briefing"`
	Story    string `json:"story"`
	Value    string `json:"value"`
}

const (
	voteAction   = "briefing_vote"
	votePositive = "positive"
	voteNegative = "negative"
)

// vote starts recording a click on a story's feedback button if a is one,
// and reports whether it was.
func (b *Bot) vote(log *slog.Logger, a activity) (taken, isVote bool) {
	var v voteValue
	if len(a.Value) == 0 || json.Unmarshal(a.Value, &v) != nil || v.Action != voteAction {
		return false, false
	}
	value := map[string]int{votePositive: 1, voteNegative: -1}[v.Value]
	base, _ := splitConversation(a.Conversation.ID)
	return b.spawn(b.answers, func(ctx context.Context) {
		if value == 0 || v.Briefing == "" || v.Story == "" || b.opts.Feedback == nil || !b.firstDelivery(log, a) {
			log.Debug("feedback ignored", slog.String("value", v.Value))
			return
		}
		if err := b.opts.Feedback.Vote(ctx, briefing.TeamsDestination(base), v.Briefing, v.Story, user(a), value); err != nil {
			log.Error("record vote", slog.Any("error", err))
		}
	}), true
}

// storyVotes is a card's 👍/👎 buttons for one story.
func storyVotes(br *briefing.Briefing, story int) map[string]any {
	button := func(title, value string) map[string]any {
		return map[string]any{"type": "Action.Submit", "title": title,
			"data": voteValue{Action: voteAction, Briefing: br.ID, Story: br.Stories[story].ID, Value: value}}
	}
	return map[string]any{"type": "ActionSet", "actions": []any{
		button("👍 More like this", votePositive), button("👎 Less like this", voteNegative)}}
}

// votable reports whether story of br can carry feedback buttons.
func votable(br *briefing.Briefing, story int) bool {
	return br.ID != "" && story >= 0 && story < len(br.Stories) && br.Stories[story].ID != ""
}
