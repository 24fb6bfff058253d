package store_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/store"
)

// article returns an article whose title and text derive from id.
func article(id string, published time.Time, topics ...string) briefing.Article {
	return briefing.Article{
		ID:        id,
		URL:       "https://example.com/" + id,
		Title:     "Title of " + id,
		Text:      "Text of " + id + ".\n\nSecond paragraph.",
		Source:    "example.com",
		Topics:    topics,
		Published: published,
		Fetched:   published.Add(time.Minute),
	}
}

func ids(arts []briefing.Article) []string {
	out := make([]string, len(arts))
	for i, a := range arts {
		out[i] = a.ID
	}
	return out
}

func TestFeed(t *testing.T) {
	db := MustOpen(t)
	const url = "https://example.com/feed.xml"
	got, err := db.Feed(url)
	if err != nil || !reflect.DeepEqual(got, briefing.FeedState{URL: url}) {
		t.Fatalf("unknown feed: %+v, %v", got, err)
	}
	want := briefing.FeedState{URL: url, Title: "Example", ETag: `W/"abc"`, LastModified: "Tue, 24 Nov 2026 10:00:00 GMT",
		Failures: 2, LastError: "HTTP 503", NextAttempt: t0.Add(time.Hour), LastSuccess: t0.Add(-time.Hour)}
	mustDo(t, db.PutFeed(want))
	if got, err = db.Feed(url); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("feed = %+v, %v; want %+v", got, err, want)
	}
	wantCode(t, db.PutFeed(briefing.FeedState{}), briefing.EINVALID)
}

