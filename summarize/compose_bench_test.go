package summarize_test

import (
	"cmp"
	"context"
	"encoding/json"
	"math/rand/v2"
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

// demoStories are the stories of the demo's cloud briefing.
func demoStories(tb testing.TB) []briefing.Story { return demoTopicStories(tb, 0) }

// demoTopicStories are the stories of the demo's n-th topic: its feeds
// written out, parsed by the collector, clustered and ranked, as `briefing
// preview` does.
func demoTopicStories(tb testing.TB, n int) []briefing.Story {
	tb.Helper()
	now := time.Now()
	config, err := demo.Write(tb.TempDir(), now)
	if err != nil {
		tb.Fatal(err)
	}
	var cfg struct {
		Topics []struct {
			ID    string   `yaml:"id"`
			Feeds []string `yaml:"feeds"`
		} `yaml:"topics"`
	}
	if err := yaml.Unmarshal(config, &cfg); err != nil {
		tb.Fatal(err)
	}
	var articles []briefing.Article
	for _, path := range cfg.Topics[n].Feeds {
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
	topic := cloudTopic
	topic.ID = cfg.Topics[n].ID
	return summarize.Rank(summarize.Cluster(articles, summarize.ClusterOptions{}), topic, now)
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

// shortNews is a day of a topic of 60 articles of 120 to 250 words in 20
// stories, ranked, as a build reads them before cutting them to the
// topic's five stories.
func shortNews() []briefing.Story {
	stories := syntheticNews(20, 60, 3)
	rng := rand.New(rand.NewPCG(3, 11))
	for i := range stories {
		for j := range stories[i].Articles {
			a := &stories[i].Articles[j]
			words := strings.Fields(a.Text)
			a.Text = strings.Join(words[:120+rng.IntN(131)], " ") + "."
		}
	}
	return stories
}

// tokenFigures are the prompt tokens of an LLM briefing of some stories,
// of its unchanged re-run, and of the naive way over all the topic's
// articles.
type tokenFigures struct {
	first, rerun, naive, composed int
}

// measureTokens writes the LLM briefing of stories twice through the fake
// provider, the second time with the first's cache, and counts what the
// naive way would cost for all (the topic's stories before any cut).
func measureTokens(tb testing.TB, stories, all []briefing.Story) tokenFigures {
	tb.Helper()
	srv := fakeopenai.New(tb)
	srv.Handle(storyReplies)
	l := newLLM(tb, newTestPool(tb, srv), openTestStore(tb))
	f := tokenFigures{naive: naiveTokens(all)}
	for _, tokens := range []*int{&f.first, &f.rerun} {
		br, err := l.Summarize(context.Background(), cloudTopic, stories)
		if err != nil {
			tb.Fatal(err)
		}
		if br.Summarizer != "llm:primary" {
			tb.Fatalf("summarizer %q", br.Summarizer)
		}
		*tokens = br.Usage.PromptTokens
	}
	reqs := srv.Requests()
	f.composed = strings.Count(lastUserMessage(tb, reqs[len(reqs)-1]), "<story ")
	return f
}

// TestLLMBriefingTokensShortNews holds the LLM briefing of a topic of 60
// short articles to a quarter of the naive way's prompt tokens, and its
// unchanged re-run to none.
func TestLLMBriefingTokensShortNews(t *testing.T) {
	all := shortNews()
	f := measureTokens(t, all[:5], all)
	t.Logf("prompt tokens %d, naive %d (%.1f%%), re-run %d", f.first, f.naive, 100*float64(f.first)/float64(f.naive), f.rerun)
	if f.first*4 > f.naive || f.rerun != 0 {
		t.Errorf("prompt tokens %d of the naive %d, re-run %d; want at most a quarter and none", f.first, f.naive, f.rerun)
	}
}

// BenchmarkBriefingTokens compares the prompt tokens of an LLM briefing
// with the naive approach, and measures an unchanged re-run, whose story
// summaries come from the cache. The naive way summarizes every article of
// the topic; a briefing tells the stories it is given (the 60-article
// topic: its top five, as a build cuts them).
func BenchmarkBriefingTokens(b *testing.B) {
	synthetic := syntheticNews(60, 500, 1)
	short := shortNews()
	cases := map[string]func(testing.TB) (told, all []briefing.Story){
		"synthetic_500_articles_60_stories": func(testing.TB) ([]briefing.Story, []briefing.Story) { return synthetic, synthetic },
		"synthetic_top_5_stories":           func(testing.TB) ([]briefing.Story, []briefing.Story) { return synthetic[:5], synthetic[:5] },
		"short_60_articles_top_5_stories":   func(testing.TB) ([]briefing.Story, []briefing.Story) { return short[:5], short },
		"uci_6366_headlines_87_stories": func(tb testing.TB) ([]briefing.Story, []briefing.Story) {
			s := uciStories(tb)
			return s, s
		},
		"demo_cloud_briefing": func(tb testing.TB) ([]briefing.Story, []briefing.Story) {
			s := demoStories(tb)
			return s, s
		},
	}
	for name, load := range cases {
		b.Run(name, func(b *testing.B) {
			told, all := load(b)
			var f tokenFigures
			for range b.N {
				f = measureTokens(b, told, all)
			}
			b.ReportMetric(float64(f.first), "prompt_tokens/op")
			b.ReportMetric(float64(f.naive), "naive_tokens/op")
			b.ReportMetric(float64(f.rerun), "rerun_tokens/op")
			b.ReportMetric(float64(f.composed), "stories_composed")
			b.ReportMetric(100*float64(f.first)/float64(f.naive), "pct_of_naive")
			b.ReportMetric(100*float64(f.rerun)/float64(f.naive), "rerun_pct_of_naive")
		})
	}
}
