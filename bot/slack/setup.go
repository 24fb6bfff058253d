package slack

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

// channelCommand answers the commands about the channel's own set-up,
// which take precedence over topics of the same name.
func (b *Bot) channelCommand(cmd slack.SlashCommand, arg string) (string, bool) {
	ctx := context.Background()
	fields := strings.Fields(arg)
	switch strings.ToLower(fields[0]) {
	case "why":
		return b.why(ctx, cmd.ChannelID), true
	case "topics":
		return b.topicsText(), true
	case "list":
		return b.setupText(cmd.ChannelID), true
	case "subscribe", "unsubscribe", "audience":
		return b.changeSetup(ctx, cmd, fields), true
	}
	return "", false
}

const setupUsage = "Try `/briefing subscribe cloud " + chat.WhenExample + "`, `/briefing unsubscribe cloud` or " +
	"`/briefing audience cloud platform engineers at a bank`."

// changeSetup runs subscribe, unsubscribe and audience, and answers with
// what now holds for the channel.
func (b *Bot) changeSetup(ctx context.Context, cmd slack.SlashCommand, fields []string) string {
	if b.opts.Setup == nil {
		return "This briefing keeps no chat set-up; schedules are set in its config."
	}
	if len(b.opts.Admins) > 0 && !slices.Contains(b.opts.Admins, cmd.UserID) {
		b.log.Warn("set-up change refused: not an admin", slog.String("channel", cmd.ChannelID),
			slog.String("user", cmd.UserID), slog.String("command", cmd.Text))
		return "Only the briefing's admins (chat.admins) can change this channel's set-up. " + b.setupText(cmd.ChannelID)
	}
	verb := strings.ToLower(fields[0])
	if len(fields) < 2 || (verb != "unsubscribe" && len(fields) < 3) {
		return setupUsage
	}
	topic, ok := chat.FindTopic(b.opts.Service, fields[1])
	if !ok {
		return fmt.Sprintf("There is no topic “%s”. Known topics: %s.", Escape(truncate(fields[1], 100)), b.topicIDs())
	}
	dest := briefing.SlackDestination(cmd.ChannelID)
	var err error
	switch verb {
	case "subscribe":
		var when chat.When
		if when, err = chat.ParseWhen(fields[2:]); err == nil {
			_, err = b.opts.Setup.Subscribe(ctx, dest, topic.ID, when.Cron, when.Zone, cmd.UserID)
		}
	case "unsubscribe":
		err = b.opts.Setup.Unsubscribe(ctx, dest, topic.ID, cmd.UserID)
	case "audience":
		_, err = b.opts.Setup.SetAudience(ctx, dest, topic.ID, strings.Join(fields[2:], " "), cmd.UserID)
	}
	if err != nil {
		return Escape(briefing.ErrorMessage(err)) + " " + setupUsage
	}
	return "Done. " + b.setupText(cmd.ChannelID)
}

// setupText says what channel gets and when: the config's schedules and
// the subscriptions made in chat, with their audiences.
func (b *Bot) setupText(channel string) string {
	var lines []string
	for _, sc := range b.opts.Schedules {
		if sc.Channel == channel {
			lines = append(lines, fmt.Sprintf("• %s: `%s` (%s), from the config", b.topicName(sc.Topic), Escape(sc.Cron), zoneName(sc.Timezone)))
		}
	}
	if b.opts.Setup != nil {
		subs, err := b.opts.Setup.Subscriptions(briefing.SlackDestination(channel))
		if err != nil {
			b.log.Error("read chat subscriptions", slog.String("channel", channel), slog.Any("error", err))
			lines = append(lines, "• (the subscriptions made here cannot be read right now)")
		}
		for _, s := range subs {
			line := fmt.Sprintf("• %s: ", b.topicName(s.Topic))
			if s.Cron != "" {
				line += fmt.Sprintf("`%s` (%s), set here by <@%s>", Escape(s.Cron), zoneName(s.Timezone), Escape(s.By))
			} else {
				line += "no schedule"
			}
			if s.Audience != "" {
				line += "; written for " + Escape(s.Audience)
			}
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return "This channel gets no scheduled briefing. " + setupUsage
	}
	return "*This channel gets:*\n" + strings.Join(lines, "\n")
}

func (b *Bot) topicName(id string) string {
	if t, ok := b.opts.Service.Topic(id); ok {
		return Escape(chat.TopicName(t))
	}
	return Escape(id)
}

func zoneName(tz string) string {
	if tz == "" {
		return "UTC"
	}
	return Escape(tz)
}

// topicsText lists the topics and their feeds; feeds are added in the
// config.
func (b *Bot) topicsText() string {
	var sb strings.Builder
	sb.WriteString("*Topics* (feeds are set in the config):\n")
	for _, t := range b.opts.Service.Topics() {
		fmt.Fprintf(&sb, "• `%s` — %s: %d feeds\n", Escape(t.ID), Escape(chat.TopicName(t)), len(t.Feeds))
		for _, f := range t.Feeds {
			fmt.Fprintf(&sb, "    ◦ %s\n", Escape(f))
		}
	}
	return strings.TrimSpace(sb.String())
}
