package engine_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/collect"
	"github.com/briefing-bot/briefing/engine"
	"github.com/briefing-bot/briefing/store"
	"github.com/briefing-bot/briefing/store/postgres"
	"github.com/briefing-bot/briefing/store/postgres/pgtest"
	"github.com/briefing-bot/briefing/summarize"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// BenchmarkBuild builds an offline briefing of a topic whose day holds
// 1,000 real headlines (the labelled clustering set) from five feeds, on
// each store backend: reading the day, clustering, ranking, summarizing
// and storing the briefing.
func BenchmarkBuild(b *testing.B) {
	backends := map[string]func(testing.TB) engine.Store{
		"bbolt": func(tb testing.TB) engine.Store {
			db, err := store.Open(filepath.Join(tb.TempDir(), "b.db"), store.Options{Now: func() time.Time { return now }})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { db.Close() })
			return db
		},
		"postgres": func(tb testing.TB) engine.Store {
			db, err := postgres.Open(context.Background(), pgtest.DSN(tb), postgres.Options{Now: func() time.Time { return now }})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { db.Close() })
			return db
		},
	}
	for _, name := range []string{"bbolt", "postgres"} {
		b.Run(name, func(b *testing.B) {
			st := backends[name](b)
			topic := briefing.Topic{ID: "news", Name: "News", Window: 24 * time.Hour, MaxStories: 5}
			var arts []briefing.Article
			for i, h := range headlines(b, 1000) {
				feed := fmt.Sprintf("https://feed%d.example/rss", i%5)
				arts = append(arts, briefing.Article{ID: fmt.Sprintf("a%04d", i), URL: h.URL, Title: h.Title,
					Text: h.Title + ".", Source: h.Source, FeedURL: feed, Topics: []string{topic.ID},
					Published: now.Add(-time.Duration(i) * time.Minute)})
				if i < 5 {
					topic.Feeds = append(topic.Feeds, feed)
				}
			}
			if _, err := st.PutArticles(arts); err != nil {
				b.Fatal(err)
			}
			clock := func() time.Time { return now }
			e := engine.New(engine.Options{Topics: []briefing.Topic{topic}, Store: st,
				Collector: collect.New(collect.Options{Now: clock}), Summarizer: summarize.Offline{Now: clock},
				Answerer: &summarize.Answerer{Now: clock}, Now: clock})
			for b.Loop() {
				if _, err := e.Build(context.Background(), topic.ID, briefing.BuildOptions{Offline: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type headline struct {
	Title  string `json:"title"`
	URL    string `json:"url"`
	Source string `json:"hostname"`
}

// headlines reads the first n headlines of the labelled clustering set.
func headlines(tb testing.TB, n int) []headline {
	tb.Helper()
	f, err := os.Open("../../shared/corpus/clustering/uci_news_aggregator_2014-03-10_11_en.jsonl")
	if err != nil {
		tb.Skipf("clustering corpus not available: %v", err)
	}
	defer f.Close()
	var out []headline
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(out) < n {
		var h headline
		if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
			tb.Fatal(err)
		}
		out = append(out, h)
	}
	return out
}
