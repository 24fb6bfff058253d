package slack

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

// slackMarkup writes chat command replies in mrkdwn.
var slackMarkup = chat.Markup{
	Escape:  Escape,
	Bold:    func(s string) string { return "*" + s + "*" },
	Code:    func(s string) string { return "`" + s + "`" },
	Mention: func(user string) string { return "<@" + Escape(user) + ">" },
	Command: "/briefing ",
	Bullet:  "• ",
	ID:      func(s string) string { return "`" + s + "`" },
	Break:   "\n",
}

// channelCommand answers the commands about the channel's own set-up
// (see chat.Commands), which take precedence over topics of the same name.
func (b *Bot) channelCommand(cmd slack.SlashCommand, arg string) (string, bool) {
	return b.commands.Answer(context.Background(), b.request(cmd), strings.Fields(arg))
}

// request is a slash command as chat.Commands reads it.
func (b *Bot) request(cmd slack.SlashCommand) chat.Request {
	r := chat.Request{Destination: briefing.SlackDestination(cmd.ChannelID), User: cmd.UserID}
	for _, sc := range b.opts.Schedules {
		if sc.Channel == cmd.ChannelID {
			r.Configured = append(r.Configured, chat.Configured{Topic: sc.Topic, Cron: sc.Cron, Timezone: sc.Timezone})
		}
	}
	return r
}

const helpIntro = "*/briefing TOPIC* posts a news briefing in this channel; reply in its thread to ask a follow-up.\n" +
	"`/briefing subscribe cloud weekdays 08:00 Europe/Berlin`, `unsubscribe cloud`, `list`, `audience cloud TEXT`, " +
	"`topics` and `why` set this channel up."