func TestPutArticlesDedup(t *testing.T) {
	syndicated := article("b", t0, "security")
	syndicated.Title, syndicated.Text = "TITLE of a!", "text   of a\n\nSecond paragraph…"
	tests := map[string]struct {
		batches    [][]briefing.Article
		wantNew    []int
		wantStored map[string][]string // id → topics
		wantTopic  map[string][]string // topic → ids
	}{
		"distinct articles": {
			batches:    [][]briefing.Article{{article("a", t0, "cloud"), article("b", t0, "cloud")}},
			wantNew:    []int{2},
			wantStored: map[string][]string{"a": {"cloud"}, "b": {"cloud"}},
		},
		"same id merges topics": {
			batches:    [][]briefing.Article{{article("a", t0, "cloud")}, {article("a", t0, "security", "cloud")}},
			wantNew:    []int{1, 0},
			wantStored: map[string][]string{"a": {"cloud", "security"}},
			wantTopic:  map[string][]string{"security": {"a"}, "cloud": {"a"}},
		},
		"same content under another url merges topics": {
			batches:    [][]briefing.Article{{article("a", t0, "cloud")}, {syndicated}},
			wantNew:    []int{1, 0},
			wantStored: map[string][]string{"a": {"cloud", "security"}},
			wantTopic:  map[string][]string{"security": {"a"}},
		},
		"same content within one batch": {
			batches:    [][]briefing.Article{{article("a", t0, "cloud"), syndicated}},
			wantNew:    []int{1},
			wantStored: map[string][]string{"a": {"cloud", "security"}},
		},
		"same title, other text": {
			batches: [][]briefing.Article{{article("a", t0, "cloud"), func() briefing.Article {
				a := article("b", t0, "cloud")
				a.Title = "Title of a"
				return a
			}()}},
			wantNew:    []int{2},
			wantStored: map[string][]string{"a": {"cloud"}, "b": {"cloud"}},
		},
		"same title, no text": {
			batches: [][]briefing.Article{{
				{ID: "a", Title: "Weekly roundup", Topics: []string{"cloud"}, Published: t0},
				{ID: "b", Title: "Weekly roundup", Topics: []string{"cloud"}, Published: t0},
			}},
			wantNew:    []int{2},
			wantStored: map[string][]string{"a": {"cloud"}, "b": {"cloud"}},
		},
		"repeated topics stored once": {
			batches:    [][]briefing.Article{{article("a", t0, "cloud", "cloud", "security", "cloud")}},
			wantNew:    []int{1},
			wantStored: map[string][]string{"a": {"cloud", "security"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			db := MustOpen(t)
			for i, batch := range tc.batches {
				n, err := db.PutArticles(batch)
				if err != nil {
					t.Fatal(err)
				}
				if n != tc.wantNew[i] {
					t.Errorf("batch %d: %d new, want %d", i, n, tc.wantNew[i])
				}
			}
			if n, err := db.CountArticles(); err != nil || n != len(tc.wantStored) {
				t.Errorf("CountArticles = %d, %v; want %d", n, err, len(tc.wantStored))
			}
			for id, topics := range tc.wantStored {
				a, err := db.Article(id)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(a.Topics, topics) {
					t.Errorf("article %s topics %q, want %q", id, a.Topics, topics)
				}
			}
			for topic, want := range tc.wantTopic {
				got, err := db.TopicArticles(topic, t0.Add(-time.Hour), t0.Add(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids(got), want) {
					t.Errorf("topic %s has %q, want %q", topic, ids(got), want)
				}
			}
		})
	}
}

func TestPutArticlesRejectsBadBatch(t *testing.T) {
	tests := map[string]briefing.Article{
		"no id":       {URL: "https://example.com/x", Published: t0},
		"empty topic": article("x", t0, "cloud", ""),
	}
	for name, bad := range tests {
		t.Run(name, func(t *testing.T) {
			db := MustOpen(t)
			_, err := db.PutArticles([]briefing.Article{article("good", t0, "cloud"), bad})
			wantCode(t, err, briefing.EINVALID)
			if n, _ := db.CountArticles(); n != 0 {
				t.Errorf("%d articles stored from a rejected batch", n)
			}
		})
	}
}

func TestPutArticlesDefaultsPublished(t *testing.T) {
	db := MustOpen(t)
	fetched := t0.Add(-2 * time.Hour)
	arts := []briefing.Article{
		{ID: "fetched", Title: "x", Topics: []string{"cloud"}, Fetched: fetched},
		{ID: "neither", Title: "y", Topics: []string{"cloud"}},
	}
	if _, err := db.PutArticles(arts); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]time.Time{"fetched": fetched, "neither": t0} {
		a, err := db.Article(id)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Published.Equal(want) {
			t.Errorf("%s published %v, want %v", id, a.Published, want)
		}
	}
}

func TestArticleRoundTrip(t *testing.T) {
	db := MustOpen(t)
	want := article("a", t0, "cloud")
	want.SourceName = "Example News"
	want.FeedURL = "https://example.com/feed.xml"
	if _, err := db.PutArticles([]briefing.Article{want}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Article("a")
	mustDo(t, err)
	wantEqual(t, got, want)
	_, err = db.Article("missing")
	wantCode(t, err, briefing.ENOTFOUND)
}

func TestTopicArticles(t *testing.T) {
	db := MustOpen(t)
	// One article an hour from t0-5h to t0, alternating the topic the odd
	// ones also carry, plus one before 1970 to exercise the key encoding.
	var arts []briefing.Article
	for h := 5; h >= 0; h-- {
		topics := []string{"cloud"}
		if h%2 == 1 {
			topics = append(topics, "security")
		}
		arts = append(arts, article(fmt.Sprintf("h%d", h), t0.Add(-time.Duration(h)*time.Hour), topics...))
	}
	arts = append(arts, article("old", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), "cloud"))
	if _, err := db.PutArticles(arts); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		topic        string
		since, until time.Time
		want         []string
	}{
		"whole topic newest first": {"cloud", time.Time{}, t0.Add(time.Hour), []string{"h0", "h1", "h2", "h3", "h4", "h5", "old"}},
		"since inclusive, until exclusive": {"cloud", t0.Add(-4 * time.Hour), t0.Add(-time.Hour),
			[]string{"h2", "h3", "h4"}},
		"until past the newest": {"cloud", t0.Add(-90 * time.Minute), t0.Add(24 * time.Hour), []string{"h0", "h1"}},
		"other topic":           {"security", t0.Add(-24 * time.Hour), t0.Add(time.Hour), []string{"h1", "h3", "h5"}},
		"empty window":          {"cloud", t0.Add(-30 * time.Minute), t0.Add(-10 * time.Minute), nil},
		"inverted window":       {"cloud", t0, t0.Add(-5 * time.Hour), nil},
		"before 1970":           {"cloud", time.Time{}, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), []string{"old"}},
		"unknown topic":         {"sports", time.Time{}, t0.Add(time.Hour), nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := db.TopicArticles(tc.topic, tc.since, tc.until)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("got %q, want %q", ids(got), tc.want)
			}
		})
	}
}

