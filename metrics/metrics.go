// Package metrics holds the Prometheus collectors every part reports to.
// A nil *Metrics is valid and records nothing, so parts and tests that do
// not care about metrics need not build one.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the counters and histograms of one briefing process.
type Metrics struct {
	FeedFetches    *prometheus.CounterVec // by result: new, unchanged, failed, skipped
	ArticlesStored prometheus.Counter     // new articles written
	Posts          *prometheus.CounterVec // by platform and kind: scheduled, command, answer
	PostFailures   *prometheus.CounterVec // by platform
	LLMTokens      *prometheus.CounterVec // by provider and kind: prompt, completion
	LLMRequests    *prometheus.CounterVec // by provider and result: ok, error
	AckLatency     prometheus.Histogram   // seconds from envelope read to ack sent
	Briefings      *prometheus.CounterVec // by summarizer
	BuildSeconds   prometheus.Histogram   // time to build one briefing
	ChatQueue      *prometheus.GaugeVec   // by queue and state: running, waiting
	ChatRefused    *prometheus.CounterVec // by queue: work refused because its queue was full
	JobsPending    prometheus.Gauge       // acknowledged chat work not yet done, in the store
	Quiet          *prometheus.CounterVec // briefings asked for with nothing to brief, by reason
	QuietSlots     *prometheus.CounterVec // schedule slots done with nothing new, by schedule
}

// New registers the collectors with reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		FeedFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefing_feed_fetches_total", Help: "Feed fetches by result.",
		}, []string{"result"}),
		ArticlesStored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "briefing_articles_stored_total", Help: "New articles stored.",
		}),
		Posts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefing_posts_total", Help: "Messages posted, by platform and kind.",
		}, []string{"platform", "kind"}),
		PostFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefing_post_failures_total", Help: "Messages that could not be posted.",
		}, []string{"platform"}),
		LLMTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefing_llm_tokens_total", Help: "LLM tokens used, by provider and kind.",
		}, []string{"provider", "kind"}),
		LLMRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefing_llm_requests_total", Help: "LLM requests, by provider and result.",
		}, []string{"provider", "result"}),
		AckLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "briefing_envelope_ack_seconds",
			Help:    "Time from reading a socket-mode envelope to acknowledging it.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 3},
		}),
		Briefings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefing_briefings_total", Help: "Briefings built, by summarizer.",
		}, []string{"summarizer"}),
		BuildSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "briefing_build_seconds", Help: "Time to build one briefing.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		ChatQueue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "briefing_chat_queue_jobs", Help: "Chat work in this process's queues, by queue and state (running, waiting).",
		}, []string{"queue", "state"}),
		ChatRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefing_chat_refused_total", Help: "Chat work refused because its queue was full, by queue.",
		}, []string{"queue"}),
		JobsPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "briefing_jobs_pending", Help: "Acknowledged chat work recorded in the store and not yet done.",
		}),
		Quiet: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefing_quiet_total", Help: "Briefings asked for with nothing to brief, by reason.",
		}, []string{"reason"}),
		QuietSlots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefing_quiet_slots_total", Help: "Schedule slots done with nothing new for any destination.",
		}, []string{"schedule"}),
	}
	reg.MustRegister(m.FeedFetches, m.ArticlesStored, m.Posts, m.PostFailures,
		m.LLMTokens, m.LLMRequests, m.AckLatency, m.Briefings, m.BuildSeconds,
		m.ChatQueue, m.ChatRefused, m.JobsPending, m.Quiet, m.QuietSlots)
	return m
}

// FeedFetched counts one feed fetch.
func (m *Metrics) FeedFetched(result string, newArticles int) {
	if m == nil {
		return
	}
	m.FeedFetches.WithLabelValues(result).Inc()
	m.ArticlesStored.Add(float64(newArticles))
}

// Posted counts one message posted, or failed when err is set.
func (m *Metrics) Posted(platform, kind string, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.PostFailures.WithLabelValues(platform).Inc()
		return
	}
	m.Posts.WithLabelValues(platform, kind).Inc()
}

// LLMUsed counts one LLM request and its tokens.
func (m *Metrics) LLMUsed(provider string, prompt, completion int, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.LLMRequests.WithLabelValues(provider, "error").Inc()
		return
	}
	m.LLMRequests.WithLabelValues(provider, "ok").Inc()
	m.LLMTokens.WithLabelValues(provider, "prompt").Add(float64(prompt))
	m.LLMTokens.WithLabelValues(provider, "completion").Add(float64(completion))
}

// Acked records one envelope's ack latency.
func (m *Metrics) Acked(d time.Duration) {
	if m == nil {
		return
	}
	m.AckLatency.Observe(d.Seconds())
}

// Built records one briefing build.
func (m *Metrics) Built(summarizer string, d time.Duration) {
	if m == nil {
		return
	}
	m.Briefings.WithLabelValues(summarizer).Inc()
	m.BuildSeconds.Observe(d.Seconds())
}

// Queued sets the size of a chat work queue.
func (m *Metrics) Queued(queue string, running, waiting int) {
	if m == nil {
		return
	}
	m.ChatQueue.WithLabelValues(queue, "running").Set(float64(running))
	m.ChatQueue.WithLabelValues(queue, "waiting").Set(float64(waiting))
}

// Refused counts chat work refused because its queue was full.
func (m *Metrics) Refused(queue string) {
	if m == nil {
		return
	}
	m.ChatRefused.WithLabelValues(queue).Inc()
}

// Pending sets how many acknowledged jobs wait in the store.
func (m *Metrics) Pending(n int) {
	if m == nil {
		return
	}
	m.JobsPending.Set(float64(n))
}

// NothingToBrief counts one build that found nothing to brief.
func (m *Metrics) NothingToBrief(reason string) {
	if m == nil {
		return
	}
	m.Quiet.WithLabelValues(reason).Inc()
}

// SlotQuiet counts one schedule slot done with nothing new.
func (m *Metrics) SlotQuiet(schedule string) {
	if m == nil {
		return
	}
	m.QuietSlots.WithLabelValues(schedule).Inc()
}
