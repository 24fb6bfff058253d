package summarize_test

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/summarize"
)

// article makes a test article published minutes after syntheticStart.
func article(id, source, title, text string, minutes int) briefing.Article {
	return briefing.Article{
		ID: id, URL: "https://" + source + "/" + id, Source: source, Title: title, Text: text,
		Published: syntheticStart.Add(time.Duration(minutes) * time.Minute),
	}
}

// storyIDs lists each story's article IDs.
func storyIDs(stories []briefing.Story) [][]string {
	var out [][]string
	for _, s := range stories {
		var ids []string
		for _, a := range s.Articles {
			ids = append(ids, a.ID)
		}
		out = append(out, ids)
	}
	return out
}

func TestCluster(t *testing.T) {
	tests := map[string]struct {
		articles []briefing.Article
		want     [][]string
	}{
		"one event told by three outlets, in any wording": {
			articles: []briefing.Article{
				article("a", "cnbc.com", "Amazon adds OpenAI models to Bedrock", "", 10),
				article("b", "geekwire.com", "AWS Bedrock now offers OpenAI models to customers", "", 20),
				article("c", "usnews.com", "OpenAI models come to Amazon's Bedrock service", "", 30),
			},
			want: [][]string{{"a", "b", "c"}},
		},
		"two events of one company stay apart": {
			articles: []briefing.Article{
				article("a", "cnbc.com", "Google to release Android SDK for wearables", "", 10),
				article("b", "verge.com", "Google releases wearables SDK for Android developers", "", 20),
				article("c", "zdnet.com", "Google pays $15 referral bonus for Google Apps customers", "", 30),
				article("d", "wired.com", "Google Apps referral program pays $15 per user", "", 40),
			},
			want: [][]string{{"a", "b"}, {"c", "d"}},
		},
		"text joins headlines that share little": {
			articles: []briefing.Article{
				article("a", "reuters.com", "Chipmaker slumps",
					"Shares of Nvidia fell 9 percent after the chipmaker warned that export curbs on China would cut data center revenue.", 10),
				article("b", "ft.com", "A bad day for AI stocks",
					"Nvidia shares fell 9 percent on Tuesday after the company warned export curbs on China would hit its data center revenue.", 20),
			},
			want: [][]string{{"a", "b"}},
		},
		"unrelated headlines are singletons": {
			articles: []briefing.Article{
				article("a", "espn.com", "Braves pitcher leaves start with strained forearm", "", 10),
				article("b", "wsj.com", "Fed official says weak data caused by weather", "", 20),
			},
			want: [][]string{{"a"}, {"b"}},
		},
		"a URL counts once, the earliest kept": {
			articles: []briefing.Article{
				{ID: "late", URL: "https://x.example/1", Title: "Azure outage hits Europe", Published: syntheticStart.Add(time.Hour)},
				{ID: "early", URL: "https://x.example/1", Title: "Azure outage hits Europe", Published: syntheticStart},
			},
			want: [][]string{{"early"}},
		},
		"nothing in, nothing out": {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := storyIDs(summarize.Cluster(tc.articles, summarize.ClusterOptions{})); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("stories = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClusterStoryFields(t *testing.T) {
	articles := []briefing.Article{
		article("late", "usnews.com", "Bedrock gets OpenAI", "", 30),
		article("first", "cnbc.com", "Amazon adds OpenAI models to its Bedrock service", "", 10),
		article("mid", "geekwire.com", "Amazon Bedrock adds OpenAI models for AWS customers", "", 20),
	}
	stories := summarize.Cluster(articles, summarize.ClusterOptions{})
	if len(stories) != 1 {
		t.Fatalf("got %d stories, want 1: %q", len(stories), storyIDs(stories))
	}
	s := stories[0]
	if got := storyIDs(stories)[0]; !slices.Equal(got, []string{"first", "mid", "late"}) {
		t.Errorf("articles in order %q, want earliest first", got)
	}
	sum := sha256.Sum256([]byte("first"))
	if want := hex.EncodeToString(sum[:8]); s.ID != want {
		t.Errorf("ID = %q, want the fingerprint of the earliest article %q", s.ID, want)
	}
	// The short headline shares least with the others.
	if s.Title == "Bedrock gets OpenAI" {
		t.Errorf("Title = %q, want a central headline", s.Title)
	}
}

// TestClusterDeterministic feeds the same window in different orders.
func TestClusterDeterministic(t *testing.T) {
	articles := syntheticArticles(300, 3)
	want := summarize.Cluster(articles, summarize.ClusterOptions{})
	rng := rand.New(rand.NewPCG(9, 9))
	for range 3 {
		shuffled := slices.Clone(articles)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := summarize.Cluster(shuffled, summarize.ClusterOptions{}); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled input gave other stories: %q, want %q", storyIDs(got), storyIDs(want))
		}
	}
}

func TestClusterThreshold(t *testing.T) {
	articles, _ := syntheticWindow(300, 5)
	loose := summarize.Cluster(articles, summarize.ClusterOptions{Threshold: 0.1})
	strict := summarize.Cluster(articles, summarize.ClusterOptions{Threshold: 0.9})
	if len(loose) >= len(strict) {
		t.Errorf("threshold 0.1 gave %d stories, 0.9 gave %d: want fewer for the lower", len(loose), len(strict))
	}
}
