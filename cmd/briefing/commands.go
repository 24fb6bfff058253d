package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/collect"
	"github.com/briefing-bot/briefing/render"

	slackbot "github.com/briefing-bot/briefing/bot/slack"
)

func previewFlags(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
	format := fs.String("format", "text", "text, markdown, json or slack")
	offline := fs.Bool("offline", false, "use the stored articles; fetch nothing")
	maxStories := fs.Int("max-stories", -1, "stories to include, 0 for all; -1 for the topic's max_stories")
	width := fs.Int("width", 80, "wrap text output at this many columns")
	forDest := fs.String("for", "", "show what this destination would get next, without what it was told (slack:CHANNEL, teams:CONVERSATION, webhook:NAME)")
	return func(ctx context.Context, env *Env, args []string) error {
		switch *format {
		case "text", "markdown", "json", "slack":
		default:
			return usagef("--format %q is not text, markdown, json or slack", *format)
		}
		if len(args) > 1 {
			return usagef("preview takes at most one topic, got %q", strings.Join(args, " "))
		}
		app, err := openApp(env, true)
		if err != nil {
			return err
		}
		defer app.Close()
		topic, err := pickTopic(app, args)
		if err != nil {
			return err
		}
		if *forDest != "" && !validDestination(*forDest) {
			return usagef("--for %q is not a destination key like slack:C0123456789, teams:19:…@thread.tacv2 or webhook:NAME", *forDest)
		}
		opts := briefing.BuildOptions{Offline: true, For: *forDest}
		if *maxStories >= 0 {
			opts.MaxStories = maxStories
		}
		if !*offline || app.Demo {
			if _, err := collectAll(ctx, env, app, []briefing.Topic{topic}); err != nil {
				return err
			}
		}
		b, err := app.Engine.Build(ctx, topic.ID, opts)
		if err != nil {
			return err
		}
		return renderBriefing(env, b, *format, *width)
	}
}

func validDestination(key string) bool {
	kind, id, ok := strings.Cut(key, ":")
	return ok && id != "" && (kind == "slack" || kind == "teams" || kind == "webhook")
}

func pickTopic(app *App, args []string) (briefing.Topic, error) {
	id := app.Config.Topics[0].ID
	if len(args) == 1 {
		id = args[0]
	}
	t, ok := app.Engine.Topic(id)
	if !ok {
		return t, usagef("unknown topic %q (known: %s)", id, strings.Join(topicIDs(app.Config.Topics), ", "))
	}
	return t, nil
}

func renderBriefing(env *Env, b *briefing.Briefing, format string, width int) error {
	switch format {
	case "markdown":
		return render.Markdown(env.Stdout, b)
	case "json":
		return render.JSON(env.Stdout, b)
	case "slack":
		data, err := slackbot.BlocksJSON(b)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(env.Stdout, "%s\n", data)
		return err
	}
	return render.Text(env.Stdout, b, width)
}

func collectFlags(*flag.FlagSet) func(context.Context, *Env, []string) error {
	return func(ctx context.Context, env *Env, args []string) error {
		if len(args) > 0 {
			return usagef("collect takes no arguments")
		}
		app, err := openApp(env, false)
		if err != nil {
			return err
		}
		defer app.Close()
		results, err := collectAll(ctx, env, app, nil)
		if err != nil {
			return err
		}
		app.Engine.Prune()
		worked := false
		for _, r := range results {
			fmt.Fprintln(env.Stdout, resultLine(r))
			worked = worked || r.Status == collect.StatusNew || r.Status == collect.StatusUnchanged
		}
		if !worked && len(results) > 0 {
			return errAllFeedsFailed
		}
		return nil
	}
}

func resultLine(r collect.Result) string {
	switch r.Status {
	case collect.StatusFailed:
		return fmt.Sprintf("failed     %-10s %s: %v", r.Topic, r.FeedURL, r.Err)
	case collect.StatusSkipped:
		return fmt.Sprintf("skipped    %-10s %s: %v", r.Topic, r.FeedURL, r.Err)
	}
	return fmt.Sprintf("%-10s %-10s %s (%d new of %d items)", r.Status, r.Topic, r.FeedURL, r.New, r.Items)
}

func checkFlags(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
	online := fs.Bool("online", false, "also call Slack auth.test and each LLM provider")
	return func(ctx context.Context, env *Env, args []string) error {
		if len(args) > 0 {
			return usagef("check takes no arguments")
		}
		cfg, cleanup, _, err := loadConfig(env, false)
		if err != nil {
			return err
		}
		defer cleanup()
		for _, w := range cfg.Warnings() {
			fmt.Fprintln(env.Stderr, "warning: "+w)
		}
		if *online {
			if err := checkOnline(ctx, env, cfg); err != nil {
				return err
			}
		}
		fmt.Fprintf(env.Stdout, "config OK: %d topics, %d schedules, %d LLM providers\n",
			len(cfg.Topics), len(cfg.Schedules), len(providers(cfg.LLM.Providers)))
		return nil
	}
}

