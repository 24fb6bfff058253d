package slack_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
	slackbot "github.com/briefing-bot/briefing/bot/slack"
	"github.com/briefing-bot/briefing/internal/briefingtest"
	"github.com/briefing-bot/briefing/internal/fakeslack"
)

// steppedService answers with drafts that grow step by step: after each
// step it waits for the bot's reaction (an append) before writing on, as
// an LLM writing slower than Slack's pace would.
type steppedService struct {
	*briefingtest.RecordingService
	drafts []string
	final  string
	// afterStep waits for what step i (from 0) should cause.
	afterStep func(i int)
}

func (s *steppedService) Answer(_ context.Context, q briefing.Question, onDelta func(string)) (briefing.Answer, error) {
	for i, d := range s.drafts {
		onDelta(d)
		s.afterStep(i)
	}
	onDelta(s.final)
	return briefing.Answer{Text: s.final, Sources: []string{briefingtest.ArticleURL(q.Topic, 0)}}, nil
}

func TestAnswerStreamsNatively(t *testing.T) {
	first := strings.Repeat("The outage began in one region and spread. ", 7) // 301 characters
	second := first + strings.Repeat("Engineers rerouted traffic within the hour. ", 7)
	third := second + "Watch <!channel> notices. "
	final := third + "Done."
	svc := &steppedService{drafts: []string{first, second, third}, final: final}
	h := newHarness(t, func(o *slackbot.Options) {
		// Slack's own pace, so that the rate asserted below is the real one.
		o.UpdateInterval = time.Second
		svc.RecordingService = briefingtest.NewRecordingService()
		o.Service = svc
	})
	h.fake.Refuse("chat.startStream", "")
	svc.afterStep = func(i int) {
		h.fake.WaitMessages(t, i+1, func(m fakeslack.Message) bool { return m.Method == "chat.appendStream" })
	}
	br, err := svc.Build(context.Background(), "cloud", briefing.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := h.bot.PostBriefing(context.Background(), "C1", br, "")
	if err != nil {
		t.Fatal(err)
	}
	h.fake.SendEvent(t, "Ev1", h.userMessage("C1", ts, "What happened?"), 0)
	stop := h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool { return m.Method == "chat.stopStream" })[0]

	var calls []fakeslack.Message
	for _, m := range h.fake.Messages() {
		if m.TS == stop.TS {
			calls = append(calls, m)
		}
	}
	var methods []string
	for _, m := range calls {
		methods = append(methods, strings.TrimPrefix(m.Method, "chat."))
	}
	if got := strings.Join(methods, " "); got != "startStream appendStream appendStream appendStream stopStream" {
		t.Fatalf("calls on the answer: %s", got)
	}
	start := calls[0]
	if start.ThreadTS != ts || start.User != "U1" {
		t.Errorf("stream started in thread %q for %q; want %q for U1", start.ThreadTS, start.User, ts)
	}
	appends := h.fake.Requests("chat.appendStream")
	for i, m := range calls[1 : len(calls)-1] {
		t.Logf("append %d: %d characters", i+1, len([]rune(m.Text)))
	}
	for i := 1; i < len(appends); i++ {
		t.Logf("append %d came %v after append %d", i+1, appends[i].At.Sub(appends[i-1].At).Round(time.Millisecond), i)
		if gap := appends[i].At.Sub(appends[i-1].At); gap < time.Second {
			t.Errorf("append %d came %v after the one before; at most one a second", i, gap)
		}
	}
	if n := len([]rune(calls[1].Text)); n < 250 {
		t.Errorf("first append carried %d characters; it should wait for 250", n)
	}
	want := strings.ReplaceAll(strings.ReplaceAll(final, "<", "&lt;"), ">", "&gt;")
	if got := h.fake.StreamedText("C1", stop.TS); got != want {
		t.Errorf("streamed text\n%q\nwant\n%q", got, want)
	}
	blocks := readable(t, stop.Blocks)
	for _, part := range []string{`"type":"context_actions"`, `"type":"feedback_buttons"`, "Sources: <" + briefingtest.ArticleURL("cloud", 0)} {
		if !strings.Contains(blocks, part) {
			t.Errorf("the final message lacks %s: %s", part, blocks)
		}
	}
	if placeholders(h.fake.Messages(), "C1", ts) != nil {
		t.Error("a placeholder was posted although the answer streamed")
	}
}

