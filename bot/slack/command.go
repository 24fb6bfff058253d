package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

// maxAckText keeps a command's ack well under socket mode's 20 KB limit.
const maxAckText = 3000

// ephemeral is a slash command's ack payload: a reply only its user sees.
type ephemeral struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

func ackReply(text string) ephemeral {
	return ephemeral{ResponseType: slack.ResponseTypeEphemeral, Text: truncate(text, maxAckText)}
}

// busyText answers a command when too many briefings are already queued.
const busyText = "Too many briefings are being prepared right now; try again in a minute."

// slashCommand acks /briefing with its reply and, for a topic, builds and
// posts the briefing in a goroutine. The build is recorded as a job and
// queued before the ack, so that it survives the process and the ack can
// say when it was refused; it does its slow work after.
func (s *session) slashCommand(ctx context.Context, received time.Time, req *socketmode.Request, cmd slack.SlashCommand) {
	b := s.bot
	text, topic, build := b.commandReply(cmd)
	if build {
		// A redelivered envelope keeps its id; the trigger names the command.
		id := cmd.TriggerID
		if id == "" {
			id = req.EnvelopeID
		}
		request := commandRequest{Channel: cmd.ChannelID, User: cmd.UserID, Topic: topic.ID}
		if j, added := s.enqueue(ctx, kindCommand, "slack:command:"+id, request); added && !s.start(b.builds, j) {
			text = busyText
			b.opts.Metrics.Refused(kindCommand)
			b.log.Warn("briefing refused: too many queued", slog.String("topic", topic.ID), slog.String("channel", cmd.ChannelID))
			if err := b.opts.Jobs.Done(ctx, j.ID); err != nil {
				b.log.Error("drop refused job", slog.String("job", j.ID), slog.Any("error", err))
			}
		}
	}
	s.ack(ctx, received, req.EnvelopeID, ackReply(text))
	b.log.Info("slash command", slog.String("command", cmd.Command), slog.String("text", cmd.Text),
		slog.String("channel", cmd.ChannelID), slog.String("user", cmd.UserID))
}

// commandReply answers "/briefing [topic | help]" and says whether a
// briefing of topic is to be built.
func (b *Bot) commandReply(cmd slack.SlashCommand) (text string, topic briefing.Topic, build bool) {
	arg := strings.TrimSpace(cmd.Text)
	if arg == "" || strings.EqualFold(arg, "help") {
		return b.commands.Help(helpIntro, b.request(cmd)), briefing.Topic{}, false
	}
	if reply, ok := b.channelCommand(cmd, arg); ok {
		return reply, briefing.Topic{}, false
	}
	t, ok := chat.FindTopic(b.opts.Service, arg)
	if !ok {
		return fmt.Sprintf("There is no topic “%s”. Known topics: %s. Try `/briefing help`.",
			Escape(truncate(arg, 100)), b.commands.TopicIDs()), briefing.Topic{}, false
	}
	return fmt.Sprintf("Preparing the %s briefing…", Escape(chat.TopicName(t))), t, true
}

// quietText is the mrkdwn telling why err left nothing to post: its
// message, with a link to the briefing it refers to when Slack gives one.
func (b *Bot) quietText(ctx context.Context, log *slog.Logger, err error) string {
	text := Escape(briefing.ErrorMessage(err))
	var quiet *briefing.Quiet
	if !errors.As(err, &quiet) || quiet.Last == nil {
		return text
	}
	channel, ok := strings.CutPrefix(quiet.Last.Destination, "slack:")
	if !ok || quiet.Last.MessageID == "" {
		return text
	}
	link, err := b.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: quiet.Last.MessageID})
	if err != nil {
		// The message may be gone; the sentence still says when it was.
		log.Warn("link to the last briefing", slog.String("message_ts", quiet.Last.MessageID), slog.Any("error", err))
		return text
	}
	return text + " <" + link + "|Open that briefing>"
}
