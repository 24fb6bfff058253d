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
		return serve(ctx, app)
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
	sched, err := newScheduler(app, bot)
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
		slog.Bool("slack", bot != nil), slog.Int("topics", len(cfg.Topics)), slog.Int("schedules", len(cfg.Schedules)))

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
	err = g.Wait()
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}

// collectLoop fetches every feed at start and then every collect.interval.
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
		Events:   app.Store,
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

func newScheduler(app *App, bot *slackbot.Bot) (*schedule.Scheduler, error) {
	poster := slackPoster{bot: bot, channels: map[string]string{}}
	var schedules []schedule.Schedule
	for _, s := range app.Config.Schedules {
		if s.SlackChannel == "" || bot == nil {
			app.Logger.Warn("schedule has no destination this process can post to; skipped", slog.String("schedule", s.ID))
			continue
		}
		loc, err := time.LoadLocation(s.Timezone)
		if err != nil {
			return nil, fmt.Errorf("schedule %s: %w", s.ID, err)
		}
		poster.channels[s.ID] = s.SlackChannel
		schedules = append(schedules, schedule.Schedule{ID: s.ID, Topic: s.Topic, Spec: s.Cron,
			Location: loc, Grace: s.Grace.D(), Audience: s.Audience})
	}
	return schedule.New(schedule.Options{Schedules: schedules, Service: app.Engine, Ledger: app.Store,
		Poster: poster, Logger: app.Logger})
}

// slackPoster posts scheduled briefings to each schedule's Slack channel.
type slackPoster struct {
	bot      *slackbot.Bot
	channels map[string]string
}

func (p slackPoster) Post(ctx context.Context, s schedule.Schedule, slot briefing.Slot, b *briefing.Briefing) (string, string, error) {
	ch := p.channels[s.ID]
	ts, err := p.bot.PostBriefing(ctx, ch, b, slot.Key)
	return ch, ts, err
}

func (p slackPoster) FindPosted(ctx context.Context, s schedule.Schedule, slot briefing.Slot) (string, string, bool, error) {
	ch := p.channels[s.ID]
	// The post happens at or after the slot time; a minute's margin covers
	// clock skew between this host and Slack.
	ts, found, err := p.bot.FindPosted(ctx, ch, slot.Key, slot.Time.Add(-time.Minute))
	return ch, ts, found, err
}

// pingProvider sends one tiny request, for `check --online`.
func pingProvider(ctx context.Context, p llm.Provider, log *slog.Logger) error {
	pool, err := llm.New([]llm.Provider{p}, llm.Options{Logger: log})
	if err != nil {
		return err
	}
	_, err = pool.Complete(ctx, briefing.CompletionRequest{
		Messages:  []briefing.Message{{Role: "user", Content: "Reply with the word OK."}},
		MaxTokens: 5,
	})
	return err
}
