package summarize_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/internal/fakeopenai"
	"github.com/briefing-bot/briefing/llm"
	"github.com/briefing-bot/briefing/store"
)

const testAPIKey = "sk-summarize-test-secret-42"

var testNow = time.Date(2026, 4, 29, 8, 0, 0, 0, time.UTC)

// newPool returns an LLM pool of one provider at srv, and checks when the
// test ends that the API key never left the Authorization header.
func newTestPool(tb testing.TB, srv *fakeopenai.Server) *llm.Pool {
	tb.Helper()
	p, err := llm.New([]llm.Provider{{Name: "primary", BaseURL: srv.URL, APIKey: testAPIKey, Model: "gpt-4.1-mini", MaxRetries: new(1)}},
		llm.Options{RetryBase: time.Millisecond, RetryCap: 2 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		for _, r := range srv.Requests() {
			if strings.Contains(string(r.Raw), testAPIKey) {
				tb.Errorf("the API key is in a request body: %s", r.Raw)
			}
		}
	})
	return p
}

// downServer is a fake provider that fails every request.
func downLLMServer(tb testing.TB) *fakeopenai.Server {
	tb.Helper()
	srv := fakeopenai.New(tb)
	srv.Handle(func(fakeopenai.Request) fakeopenai.Response {
		return fakeopenai.Response{Status: http.StatusServiceUnavailable}
	})
	return srv
}

func openTestStore(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(filepath.Join(tb.TempDir(), "briefing.db"), store.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

func cloudArticle(id, source, title string, hoursAgo int, paragraphs ...string) briefing.Article {
	return briefing.Article{
		ID: id, URL: fmt.Sprintf("https://%s/news/%s", source, id), Title: title,
		Text: strings.Join(paragraphs, "\n\n"), Source: source, Topics: []string{"cloud"},
		Published: testNow.Add(-time.Duration(hoursAgo) * time.Hour),
	}
}

// cloudStories are three stories of one day, ranked.
func cloudStories() []briefing.Story {
	return []briefing.Story{
		{ID: "s1", Title: "OpenAI and Microsoft rewrite their partnership", Score: 3, Articles: []briefing.Article{
			cloudArticle("openai-msft", "openai.com", "The next chapter of the Microsoft–OpenAI partnership", 30,
				"OpenAI and Microsoft signed an amended agreement on April 27 that ends Microsoft's exclusive right to sell OpenAI models.",
				"OpenAI may now offer its products on any cloud provider. Microsoft keeps a license to OpenAI intellectual property through 2032."),
			cloudArticle("msft-blog", "blogs.microsoft.com", "Microsoft and OpenAI evolve their partnership", 29,
				"Microsoft remains OpenAI's primary cloud partner, and OpenAI products ship first on Azure unless Microsoft cannot provide the capacity.",
				"Microsoft will no longer pay OpenAI a revenue share under the amended deal."),
			cloudArticle("cnbc-deal", "cnbc.com", "Microsoft loses exclusive OpenAI rights", 28,
				"Microsoft has invested more than $13 billion in OpenAI since 2019 and holds a large equity stake.",
				"Analysts said the change widens enterprise distribution for OpenAI models."),
		}},
		{ID: "s2", Title: "Amazon adds OpenAI models to Bedrock", Score: 2, Articles: []briefing.Article{
			cloudArticle("cnbc-bedrock", "cnbc.com", "Amazon brings OpenAI models to Bedrock", 20,
				"Amazon Web Services said on April 28 that OpenAI models are becoming available through Bedrock.",
				"Bedrock customers can use GPT-4.1, GPT-4.1 mini and GPT-4.1 nano."),
			cloudArticle("geekwire-bedrock", "geekwire.com", "AWS moves fast on OpenAI", 19,
				"AWS called the move a major expansion of its partnership with OpenAI.",
				"Bedrock is Amazon's service for using outside AI models inside its cloud."),
		}},
		{ID: "s3", Title: "Stargate adds capacity", Score: 1, Articles: []briefing.Article{
			cloudArticle("stargate", "openai.com", "Stargate expands with Oracle and SoftBank", 10,
				"OpenAI has built out Stargate with Oracle, SoftBank and CoreWeave to secure data center capacity for training and serving models."),
		}},
	}
}

// cloudBriefing is a briefing of cloudStories as the summarizer would
// write it.
func cloudBriefing() *briefing.Briefing {
	stories := cloudStories()
	url := func(s, a int) string { return stories[s].Articles[a].URL }
	return &briefing.Briefing{
		ID: "b1", Topic: "cloud", TopicName: "Cloud", GeneratedAt: testNow, Summarizer: "offline",
		Headline: "OpenAI breaks free of Microsoft cloud",
		Bullets:  []string{"Microsoft's exclusivity ends.", "Amazon adds OpenAI models to Bedrock.", "Stargate grows."},
		Paragraphs: []briefing.Paragraph{
			{Text: "OpenAI and Microsoft rewrote their partnership on April 27.", Sources: []string{url(0, 0), url(0, 1)}},
			{Text: "Amazon added OpenAI models to Bedrock a day later.", Sources: []string{url(1, 0), url(1, 1)}},
			{Text: "Stargate adds capacity with Oracle and SoftBank.", Sources: []string{url(2, 0)}},
		},
		Stories: stories,
	}
}

// urls lists the URLs of the stories' articles.
func storyURLs(stories []briefing.Story) map[string]bool {
	out := map[string]bool{}
	for _, s := range stories {
		for _, a := range s.Articles {
			out[a.URL] = true
		}
	}
	return out
}

// lastUserMessage is the final prompt message of a request.
func lastUserMessage(tb testing.TB, r fakeopenai.Request) string {
	tb.Helper()
	msgs := r.Body.Messages
	if len(msgs) == 0 || msgs[len(msgs)-1].Role != "user" {
		tb.Fatalf("request does not end with a user message: %s", r.Raw)
	}
	return msgs[len(msgs)-1].Content
}
