package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/llm"
	"github.com/briefing-bot/briefing/schedule"

	slackbot "github.com/briefing-bot/briefing/bot/slack"
	"github.com/briefing-bot/briefing/bot/teams"
)

// shutdownTimeout bounds a clean stop; the contract promises 10 s.
const shutdownTimeout = 8 * time.Second

func runFlags(*flag.FlagSet) func(context.Context, *Env, []string) error {
	return func(ctx context.Context, env *Env, args []string) error {
		if len(args) > 0 {
			return usagef("run takes no arguments")
		}
		app, err := openApp(env, false)
		if err != nil {
			return err
		}
		defer app.Close()
		for _, w := range app.Config.Warnings() {
			env.Logger.Warn(w)
		}
		if s := app.Config.Slack; s.BotToken != "" && s.AppToken == "" {
			// Refused here, not when socket mode starts: by then the
			// catch-up may have posted, and the daemon would still exit.
			return &ConfigError{File: env.ConfigPath, Problems: []Problem{{Path: "slack.app_token",
				Message: "is required by `briefing run` with slack.bot_token: socket mode needs an app-level token (xapp-…)"}}}
		}
		err = runDaemon(ctx, app)
		if ctx.Err() != nil {
			// A stop asked for, even while starting, is a clean exit.
			return nil
		}
		return err
	}
}

// runDaemon opens the daemon, runs it until ctx is cancelled, and closes it.
func runDaemon(ctx context.Context, app *App) error {
	d, err := OpenDaemon(ctx, app)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Run(ctx)
}

// collectAllFeeds fetches every feed once and prunes what is past
// retention.
func collectAllFeeds(ctx context.Context, app *App) {
	results, err := app.Engine.Collect(ctx, nil, nil)
	if err != nil && ctx.Err() == nil {
		app.Logger.Error("collect", slog.Any("error", err))
	}
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
	}
	app.Logger.Info("collected feeds", slog.Int("feeds", len(results)), slog.Int("failed", failed))
	app.Engine.Prune()
}

// collectLoop collects every collect.interval until ctx ends; the daemon
// collects once before it.
func collectLoop(ctx context.Context, app *App) {
	ticker := time.NewTicker(app.Config.Collect.Interval.D())
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		collectAllFeeds(ctx, app)
	}
}

func newSlackBot(app *App, setup *schedule.Setup) (*slackbot.Bot, error) {
	opts := slackbot.Options{
		BotToken: app.Config.Slack.BotToken,
		AppToken: app.Config.Slack.AppToken,
		APIURL:   app.Config.Slack.APIURL,
		Service:  app.Engine,
		Threads:  app.Store,
		Jobs:     app.Store,
		Feedback: app.Engine,
		Setup:    channelSetup(setup),
		Admins:   app.Config.Chat.Admins,
		Logger:   app.Logger,
		Metrics:  app.Metrics,
	}
	for _, s := range app.Config.Schedules {
		if s.SlackChannel != "" {
			opts.Schedules = append(opts.Schedules, slackbot.ScheduleInfo{Topic: s.Topic, Cron: s.Cron, Timezone: s.Timezone, Channel: s.SlackChannel})
		}
	}
	return slackbot.New(opts)
}

func newTeamsBot(app *App, setup *schedule.Setup) (*teams.Bot, error) {
	t := app.Config.Teams
	return teams.New(teams.Options{
		Auth: t.Auth, AppID: t.AppID, AppPassword: t.AppPassword, TenantID: t.TenantID, ServiceURLs: t.ServiceURLs,
		OpenIDMetadataURL: t.OpenIDMetadataURL, TokenURL: t.TokenURL,
		Service: app.Engine, Threads: app.Store, Events: app.Store,
		Setup: channelSetup(setup), Feedback: app.Engine, Admins: app.Config.Chat.Admins,
		Logger: app.Logger, Metrics: app.Metrics,
	})
}

func newScheduler(app *App, slackBot *slackbot.Bot, teamsBot *teams.Bot, setup *schedule.Setup) (*schedule.Scheduler, error) {
	p := poster{slack: slackBot, teams: teamsBot, targets: map[string]ScheduleConfig{}, log: app.Logger}
	var schedules []schedule.Schedule
	for _, s := range app.Config.Schedules {
		if !p.canPost(s) {
			app.Logger.Warn("schedule has no destination this process can post to; skipped", slog.String("schedule", s.ID))
			continue
		}
		loc, err := time.LoadLocation(s.Timezone)
		if err != nil {
			return nil, fmt.Errorf("schedule %s: %w", s.ID, err)
		}
		p.targets[s.ID] = s
		schedules = append(schedules, schedule.Schedule{ID: s.ID, Topic: s.Topic, Spec: s.Cron,
			Location: loc, Grace: s.Grace.D(), Audience: s.Audience, WhenQuiet: s.WhenQuiet})
	}
	subscribed, err := schedule.Schedules(setup.Store, func(id string) bool { _, ok := app.Engine.Topic(id); return ok }, app.Logger)
	if err != nil {
		return nil, fmt.Errorf("load chat subscriptions: %w", err)
	}
	schedules = append(schedules, subscribed...)
	sched, err := schedule.New(schedule.Options{Schedules: schedules, Service: app.Engine, Ledger: app.Store,
		Poster: p, Metrics: app.Metrics, Logger: app.Logger})
	if err == nil {
		setup.Scheduler = sched
	}
	return sched, err
}