func TestStreamFallsBackWhenRefused(t *testing.T) {
	h := newHarness(t) // its Slack answers chat.startStream with unknown_method
	_, ts := h.postBriefing(t, "C1")
	h.fake.SendEvent(t, "Ev1", h.userMessage("C1", ts, "Why?"), 0)
	answer := h.waitAnswer(t, "C1", ts)
	if ph := placeholders(h.fake.Messages(), "C1", ts); len(ph) != 1 || ph[0].TS != answer.TS {
		t.Fatalf("placeholders %+v; answer in %s", ph, answer.TS)
	}
	h.fake.SendEvent(t, "Ev2", h.userMessage("C1", ts, "And then?"), 0)
	h.fake.WaitMessages(t, 2, func(m fakeslack.Message) bool {
		return m.Method == "chat.update" && strings.Contains(m.Text, "Sources:")
	})
	if n := len(h.fake.Requests("chat.startStream")); n != 1 {
		t.Errorf("chat.startStream asked %d times; a workspace without it is asked once", n)
	}
}

func TestStreamRefusedInChannelFallsBackEachTime(t *testing.T) {
	h := newHarness(t)
	h.fake.Refuse("chat.startStream", "not_allowed")
	_, ts := h.postBriefing(t, "C1")
	h.fake.SendEvent(t, "Ev1", h.userMessage("C1", ts, "Why?"), 0)
	h.waitAnswer(t, "C1", ts)
	h.fake.Refuse("chat.startStream", "")
	h.fake.SendEvent(t, "Ev2", h.userMessage("C1", ts, "And then?"), 0)
	h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool { return m.Method == "chat.stopStream" })
}

// A question job resumed after its process died takes up the stream the
// earlier attempt started: it stops it and edits the answer into it
// rather than start another.
func TestResumedAnswerFinishesItsStream(t *testing.T) {
	h := newHarness(t)
	h.fake.Refuse("chat.startStream", "")
	ctx := context.Background()
	_, ts := h.postBriefing(t, "C1")
	ev := h.userMessage("C1", ts, "What now?")
	api := slack.New(h.fake.BotToken(), slack.OptionAPIURL(h.fake.APIURL()))
	_, streamTS, err := api.StartStreamContext(ctx, "C1", slack.MsgOptionTS(ts),
		slack.MsgOptionRecipientUserID("U1"), slack.MsgOptionRecipientTeamID(fakeslack.DefaultTeamID))
	if err != nil {
		t.Fatal(err)
	}
	h.stopBot(t)

	payload, _ := json.Marshal(map[string]any{"event_id": "Ev1", "channel": "C1", "user": "U1", "text": "What now?",
		"ts": ev["ts"], "thread_ts": ts, "team": fakeslack.DefaultTeamID})
	job := briefing.Job{ID: "slack:msg:C1:" + ev["ts"].(string), Kind: "slack.question", Payload: payload,
		Progress: json.RawMessage(`{"stream":"` + streamTS + `"}`), Attempts: 1, EnqueuedAt: time.Now()}
	if _, err := h.db.Enqueue(ctx, job, time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	h.start(t)
	h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool {
		return m.Method == "chat.update" && m.TS == streamTS && strings.Contains(m.Text, "Sources:")
	})
	if n := len(h.fake.Requests("chat.startStream")); n != 1 {
		t.Errorf("%d streams started; the resumed job should take up the first", n)
	}
	if stops := h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool { return m.Method == "chat.stopStream" }); stops[0].TS != streamTS {
		t.Errorf("stopped stream %s, want %s", stops[0].TS, streamTS)
	}
}
