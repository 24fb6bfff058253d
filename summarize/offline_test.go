package summarize_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/summarize"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var windowTopic = briefing.Topic{ID: "cloud", Name: "Cloud", Window: 24 * time.Hour, MaxStories: 5}

// windowNow is the end of the window of testdata/window.json.
var windowNow = time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)

// windowArticles reads testdata/window.json: a day of a cloud topic, with
// outlets that append their names to headlines, texts with feed
// boilerplate, and an article without text.
func windowArticles(tb testing.TB) []briefing.Article {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "window.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var articles []briefing.Article
	if err := json.Unmarshal(data, &articles); err != nil {
		tb.Fatalf("testdata/window.json: %v", err)
	}
	return articles
}

// windowStories clusters and ranks the window as a build does.
func windowStories(tb testing.TB) []briefing.Story {
	tb.Helper()
	return summarize.Rank(summarize.Cluster(windowArticles(tb), summarize.ClusterOptions{}), windowTopic, windowNow)
}

func summarizeOffline(tb testing.TB, stories []briefing.Story) *briefing.Briefing {
	tb.Helper()
	b, err := summarize.Offline{Now: func() time.Time { return windowNow }}.Summarize(context.Background(), windowTopic, stories)
	if err != nil {
		tb.Fatalf("Summarize: %v", err)
	}
	return b
}

// oneLine collapses runs of white space, as Sentences does.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// assertGrounded checks that every passage cites only articles of the
// briefing and quotes the first of them.
func assertGrounded(tb testing.TB, b *briefing.Briefing) {
	tb.Helper()
	for _, p := range b.Paragraphs {
		if len(p.Sources) == 0 {
			tb.Errorf("passage %q cites nothing", p.Text)
			continue
		}
		for _, u := range p.Sources {
			if _, ok := b.ArticleByURL(u); !ok {
				tb.Errorf("passage %q cites %s, not an article of the briefing", p.Text, u)
			}
		}
		if unique := slices.Compact(slices.Sorted(slices.Values(p.Sources))); len(unique) != len(p.Sources) {
			tb.Errorf("passage %q cites a source twice: %q", p.Text, p.Sources)
		}
		quoted, _ := b.ArticleByURL(p.Sources[0])
		text := oneLine(strings.TrimPrefix(p.Text, "Update: "))
		if !strings.Contains(oneLine(quoted.Text), text) && !strings.Contains(oneLine(quoted.Title)+".", text) {
			tb.Errorf("passage %q is not in its first source %s", p.Text, quoted.URL)
		}
	}
}

func TestOfflineBriefing(t *testing.T) {
	stories := windowStories(t)
	if len(stories) != 4 {
		t.Fatalf("window clustered into %d stories, want 4: %q", len(stories), storyIDs(stories))
	}
	b := summarizeOffline(t, stories)
	assertGrounded(t, b)
	if b.Summarizer != briefing.SummarizerOffline || b.Topic != "cloud" || b.TopicName != "Cloud" ||
		!b.GeneratedAt.Equal(windowNow) || b.Usage != (briefing.Usage{}) || !reflect.DeepEqual(b.Stories, stories) {
		t.Errorf("briefing metadata: summarizer %q topic %q/%q at %v usage %+v, %d stories",
			b.Summarizer, b.Topic, b.TopicName, b.GeneratedAt, b.Usage, len(b.Stories))
	}
	// The story three outlets told leads; its CNBC headline loses " - CNBC".
	if want := "Amazon adds OpenAI models to Bedrock a day after Microsoft deal change"; b.Headline != want {
		t.Errorf("Headline = %q, want %q", b.Headline, want)
	}
	if len(b.Bullets) != 3 {
		t.Fatalf("%d bullets, want 3: %q", len(b.Bullets), b.Bullets)
	}
	for _, bullet := range b.Bullets {
		if bullet == "" || len(bullet) > 200 || strings.Contains(bullet, "\n") {
			t.Errorf("bullet %q: want one line of 1 to 200 bytes", bullet)
		}
	}
	for _, p := range b.Paragraphs {
		for _, junk := range []string{"Read more", "appeared first on", "Click here", "Follow us"} {
			if strings.Contains(p.Text, junk) {
				t.Errorf("passage %q quotes boilerplate", p.Text)
			}
		}
	}
	// Each passage names its story, quoting only that story's articles.
	for _, p := range b.Paragraphs {
		if p.Story < 0 || p.Story >= len(stories) || !storyURLs(stories[p.Story : p.Story+1])[p.Sources[0]] {
			t.Errorf("passage %q names story %d, not the story it quotes", p.Text, p.Story)
		}
	}
	cites := map[string]bool{}
	for _, p := range b.Paragraphs {
		if len(p.Sources) > 1 {
			cites[p.Sources[0]] = true
		}
	}
	if len(cites) == 0 {
		t.Error("no passage cites the other outlets that report the same")
	}
	golden(t, "offline.golden.json", b)
}

