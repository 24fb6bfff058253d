package chat_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

// topics is the part of briefing.Service FindTopic uses.
type topics struct{ briefing.Service }

func (topics) Topics() []briefing.Topic {
	return []briefing.Topic{{ID: "cloud", Name: "Cloud"}, {ID: "ai", Name: "Artificial Intelligence"}}
}

func (t topics) Topic(id string) (briefing.Topic, bool) {
	for _, topic := range t.Topics() {
		if topic.ID == id {
			return topic, true
		}
	}
	return briefing.Topic{}, false
}

func TestFindTopic(t *testing.T) {
	for name, tc := range map[string]struct {
		typed, want string
	}{
		"id":               {"cloud", "cloud"},
		"id in capitals":   {"AI", "ai"},
		"name":             {"artificial intelligence", "ai"},
		"unknown":          {"sports", ""},
		"part of the name": {"Artificial", ""},
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := chat.FindTopic(topics{}, tc.typed)
			if got.ID != tc.want || ok != (tc.want != "") {
				t.Errorf("FindTopic(%q) = %q, %v; want %q", tc.typed, got.ID, ok, tc.want)
			}
		})
	}
}

func TestCitable(t *testing.T) {
	article := "https://www.example.com/a"
	withArticles := &briefing.Briefing{Stories: []briefing.Story{{Articles: []briefing.Article{{URL: article, Source: "example.com"}}}}}
	for name, tc := range map[string]struct {
		br   *briefing.Briefing
		urls []string
		want []string
	}{
		"articles only": {withArticles, []string{"https://made.up/x", article, article}, []string{article}},
		"no briefing":   {nil, []string{"https://a.test/1", "https://a.test/1", "https://b.test/2"}, []string{"https://a.test/1", "https://b.test/2"}},
		"not http": {nil, []string{"javascript:alert(1)", "ftp://a.test/x", "/relative", "https://", "http://ok.test/"},
			[]string{"http://ok.test/"}},
		"briefing without stories": {&briefing.Briefing{}, []string{"https://a.test/1"}, []string{"https://a.test/1"}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := chat.Citable(tc.br, tc.urls); !slices.Equal(got, tc.want) {
				t.Errorf("Citable = %q, want %q", got, tc.want)
			}
		})
	}
	if got := chat.SourceLabel(withArticles, article); got != "example.com" {
		t.Errorf("label of an article = %q, want its source", got)
	}
	if got := chat.SourceLabel(nil, "https://www.news.test/x"); got != "news.test" {
		t.Errorf("label of a bare URL = %q, want its host without www.", got)
	}
}

func TestQueueBoundsRunningAndWaiting(t *testing.T) {
	const running, waiting = 2, 3
	q := chat.NewQueue(running, waiting, slog.New(slog.DiscardHandler))
	var wg sync.WaitGroup
	release := make(chan struct{})
	started := make(chan struct{}, running+waiting)
	var active, peak atomic.Int32
	job := func(context.Context) {
		n := active.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		started <- struct{}{}
		<-release
		active.Add(-1)
	}
	for i := range running + waiting {
		if !q.Go(context.Background(), &wg, job) {
			t.Fatalf("job %d refused with room in the queue", i)
		}
	}
	for range running {
		<-started
	}
	if q.Go(context.Background(), &wg, job) {
		t.Error("a job beyond running+waiting was taken")
	}
	close(release)
	wg.Wait()
	if len(started) != waiting {
		t.Errorf("%d waiting jobs ran after release, want %d", len(started), waiting)
	}
	if p := peak.Load(); p != running {
		t.Errorf("%d jobs ran at once, want at most %d", p, running)
	}
	if !q.Go(context.Background(), &wg, func(context.Context) {}) {
		t.Error("the queue refused work after it drained")
	}
	wg.Wait()
}

func TestQueueDropsWaitingWorkWhenCancelled(t *testing.T) {
	q := chat.NewQueue(1, 1, slog.New(slog.DiscardHandler))
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	release, started := make(chan struct{}), make(chan struct{})
	q.Go(ctx, &wg, func(context.Context) {
		close(started)
		<-release
	})
	<-started
	ran := false
	q.Go(ctx, &wg, func(context.Context) { ran = true })
	cancel()
	close(release)
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the queue's goroutines did not end after cancel")
	}
	if ran {
		t.Error("a job still waiting when its context ended ran")
	}
}

func TestQueueSurvivesAPanickingJob(t *testing.T) {
	var logged bytes.Buffer
	q := chat.NewQueue(1, 1, slog.New(slog.NewTextHandler(&logged, nil)))
	var wg sync.WaitGroup
	q.Go(context.Background(), &wg, func(context.Context) { panic("feed parser blew up") })
	wg.Wait()
	ran := false
	if !q.Go(context.Background(), &wg, func(context.Context) { ran = true }) {
		t.Fatal("the queue refused work after a panic: its slots leaked")
	}
	wg.Wait()
	if !ran {
		t.Error("the job after a panic did not run")
	}
	if out := logged.String(); !strings.Contains(out, "feed parser blew up") || !strings.Contains(out, "level=ERROR") {
		t.Errorf("panic not logged as an error: %s", out)
	}
}
