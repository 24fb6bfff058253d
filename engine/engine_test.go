package engine_test

import (
	"context"
	"errors"
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
	"github.com/briefing-bot/briefing/internal/briefingtest"
	"github.com/briefing-bot/briefing/store"
	"github.com/briefing-bot/briefing/summarize"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// writeFeed writes an RSS feed of items (title, text, age) and returns its path.
func writeFeed(tb testing.TB, dir, name string, items ...[3]string) string {
	tb.Helper()
	return briefingtest.WriteFeed(tb, dir, name, now, items...)
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
		Answerer:   &summarize.Answerer{Now: clock},
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

// Only posted briefings count as told, and only to the destination they
// were posted to: a preview hides nothing, a post in one channel hides
// nothing from another, and a build without a destination shows it all.
func TestBuildRemembersPostsPerDestination(t *testing.T) {
	e, _ := newEngine(t, cloudTopic(t))
	ctx := context.Background()
	const here, there = "slack:C1", "slack:C2"
	preview, err := e.Build(ctx, "cloud", briefing.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.Build(ctx, "cloud", briefing.BuildOptions{Offline: true, For: here})
	if err != nil || len(again.Stories) != len(preview.Stories) {
		t.Fatalf("after a preview: %d stories (%v), want %d", len(again.Stories), err, len(preview.Stories))
	}
	if err := e.MarkPosted(ctx, again, briefing.Post{Destination: here, MessageID: "1.2"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.Build(ctx, "cloud", briefing.BuildOptions{Offline: true, For: here})
	var quiet *briefing.Quiet
	if !errors.As(err, &quiet) || quiet.Reason != briefing.QuietNothingNew || briefing.ErrorCode(err) != briefing.EEMPTY {
		t.Fatalf("after posting here: err = %v, want nothing new", err)
	}
	if want := "Nothing new on Cloud since the briefing at 12:00 UTC."; quiet.Message != want {
		t.Errorf("message %q, want %q", quiet.Message, want)
	}
	if quiet.Last == nil || quiet.Last.BriefingID != again.ID || quiet.Last.MessageID != "1.2" {
		t.Errorf("last post %+v, want briefing %s at 1.2", quiet.Last, again.ID)
	}
	for _, dest := range []string{there, ""} {
		b, err := e.Build(ctx, "cloud", briefing.BuildOptions{Offline: true, For: dest})
		if err != nil || len(b.Stories) != len(preview.Stories) {
			t.Errorf("for %q after posting here: %v, %v", dest, b, err)
		}
	}
}

// Each way of having nothing to brief says why and names what to change.
func TestBuildSaysWhyItIsEmpty(t *testing.T) {
	dir := t.TempDir()
	fresh := writeFeed(t, dir, "fresh", [3]string{"Nimbus Cloud outage", "Storage failed.", "2h"})
	old := writeFeed(t, dir, "old", [3]string{"Mainframes return", "Mainframes were discussed.", "72h"})
	missing := filepath.Join(dir, "missing.xml")
	cases := []struct {
		name   string
		topic  briefing.Topic
		reason string
		says   []string
	}{
		{"keywords", briefing.Topic{Feeds: []string{fresh}, Keywords: []string{"kubernetes", "helm"}},
			briefing.QuietNoKeywordMatch, []string{`"kubernetes", "helm"`, "topics[].keywords", "1 Cloud article"}},
		{"too old", briefing.Topic{Feeds: []string{old}},
			briefing.QuietTooOld, []string{"older than topics[].window (24h)", "2026-11-22 12:00 UTC"}},
		{"feeds failed", briefing.Topic{Feeds: []string{missing, missing + "2"}},
			briefing.QuietFeedsFailed, []string{"all 2 feeds", "missing.xml", "topics[].feeds"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.topic.ID, tc.topic.Name, tc.topic.Window = "cloud", "Cloud", 24*time.Hour
			e, _ := newEngine(t, tc.topic)
			_, err := e.Build(context.Background(), "cloud", briefing.BuildOptions{})
			var quiet *briefing.Quiet
			if !errors.As(err, &quiet) || quiet.Reason != tc.reason {
				t.Fatalf("err = %v, want reason %s", err, tc.reason)
			}
			for _, s := range tc.says {
				if !strings.Contains(quiet.Message, s) {
					t.Errorf("%q does not say %q", quiet.Message, s)
				}
			}
		})
	}
}

// A feed that one topic collected fills a topic that lists it later from
// the store at once, without fetching it again.
func TestBuildTopicReadsItsFeedsArticles(t *testing.T) {
	cloud := cloudTopic(t)
	ops := briefing.Topic{ID: "ops", Name: "Ops", Window: 24 * time.Hour, Feeds: cloud.Feeds[:1]}
	e, _ := newEngine(t, cloud, ops)
	ctx := context.Background()
	if _, err := e.Collect(ctx, []briefing.Topic{cloud}, nil); err != nil {
		t.Fatal(err)
	}
	b, err := e.Build(ctx, "ops", briefing.BuildOptions{Offline: true})
	if err != nil || len(b.Stories) != 2 {
		t.Fatalf("ops from the store: %+v, %v", b, err)
	}
	arts, err := e.TopicArticles("ops", now.Add(-24*time.Hour), now)
	if err != nil || len(arts) != 2 {
		t.Errorf("the answerer's view of ops: %d articles, %v", len(arts), err)
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
	if err := e.MarkPosted(ctx, posted, briefing.Post{Destination: "slack:C1"}); err != nil {
		t.Fatal(err)
	}
	writeFeed(t, filepath.Dir(topic.Feeds[1]), "daily",
		[3]string{"Nimbus Cloud storage outage lasts six hours", "The Nimbus Cloud outage in na-east-1 took storage down for six hours.", "1h"},
		[3]string{"Nimbus Cloud outage: storage in na-east-1 restored after six hours", "Nimbus Cloud restored storage in na-east-1 after the six-hour outage.", "30m"})

	b, err := e.Build(ctx, "cloud", briefing.BuildOptions{For: "slack:C1"})
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
