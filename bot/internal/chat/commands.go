package chat

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/briefing-bot/briefing"
)

// Markup is how a platform writes the parts of a reply.
type Markup struct {
	// Escape makes text safe to show: no markup, no mention.
	Escape func(string) string
	// Bold and Code mark a phrase; Mention names a user.
	Bold    func(string) string
	Code    func(string) string
	Mention func(user string) string
	// Command is how a command is typed, before its words: "/briefing ".
	Command string
	// Bullet starts an item of a list: "• ", "- ".
	Bullet string
	// ID marks a topic id as people type it.
	ID func(string) string
	// Break separates paragraphs: "\n", or "\n\n" where single newlines
	// are dropped.
	Break string
}

// list writes lines as a bulleted list.
func (m Markup) list(lines []string) string {
	for i, l := range lines {
		lines[i] = m.Bullet + l
	}
	return strings.Join(lines, "\n")
}

// Configured is a config schedule of the destination, which list shows
// next to the ones made in chat.
type Configured struct{ Topic, Cron, Timezone string }

// Request is a command typed in a destination.
type Request struct {
	Destination string
	// User is who typed it, as chat.admins names people.
	User string
	// Address reaches the destination beyond its key (a Teams serviceUrl).
	Address    string
	Configured []Configured
}

// Commands answers the commands that show and change what a destination
// gets: subscribe, unsubscribe, list, audience, topics and why.
type Commands struct {
	Service briefing.Service
	// Setup and Feedback, when nil, make their commands say so.
	Setup    briefing.ChannelSetup
	Feedback briefing.Feedback
	// Admins, when not empty, are the only users who may change a set-up.
	Admins []string
	Logger *slog.Logger
	Markup Markup
}

// Handles reports whether fields are one of the commands: why, topics
// and list alone, subscribe, unsubscribe and audience with what they
// change, so that "why did prices fall?" stays a question.
func (c *Commands) Handles(fields []string) bool {
	if len(fields) == 0 {
		return false
	}
	switch strings.ToLower(fields[0]) {
	case "why", "topics", "list":
		return len(fields) == 1
	case "subscribe", "unsubscribe", "audience":
		return true
	}
	return false
}

// Answer answers fields if they are one of the commands (see Handles),
// and reports whether they were.
func (c *Commands) Answer(ctx context.Context, r Request, fields []string) (string, bool) {
	if !c.Handles(fields) {
		return "", false
	}
	switch strings.ToLower(fields[0]) {
	case "why":
		return c.why(ctx, r.Destination), true
	case "topics":
		return c.topics(), true
	case "list":
		return c.list(r), true
	case "subscribe", "unsubscribe", "audience":
		return c.change(ctx, r, fields), true
	}
	return "", false
}

func (c *Commands) usage() string {
	return fmt.Sprintf("Try %s, %s or %s.", c.Markup.Code(c.Markup.Command+"subscribe cloud "+WhenExample),
		c.Markup.Code(c.Markup.Command+"unsubscribe cloud"), c.Markup.Code(c.Markup.Command+"audience cloud platform engineers at a bank"))
}

// change runs subscribe, unsubscribe and audience, and answers with what
// now holds for the destination.
func (c *Commands) change(ctx context.Context, r Request, fields []string) string {
	esc := c.Markup.Escape
	if c.Setup == nil {
		return "This briefing keeps no chat set-up; schedules are set in its config."
	}
	if len(c.Admins) > 0 && !slices.Contains(c.Admins, r.User) {
		c.Logger.Warn("set-up change refused: not an admin", slog.String("destination", r.Destination),
			slog.String("user", r.User), slog.String("command", strings.Join(fields, " ")))
		return "Only the briefing's admins (chat.admins) can change the set-up here. " + c.list(r)
	}
	verb := strings.ToLower(fields[0])
	if len(fields) < 2 || (verb != "unsubscribe" && len(fields) < 3) {
		return c.usage()
	}
	topic, ok := FindTopic(c.Service, fields[1])
	if !ok {
		return fmt.Sprintf("There is no topic “%s”. Known topics: %s.", esc(truncateRunes(fields[1], 100)), c.TopicIDs())
	}
	var err error
	switch verb {
	case "subscribe":
		var when When
		if when, err = ParseWhen(fields[2:]); err == nil {
			_, err = c.Setup.Subscribe(ctx, briefing.Subscription{Destination: r.Destination, Address: r.Address,
				Topic: topic.ID, Cron: when.Cron, Timezone: when.Zone, By: r.User})
		}
	case "unsubscribe":
		err = c.Setup.Unsubscribe(ctx, r.Destination, topic.ID, r.User)
	case "audience":
		_, err = c.Setup.SetAudience(ctx, r.Destination, topic.ID, strings.Join(fields[2:], " "), r.User)
	}
	if err != nil {
		return esc(briefing.ErrorMessage(err)) + " " + c.usage()
	}
	return "Done. " + c.list(r)
}