// golden compares v, as indented JSON, with testdata/name; -update
// rewrites the file.
func golden(tb testing.TB, name string, v any) {
	tb.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(append(got, '\n'), want) {
		tb.Errorf("briefing differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

func TestOfflineDeterministic(t *testing.T) {
	want := summarizeOffline(t, windowStories(t))
	articles := windowArticles(t)
	slices.Reverse(articles)
	stories := summarize.Rank(summarize.Cluster(articles, summarize.ClusterOptions{}), windowTopic, windowNow)
	if got := summarizeOffline(t, stories); !reflect.DeepEqual(got, want) {
		t.Errorf("same window in another order gave another briefing:\n%+v\nwant\n%+v", got, want)
	}
}

// TestOfflineUpdate tells a story again after a briefing told two of its
// articles: the new article's news leads, and nothing told before is
// repeated.
func TestOfflineUpdate(t *testing.T) {
	stories := windowStories(t)
	azure := slices.IndexFunc(stories, func(s briefing.Story) bool { return strings.Contains(s.Title, "Azure") })
	if azure < 0 {
		t.Fatal("no Azure outage story in the window")
	}
	told := map[string]bool{}
	var toldText strings.Builder
	for _, a := range stories[azure].Articles {
		told[a.ID] = true
		toldText.WriteString(oneLine(a.Text) + "\n")
	}
	news := article("azure-switch", "datacenterknowledge.com", "Report blames transfer switch for Azure West Europe outage",
		"Microsoft's West Europe Azure region suffered a four-hour outage on Tuesday that took down websites and business applications. "+
			"A preliminary report blamed a faulty automatic transfer switch that failed to move a data hall onto backup power. "+
			"Microsoft said it would replace the switches at two more sites by March.", 0)
	stories[azure].Articles = append(stories[azure].Articles, news)
	stories = summarize.Remember(stories, told)
	if !stories[azure].Update || !reflect.DeepEqual(stories[azure].NewArticles, []string{news.ID}) {
		t.Fatalf("Remember: update %v, new articles %q; want an update with %s new", stories[azure].Update, stories[azure].NewArticles, news.ID)
	}

	b := summarizeOffline(t, stories)
	assertGrounded(t, b)
	var update []briefing.Paragraph
	for _, p := range b.Paragraphs {
		if p.Story == azure {
			update = append(update, p)
		}
	}
	if len(update) == 0 || !strings.HasPrefix(update[0].Text, "Update: A preliminary report blamed a faulty automatic transfer switch") {
		t.Fatalf("the update's passages %+v, want the transfer switch first", update)
	}
	for _, p := range update {
		for _, sentence := range summarize.Sentences(strings.TrimPrefix(p.Text, "Update: ")) {
			if strings.Contains(toldText.String(), sentence) {
				t.Errorf("the update repeats %q, told before", sentence)
			}
		}
	}
}

func storyHasURL(s briefing.Story, url string) bool {
	return slices.ContainsFunc(s.Articles, func(a briefing.Article) bool { return a.URL == url })
}

func TestOfflineFewStories(t *testing.T) {
	stories := windowStories(t)
	tests := map[string]struct {
		stories     []briefing.Story
		wantBullets int
	}{
		"one story: its key facts": {stories[:1], 3},
		"two stories":              {stories[:2], 3},
		"long headline and sentences": {[]briefing.Story{{
			ID: "long", Title: strings.Repeat("Cloud providers announce sweeping price changes ", 6),
			Articles: []briefing.Article{article("long", "example.com", strings.Repeat("Cloud providers announce sweeping price changes ", 6),
				strings.Repeat("Storage and egress prices change across every region and tier ", 5)+"today. "+
					strings.Repeat("Compute discounts grow for long commitments in most regions ", 5)+"as well.", 0)},
		}}, 2},
		"one article without text": {[]briefing.Story{{
			ID: "x", Title: "OpenAI models come to Amazon's Bedrock cloud service",
			Articles: []briefing.Article{stories[0].Articles[2]},
		}}, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := summarizeOffline(t, tc.stories)
			assertGrounded(t, b)
			if len(b.Bullets) != tc.wantBullets {
				t.Errorf("bullets %q, want %d", b.Bullets, tc.wantBullets)
			}
			for _, bullet := range b.Bullets {
				if bullet == "" || len(bullet) > 200 {
					t.Errorf("bullet %q: want 1 to 200 bytes", bullet)
				}
			}
			if len(b.Headline) >= 150 {
				t.Errorf("headline of %d bytes, want under 150: %q", len(b.Headline), b.Headline)
			}
			if len(b.Paragraphs) == 0 || b.Headline == "" {
				t.Errorf("headline %q and %d passages, want both", b.Headline, len(b.Paragraphs))
			}
		})
	}
}

func TestOfflineErrors(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := map[string]struct {
		ctx      context.Context
		stories  []briefing.Story
		wantCode string
	}{
		"no stories":           {context.Background(), nil, briefing.ENOTFOUND},
		"stories without news": {context.Background(), []briefing.Story{{ID: "empty"}}, briefing.ENOTFOUND},
		"canceled":             {canceled, windowStories(t), briefing.EINTERNAL},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := summarize.Offline{}.Summarize(tc.ctx, windowTopic, tc.stories)
			if err == nil || b != nil {
				t.Fatalf("Summarize = %v, %v; want an error", b, err)
			}
			if code := briefing.ErrorCode(err); code != tc.wantCode {
				t.Errorf("error %v has code %q, want %q", err, code, tc.wantCode)
			}
			if tc.wantCode == briefing.ENOTFOUND && briefing.ErrorMessage(err) != "no new articles for Cloud in the last 24h" {
				t.Errorf("message %q", briefing.ErrorMessage(err))
			}
			if tc.ctx == canceled && !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
		})
	}
}