func TestPrune(t *testing.T) {
	path := filepath.Join(t.TempDir(), "briefing.db")
	db := MustOpenWith(t, path, store.Options{Retention: 48 * time.Hour, Now: clock(t0)})
	keep := []briefing.Article{article("new", t0.Add(-time.Hour), "cloud"), article("edge", t0.Add(-48*time.Hour), "cloud", "security")}
	drop := []briefing.Article{article("old", t0.Add(-49*time.Hour), "cloud", "security"), article("older", t0.Add(-100*time.Hour), "cloud")}
	if _, err := db.PutArticles(append(slices.Clone(keep), drop...)); err != nil {
		t.Fatal(err)
	}
	posted := &briefing.Briefing{ID: "b1", Topic: "cloud", Stories: []briefing.Story{{Articles: []briefing.Article{keep[0], drop[0]}}}}
	mustDo(t, db.RecordTold(posted))

	n, err := db.Prune(t0)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(drop) {
		t.Errorf("pruned %d, want %d", n, len(drop))
	}
	for _, a := range drop {
		_, err := db.Article(a.ID)
		wantCode(t, err, briefing.ENOTFOUND)
	}
	got, err := db.TopicArticles("cloud", time.Time{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"new", "edge"}; !slices.Equal(ids(got), want) {
		t.Errorf("cloud has %q, want %q", ids(got), want)
	}
	told, err := db.Told("cloud")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"new": true}; !reflect.DeepEqual(told, want) {
		t.Errorf("told %v, want %v", told, want)
	}
	if n, err := db.Prune(t0); err != nil || n != 0 {
		t.Errorf("second prune: %d, %v", n, err)
	}
	// The content index forgot the pruned article, so it counts as new if
	// a feed carries it again.
	if n, err := db.PutArticles(drop[:1]); err != nil || n != 1 {
		t.Errorf("re-put of a pruned article: %d new, %v", n, err)
	}
	n, err = db.Prune(t0)
	if err != nil || n != 1 {
		t.Fatalf("third prune: %d, %v", n, err)
	}
	mustDo(t, db.Close())

	inspect(t, path, func(tx *bolt.Tx) error {
		counts := map[string]struct{ got, want int }{
			"articles":         {keyCount(tx, store.BucketArticles), len(keep)},
			"content index":    {keyCount(tx, store.BucketContent), len(keep)},
			"published index":  {keyCount(tx, store.BucketPublished), len(keep)},
			"cloud index":      {keyCount(tx, store.BucketTopics, []byte("cloud")), 2},
			"security index":   {keyCount(tx, store.BucketTopics, []byte("security")), 1},
			"told about cloud": {keyCount(tx, store.BucketTold, []byte("cloud")), 1},
		}
		for name, c := range counts {
			if c.got != c.want {
				t.Errorf("%s has %d keys, want %d", name, c.got, c.want)
			}
		}
		return nil
	})
}

// BenchmarkPutArticles stores batches of 100 new articles.
func BenchmarkPutArticles(b *testing.B) {
	db := MustOpen(b)
	topics := []string{"t0", "t1", "t2", "t3", "t4"}
	batch := make([]briefing.Article, 100)
	n := 0
	for b.Loop() {
		for i := range batch {
			batch[i] = article(fmt.Sprintf("a%08d", n), t0.Add(time.Duration(n)*time.Minute), topics[n%len(topics)])
			n++
		}
		if _, err := db.PutArticles(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/article")
}

// BenchmarkTopicArticles reads one topic's day from 100,000 articles spread
// over 5 topics, one a minute (about 290 articles a query).
func BenchmarkTopicArticles(b *testing.B) {
	const total, perBatch = 100_000, 10_000
	db := MustOpen(b)
	topics := []string{"t0", "t1", "t2", "t3", "t4"}
	start := t0.Add(-total * time.Minute)
	batch := make([]briefing.Article, 0, perBatch)
	for i := range total {
		batch = append(batch, article(fmt.Sprintf("a%08d", i), start.Add(time.Duration(i)*time.Minute), topics[i%len(topics)]))
		if len(batch) == perBatch {
			if _, err := db.PutArticles(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	var got int
	for b.Loop() {
		arts, err := db.TopicArticles("t2", t0.Add(-24*time.Hour), t0)
		if err != nil {
			b.Fatal(err)
		}
		got = len(arts)
	}
	if got < 280 || got > 300 {
		b.Fatalf("a day of one topic has %d articles, want about 288", got)
	}
}
