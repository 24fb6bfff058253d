package collect_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

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

// With FetchLease the collector fetches a feed only when the store grants
// it the fetch: a second collection within the lease, as by another
// replica on the same database, reads nothing and reports it unchanged.
func TestFetchLeaseSharesFetches(t *testing.T) {
	var requests atomic.Int32
	feed := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Nimbus opens a region</title><link>https://news.example/a</link><description>Nimbus opened a region.</description></item>
</channel></rss>`)
	})).URL
	db, err := store.Open(filepath.Join(t.TempDir(), "b.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := newCollector(collect.Options{FetchLease: time.Hour})
	first := collectOK(t, c, db, topic("cloud", feed))
	second := collectOK(t, c, db, topic("cloud", feed))
	if requests.Load() != 1 {
		t.Errorf("%d requests for one feed within its lease, want 1", requests.Load())
	}
	if first[0].Status != collect.StatusNew || second[0].Status != collect.StatusUnchanged || second[0].Err != nil {
		t.Errorf("results %+v then %+v; want new, then unchanged", first[0], second[0])
	}
}