func checkOnline(ctx context.Context, env *Env, cfg *Config) error {
	if cfg.Slack.BotToken != "" {
		// Only the token is checked: the store may be held by a running daemon.
		bot, err := slackbot.New(slackbot.Options{BotToken: cfg.Slack.BotToken, APIURL: cfg.Slack.APIURL, Logger: env.Logger})
		if err != nil {
			return err
		}
		if err := bot.Check(ctx); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "slack: auth.test OK")
	}
	for _, p := range providers(cfg.LLM.Providers) {
		if err := pingProvider(ctx, p, env.Logger); err != nil {
			return fmt.Errorf("llm provider %s: %w", p.Name, err)
		}
		fmt.Fprintf(env.Stdout, "llm %s: OK\n", p.Name)
	}
	return nil
}

func manifestFlags(*flag.FlagSet) func(context.Context, *Env, []string) error {
	return func(_ context.Context, env *Env, args []string) error {
		if len(args) > 0 {
			return usagef("manifest takes no arguments")
		}
		name := "Briefing"
		if configFile(env) != "" {
			cfg, cleanup, _, err := loadConfig(env, false)
			if err != nil {
				return err
			}
			cleanup()
			name = cfg.Slack.AppName
		}
		_, err := fmt.Fprint(env.Stdout, slackbot.Manifest(name))
		return err
	}
}

func postFlags(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
	channel := fs.String("channel", "", "Slack channel `ID` to post to")
	offline := fs.Bool("offline", false, "use the stored articles; fetch nothing")
	return func(ctx context.Context, env *Env, args []string) error {
		if len(args) != 1 {
			return usagef("post takes one topic, e.g. briefing post cloud --channel C0123456789")
		}
		if *channel == "" {
			return usagef("--channel is required")
		}
		app, err := openApp(env, false)
		if err != nil {
			return err
		}
		defer app.Close()
		if app.Config.Slack.BotToken == "" {
			return &ConfigError{File: env.ConfigPath, Problems: []Problem{{Path: "slack.bot_token", Message: "is required to post"}}}
		}
		topic, err := pickTopic(app, args)
		if err != nil {
			return err
		}
		bot, err := newSlackBot(app, nil)
		if err != nil {
			return err
		}
		dest := briefing.SlackDestination(*channel)
		b, err := app.Engine.Build(ctx, topic.ID, briefing.BuildOptions{Offline: *offline, For: dest})
		if err != nil {
			return err
		}
		ts, err := bot.PostBriefing(ctx, *channel, b, "")
		if err != nil {
			return err
		}
		if err := app.Engine.MarkPosted(ctx, b, briefing.Post{Destination: dest, MessageID: ts}); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "posted briefing %s to %s (ts %s)\n", b.ID, *channel, ts)
		return nil
	}
}

func askFlags(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
	topicID := fs.String("topic", "", "topic whose latest briefing the question is about (default: the first topic)")
	briefingID := fs.String("briefing", "", "briefing `ID` the question is about")
	return func(ctx context.Context, env *Env, args []string) error {
		question := joinWords(args)
		if question == "" {
			return usagef("ask needs a question, e.g. briefing ask \"what changed for Azure customers?\"")
		}
		app, err := openApp(env, true)
		if err != nil {
			return err
		}
		defer app.Close()
		q := briefing.Question{Text: question, Topic: *topicID, BriefingID: *briefingID}
		if q.BriefingID == "" && q.Topic == "" {
			q.Topic = app.Config.Topics[0].ID
		}
		if app.Demo && q.BriefingID == "" {
			// The demo's store is new: write the briefing the question is about.
			b, err := app.Engine.Build(ctx, q.Topic, briefing.BuildOptions{})
			if err != nil {
				return err
			}
			q.BriefingID = b.ID
		}
		var onDelta func(string)
		printed := ""
		if isTerminal(env.Stdout) {
			// Print whole words only: the end of a draft may still change
			// (a citation marker or a link being completed).
			onDelta = func(draft string) {
				stable := draft[:strings.LastIndexAny(draft, " \n")+1]
				if len(stable) > len(printed) && strings.HasPrefix(stable, printed) {
					fmt.Fprint(env.Stdout, strings.Map(render.TerminalSafe, stable[len(printed):]))
					printed = stable
				}
			}
		}
		a, err := app.Engine.Answer(ctx, q, onDelta)
		if err != nil {
			return err
		}
		if rest, ok := strings.CutPrefix(a.Text, printed); ok {
			a.Text = rest
		} else {
			fmt.Fprint(env.Stdout, "\n\n")
		}
		return render.Answer(env.Stdout, a)
	}
}
