package summarize_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/summarize"
)

// BenchmarkCluster clusters the UCI headlines and synthetic windows of
// articles with text.
func BenchmarkCluster(b *testing.B) {
	b.Run("uci-6366", func(b *testing.B) {
		articles, _ := loadUCI(b)
		benchmarkCluster(b, articles)
	})
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("synthetic-%d", n), func(b *testing.B) {
			benchmarkCluster(b, syntheticArticles(n, 1))
		})
	}
}

func benchmarkCluster(b *testing.B, articles []briefing.Article) {
	var stories []briefing.Story
	for b.Loop() {
		stories = summarize.Cluster(articles, summarize.ClusterOptions{})
	}
	b.ReportMetric(float64(len(stories)), "stories")
}

func BenchmarkClusterAndSummarize1000(b *testing.B) {
	benchmarkClusterAndSummarize(b, syntheticArticles(1000, 1))
}

func BenchmarkClusterAndSummarize10000(b *testing.B) {
	benchmarkClusterAndSummarize(b, syntheticArticles(10000, 1))
}

// benchmarkClusterAndSummarize runs what a briefing build does after
// loading the window: cluster, rank, cut to five stories, summarize.
func benchmarkClusterAndSummarize(b *testing.B, articles []briefing.Article) {
	topic := briefing.Topic{ID: "bench", Name: "Bench", Window: 24 * time.Hour, MaxStories: 5}
	now := syntheticStart.Add(24 * time.Hour)
	offline := summarize.Offline{Now: func() time.Time { return now }}
	ctx := context.Background()
	for b.Loop() {
		stories := summarize.Rank(summarize.Cluster(articles, summarize.ClusterOptions{}), topic, now)
		if _, err := offline.Summarize(ctx, topic, stories[:min(len(stories), topic.MaxStories)]); err != nil {
			b.Fatal(err)
		}
	}
}