// channelSetup is setup for the bots' options, where a nil *Setup (a
// one-off post) must be a nil interface.
func channelSetup(setup *schedule.Setup) briefing.ChannelSetup {
	if setup == nil {
		return nil
	}
	return setup
}

// chatSetup keeps the subscriptions made in chat; its Scheduler is set
// once the scheduler is built.
func chatSetup(app *App) *schedule.Setup {
	return &schedule.Setup{Store: app.Store, Logger: app.Logger, Now: time.Now}
}

// poster delivers a scheduled briefing to each destination of its
// schedule: a Slack channel, a Teams channel, a Teams Workflows webhook.
type poster struct {
	slack   *slackbot.Bot
	teams   *teams.Bot
	targets map[string]ScheduleConfig
	log     *slog.Logger
}

// target is where s posts: its config entry, or for a chat subscription
// the channel it was made in.
func (p poster) target(s schedule.Schedule) ScheduleConfig {
	if t, ok := p.targets[s.ID]; ok {
		return t
	}
	t := ScheduleConfig{ID: s.ID, Topic: s.Topic}
	if ch, ok := strings.CutPrefix(s.Destination, "slack:"); ok && p.slack != nil {
		t.SlackChannel = ch
	}
	if ch, ok := strings.CutPrefix(s.Destination, "teams:"); ok && p.teams != nil {
		t.TeamsChannel, t.TeamsServiceURL = ch, s.Address
	}
	return t
}

func (p poster) canPost(s ScheduleConfig) bool {
	return (s.SlackChannel != "" && p.slack != nil) || (s.TeamsChannel != "" && p.teams != nil) || s.TeamsWebhook != ""
}

// Destinations lists the schedule's destinations this process can post
// to: its Slack channel, Teams channel and Teams webhook.
func (p poster) Destinations(s schedule.Schedule) []string {
	t := p.target(s)
	var dests []string
	if t.SlackChannel != "" && p.slack != nil {
		dests = append(dests, briefing.SlackDestination(t.SlackChannel))
	}
	if t.TeamsChannel != "" && p.teams != nil {
		dests = append(dests, briefing.TeamsDestination(t.TeamsChannel))
	}
	if t.TeamsWebhook != "" {
		dests = append(dests, briefing.WebhookDestination(t.TeamsWebhook))
	}
	return dests
}

// Post posts b to one of the schedule's destinations.
func (p poster) Post(ctx context.Context, s schedule.Schedule, slot briefing.Slot, dest string, b *briefing.Briefing) (string, error) {
	t := p.target(s)
	switch dest {
	case briefing.SlackDestination(t.SlackChannel):
		return p.slack.PostBriefing(ctx, t.SlackChannel, b, slot.Key)
	case briefing.TeamsDestination(t.TeamsChannel):
		return p.teams.PostBriefing(ctx, t.TeamsServiceURL, t.TeamsChannel, b)
	case briefing.WebhookDestination(t.TeamsWebhook):
		return "", teams.PostWebhook(ctx, nil, t.TeamsWebhook, b)
	}
	return "", fmt.Errorf("schedule %s has no destination %s", s.ID, dest)
}

// PostNote posts the one line saying that dest has nothing new. Slack
// gets it with a link to the last briefing there.
func (p poster) PostNote(ctx context.Context, s schedule.Schedule, slot briefing.Slot, dest string, quiet *briefing.Quiet) error {
	t := p.target(s)
	switch dest {
	case briefing.SlackDestination(t.SlackChannel):
		_, err := p.slack.PostNote(ctx, t.SlackChannel, quiet, slot.Key)
		return err
	case briefing.TeamsDestination(t.TeamsChannel):
		_, err := p.teams.PostNote(ctx, t.TeamsServiceURL, t.TeamsChannel, teams.EscapeMarkdown(quiet.Message))
		return err
	case briefing.WebhookDestination(t.TeamsWebhook):
		return teams.PostWebhookNote(ctx, nil, t.TeamsWebhook, quiet.Message)
	}
	return fmt.Errorf("schedule %s has no destination %s", s.ID, dest)
}

// FindPosted looks for an earlier post of the slot in Slack, whose message
// metadata carries the slot key. Teams keeps no such mark, so a
// Teams-only slot claimed before a crash is posted again within grace.
func (p poster) FindPosted(ctx context.Context, s schedule.Schedule, slot briefing.Slot) (string, string, bool, error) {
	ch := p.target(s).SlackChannel
	if ch == "" || p.slack == nil {
		return "", "", false, nil
	}
	// The post happens at or after the slot time; a minute's margin covers
	// clock skew between this host and Slack.
	ts, found, err := p.slack.FindPosted(ctx, ch, slot.Key, slot.Time.Add(-time.Minute))
	return briefing.SlackDestination(ch), ts, found, err
}

// pingProvider sends one tiny request, for `check --online`. It leaves the
// output limit at the provider's own: a reasoning model spends a small
// budget on reasoning and replies with nothing, which would read as a
// failure.
func pingProvider(ctx context.Context, p llm.Provider, log *slog.Logger) error {
	pool, err := llm.New([]llm.Provider{p}, llm.Options{Logger: log})
	if err != nil {
		return err
	}
	_, err = pool.Complete(ctx, briefing.CompletionRequest{
		Messages: []briefing.Message{{Role: "user", Content: "Reply with the word OK."}},
	})
	return err
}
