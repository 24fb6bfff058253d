package summarize_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/summarize"
)

// story makes a story of articles from the given sources, the newest
// published minutes after syntheticStart.
func story(id string, minutes int, sources ...string) briefing.Story {
	s := briefing.Story{ID: id, Title: "story " + id}
	for i, src := range sources {
		s.Articles = append(s.Articles, article(id+string(rune('a'+i)), src, "story "+id, "", minutes-i))
	}
	return s
}

func rankedIDs(stories []briefing.Story) []string {
	var ids []string
	for _, s := range stories {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestRank(t *testing.T) {
	topic := briefing.Topic{ID: "cloud", Window: 24 * time.Hour}
	now := syntheticStart.Add(24 * time.Hour)
	hours := func(h int) int { return h * 60 }
	tests := map[string]struct {
		topic   briefing.Topic
		stories []briefing.Story
		want    []string
	}{
		"more sources win over freshness": {
			topic: topic,
			stories: []briefing.Story{
				story("fresh", hours(24), "a.com", "b.com"),
				story("wide", hours(1), "a.com", "b.com", "c.com"),
			},
			want: []string{"wide", "fresh"},
		},
		"sources count once per publisher": {
			topic: topic,
			stories: []briefing.Story{
				story("one-outlet", hours(20), "a.com", "a.com", "www.a.com"),
				story("two-outlets", hours(20), "a.com", "b.com"),
			},
			want: []string{"two-outlets", "one-outlet"},
		},
		"as many sources: the newer first": {
			topic: topic,
			stories: []briefing.Story{
				story("old", hours(2), "a.com", "b.com"),
				story("new", hours(22), "c.com", "d.com"),
			},
			want: []string{"new", "old"},
		},
		"keywords lift a story": {
			topic: briefing.Topic{ID: "cloud", Window: 24 * time.Hour, Keywords: []string{"story kw"}},
			stories: []briefing.Story{
				story("plain", hours(23), "a.com"),
				story("kw", hours(20), "b.com"),
			},
			want: []string{"kw", "plain"},
		},
		"full ties go to the smaller ID": {
			topic: topic,
			stories: []briefing.Story{
				story("b", hours(10), "a.com"),
				story("a", hours(10), "b.com"),
			},
			want: []string{"a", "b"},
		},
		"no window: recency still decays": {
			topic: briefing.Topic{ID: "cloud"},
			stories: []briefing.Story{
				story("old", hours(1), "a.com"),
				story("new", hours(23), "b.com"),
			},
			want: []string{"new", "old"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := summarize.Rank(tc.stories, tc.topic, now)
			if ids := rankedIDs(got); !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("order = %q, want %q", ids, tc.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Score > got[i-1].Score {
					t.Errorf("score %v of %q above %v of %q before it", got[i].Score, got[i].ID, got[i-1].Score, got[i-1].ID)
				}
			}
			if tc.stories[0].Score != 0 {
				t.Error("Rank changed its input")
			}
		})
	}
}

func TestRankScores(t *testing.T) {
	now := syntheticStart.Add(24 * time.Hour)
	topic := briefing.Topic{ID: "cloud", Window: 24 * time.Hour}
	got := summarize.Rank([]briefing.Story{story("s", 24*60, "a.com", "b.com")}, topic, now)
	// Two sources, and an article of this instant: recency 1.
	if got[0].Score != 3 {
		t.Errorf("score = %v, want 3", got[0].Score)
	}
	halfLife := summarize.Rank([]briefing.Story{story("s", 12*60, "a.com")}, topic, now)
	if halfLife[0].Score != 1.5 {
		t.Errorf("score half a window back = %v, want 1.5 (recency halves every half window)", halfLife[0].Score)
	}
}

func TestFilterKeywords(t *testing.T) {
	articles := []briefing.Article{
		{ID: "aws", Title: "AWS outage hits us-east-1"},
		{ID: "laws", Title: "New laws on data residency"},
		{ID: "outages", Title: "Cloud outages cost millions", Text: "Several providers went down."},
		{ID: "cpp", Title: "What is new in C++26", Text: ""},
		{ID: "ml", Title: "Budget cuts", Text: "The Machine  Learning team was cut."},
	}
	tests := map[string]struct {
		keywords []string
		want     []string
	}{
		"no keywords keep all":          {nil, []string{"aws", "laws", "outages", "cpp", "ml"}},
		"blank keywords keep all":       {[]string{" ", ""}, []string{"aws", "laws", "outages", "cpp", "ml"}},
		"whole words only, any case":    {[]string{"aws"}, []string{"aws"}},
		"plural matches singular":       {[]string{"outage"}, []string{"aws", "outages"}},
		"symbols in keywords":           {[]string{"C++26"}, []string{"cpp"}},
		"phrases match across spacing":  {[]string{"machine learning"}, []string{"ml"}},
		"any keyword is enough":         {[]string{"laws", "c++26"}, []string{"laws", "cpp"}},
		"nothing matches: nothing kept": {[]string{"kubernetes"}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, a := range summarize.FilterKeywords(articles, tc.keywords) {
				got = append(got, a.ID)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("FilterKeywords(%q) = %q, want %q", tc.keywords, got, tc.want)
			}
		})
	}
}

// TestRankOtherLanguagesLast puts a story told only in German after the
// English ones of an English topic, though more outlets told it, and
// before them in a German topic.
func TestRankOtherLanguagesLast(t *testing.T) {
	now := syntheticStart.Add(time.Hour)
	german := briefing.Story{ID: "de"}
	for _, src := range []string{"heise.de", "golem.de", "spiegel.de"} {
		german.Articles = append(german.Articles, article("de-"+src, src, "Bundesregierung plant strengere Regeln für Rechenzentren",
			"Die Bundesregierung will die Regeln für Rechenzentren im kommenden Jahr deutlich verschärfen. "+
				"Betreiber müssen dann jedes Jahr melden, wie viel Strom sie verbrauchen und woher er kommt.", 30))
	}
	english := briefing.Story{ID: "en", Articles: []briefing.Article{article("en-1", "example.com", "Data centre operators face new reporting rules",
		"Operators of large data centres will have to report how much power they use and where it comes from, under rules announced on Tuesday.", 20)}}
	stories := []briefing.Story{german, english}
	for language, want := range map[string][]string{"": {"en", "de"}, "de": {"de", "en"}} {
		topic := briefing.Topic{ID: "dc", Window: 24 * time.Hour, Language: language}
		if got := rankedIDs(summarize.Rank(stories, topic, now)); !reflect.DeepEqual(got, want) {
			t.Errorf("language %q: ranked %q, want %q", language, got, want)
		}
	}
}
