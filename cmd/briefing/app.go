package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/term"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/collect"
	"github.com/briefing-bot/briefing/demo"
	"github.com/briefing-bot/briefing/engine"
	"github.com/briefing-bot/briefing/llm"
	"github.com/briefing-bot/briefing/metrics"
	"github.com/briefing-bot/briefing/store"
	"github.com/briefing-bot/briefing/store/postgres"
	"github.com/briefing-bot/briefing/summarize"
)

// App is the wired program: config, store, metrics and the engine.
type App struct {
	Config   *Config
	Store    briefing.Store
	Engine   *engine.Engine
	Metrics  *metrics.Metrics
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Demo is set when the config is the embedded demo's.
	Demo    bool
	cleanup func()
}

// configFile names the config to read: --config, else $BRIEFING_CONFIG,
// else ./config.yaml when it exists; "" when there is none.
func configFile(env *Env) string {
	switch {
	case env.ConfigPath != "":
		return env.ConfigPath
	case os.Getenv("BRIEFING_CONFIG") != "":
		return os.Getenv("BRIEFING_CONFIG")
	}
	if _, err := os.Stat("config.yaml"); err == nil {
		return "config.yaml"
	}
	return ""
}

// loadConfig reads the config configFile names, else (where allowDemo)
// the embedded demo written to a temporary folder. env.ConfigPath is set
// to the file read, so that later messages can name it.
func loadConfig(env *Env, allowDemo bool) (cfg *Config, cleanup func(), isDemo bool, err error) {
	if path := configFile(env); path != "" {
		env.ConfigPath = path
		cfg, err = LoadConfig(path)
		return cfg, func() {}, false, err
	}
	if !allowDemo {
		return nil, nil, false, usagef("no config: pass --config FILE or create ./config.yaml (start from config.example.yaml)")
	}
	dir, err := os.MkdirTemp("", "briefing-demo-")
	if err != nil {
		return nil, nil, false, fmt.Errorf("demo folder: %w", err)
	}
	cleanup = func() { os.RemoveAll(dir) }
	data, err := demo.Write(dir, time.Now())
	if err == nil {
		cfg, err = ParseConfig("demo config", data)
	}
	if err != nil {
		cleanup()
		return nil, nil, false, fmt.Errorf("demo: %w", err)
	}
	env.Logger.Debug("using the embedded demo config", slog.String("dir", dir))
	return cfg, cleanup, true, nil
}

// openApp loads the config and wires the parts. Close releases them.
func openApp(env *Env, allowDemo bool) (*App, error) {
	cfg, cleanup, isDemo, err := loadConfig(env, allowDemo)
	if err != nil {
		return nil, err
	}
	app, err := wire(cfg, env.Logger)
	if err != nil {
		cleanup()
		return nil, err
	}
	app.Demo, app.cleanup = isDemo, cleanup
	return app, nil
}

func wire(cfg *Config, logger *slog.Logger) (*App, error) {
	st, err := openStore(cfg.Store, logger)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)

	pool, err := llm.New(providers(cfg.LLM.Providers), llm.Options{Logger: logger, Metrics: m})
	if err != nil {
		st.Close()
		return nil, err
	}
	offline := summarize.Offline{}
	var summarizer briefing.Summarizer = offline
	answerer := &summarize.Answerer{Logger: logger, Languages: map[string]string{}}
	for _, t := range cfg.Topics {
		answerer.Languages[t.ID] = t.Language
	}
	if pool.Len() > 0 {
		summarizer = &summarize.LLM{Completer: pool, Cache: st, Fallback: offline,
			MaxInputTokens: cfg.LLM.MaxInputTokens, Logger: logger}
		answerer.Completer = pool
	}
	eng := engine.New(engine.Options{
		Votes:  st,
		Topics: topics(cfg.Topics),
		Store:  st,
		Collector: collect.New(collect.Options{
			UserAgent:         userAgent(cfg.Collect.UserAgent),
			ConnectTimeout:    cfg.Collect.ConnectTimeout.D(),
			Timeout:           cfg.Collect.Timeout.D(),
			MaxBodyBytes:      cfg.Collect.MaxBodyBytes,
			Concurrency:       cfg.Collect.Concurrency,
			AllowPrivatePages: cfg.Collect.AllowPrivatePages,
			FetchLease:        fetchLease(cfg),
			Logger:            logger,
			Metrics:           m,
		}),
		Summarizer: summarizer,
		Answerer:   answerer,
		Logger:     logger,
		Metrics:    m,
		FreshFor:   cfg.Collect.Interval.D(),
	})
	// The answerer reads a topic's articles through the engine, which
	// knows the topic's feeds.
	answerer.Articles = eng
	return &App{Config: cfg, Store: st, Engine: eng, Metrics: m, Registry: reg, Logger: logger, cleanup: func() {}}, nil
}

