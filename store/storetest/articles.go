package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
)

func testFeed(t *testing.T, open Opener) {
	st := openAt(t, open)
	const url = "https://example.com/feed.xml"
	got, err := st.Feed(url)
	if err != nil || !reflect.DeepEqual(got, briefing.FeedState{URL: url}) {
		t.Fatalf("unknown feed: %+v, %v", got, err)
	}
	want := briefing.FeedState{URL: url, Title: "Example", ETag: `W/"abc"`, LastModified: "Tue, 24 Nov 2026 10:00:00 GMT",
		Failures: 2, LastError: "HTTP 503", NextAttempt: T0.Add(time.Hour), LastSuccess: T0.Add(-time.Hour)}
	mustDo(t, st.PutFeed(want))
	if got, err = st.Feed(url); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("feed = %+v, %v; want %+v", got, err, want)
	}
	want.ETag, want.Failures = `"v2"`, 0
	mustDo(t, st.PutFeed(want))
	if got, err = st.Feed(url); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("replaced feed = %+v, %v; want %+v", got, err, want)
	}
	wantCode(t, st.PutFeed(briefing.FeedState{}), briefing.EINVALID)
}

func testPutArticlesDedup(t *testing.T, open Opener) {
	syndicated := Article("b", T0, "security")
	syndicated.Title, syndicated.Text = "TITLE of a!", "text   of a\n\nSecond paragraph…"
	tests := map[string]struct {
		batches    [][]briefing.Article
		wantNew    []int
		wantStored map[string][]string // id → topics; "a" and "b" not listed are not stored
		wantTopic  map[string][]string // topic → ids
	}{
		"distinct articles": {
			batches:    [][]briefing.Article{{Article("a", T0, "cloud"), Article("b", T0, "cloud")}},
			wantNew:    []int{2},
			wantStored: map[string][]string{"a": {"cloud"}, "b": {"cloud"}},
		},
		"same id merges topics": {
			batches:    [][]briefing.Article{{Article("a", T0, "cloud")}, {Article("a", T0, "security", "cloud")}},
			wantNew:    []int{1, 0},
			wantStored: map[string][]string{"a": {"cloud", "security"}},
			wantTopic:  map[string][]string{"security": {"a"}, "cloud": {"a"}},
		},
		"same content under another url merges topics": {
			batches:    [][]briefing.Article{{Article("a", T0, "cloud")}, {syndicated}},
			wantNew:    []int{1, 0},
			wantStored: map[string][]string{"a": {"cloud", "security"}},
			wantTopic:  map[string][]string{"security": {"a"}},
		},
		"same content within one batch": {
			batches:    [][]briefing.Article{{Article("a", T0, "cloud"), syndicated}},
			wantNew:    []int{1},
			wantStored: map[string][]string{"a": {"cloud", "security"}},
		},
		"same title, other text": {
			batches: [][]briefing.Article{{Article("a", T0, "cloud"), func() briefing.Article {
				a := Article("b", T0, "cloud")
				a.Title = "Title of a"
				return a
			}()}},
			wantNew:    []int{2},
			wantStored: map[string][]string{"a": {"cloud"}, "b": {"cloud"}},
		},
		"same title, no text": {
			batches: [][]briefing.Article{{
				{ID: "a", Title: "Weekly roundup", Topics: []string{"cloud"}, Published: T0},
				{ID: "b", Title: "Weekly roundup", Topics: []string{"cloud"}, Published: T0},
			}},
			wantNew:    []int{2},
			wantStored: map[string][]string{"a": {"cloud"}, "b": {"cloud"}},
		},
		"repeated topics stored once": {
			batches:    [][]briefing.Article{{Article("a", T0, "cloud", "cloud", "security", "cloud")}},
			wantNew:    []int{1},
			wantStored: map[string][]string{"a": {"cloud", "security"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := openAt(t, open)
			for i, batch := range tc.batches {
				n, err := st.PutArticles(batch)
				if err != nil {
					t.Fatal(err)
				}
				if n != tc.wantNew[i] {
					t.Errorf("batch %d: %d new, want %d", i, n, tc.wantNew[i])
				}
			}
			for _, id := range []string{"a", "b"} {
				topics, want := tc.wantStored[id]
				if !want {
					if stored(t, st, id) {
						t.Errorf("article %s is stored, want it merged into another", id)
					}
					continue
				}
				a, err := st.Article(id)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(a.Topics, topics) {
					t.Errorf("article %s topics %q, want %q", id, a.Topics, topics)
				}
			}
			for topic, want := range tc.wantTopic {
				got, err := st.TopicArticles(topic, T0.Add(-time.Hour), T0.Add(time.Hour))
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

func testPutArticlesRejectsBadBatch(t *testing.T, open Opener) {
	tests := map[string]briefing.Article{
		"no id":       {URL: "https://example.com/x", Published: T0},
		"empty topic": Article("x", T0, "cloud", ""),
	}
	for name, bad := range tests {
		t.Run(name, func(t *testing.T) {
			st := openAt(t, open)
			_, err := st.PutArticles([]briefing.Article{Article("good", T0, "cloud"), bad})
			wantCode(t, err, briefing.EINVALID)
			if stored(t, st, "good") {
				t.Error("an article of a rejected batch was stored")
			}
		})
	}
}

func testPutArticlesDefaultsPublished(t *testing.T, open Opener) {
	st := openAt(t, open)
	fetched := T0.Add(-2 * time.Hour)
	arts := []briefing.Article{
		{ID: "fetched", Title: "x", Topics: []string{"cloud"}, Fetched: fetched},
		{ID: "neither", Title: "y", Topics: []string{"cloud"}},
	}
	if _, err := st.PutArticles(arts); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]time.Time{"fetched": fetched, "neither": T0} {
		a, err := st.Article(id)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Published.Equal(want) {
			t.Errorf("%s published %v, want %v", id, a.Published, want)
		}
	}
}

func testArticleRoundTrip(t *testing.T, open Opener) {
	st := openAt(t, open)
	want := Article("a", T0, "cloud")
	want.SourceName = "Example News"
	want.FeedURL = "https://example.com/feed.xml"
	want.Text = "Quotes \" and \\ backslashes, <html> & \u00e9t\u00e9 \U0001F600, NUL-free."
	if _, err := st.PutArticles([]briefing.Article{want}); err != nil {
		t.Fatal(err)
	}
	want.Feeds = []string{want.FeedURL} // the store lists the feeds that carried it
	got, err := st.Article("a")
	mustDo(t, err)
	wantEqual(t, got, want)
	_, err = st.Article("missing")
	wantCode(t, err, briefing.ENOTFOUND)
}

func testTopicArticles(t *testing.T, open Opener) {
	st := openAt(t, open)
	// One article an hour from T0-5h to T0, alternating the topic the odd
	// ones also carry, plus one before 1970 to exercise time encodings.
	var arts []briefing.Article
	for h := 5; h >= 0; h-- {
		topics := []string{"cloud"}
		if h%2 == 1 {
			topics = append(topics, "security")
		}
		arts = append(arts, Article(fmt.Sprintf("h%d", h), T0.Add(-time.Duration(h)*time.Hour), topics...))
	}
	arts = append(arts, Article("old", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), "cloud"))
	if _, err := st.PutArticles(arts); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		topic        string
		since, until time.Time
		want         []string
	}{
		"whole topic newest first": {"cloud", time.Time{}, T0.Add(time.Hour), []string{"h0", "h1", "h2", "h3", "h4", "h5", "old"}},
		"since inclusive, until exclusive": {"cloud", T0.Add(-4 * time.Hour), T0.Add(-time.Hour),
			[]string{"h2", "h3", "h4"}},
		"until past the newest": {"cloud", T0.Add(-90 * time.Minute), T0.Add(24 * time.Hour), []string{"h0", "h1"}},
		"other topic":           {"security", T0.Add(-24 * time.Hour), T0.Add(time.Hour), []string{"h1", "h3", "h5"}},
		"empty window":          {"cloud", T0.Add(-30 * time.Minute), T0.Add(-10 * time.Minute), nil},
		"inverted window":       {"cloud", T0, T0.Add(-5 * time.Hour), nil},
		"before 1970":           {"cloud", time.Time{}, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), []string{"old"}},
		"unknown topic":         {"sports", time.Time{}, T0.Add(time.Hour), nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := st.TopicArticles(tc.topic, tc.since, tc.until)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("got %q, want %q", ids(got), tc.want)
			}
		})
	}
}

