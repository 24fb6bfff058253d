// Package collect fetches the topics' feeds politely (conditional GET,
// size and time limits, per-feed back-off), parses RSS, Atom and JSON
// Feed with gofeed, and stores the items as normalised articles.
package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/metrics"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"
)

// Options tune a Collector. Zero values get the defaults named.
type Options struct {
	UserAgent      string        // default "briefing/<version> (+https://github.com/briefing-bot/briefing)"
	ConnectTimeout time.Duration // default 10s (dial + TLS handshake)
	Timeout        time.Duration // default 30s, whole request including body
	MaxBodyBytes   int64         // default 10 MiB; a larger body fails with "feed body exceeds 10 MiB"
	Concurrency    int           // default 8 feeds at once
	BackoffBase    time.Duration // default 5m; per failing feed: base * 2^(failures-1), capped
	BackoffMax     time.Duration // default 24h
	Logger         *slog.Logger
	Metrics        *metrics.Metrics // may be nil
	Now            func() time.Time
	// HTTPClient is optional; built from the options when nil. A client
	// passed in is used as it is (its transport and redirect policy) for
	// feeds, and for full-text pages only with AllowPrivatePages; Timeout
	// still bounds each request.
	HTTPClient *http.Client
	// AllowPrivatePages lets full-text page fetches reach loopback,
	// private, link-local and other non-public addresses, which they
	// refuse by default because article links come from untrusted feeds.
	// It is for tests and for deployments that summarize intranet news.
	// Feeds, which the operator configures, may be on any address either
	// way.
	AllowPrivatePages bool
	// FetchLease, when set, has each feed fetched only after claiming it
	// for that long in the store (FeedStore.ClaimFetch): replicas sharing
	// a database then fetch each feed once per collect interval between
	// them. A feed another holds is reported unchanged.
	FetchLease time.Duration
}

