package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

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
		err = serve(ctx, app)
		if ctx.Err() != nil {
			// A stop asked for, even while starting, is a clean exit.
			return nil
		}
		return err
	}
}

// serve runs the daemon until ctx is cancelled: the health server, the
// collector loop, Slack socket mode and the scheduler. Shutdown goes in
// order: stop taking work (scheduler, Slack), then the servers; the
// caller closes the store last.
func serve(ctx context.Context, app *App) error {
	log := app.Logger
	cfg := app.Config

	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen %s: %w", cfg.Server.Listen, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(app.Registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	var bot *slackbot.Bot
	if cfg.Slack.Enabled() {
		bot, err = newSlackBot(app)
		if err != nil {
			ln.Close()
			return err
		}
		if err := bot.Check(ctx); err != nil {
			ln.Close()
			return err
		}
	}
	var teamsBot *teams.Bot
	var teamsSrv *http.Server
	if cfg.Teams.AppID != "" {
		if teamsBot, err = newTeamsBot(app); err != nil {
			ln.Close()
			return err
		}
		teamsLn, err := net.Listen("tcp", cfg.Teams.Listen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("teams.listen %s: %w", cfg.Teams.Listen, err)
		}
		teamsSrv = &http.Server{Handler: teamsBot.Handler(), ReadHeaderTimeout: 5 * time.Second}
		defer teamsLn.Close()
		go func() {
			if err := teamsSrv.Serve(teamsLn); !errors.Is(err, http.ErrServerClosed) {
				log.Error("teams endpoint", slog.Any("error", err))
			}
		}()
		log.Info("teams endpoint listening", slog.String("listen", teamsLn.Addr().String()))
	}
	sched, err := newScheduler(app, bot, teamsBot)
	if err != nil {
		ln.Close()
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("health server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		collectLoop(gctx, app)
		return nil
	})
	// Missed slots are posted before the socket connects, so that a
	// restart has settled its catch-up before it takes new commands.
	if err := sched.Start(gctx); err != nil {
		log.Error("scheduler catch-up", slog.Any("error", err))
	}
	if bot != nil {
		g.Go(func() error { return bot.Run(gctx) })
	}
	log.Info("briefing is running", slog.String("listen", ln.Addr().String()),
		slog.Bool("slack", bot != nil), slog.Bool("teams", teamsBot != nil), slog.Int("topics", len(cfg.Topics)), slog.Int("schedules", len(cfg.Schedules)))

	<-gctx.Done()
	log.Info("shutting down")
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := sched.Stop(stopCtx); err != nil {
		log.Warn("scheduler did not stop in time", slog.Any("error", err))
	}
	if err := srv.Shutdown(stopCtx); err != nil {
		log.Warn("health server shutdown", slog.Any("error", err))
	}
	if teamsSrv != nil {
		// Stop taking activities, then let the ones taken finish.
		if err := teamsSrv.Shutdown(stopCtx); err != nil {
			log.Warn("teams endpoint shutdown", slog.Any("error", err))
		}
		if err := teamsBot.Close(stopCtx); err != nil {
			log.Warn("teams work did not finish in time", slog.Any("error", err))
		}
	}
	return g.Wait()
}

// collectLoop fetches every feed at start and then every collect.interval,
// pruning what is past retention each time.
func collectLoop(ctx context.Context, app *App) {
	ticker := time.NewTicker(app.Config.Collect.Interval.D())
	defer ticker.Stop()
	for {
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
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func newSlackBot(app *App) (*slackbot.Bot, error) {
	opts := slackbot.Options{
		BotToken: app.Config.Slack.BotToken,
		AppToken: app.Config.Slack.AppToken,
		APIURL:   app.Config.Slack.APIURL,
		Service:  app.Engine,
		Threads:  app.Store,
		Jobs:     app.Store,
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

func newTeamsBot(app *App) (*teams.Bot, error) {
	t := app.Config.Teams
	return teams.New(teams.Options{
		AppID: t.AppID, AppPassword: t.AppPassword, TenantID: t.TenantID,
		OpenIDMetadataURL: t.OpenIDMetadataURL, TokenURL: t.TokenURL,
		Service: app.Engine, Threads: app.Store, Events: app.Store,
		Logger: app.Logger, Metrics: app.Metrics,
	})
}

func newScheduler(app *App, slackBot *slackbot.Bot, teamsBot *teams.Bot) (*schedule.Scheduler, error) {
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
	return schedule.New(schedule.Options{Schedules: schedules, Service: app.Engine, Ledger: app.Store,
		Poster: p, Metrics: app.Metrics, Logger: app.Logger})
}

// poster delivers a scheduled briefing to each destination of its
// schedule: a Slack channel, a Teams channel, a Teams Workflows webhook.
type poster struct {
	slack   *slackbot.Bot
	teams   *teams.Bot
	targets map[string]ScheduleConfig
	log     *slog.Logger
}

func (p poster) canPost(s ScheduleConfig) bool {
	return (s.SlackChannel != "" && p.slack != nil) || (s.TeamsChannel != "" && p.teams != nil) || s.TeamsWebhook != ""
}

// Destinations lists the schedule's destinations this process can post
// to: its Slack channel, Teams channel and Teams webhook.
func (p poster) Destinations(s schedule.Schedule) []string {
	t := p.targets[s.ID]
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
	t := p.targets[s.ID]
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
	t := p.targets[s.ID]
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
	ch := p.targets[s.ID].SlackChannel
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