// list says what the destination gets and when: the config's schedules
// and the subscriptions made in chat, with their audiences.
func (c *Commands) list(r Request) string {
	lines := c.scheduleLines(r)
	if len(lines) == 0 {
		return "This channel gets no scheduled briefing. " + c.usage()
	}
	return c.Markup.Bold("This channel gets:") + "\n" + c.Markup.list(lines)
}

func (c *Commands) scheduleLines(r Request) []string {
	esc, code := c.Markup.Escape, c.Markup.Code
	var lines []string
	for _, sc := range r.Configured {
		lines = append(lines, fmt.Sprintf("%s: %s (%s), from the config", c.topicName(sc.Topic), code(esc(sc.Cron)), zoneName(esc(sc.Timezone))))
	}
	if c.Setup == nil {
		return lines
	}
	subs, err := c.Setup.Subscriptions(r.Destination)
	if err != nil {
		c.Logger.Error("read chat subscriptions", slog.String("destination", r.Destination), slog.Any("error", err))
		lines = append(lines, "(the subscriptions made here cannot be read right now)")
	}
	for _, s := range subs {
		line := c.topicName(s.Topic) + ": no schedule"
		if s.Cron != "" {
			line = fmt.Sprintf("%s: %s (%s), set here by %s", c.topicName(s.Topic), code(esc(s.Cron)), zoneName(esc(s.Timezone)),
				c.Markup.Mention(s.By))
		}
		if s.Audience != "" {
			line += "; written for " + esc(s.Audience)
		}
		lines = append(lines, line)
	}
	return lines
}

// Help is intro, the topics, and what the destination gets when.
func (c *Commands) Help(intro string, r Request) string {
	m := c.Markup
	var topics []string
	for _, t := range c.Service.Topics() {
		topics = append(topics, m.ID(m.Escape(t.ID))+" — "+m.Escape(TopicName(t)))
	}
	text := intro + m.Break + m.Bold("Topics:") + "\n"
	if len(topics) == 0 {
		text += "none are configured"
	} else {
		text += m.list(topics)
	}
	if lines := c.scheduleLines(r); len(lines) > 0 {
		return text + m.Break + m.Bold("Scheduled here:") + "\n" + m.list(lines)
	}
	return text + m.Break + "No briefings are scheduled in this channel."
}

// TopicIDs lists the topic ids as people type them.
func (c *Commands) TopicIDs() string {
	return TopicIDs(c.Service, func(id string) string { return c.Markup.ID(c.Markup.Escape(id)) })
}

func (c *Commands) topicName(id string) string {
	if t, ok := c.Service.Topic(id); ok {
		return c.Markup.Escape(TopicName(t))
	}
	return c.Markup.Escape(id)
}

func zoneName(tz string) string {
	if tz == "" {
		return "UTC"
	}
	return tz
}

// topics lists the topics and their feeds; feeds are added in the config.
func (c *Commands) topics() string {
	esc := c.Markup.Escape
	var sb strings.Builder
	sb.WriteString(c.Markup.Bold("Topics") + " (feeds are set in the config):")
	for _, t := range c.Service.Topics() {
		fmt.Fprintf(&sb, "\n%s%s — %s: %d feeds", c.Markup.Bullet, c.Markup.Code(esc(t.ID)), esc(TopicName(t)), len(t.Feeds))
		for _, f := range t.Feeds {
			fmt.Fprintf(&sb, "\n    %s%s", c.Markup.Bullet, esc(f))
		}
	}
	return sb.String()
}

// why explains the order of the last briefing in the destination.
func (c *Commands) why(ctx context.Context, destination string) string {
	if c.Feedback == nil {
		return "I keep no record of how briefings here were ranked."
	}
	lines, err := c.Feedback.Why(ctx, destination)
	if err != nil {
		return c.Markup.Escape(briefing.ErrorMessage(err))
	}
	for i, l := range lines {
		lines[i] = c.Markup.Escape(l)
	}
	return c.Markup.Bold("Why the last briefing here came in this order:") + "\n" + c.Markup.list(lines)
}

func truncateRunes(s string, limit int) string {
	if r := []rune(s); len(r) > limit {
		return string(r[:limit-1]) + "…"
	}
	return s
}
