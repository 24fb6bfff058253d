package collect_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/collect"
	"github.com/briefing-bot/briefing/store"
)

// BenchmarkCollectRealworldIntoStore is the collector's whole path over
// the 110 real-world corpus feeds read from disk: fetch, parse, normalise
// and store into a real bbolt file, fresh for each run so every article is
// new.
func BenchmarkCollectRealworldIntoStore(b *testing.B) {
	var feeds []string
	for _, rel := range corpusFiles(b, "realworld") {
		abs, err := filepath.Abs(filepath.Join(corpusDir, rel))
		if err != nil {
			b.Fatal(err)
		}
		feeds = append(feeds, abs)
	}
	topics := []briefing.Topic{{ID: "realworld", Feeds: feeds}}
	c := collect.New(collect.Options{})
	stored := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		db, err := store.Open(filepath.Join(b.TempDir(), "b.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		results, err := c.Collect(context.Background(), db, topics, nil)
		if err != nil {
			b.Fatal(err)
		}
		stored = 0
		for _, r := range results {
			stored += r.New
		}
		db.Close()
	}
	b.ReportMetric(float64(stored), "articles/op")
}