// testFeedArticles reads articles by the feeds that carried them, an
// article syndicated by two feeds once, under both.
func testFeedArticles(t *testing.T, open Opener) {
	st := openAt(t, open)
	const one, two, three = "https://one.example/feed", "https://two.example/feed", "https://three.example/feed"
	a, b, c := Article("a", T0.Add(-3*time.Hour), "cloud"), Article("b", T0.Add(-2*time.Hour), "cloud"), Article("c", T0.Add(-time.Hour), "ai")
	a.FeedURL, b.FeedURL, c.FeedURL = one, two, two
	dup := a
	dup.ID, dup.URL, dup.FeedURL = "a-syndicated", "https://three.example/a", three
	if _, err := st.PutArticles([]briefing.Article{a, b, c, dup}); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		feeds []string
		want  []string
	}{
		"one feed":           {[]string{one}, []string{"a"}},
		"two feeds merged":   {[]string{one, two}, []string{"c", "b", "a"}},
		"syndicated once":    {[]string{three, one}, []string{"a"}},
		"second feed of dup": {[]string{three}, []string{"a"}},
		"unknown feed":       {[]string{"https://unknown.example/feed"}, nil},
		"no feeds":           {nil, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := st.FeedArticles(tc.feeds, T0.Add(-24*time.Hour), T0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("got %q, want %q", ids(got), tc.want)
			}
		})
	}
	if got, err := st.FeedArticles([]string{one, two}, T0.Add(-150*time.Minute), T0.Add(-time.Hour)); err != nil || !slices.Equal(ids(got), []string{"b"}) {
		t.Errorf("window [T0-2h30, T0-1h): %q, %v", ids(got), err)
	}
}

