package summarize_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/briefing-bot/briefing/summarize"
)

func TestIndexAddSkipsKnownIDs(t *testing.T) {
	idx := summarize.NewIndex()
	a := cloudArticle("x", "cnbc.com", "Bedrock adds OpenAI models", 1, "Amazon Bedrock adds models.")
	if !idx.Add(a) {
		t.Fatal("a new article was not added")
	}
	changed := a
	changed.Title, changed.Text = "Something else entirely", "Unrelated words."
	if idx.Add(changed) || idx.Len() != 1 {
		t.Fatalf("an article with a known id was indexed again (len %d)", idx.Len())
	}
	if hits := idx.Search("unrelated", 5); len(hits) != 0 {
		t.Errorf("the second version's words were indexed: %+v", hits)
	}
}

func TestIndexSearchRanksMatches(t *testing.T) {
	idx := summarize.NewIndex()
	for _, s := range cloudStories() {
		for _, a := range s.Articles {
			idx.Add(a)
		}
	}
	tests := map[string]struct {
		query string
		want  string
	}{
		"bedrock models":       {query: "Which models are on Bedrock?", want: "cnbc-bedrock"},
		"revenue share":        {query: "revenue share", want: "msft-blog"},
		"stargate partners":    {query: "Who builds Stargate?", want: "stargate"},
		"investment since2019": {query: "How much has Microsoft invested?", want: "cnbc-deal"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			hits := idx.Search(tc.query, 3)
			if len(hits) == 0 || hits[0].Article.ID != tc.want {
				t.Fatalf("hits %+v, want %s first", hits, tc.want)
			}
			for i := 1; i < len(hits); i++ {
				if hits[i].Score > hits[i-1].Score {
					t.Errorf("hits out of order: %+v", hits)
				}
			}
		})
	}
	if hits := idx.Search("the and of", 3); len(hits) != 0 {
		t.Errorf("stop words matched %+v", hits)
	}
}

func TestIndexPrune(t *testing.T) {
	idx := summarize.NewIndex()
	idx.Add(cloudArticle("new", "a.com", "Fresh cloud pricing news", 1))
	idx.Add(cloudArticle("old", "b.com", "Stale cloud pricing news", 24*40))
	if n := idx.Prune(testNow.Add(-30 * 24 * time.Hour)); n != 1 || idx.Len() != 1 {
		t.Fatalf("pruned %d, len %d; want the old article gone", n, idx.Len())
	}
	hits := idx.Search("cloud pricing", 5)
	if len(hits) != 1 || hits[0].Article.ID != "new" {
		t.Errorf("hits after pruning %+v", hits)
	}
	if !idx.Add(cloudArticle("old", "b.com", "Stale cloud pricing news", 24*40)) {
		t.Error("a pruned article could not be added again")
	}
}

func TestIndexConcurrentUse(t *testing.T) {
	idx := summarize.NewIndex()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				idx.Add(cloudArticle(fmt.Sprintf("%d-%d", w, i%25), "a.com", fmt.Sprintf("Cloud story %d", i), i))
				idx.Search("cloud story", 3)
				idx.ScoreTexts("cloud", []string{"a cloud story"})
			}
		})
	}
	wg.Wait()
	if idx.Len() != 100 {
		t.Errorf("len %d, want 100 distinct ids", idx.Len())
	}
}

func TestScoreTexts(t *testing.T) {
	idx := summarize.NewIndex()
	for _, s := range cloudStories() {
		for _, a := range s.Articles {
			idx.Add(a)
		}
	}
	scores := idx.ScoreTexts("GPT-4.1 on Bedrock", []string{
		"Bedrock customers can use GPT-4.1, GPT-4.1 mini and GPT-4.1 nano.",
		"Bedrock is Amazon's service for outside AI models.",
		"Microsoft will no longer pay a revenue share.",
	})
	if !(scores[0] > scores[1] && scores[1] > scores[2] && scores[2] == 0) {
		t.Errorf("scores %v, want strictly falling to zero", scores)
	}
}