// storeOpenTimeout bounds connecting to PostgreSQL and migrating it, so
// that a wrong store.dsn is an error, not a hang.
const storeOpenTimeout = 30 * time.Second

// openStore opens the store that store.driver names.
func openStore(cfg StoreConfig, logger *slog.Logger) (briefing.Store, error) {
	if cfg.Driver == driverPostgres {
		ctx, cancel := context.WithTimeout(context.Background(), storeOpenTimeout)
		defer cancel()
		return postgres.Open(ctx, cfg.DSN, postgres.Options{Retention: cfg.Retention.D(), Logger: logger})
	}
	return store.Open(cfg.Path, store.Options{Retention: cfg.Retention.D(), Logger: logger})
}

// fetchLease shares the feed fetches between the replicas on one
// PostgreSQL database: each claims a feed for most of collect.interval,
// so that its own next round finds the claim run out. With bbolt there is
// one process, and every collection fetches.
func fetchLease(cfg *Config) time.Duration {
	if cfg.Store.Driver != driverPostgres {
		return 0
	}
	return cfg.Collect.Interval.D() * 9 / 10
}

func userAgent(configured string) string {
	if configured != "" {
		return configured
	}
	return "briefing/" + version + " (+https://github.com/briefing-bot/briefing)"
}

// Close closes the store and removes a demo's temporary folder.
func (a *App) Close() error {
	err := a.Store.Close()
	a.cleanup()
	return err
}

func topics(cfgs []TopicConfig) []briefing.Topic {
	out := make([]briefing.Topic, len(cfgs))
	for i, t := range cfgs {
		out[i] = briefing.Topic{ID: t.ID, Name: t.Name, Feeds: t.Feeds, Keywords: t.Keywords,
			Window: t.Window.D(), MaxStories: *t.MaxStories, Audience: t.Audience, FullText: t.FullText,
			Language: t.Language}
	}
	return out
}

// providers keeps the providers that have an API key: the contract makes a
// provider without one mean "not configured", so an unset ${OPENAI_API_KEY}
// falls back to the offline summarizer instead of failing every request.
func providers(cfgs []ProviderConfig) []llm.Provider {
	var out []llm.Provider
	for _, p := range cfgs {
		if p.APIKey == "" {
			continue
		}
		lp := llm.Provider{Name: p.Name, Kind: llm.Kind(p.Kind), BaseURL: p.BaseURL, APIKey: p.APIKey, Model: p.Model,
			Deployment: p.Deployment, APIVersion: p.APIVersion, Timeout: p.Timeout.D(),
			MaxOutputTokens: p.MaxOutputTokens, JSONSchema: p.JSONSchema}
		if p.Temperature != nil {
			lp.Temperature = new(float32(*p.Temperature))
		}
		lp.MaxRetries = p.MaxRetries
		out = append(out, lp)
	}
	return out
}

// isTerminal reports whether w is a terminal, for progress and streaming.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows "collecting feeds 3/12" on a terminal as feeds finish.
type progress struct {
	w           io.Writer
	done, total int
}

func newProgress(w io.Writer, topics []briefing.Topic) *progress {
	if !isTerminal(w) {
		return nil
	}
	total := 0
	for _, t := range topics {
		total += len(t.Feeds)
	}
	return &progress{w: w, total: total}
}

func (p *progress) step(r collect.Result) {
	if p == nil {
		return
	}
	p.done++
	fmt.Fprintf(p.w, "\r\033[Kcollecting feeds %d/%d  %s", p.done, p.total, r.FeedURL)
}

func (p *progress) finish() {
	if p != nil {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// collectAll fetches the given topics' feeds with progress on a terminal.
func collectAll(ctx context.Context, env *Env, app *App, topics []briefing.Topic) ([]collect.Result, error) {
	p := newProgress(env.Stderr, topics)
	defer p.finish()
	return app.Engine.Collect(ctx, topics, p.step)
}

// errAllFeedsFailed makes `collect` exit 1 when no feed could be read.
var errAllFeedsFailed = errors.New("every feed failed; see the lines above")