func (o Options) withDefaults() Options {
	if o.UserAgent == "" {
		o.UserAgent = defaultUserAgent()
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 10 << 20
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 5 * time.Minute
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// defaultUserAgent names the project and, in a released build, its version.
func defaultUserAgent() string {
	version := "dev"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = info.Main.Version
	}
	return "briefing/" + version + " (+https://github.com/briefing-bot/briefing)"
}

// Collector fetches feeds and stores their articles. It is safe for
// concurrent use.
type Collector struct {
	opts   Options
	client *http.Client
	// pageClient fetches full-text pages; see Options.AllowPrivatePages.
	pageClient *http.Client
	log        *slog.Logger
	flights    singleflight.Group // by feed URL
}

// New returns a Collector with opts, defaults filled in.
func New(opts Options) *Collector {
	opts = opts.withDefaults()
	client := opts.HTTPClient
	if client == nil {
		client = newHTTPClient(newTransport(opts))
	}
	pageClient := client
	if !opts.AllowPrivatePages {
		pageClient = newHTTPClient(newPageTransport(opts))
	}
	return &Collector{opts: opts, client: client, pageClient: pageClient, log: opts.Logger}
}

func (c *Collector) now() time.Time { return c.opts.Now() }

// Result and Status are the domain's FeedResult and FeedStatus, under the
// names the collector's callers know.
type (
	Result = briefing.FeedResult
	Status = briefing.FeedStatus
)

// The statuses of a Result.
const (
	StatusNew       = briefing.FeedNew
	StatusUnchanged = briefing.FeedUnchanged
	StatusFailed    = briefing.FeedFailed
	StatusSkipped   = briefing.FeedSkipped
)

var _ briefing.Collector = (*Collector)(nil)

// feedJob is one feed to fetch and every topic that lists it.
type feedJob struct {
	url      string
	topics   []string
	fullText bool
}

// slot is one (topic, feed) pair of the config, in config order.
type slot struct{ topic, feed string }

// plan fetches each feed once however many topics list it.
func plan(topics []briefing.Topic) ([]*feedJob, []slot) {
	byURL := make(map[string]*feedJob)
	seen := make(map[slot]bool)
	var jobs []*feedJob
	var slots []slot
	for _, t := range topics {
		for _, raw := range t.Feeds {
			s := slot{topic: t.ID, feed: strings.TrimSpace(raw)}
			if seen[s] {
				continue
			}
			seen[s] = true
			slots = append(slots, s)
			job := byURL[s.feed]
			if job == nil {
				job = &feedJob{url: s.feed}
				byURL[s.feed] = job
				jobs = append(jobs, job)
			}
			job.topics = append(job.topics, t.ID)
			job.fullText = job.fullText || t.FullText
		}
	}
	return jobs, slots
}

// Collect fetches each topic's feeds once (a feed listed by two topics is
// fetched once and its articles carry both topic ids), stores new
// articles, and returns one Result per (topic, feed) in config order.
// progress, when non-nil, is called as each feed finishes (from one
// goroutine at a time). A broken feed is a Result, not an error: Collect
// returns an error only when the store fails or ctx ends, and then the
// Results of the feeds that finished.
func (c *Collector) Collect(ctx context.Context, st briefing.FeedStore, topics []briefing.Topic, progress func(Result)) ([]Result, error) {
	jobs, slots := plan(topics)
	// pages bounds the full-text page fetches of the whole run.
	pages := make(chan struct{}, c.opts.Concurrency)
	var mu sync.Mutex
	done := make(map[string]Result, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Concurrency)
	for _, job := range jobs {
		g.Go(func() error {
			if gctx.Err() != nil {
				return nil
			}
			// A feed being fetched for another call (a build while the
			// collect loop runs) is waited for, not fetched again.
			shared, err, _ := c.flights.Do(job.url, func() (any, error) {
				return c.collectFeed(gctx, st, job, pages)
			})
			if err != nil {
				return err
			}
			res := shared.(Result)
			mu.Lock()
			defer mu.Unlock()
			done[job.url] = res
			if progress != nil {
				for _, topic := range job.topics {
					res.Topic = topic
					progress(res)
				}
			}
			return nil
		})
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	results := make([]Result, 0, len(slots))
	for _, s := range slots {
		if res, ok := done[s.feed]; ok {
			res.Topic = s.topic
			results = append(results, res)
		}
	}
	return results, err
}

// collectFeed fetches, parses and stores one feed and records how it went
// in its FeedState. The error is the store's; the feed's own failure is in
// the Result.
func (c *Collector) collectFeed(ctx context.Context, st briefing.FeedStore, job *feedJob, pages chan struct{}) (Result, error) {
	started := time.Now()
	now := c.now()
	if c.opts.FetchLease > 0 {
		mine, err := st.ClaimFetch(job.url, c.opts.FetchLease)
		if err != nil {
			return Result{}, fmt.Errorf("claim fetch of feed %s: %w", job.url, err)
		}
		if !mine {
			c.log.Debug("feed fetched by another process this interval", slog.String("feed_url", job.url))
			return Result{FeedURL: job.url, Status: StatusUnchanged, Duration: time.Since(started)}, nil
		}
	}
	state, err := st.Feed(job.url)
	if err != nil && briefing.ErrorCode(err) != briefing.ENOTFOUND {
		return Result{}, fmt.Errorf("load state of feed %s: %w", job.url, err)
	}
	state.URL = job.url
	var res Result
	if state.NextAttempt.After(now) {
		res = Result{Status: StatusSkipped, Err: fmt.Errorf("in back-off until %s after %d failures: %s",
			state.NextAttempt.Format(time.RFC3339), state.Failures, state.LastError)}
	} else if res, err = c.refresh(ctx, st, job, &state, pages, now); err != nil {
		return Result{}, err
	}
	res.FeedURL = job.url
	res.Title = state.Title
	res.Duration = time.Since(started)
	c.report(job, res)
	return res, nil
}

// refresh fetches the feed, stores its articles and updates state.
func (c *Collector) refresh(ctx context.Context, st briefing.FeedStore, job *feedJob, state *briefing.FeedState, pages chan struct{}, now time.Time) (Result, error) {
	doc, err := c.fetchFeed(ctx, job.url, validators{etag: state.ETag, lastModified: state.LastModified})
	var feed Feed
	if err == nil && !doc.notModified {
		feed, err = parse(doc.body, job.url, doc.finalURL, doc.contentType, now)
	}
	if err != nil {
		if ctx.Err() != nil {
			// Shutting down is not the feed's fault: no back-off.
			return Result{Status: StatusFailed, Err: ctx.Err()}, nil
		}
		c.recordFailure(state, err, now)
		if perr := st.PutFeed(*state); perr != nil {
			return Result{}, fmt.Errorf("save state of feed %s: %w", job.url, perr)
		}
		return Result{Status: StatusFailed, Err: err}, nil
	}
	res := Result{Status: StatusUnchanged}
	if !doc.notModified {
		for i := range feed.Articles {
			feed.Articles[i].Topics = slices.Clone(job.topics)
		}
		if job.fullText {
			c.fillFullText(ctx, st, feed.Articles, pages)
		}
		n, err := st.PutArticles(feed.Articles)
		if err != nil {
			return Result{}, fmt.Errorf("store articles of feed %s: %w", job.url, err)
		}
		res.Items, res.New = len(feed.Articles), n
		if n > 0 {
			res.Status = StatusNew
		}
		if feed.Title != "" {
			state.Title = feed.Title
		}
		state.ETag, state.LastModified = doc.validators.etag, doc.validators.lastModified
	} else if doc.validators.etag != "" {
		// A 304 may carry a fresh ETag for the same content.
		state.ETag = doc.validators.etag
	}
	state.Failures, state.LastError, state.NextAttempt, state.LastSuccess = 0, "", time.Time{}, now
	if err := st.PutFeed(*state); err != nil {
		return Result{}, fmt.Errorf("save state of feed %s: %w", job.url, err)
	}
	return res, nil
}

// recordFailure counts a failure and schedules the next attempt:
// BackoffBase * 2^(failures-1), or later when the server asked with
// Retry-After, never beyond BackoffMax.
func (c *Collector) recordFailure(state *briefing.FeedState, err error, now time.Time) {
	state.Failures++
	state.LastError = err.Error()
	wait := c.opts.BackoffBase
	for i := 1; i < state.Failures && wait < c.opts.BackoffMax; i++ {
		wait *= 2
	}
	var herr *httpError
	if errors.As(err, &herr) {
		wait = max(wait, herr.retryAfter)
	}
	state.NextAttempt = now.Add(min(wait, c.opts.BackoffMax))
}

// report logs one line per feed and counts it.
func (c *Collector) report(job *feedJob, res Result) {
	level := slog.LevelDebug
	switch res.Status {
	case StatusNew:
		level = slog.LevelInfo
	case StatusFailed:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("feed_url", job.url),
		slog.String("topics", strings.Join(job.topics, ",")),
		slog.String("status", string(res.Status)),
		slog.Int("items", res.Items),
		slog.Int("new", res.New),
		slog.Duration("duration", res.Duration),
	}
	if res.Err != nil {
		attrs = append(attrs, slog.Any("error", res.Err))
	}
	c.log.LogAttrs(context.Background(), level, "feed collected", attrs...)
	c.opts.Metrics.FeedFetched(string(res.Status), res.New)
}
