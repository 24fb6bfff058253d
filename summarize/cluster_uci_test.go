package summarize_test

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/summarize"
)

var sweep = flag.Bool("sweep", false, "log clustering scores over a range of thresholds in TestClusterUCI")

// uciPath is the story-clustering benchmark of the shared corpus: 6,366
// headlines in 87 stories labelled by a news aggregator.
const uciPath = "../../shared/corpus/clustering/uci_news_aggregator_2014-03-10_11_en.jsonl"

// loadUCI reads the benchmark as articles and their labelled stories. The
// file lists the rows story by story, so they are shuffled (with a fixed
// seed) before they get their IDs, and all are published at one time:
// neither IDs nor times may carry the labels.
func loadUCI(tb testing.TB) ([]briefing.Article, map[string]string) {
	tb.Helper()
	f, err := os.Open(uciPath)
	if err != nil {
		tb.Skipf("clustering benchmark not available: %v", err)
	}
	defer f.Close()
	type row struct {
		Title, URL, Hostname, Source, Cluster string
	}
	var rows []row
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			tb.Fatalf("%s: %v", uciPath, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", uciPath, err)
	}
	rng := rand.New(rand.NewPCG(2014, 3))
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	published := time.Date(2014, 3, 11, 0, 0, 0, 0, time.UTC)
	articles := make([]briefing.Article, len(rows))
	story := make(map[string]string, len(rows))
	for i, r := range rows {
		id := fmt.Sprintf("uci-%04d", i)
		articles[i] = briefing.Article{ID: id, URL: r.URL, Title: r.Title, Source: r.Hostname,
			SourceName: r.Source, Published: published}
		story[id] = r.Cluster
	}
	return articles, story
}

// clusterScores are the agreement of predicted stories with labelled ones.
type clusterScores struct {
	BCubedP, BCubedR, BCubedF    float64
	PairwiseP, PairwiseR, PairF  float64
	Clusters, Stories, Articles  int
	Singletons, LargestClusterSz int
}

func (s clusterScores) String() string {
	return fmt.Sprintf("B-cubed P %.3f R %.3f F1 %.3f | pairwise P %.3f R %.3f F1 %.3f | %d clusters (%d singletons, largest %d) for %d labelled stories, %d articles",
		s.BCubedP, s.BCubedR, s.BCubedF, s.PairwiseP, s.PairwiseR, s.PairF,
		s.Clusters, s.Singletons, s.LargestClusterSz, s.Stories, s.Articles)
}

// scoreClusters compares stories with the labels: B-cubed precision and
// recall average, over articles, the share of an article's cluster that
// shares its label and the share of its label that shares its cluster;
// pairwise scores count pairs of articles put together.
func scoreClusters(stories []briefing.Story, label map[string]string) clusterScores {
	type cell struct {
		cluster int
		label   string
	}
	clusterSize := map[int]int{}
	labelSize := map[string]int{}
	overlap := map[cell]int{}
	var s clusterScores
	for i, st := range stories {
		for _, a := range st.Articles {
			clusterSize[i]++
			labelSize[label[a.ID]]++
			overlap[cell{i, label[a.ID]}]++
			s.Articles++
		}
		if len(st.Articles) == 1 {
			s.Singletons++
		}
		s.LargestClusterSz = max(s.LargestClusterSz, len(st.Articles))
	}
	pairs := func(n int) float64 { return float64(n) * float64(n-1) / 2 }
	var together, predicted, labelled float64
	for c, n := range overlap {
		share := float64(n) / float64(s.Articles)
		s.BCubedP += share * float64(n) / float64(clusterSize[c.cluster])
		s.BCubedR += share * float64(n) / float64(labelSize[c.label])
		together += pairs(n)
	}
	for _, n := range clusterSize {
		predicted += pairs(n)
	}
	for _, n := range labelSize {
		labelled += pairs(n)
	}
	f1 := func(p, r float64) float64 { return 2 * p * r / (p + r) }
	s.PairwiseP, s.PairwiseR = together/predicted, together/labelled
	s.BCubedF, s.PairF = f1(s.BCubedP, s.BCubedR), f1(s.PairwiseP, s.PairwiseR)
	s.Clusters, s.Stories = len(stories), len(labelSize)
	return s
}

func TestClusterUCI(t *testing.T) {
	articles, label := loadUCI(t)
	got := scoreClusters(summarize.Cluster(articles, summarize.ClusterOptions{}), label)
	t.Logf("threshold %.2f: %v", summarize.DefaultClusterThreshold, got)
	if got.Articles != len(articles) {
		t.Errorf("stories hold %d articles, want all %d", got.Articles, len(articles))
	}
	if got.BCubedF < 0.55 || got.BCubedP < 0.80 {
		t.Errorf("B-cubed F1 %.3f precision %.3f, want F1 >= 0.55 with precision >= 0.80", got.BCubedF, got.BCubedP)
	}
	if !*sweep {
		return
	}
	for _, threshold := range []float64{0.14, 0.16, 0.18, 0.2, 0.22, 0.25, 0.3, 0.4} {
		s := scoreClusters(summarize.Cluster(articles, summarize.ClusterOptions{Threshold: threshold}), label)
		t.Logf("threshold %.2f: %v", threshold, s)
	}
}

// TestClusterSynthetic checks clustering with texts, on events that come in
// themes sharing a name and a word, as stories about one company do.
func TestClusterSynthetic(t *testing.T) {
	articles, event := syntheticWindow(1000, 7)
	got := scoreClusters(summarize.Cluster(articles, summarize.ClusterOptions{}), event)
	t.Logf("%v", got)
	if got.BCubedP < 0.95 || got.BCubedR < 0.95 {
		t.Errorf("B-cubed precision %.3f recall %.3f, want both >= 0.95", got.BCubedP, got.BCubedR)
	}
}
