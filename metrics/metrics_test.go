package metrics_test

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/briefing-bot/briefing/metrics"
)

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *metrics.Metrics
	m.FeedFetched("new", 3)
	m.Posted("slack", "command", nil)
	m.LLMUsed("primary", 10, 5, nil)
	m.Acked(time.Millisecond)
	m.Built("offline", time.Second)
}

func TestMetricsCount(t *testing.T) {
	m := metrics.New(prometheus.NewRegistry())
	m.FeedFetched("new", 3)
	m.FeedFetched("failed", 0)
	m.Posted("slack", "scheduled", nil)
	m.Posted("slack", "scheduled", errors.New("channel_not_found"))
	m.LLMUsed("primary", 100, 20, nil)
	m.LLMUsed("primary", 0, 0, errors.New("timeout"))
	for name, tc := range map[string]struct {
		c    prometheus.Collector
		want float64
	}{
		"articles stored":   {m.ArticlesStored, 3},
		"failed fetches":    {m.FeedFetches.WithLabelValues("failed"), 1},
		"posts":             {m.Posts.WithLabelValues("slack", "scheduled"), 1},
		"post failures":     {m.PostFailures.WithLabelValues("slack"), 1},
		"prompt tokens":     {m.LLMTokens.WithLabelValues("primary", "prompt"), 100},
		"completion tokens": {m.LLMTokens.WithLabelValues("primary", "completion"), 20},
		"llm errors":        {m.LLMRequests.WithLabelValues("primary", "error"), 1},
	} {
		if got := testutil.ToFloat64(tc.c); got != tc.want {
			t.Errorf("%s = %v, want %v", name, got, tc.want)
		}
	}
}
