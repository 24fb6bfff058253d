package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	slackbot "github.com/briefing-bot/briefing/bot/slack"
	"github.com/briefing-bot/briefing/bot/teams"
	"github.com/briefing-bot/briefing/schedule"
)

// readyTimeout bounds one readiness check of the store.
const readyTimeout = 2 * time.Second

// Daemon is `briefing run`: the health server, the Teams endpoint, Slack
// socket mode, the scheduler and the collect loop. It owns its listeners
// and servers from Open to Close, so that every exit, early or late, goes
// through Close.
type Daemon struct {
	app *App
	log *slog.Logger

	health      net.Listener
	healthSrv   *http.Server
	teamsLn     net.Listener
	teamsSrv    *http.Server
	slack       *slackbot.Bot
	teams       *teams.Bot
	sched       *schedule.Scheduler
	teamsServes atomic.Bool
}

// OpenDaemon listens on server.listen (and teams.listen), checks the Slack
// token and builds the scheduler; it starts nothing. On an error it has
// released what it took.
func OpenDaemon(ctx context.Context, app *App) (_ *Daemon, err error) {
	d := &Daemon{app: app, log: app.Logger}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	cfg := app.Config
	if d.health, err = net.Listen("tcp", cfg.Server.Listen); err != nil {
		return nil, fmt.Errorf("server.listen %s: %w", cfg.Server.Listen, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", d.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(app.Registry, promhttp.HandlerOpts{}))
	d.healthSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	setup := chatSetup(app)
	if cfg.Slack.Enabled() {
		if d.slack, err = newSlackBot(app, setup); err != nil {
			return nil, err
		}
		if err = d.slack.Check(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.Teams.Enabled() {
		if d.teams, err = newTeamsBot(app, setup); err != nil {
			return nil, err
		}
		if d.teamsLn, err = net.Listen("tcp", cfg.Teams.Listen); err != nil {
			return nil, fmt.Errorf("teams.listen %s: %w", cfg.Teams.Listen, err)
		}
		d.teamsSrv = &http.Server{Handler: d.teams.Handler(), ReadHeaderTimeout: 5 * time.Second}
	}
	if d.sched, err = newScheduler(app, d.slack, d.teams, setup); err != nil {
		return nil, err
	}
	return d, nil
}

// HealthAddr is the address the health server listens on.
func (d *Daemon) HealthAddr() net.Addr { return d.health.Addr() }

// TeamsAddr is the address of the Teams endpoint; nil without Teams.
func (d *Daemon) TeamsAddr() net.Addr {
	if d.teamsLn == nil {
		return nil
	}
	return d.teamsLn.Addr()
}

// Run serves until ctx is cancelled or a part fails. Every server runs in
// the errgroup; shutdown goes in order: stop taking work (scheduler,
// Slack, the Teams endpoint), let taken work finish, then the health
// server. The caller then calls Close, and closes the store last.
func (d *Daemon) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHTTP("health server", d.healthSrv, d.health) })
	if d.teamsSrv != nil {
		d.log.Info("teams endpoint listening", slog.String("listen", d.teamsLn.Addr().String()), slog.String("auth", d.app.Config.Teams.Auth))
		if d.app.Config.Teams.Auth == teams.AuthNone {
			d.log.Warn("teams.auth is none: activities are taken without a token, for local clients only")
		}
		d.teamsServes.Store(true)
		g.Go(func() error { return serveHTTP("teams endpoint", d.teamsSrv, d.teamsLn) })
	}
	// The first collection comes before the catch-up, whose builds then
	// find their topics fresh: start-up fetches each feed once.
	collectAllFeeds(gctx, d.app)
	g.Go(func() error {
		collectLoop(gctx, d.app)
		return nil
	})
	// Missed slots are posted before the socket connects, so that a
	// restart has settled its catch-up before it takes new commands.
	if err := d.sched.Start(gctx); err != nil {
		d.log.Error("scheduler catch-up", slog.Any("error", err))
	}
	if d.slack != nil {
		g.Go(func() error { return d.slack.Run(gctx) })
	}
	cfg := d.app.Config
	d.log.Info("briefing is running", slog.String("listen", d.health.Addr().String()),
		slog.Bool("slack", d.slack != nil), slog.Bool("teams", d.teams != nil), slog.String("store", cfg.Store.Driver),
		slog.Int("topics", len(cfg.Topics)), slog.Int("schedules", len(cfg.Schedules)))

	g.Go(func() error {
		<-gctx.Done()
		d.log.Info("shutting down")
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		if err := d.sched.Stop(stopCtx); err != nil {
			d.log.Warn("scheduler did not stop in time", slog.Any("error", err))
		}
		if d.teamsSrv != nil {
			// Stop taking activities, then let the ones taken finish.
			d.teamsServes.Store(false)
			if err := d.teamsSrv.Shutdown(stopCtx); err != nil {
				d.log.Warn("teams endpoint shutdown", slog.Any("error", err))
			}
			if err := d.teams.Close(stopCtx); err != nil {
				d.log.Warn("teams work did not finish in time", slog.Any("error", err))
			}
		}
		if err := d.healthSrv.Shutdown(stopCtx); err != nil {
			d.log.Warn("health server shutdown", slog.Any("error", err))
		}
		return nil
	})
	return g.Wait()
}

// serveHTTP serves srv on ln until it is shut down.
func serveHTTP(name string, srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Close releases the listeners and servers; after Run it finds them shut
// down already. Closing twice is harmless.
func (d *Daemon) Close() error {
	var errs []error
	for _, srv := range []*http.Server{d.healthSrv, d.teamsSrv} {
		if srv != nil {
			errs = append(errs, srv.Close())
		}
	}
	for _, ln := range []net.Listener{d.health, d.teamsLn} {
		if ln != nil {
			if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// serveReady answers 200 when the store and every chat connection are
// ready, else 503 naming what is not; /healthz stays a liveness check.
func (d *Daemon) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	var lines []string
	ready := true
	check := func(part string, err error) {
		if err != nil {
			ready = false
			lines = append(lines, part+": "+err.Error())
			return
		}
		lines = append(lines, part+": ok")
	}
	check("store", d.app.Store.Ping(ctx))
	if d.slack != nil {
		check("slack", d.slack.Ready())
	}
	if d.teams != nil {
		var err error
		if !d.teamsServes.Load() {
			err = errors.New("teams endpoint is not serving")
		}
		check("teams", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
