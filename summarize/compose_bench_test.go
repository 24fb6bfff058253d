package summarize_test

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"go.yaml.in/yaml/v3"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/collect"
	"github.com/briefing-bot/briefing/demo"
	"github.com/briefing-bot/briefing/internal/fakeopenai"
	"github.com/briefing-bot/briefing/summarize"
)

// naiveTokens is what summarizing every article on its own would cost in
// prompt tokens: one call per article with its full text, counted as the
// fake provider counts.
func naiveTokens(stories []briefing.Story) int {
	total := 0
	for _, s := range stories {
		for _, a := range s.Articles {
			total += fakeopenai.Count([]openai.ChatCompletionMessage{
				{Role: "system", Content: "Summarize this news article in three sentences for a daily briefing."},
				{Role: "user", Content: "Title: " + a.Title + "\n\n" + a.Text},
			}, "").PromptTokens
		}
	}
	return total
}

// uciStories groups the labelled headlines of the clustering benchmark
// into their stories, largest first as a ranking would roughly put them.
func uciStories(tb testing.TB) []briefing.Story {
	tb.Helper()
	articles, label := loadUCI(tb)
	byLabel := map[string]*briefing.Story{}
	var stories []*briefing.Story
	for _, a := range articles {
		s, ok := byLabel[label[a.ID]]
		if !ok {
			s = &briefing.Story{ID: label[a.ID], Title: a.Title}
			byLabel[label[a.ID]] = s
			stories = append(stories, s)
		}
		s.Articles = append(s.Articles, a)
	}
	slices.SortStableFunc(stories, func(x, y *briefing.Story) int { return cmp.Compare(len(y.Articles), len(x.Articles)) })
	out := make([]briefing.Story, len(stories))
	for i, s := range stories {
		out[i] = *s
	}
	return out
}

// demoStories are the stories of the demo's cloud briefing: its feeds
// written out, parsed by the collector, clustered and ranked, as `briefing
// preview` does.
func demoStories(tb testing.TB) []briefing.Story {
	tb.Helper()
	now := time.Now()
	config, err := demo.Write(tb.TempDir(), now)
	if err != nil {
		tb.Fatal(err)
	}
	var cfg struct {
		Topics []struct {
			Feeds []string `yaml:"feeds"`
		} `yaml:"topics"`
	}
	if err := yaml.Unmarshal(config, &cfg); err != nil {
		tb.Fatal(err)
	}
	var articles []briefing.Article
	for _, path := range cfg.Topics[0].Feeds {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		feed, err := collect.Parse(data, path, "", now)
		if err != nil {
			tb.Fatal(err)
		}
		articles = append(articles, feed.Articles...)
	}
	return summarize.Rank(summarize.Cluster(articles, summarize.ClusterOptions{}), cloudTopic, now)
}

// storyReplies answers story requests with summaries of a real model's
// length (a 55-word summary and five facts, about 180 tokens), which the
// compose prompt carries; other requests get the default reply.
func storyReplies(r fakeopenai.Request) fakeopenai.Response {
	if schemaName(r) != "story" {
		return fakeopenai.Default(r)
	}
	words := func(n int) string {
		out := make([]string, n)
		for i := range out {
			out[i] = newsWords[(i*7+n)%len(newsWords)]
		}
		return strings.Join(out, " ") + "."
	}
	reply := map[string]any{"summary": words(55)}
	var facts []map[string]any
	for i := range 5 {
		facts = append(facts, map[string]any{"text": words(18 + i), "sources": []string{"a1", "a2"}})
	}
	reply["facts"] = facts
	content, _ := json.Marshal(reply)
	return fakeopenai.Response{Content: string(content)}
}

// BenchmarkBriefingTokens compares the prompt tokens of an LLM briefing
// with the naive approach, and measures an unchanged re-run, whose story
// summaries come from the cache.
func BenchmarkBriefingTokens(b *testing.B) {
	synthetic := syntheticNews(60, 500, 1)
	cases := map[string]func(testing.TB) []briefing.Story{
		"synthetic_500_articles_60_stories": func(testing.TB) []briefing.Story { return synthetic },
		"synthetic_top_5_stories":           func(testing.TB) []briefing.Story { return synthetic[:5] },
		"uci_6366_headlines_87_stories":     uciStories,
		"demo_cloud_briefing":               demoStories,
	}
	for name, load := range cases {
		b.Run(name, func(b *testing.B) {
			stories := load(b)
			naive := naiveTokens(stories)
			var first, rerun briefing.Usage
			composed := 0
			for range b.N {
				srv := fakeopenai.New(b)
				srv.Handle(storyReplies)
				l := newLLM(b, newTestPool(b, srv), openTestStore(b))
				for _, usage := range []*briefing.Usage{&first, &rerun} {
					br, err := l.Summarize(context.Background(), cloudTopic, stories)
					if err != nil {
						b.Fatal(err)
					}
					if br.Summarizer != "llm:primary" {
						b.Fatalf("summarizer %q", br.Summarizer)
					}
					*usage = br.Usage
				}
				reqs := srv.Requests()
				composed = strings.Count(lastUserMessage(b, reqs[len(reqs)-1]), "<story ")
			}
			b.ReportMetric(float64(first.PromptTokens), "prompt_tokens/op")
			b.ReportMetric(float64(naive), "naive_tokens/op")
			b.ReportMetric(float64(rerun.PromptTokens), "rerun_tokens/op")
			b.ReportMetric(float64(composed), "stories_composed")
			b.ReportMetric(100*float64(first.PromptTokens)/float64(naive), "pct_of_naive")
			b.ReportMetric(100*float64(rerun.PromptTokens)/float64(naive), "rerun_pct_of_naive")
		})
	}
}
