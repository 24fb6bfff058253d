package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/collect"
	"github.com/briefing-bot/briefing/engine"
	"github.com/briefing-bot/briefing/store"
	"github.com/briefing-bot/briefing/summarize"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// writeFeed writes an RSS feed of items (title, text, age) and returns its path.
func writeFeed(tb testing.TB, dir, name string, items ...[3]string) string {
	tb.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title>`, name)
	for i, it := range items {
		age, err := time.ParseDuration(it[2])
		if err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, `<item><title>%s</title><link>https://%s.example/%d</link><description>%s</description><pubDate>%s</pubDate></item>`,
			it[0], name, i, it[1], now.Add(-age).Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	path := filepath.Join(dir, name+".xml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func newEngine(tb testing.TB, topics ...briefing.Topic) (*engine.Engine, *store.DB) {
	tb.Helper()
	return newEngineFresh(tb, 0, topics...)
}

func newEngineFresh(tb testing.TB, freshFor time.Duration, topics ...briefing.Topic) (*engine.Engine, *store.DB) {
	tb.Helper()
	db, err := store.Open(filepath.Join(tb.TempDir(), "b.db"), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	clock := func() time.Time { return now }
	e := engine.New(engine.Options{
		Topics:     topics,
		Store:      db,
		Collector:  collect.New(collect.Options{Now: clock}),
		Summarizer: summarize.Offline{Now: clock},
		Answerer:   &summarize.Answerer{Articles: db, Now: clock},
		Now:        clock,
		FreshFor:   freshFor,
	})
	return e, db
}

func cloudTopic(tb testing.TB) briefing.Topic {
	tb.Helper()
	dir := tb.TempDir()
	return briefing.Topic{ID: "cloud", Name: "Cloud", Window: 24 * time.Hour, MaxStories: 5, Feeds: []string{
		writeFeed(tb, dir, "wire",
			[3]string{"Nimbus Cloud outage hits storage in na-east-1", "Nimbus Cloud storage failed for six hours in na-east-1.", "2h"},
			[3]string{"Stratus launches Arm instances called Cirrus", "Stratus Compute launched Cirrus Arm instances.", "3h"},
			[3]string{"Old news about mainframes", "Mainframes were discussed.", "48h"}),
		writeFeed(tb, dir, "daily",
			[3]string{"Nimbus Cloud storage outage lasts six hours", "The Nimbus Cloud outage in na-east-1 took storage down for six hours.", "1h"}),
	}}
}

func TestBuildClustersWindowAndStores(t *testing.T) {
	e, db := newEngine(t, cloudTopic(t))
	b, err := e.Build(context.Background(), "cloud", briefing.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b.ID == "" || b.Topic != "cloud" || b.Summarizer != briefing.SummarizerOffline || !b.GeneratedAt.Equal(now) {
		t.Errorf("briefing %s topic %q summarizer %q at %v", b.ID, b.Topic, b.Summarizer, b.GeneratedAt)
	}
	if len(b.Stories) != 2 || len(b.Stories[0].Articles) != 2 {
		t.Fatalf("want the outage told by two outlets first, then the launch; got %+v", b.Stories)
	}
	for _, s := range b.Stories {
		for _, a := range s.Articles {
			if strings.Contains(a.Title, "mainframes") {
				t.Error("an article outside the 24h window was used")
			}
		}
	}
	if stored, err := db.Briefing(b.ID); err != nil || stored.Headline != b.Headline {
		t.Errorf("stored briefing %+v, %v", stored, err)
	}
}

// Only posted briefings count as told: a preview hides nothing from the
// next briefing, a posted one does.
func TestBuildRemembersOnlyPostedBriefings(t *testing.T) {
	e, _ := newEngine(t, cloudTopic(t))
	ctx := context.Background()
	preview, err := e.Build(ctx, "cloud", briefing.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.Build(ctx, "cloud", briefing.BuildOptions{Offline: true})
	if err != nil || len(again.Stories) != len(preview.Stories) {
		t.Fatalf("after a preview: %d stories (%v), want %d", len(again.Stories), err, len(preview.Stories))
	}
	if err := e.MarkPosted(ctx, again); err != nil {
		t.Fatal(err)
	}
	_, err = e.Build(ctx, "cloud", briefing.BuildOptions{Offline: true})
	if briefing.ErrorCode(err) != briefing.ENOTFOUND || !strings.Contains(briefing.ErrorMessage(err), "No new stories for Cloud in the last 24h") {
		t.Errorf("after posting: err = %v, want no new stories", err)
	}
}

// Memory across posts: a told story with a new article comes back marked
// as an update; a told story with nothing new stays out.
func TestBuildMarksUpdateAfterPost(t *testing.T) {
	topic := cloudTopic(t)
	e, _ := newEngine(t, topic)
	ctx := context.Background()
	posted, err := e.Build(ctx, "cloud", briefing.BuildOptions{})
	if err != nil || len(posted.Stories) != 2 {
		t.Fatalf("first briefing: %+v, %v", posted, err)
	}
	if err := e.MarkPosted(ctx, posted); err != nil {
		t.Fatal(err)
	}
	writeFeed(t, filepath.Dir(topic.Feeds[1]), "daily",
		[3]string{"Nimbus Cloud storage outage lasts six hours", "The Nimbus Cloud outage in na-east-1 took storage down for six hours.", "1h"},
		[3]string{"Nimbus Cloud outage: storage in na-east-1 restored after six hours", "Nimbus Cloud restored storage in na-east-1 after the six-hour outage.", "30m"})

	b, err := e.Build(ctx, "cloud", briefing.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Stories) != 1 || !b.Stories[0].Update || !strings.Contains(b.Stories[0].Title, "Nimbus") {
		for _, s := range b.Stories {
			t.Logf("story %q update=%v articles=%d", s.Title, s.Update, len(s.Articles))
		}
		t.Fatalf("want only the outage story, marked as an update")
	}
	if b.Stories[0].ID != posted.Stories[0].ID {
		t.Errorf("the outage story changed its id from %s to %s as an article joined it", posted.Stories[0].ID, b.Stories[0].ID)
	}
}

func TestBuildOptions(t *testing.T) {
	topic := cloudTopic(t)
	topic.Keywords = []string{"Arm"}
	e, _ := newEngine(t, topic)
	b, err := e.Build(context.Background(), "cloud", briefing.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Stories) != 1 || !strings.Contains(b.Stories[0].Title, "Cirrus") {
		t.Errorf("keyword filter kept %+v", b.Stories)
	}
	one := 1
	topic.Keywords = nil
	e, _ = newEngine(t, topic)
	if b, err = e.Build(context.Background(), "cloud", briefing.BuildOptions{MaxStories: &one}); err != nil || len(b.Stories) != 1 {
		t.Errorf("max stories 1: %d stories, %v", len(b.Stories), err)
	}
}

func TestUnknownTopic(t *testing.T) {
	e, _ := newEngine(t, cloudTopic(t))
	_, err := e.Build(context.Background(), "sports", briefing.BuildOptions{})
	if briefing.ErrorCode(err) != briefing.ENOTFOUND || !strings.Contains(briefing.ErrorMessage(err), "Known topics: cloud") {
		t.Errorf("err = %v", err)
	}
	_, err = e.Answer(context.Background(), briefing.Question{Text: "why?", Topic: "sports"}, nil)
	if briefing.ErrorCode(err) != briefing.ENOTFOUND {
		t.Errorf("answer err = %v", err)
	}
}

func TestAnswerUsesLatestBriefing(t *testing.T) {
	e, _ := newEngine(t, cloudTopic(t))
	if _, err := e.Build(context.Background(), "cloud", briefing.BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	a, err := e.Answer(context.Background(), briefing.Question{Text: "How long did the Nimbus outage last?", Topic: "cloud"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Text, "six hours") || len(a.Sources) == 0 || !strings.HasPrefix(a.Sources[0], "https://") {
		t.Errorf("answer %+v", a)
	}
}

// A topic collected within FreshFor is built from the store without
// fetching its feeds again.
func TestBuildSkipsFreshFeeds(t *testing.T) {
	feed, err := os.ReadFile(cloudTopic(t).Feeds[0])
	if err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Write(feed)
	}))
	defer srv.Close()
	topic := briefing.Topic{ID: "cloud", Name: "Cloud", Window: 24 * time.Hour, Feeds: []string{srv.URL}}
	e, _ := newEngineFresh(t, time.Hour, topic)
	for range 2 {
		if _, err := e.Build(context.Background(), "cloud", briefing.BuildOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("feed fetched %d times for two builds within FreshFor, want 1", n)
	}
}
