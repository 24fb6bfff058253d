package slack_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/briefing-bot/briefing"
	slackbot "github.com/briefing-bot/briefing/bot/slack"
	"github.com/briefing-bot/briefing/internal/fakeslack"
	"github.com/briefing-bot/briefing/metrics"
)

// A question that finds every answer slot and waiting place taken gets a
// "busy" reply in its thread; the queued ones are all answered later.
func TestQuestionBeyondTheQueueIsToldBusy(t *testing.T) {
	const running, waiting = 8, 100
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	h := newHarness(t, func(o *slackbot.Options) { o.Metrics = m })
	h.svc.Answering, h.svc.Release = make(chan briefing.Question, running+waiting), make(chan struct{})
	_, ts := h.postBriefing(t, "C1")
	ask := func(i int) {
		h.fake.SendEvent(t, fmt.Sprintf("Ev%d", i), map[string]any{"type": "message", "channel": "C1", "user": "U1",
			"text": fmt.Sprintf("question %d?", i), "ts": fmt.Sprintf("1800000000.%06d", i), "thread_ts": ts}, 0)
	}
	for i := range running {
		ask(i)
	}
	for range running {
		<-h.svc.Answering
	}
	for i := running; i < running+waiting; i++ {
		ask(i)
	}
	ask(running + waiting)
	busy := h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool { return strings.Contains(m.Text, "ask again in a minute") })[0]
	if busy.ThreadTS != ts {
		t.Errorf("busy reply in thread %q, want %q", busy.ThreadTS, ts)
	}
	if got := testutil.ToFloat64(m.ChatQueue.WithLabelValues("slack.question", "waiting")); got != waiting {
		t.Errorf("waiting questions metric = %v, want %d", got, waiting)
	}
	if got := testutil.ToFloat64(m.ChatRefused.WithLabelValues("slack.question")); got != 1 {
		t.Errorf("refused questions metric = %v, want 1", got)
	}
	close(h.svc.Release)
	h.fake.WaitMessages(t, running+waiting, func(m fakeslack.Message) bool {
		return m.Method == "chat.update" && strings.Contains(m.Text, "It is about cloud, as")
	})
	h.stopBot(t)
	if n := len(h.svc.Questions()); n != running+waiting {
		t.Errorf("%d questions answered, want %d", n, running+waiting)
	}
}
