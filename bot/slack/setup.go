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
}

// channelCommand answers the commands about the channel's own set-up
// (see chat.Commands), which take precedence over topics of the same name.
func (b *Bot) channelCommand(cmd slack.SlashCommand, arg string) (string, bool) {
	r := chat.Request{Destination: briefing.SlackDestination(cmd.ChannelID), User: cmd.UserID}
	for _, sc := range b.opts.Schedules {
		if sc.Channel == cmd.ChannelID {
			r.Configured = append(r.Configured, chat.Configured{Topic: sc.Topic, Cron: sc.Cron, Timezone: sc.Timezone})
		}
	}
	return b.commands.Answer(context.Background(), r, strings.Fields(arg))
}