// testConcurrentWriters has several collectors store overlapping batches
// at once, as replicas fetching feeds that share items do: every article
// is stored once, counted new once, and carries every topic it came with.
func testConcurrentWriters(t *testing.T, open Opener) {
	st := openAt(t, open)
	const writers, perWriter, shared = 6, 40, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := 0
	for w := range writers {
		wg.Go(func() {
			topic := fmt.Sprintf("topic%d", w)
			var batch []briefing.Article
			for i := range shared {
				batch = append(batch, Article(fmt.Sprintf("shared%02d", i), T0.Add(-time.Duration(i)*time.Minute), topic))
			}
			for i := range perWriter - shared {
				batch = append(batch, Article(fmt.Sprintf("own%d-%02d", w, i), T0.Add(-time.Duration(i)*time.Minute), topic))
			}
			for part := range slices.Chunk(batch, 10) {
				n, err := st.PutArticles(part)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				added += n
				mu.Unlock()
			}
			_, err := st.FirstDelivery(fmt.Sprintf("ev%d", w), T0)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if want := shared + writers*(perWriter-shared); added != want {
		t.Errorf("%d articles counted new, want %d", added, want)
	}
	for i := range shared {
		a, err := st.Article(fmt.Sprintf("shared%02d", i))
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Topics) != writers {
			t.Errorf("shared article %s has topics %q, want all %d", a.ID, a.Topics, writers)
		}
	}
	for w := range writers {
		got, err := st.TopicArticles(fmt.Sprintf("topic%d", w), T0.Add(-time.Hour), T0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != perWriter {
			t.Errorf("topic%d has %d articles, want %d", w, len(got), perWriter)
		}
	}
}
