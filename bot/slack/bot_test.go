package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
	slackbot "github.com/briefing-bot/briefing/bot/slack"
	"github.com/briefing-bot/briefing/internal/briefingtest"
	"github.com/briefing-bot/briefing/internal/fakeslack"
	"github.com/briefing-bot/briefing/store"
)

// harness is a Bot running against the fake Slack, with a real store.
type harness struct {
	fake   *fakeslack.Server
	svc    *briefingtest.RecordingService
	dbPath string
	db     *store.DB
	bot    *slackbot.Bot
	stop   func() error
}

func openStore(tb testing.TB, path string) *store.DB {
	tb.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

func newHarness(tb testing.TB, configure ...func(*slackbot.Options)) *harness {
	tb.Helper()
	h := &harness{fake: fakeslack.New(tb), svc: briefingtest.NewRecordingService(), dbPath: filepath.Join(tb.TempDir(), "briefing.db")}
	h.db = openStore(tb, h.dbPath)
	// These tests follow answers through the placeholder that Slack
	// workspaces without native streaming get; stream_test.go streams.
	h.fake.Refuse("chat.startStream", "unknown_method")
	h.start(tb, configure...)
	return h
}

func (h *harness) options() slackbot.Options {
	return slackbot.Options{
		BotToken: h.fake.BotToken(), AppToken: h.fake.AppToken(), APIURL: h.fake.APIURL(),
		Service: h.svc, Threads: h.db, Jobs: h.db,
		Schedules:    []slackbot.ScheduleInfo{{Topic: "cloud", Cron: "0 8 * * 1-5", Timezone: "Europe/Paris", Channel: "C1"}},
		PostInterval: time.Millisecond, UpdateInterval: 5 * time.Millisecond, RetryWait: time.Millisecond,
	}
}

// start runs a new Bot on h's store; h.stop cancels it and returns what Run
// returned.
func (h *harness) start(tb testing.TB, configure ...func(*slackbot.Options)) {
	tb.Helper()
	opts := h.options()
	for _, c := range configure {
		c(&opts)
	}
	bot, err := slackbot.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	h.bot = bot
	h.stop = runBot(tb, bot)
}

func runBot(tb testing.TB, bot *slackbot.Bot) func() error {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bot.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(10 * time.Second):
				runErr = errors.New("Run did not return within 10s of cancel")
			}
		})
		return runErr
	}
	tb.Cleanup(func() {
		if err := stop(); err != nil {
			tb.Errorf("Run: %v", err)
		}
	})
	return stop
}

// stopBot stops the bot and fails the test if Run did not return nil.
func (h *harness) stopBot(tb testing.TB) {
	tb.Helper()
	if err := h.stop(); err != nil {
		tb.Fatalf("Run: %v", err)
	}
}

// postBriefing posts a cloud briefing to channel and returns it and its ts.
func (h *harness) postBriefing(tb testing.TB, channel string) (*briefing.Briefing, string) {
	tb.Helper()
	br, err := h.svc.Build(context.Background(), "cloud", briefing.BuildOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	ts, err := h.bot.PostBriefing(context.Background(), channel, br, "")
	if err != nil {
		tb.Fatal(err)
	}
	return br, ts
}

// askAndHold posts a briefing in C1, asks question in its thread and
// returns the thread's ts once Answer has begun; Answer then waits for
// h.svc.Release to be closed.
func (h *harness) askAndHold(tb testing.TB, question string) string {
	tb.Helper()
	h.svc.Answering, h.svc.Release = make(chan briefing.Question, 1), make(chan struct{})
	_, ts := h.postBriefing(tb, "C1")
	h.fake.SendEvent(tb, "Ev1", h.userMessage("C1", ts, question), 0)
	<-h.svc.Answering
	return ts
}

// userMessage puts a person's message into the fake's channel (so replies
// can thread on it) and returns its event.
func (h *harness) userMessage(channel, threadTS, text string) map[string]any {
	ts := h.fake.AddMessage(channel, slack.Msg{User: "U1", Text: text, ThreadTimestamp: threadTS})
	ev := map[string]any{"type": "message", "channel": channel, "channel_type": "channel", "user": "U1",
		"text": text, "ts": ts, "event_ts": ts, "client_msg_id": "c-" + ts}
	if threadTS != "" {
		ev["thread_ts"] = threadTS
	}
	return ev
}

func mention(ev map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range ev {
		if k != "channel_type" {
			m[k] = v
		}
	}
	m["type"] = "app_mention"
	return m
}

// readable re-encodes posted blocks without JSON's HTML escaping, so that
// "<" reads as "<" (slack-go sends it as \u003c).
func readable(tb testing.TB, raw json.RawMessage) string {
	tb.Helper()
	if raw == nil {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatal(err)
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		tb.Fatal(err)
	}
	return sb.String()
}

func inThread(channel, threadTS string) func(fakeslack.Message) bool {
	return func(m fakeslack.Message) bool { return m.Channel == channel && m.ThreadTS == threadTS }
}

func placeholders(msgs []fakeslack.Message, channel, threadTS string) []fakeslack.Message {
	var out []fakeslack.Message
	for _, m := range msgs {
		if m.Method == "chat.postMessage" && inThread(channel, threadTS)(m) && m.Text == "_Looking into it…_" {
			out = append(out, m)
		}
	}
	return out
}

// waitAnswer waits for the final edit of the answer in a thread: the one
// that carries its sources.
func (h *harness) waitAnswer(tb testing.TB, channel, threadTS string) fakeslack.Message {
	tb.Helper()
	updates := h.fake.WaitMessages(tb, 1, func(m fakeslack.Message) bool {
		return m.Method == "chat.update" && inThread(channel, threadTS)(m) && strings.Contains(m.Text, "Sources:")
	})
	return updates[0]
}

func TestSlashCommandPostsBriefing(t *testing.T) {
	for name, channel := range map[string]string{"channel": "C1", "direct message": "D1"} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			env := h.fake.SendSlash(t, slack.SlashCommand{ChannelID: channel, UserID: "U1", Text: "cloud"})
			ack := h.fake.WaitAck(t, env)
			if ack.Latency > 3*time.Second {
				t.Errorf("ack took %v, Slack allows 3s", ack.Latency)
			}
			var payload struct{ ResponseType, Text string }
			if err := json.Unmarshal(ack.Payload, &payload); err != nil || !strings.Contains(payload.Text, "Preparing the Cloud briefing") {
				t.Errorf("ack payload %s (%v), want the preparing note", ack.Payload, err)
			}
			posts := h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool { return m.Method == "chat.postMessage" })
			post := posts[0]
			if post.Channel != channel || post.ThreadTS != "" {
				t.Errorf("posted to %s thread %q, want top level of %s", post.Channel, post.ThreadTS, channel)
			}
			if blocks := readable(t, post.Blocks); post.Text != "Cloud news of the day" || !strings.Contains(blocks, `"type":"header"`) ||
				!strings.Contains(blocks, "<"+briefingtest.ArticleURL("cloud", 0)+"|example.com>") {
				t.Errorf("post text %q blocks %s", post.Text, post.Blocks)
			}
			if post.Metadata == nil || post.Metadata.EventType != "briefing_posted" || post.Metadata.EventPayload["briefing_id"] != "br-cloud-1" {
				t.Errorf("metadata = %+v", post.Metadata)
			}
			h.stopBot(t) // waits for the build to be marked posted
			thread, ok, err := h.db.Thread("slack:" + channel + ":" + post.TS)
			if err != nil || !ok || thread.BriefingID != "br-cloud-1" || thread.Topic != "cloud" {
				t.Errorf("thread = %+v, %v, %v", thread, ok, err)
			}
			if !slices.Equal(h.svc.Marked(), []string{"br-cloud-1"}) {
				t.Errorf("marked posted: %v", h.svc.Marked())
			}
		})
	}
}

func TestSlashCommandReplies(t *testing.T) {
	for name, tc := range map[string]struct {
		text, channel string
		want          []string
	}{
		"help":               {"help", "C1", []string{"`cloud` — Cloud", "`ai` — Artificial Intelligence", "Cloud: `0 8 * * 1-5` (Europe/Paris)"}},
		"bare":               {"", "C1", []string{"`cloud` — Cloud", "Scheduled here"}},
		"help elsewhere":     {"HELP", "C2", []string{"`ai`", "No briefings are scheduled in this channel."}},
		"unknown topic":      {"sports", "C1", []string{"no topic “sports”", "`cloud`, `ai`"}},
		"unknown is escaped": {"<!channel>", "C1", []string{"&lt;!channel&gt;", "`cloud`, `ai`"}},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			ack := h.fake.WaitAck(t, h.fake.SendSlash(t, slack.SlashCommand{ChannelID: tc.channel, UserID: "U1", Text: tc.text}))
			var payload struct {
				ResponseType string `json:"response_type"`
				Text         string `json:"text"`
			}
			if err := json.Unmarshal(ack.Payload, &payload); err != nil {
				t.Fatal(err)
			}
			if payload.ResponseType != "ephemeral" {
				t.Errorf("response_type = %q", payload.ResponseType)
			}
			for _, want := range tc.want {
				if !strings.Contains(payload.Text, want) {
					t.Errorf("reply %q lacks %q", payload.Text, want)
				}
			}
			h.stopBot(t)
			if msgs := h.fake.Messages(); len(msgs) != 0 {
				t.Errorf("posted %+v, want nothing", msgs)
			}
		})
	}
}

func TestBuildFailureIsToldToUser(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"user error": {briefing.Errorf(briefing.ENOTFOUND, "No Cloud articles in the last 24h."), "No Cloud articles in the last 24h."},
		"internal":   {errors.New("disk on fire"), "Something went wrong on our side"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.svc.BuildErr = tc.err
			h.fake.SendSlash(t, slack.SlashCommand{ChannelID: "C1", UserID: "U7", Text: "cloud"})
			got := h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool { return m.Method == "chat.postEphemeral" })[0]
			if got.User != "U7" || got.Channel != "C1" || !strings.Contains(got.Text, tc.want) || strings.Contains(got.Text, "disk") {
				t.Errorf("ephemeral %+v, want %q to U7 in C1", got, tc.want)
			}
			h.stopBot(t)
			for _, m := range h.fake.Messages() {
				if m.Method == "chat.postMessage" {
					t.Errorf("posted %+v after a failed build", m)
				}
			}
		})
	}
}

func TestPostFailureIsToldToUser(t *testing.T) {
	h := newHarness(t)
	h.fake.FailNext("chat.postMessage", http.StatusBadRequest, 0)
	h.fake.SendSlash(t, slack.SlashCommand{ChannelID: "C1", UserID: "U7", Text: "cloud"})
	got := h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool { return m.Method == "chat.postEphemeral" })[0]
	if !strings.Contains(got.Text, "Something went wrong") {
		t.Errorf("ephemeral %q", got.Text)
	}
	h.stopBot(t)
	if n := len(h.fake.Requests("chat.postMessage")); n != 1 {
		t.Errorf("%d chat.postMessage calls, want 1: a 4xx is not retried", n)
	}
	if len(h.svc.Marked()) != 0 {
		t.Errorf("marked posted %v after a failed post", h.svc.Marked())
	}
}

// A 5xx on a post is retried; when the failed attempt had landed (its
// answer lost), the retry finds it by its metadata and posts nothing more.
func TestPostRetriedAfterServerError(t *testing.T) {
	for name, fail := range map[string]func(*fakeslack.Server){
		"not posted": func(f *fakeslack.Server) { f.FailNext("chat.postMessage", http.StatusInternalServerError, 0) },
		"posted":     func(f *fakeslack.Server) { f.FailNextApplied("chat.postMessage", http.StatusBadGateway) },
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			fail(h.fake)
			h.fake.SendSlash(t, slack.SlashCommand{ChannelID: "C1", UserID: "U7", Text: "cloud"})
			posted := h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool { return m.Method == "chat.postMessage" })[0]
			h.stopBot(t) // lets the work in flight finish
			if n := len(h.svc.Marked()); n != 1 {
				t.Errorf("briefing marked posted %d times, want 1", n)
			}
			if n := countMethod(h.fake.Messages(), "chat.postMessage"); n != 1 {
				t.Errorf("%d briefings posted, want 1", n)
			}
			if _, known, _ := h.db.Thread("slack:C1:" + posted.TS); !known {
				t.Errorf("thread of %s not recorded", posted.TS)
			}
		})
	}
}

// A 5xx on the edit that finishes an answer is retried.
func TestUpdateRetriedAfterServerError(t *testing.T) {
	// No streaming edits: the failed edit is the one that finishes.
	h := newHarness(t, func(o *slackbot.Options) { o.UpdateInterval = time.Hour })
	_, ts := h.postBriefing(t, "C1")
	h.fake.FailNext("chat.update", http.StatusServiceUnavailable, 0)
	h.fake.SendEvent(t, "Ev1", map[string]any{"type": "message", "channel": "C1", "user": "U1",
		"text": "why?", "ts": "1800000000.000001", "thread_ts": ts}, 0)
	h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool {
		return m.Method == "chat.update" && !strings.Contains(m.Text, "Looking into it")
	})
	if n := len(h.fake.Requests("chat.update")); n != 2 {
		t.Errorf("%d chat.update calls; the failed one was not retried", n)
	}
}

func countMethod(msgs []fakeslack.Message, method string) int {
	n := 0
	for _, m := range msgs {
		if m.Method == method {
			n++
		}
	}
	return n
}

func TestFollowUpIsAnsweredInThread(t *testing.T) {
	h := newHarness(t)
	br, ts := h.postBriefing(t, "C1")

	reply := h.userMessage("C1", ts, "Why did <@UBOT> say prices fell &amp; why now?")
	h.fake.SendEvent(t, "Ev1", reply, 0)
	answer := h.waitAnswer(t, "C1", ts)
	ph := placeholders(h.fake.Messages(), "C1", ts)
	if len(ph) != 1 || ph[0].TS != answer.TS {
		t.Fatalf("placeholders %+v, answer edits %s", ph, answer.TS)
	}
	if want := "<" + briefingtest.ArticleURL("cloud", 0) + "|example.com>"; !strings.Contains(answer.Text, want) {
		t.Errorf("answer %q does not cite %s", answer.Text, want)
	}
	q := h.svc.Questions()[0]
	if q.BriefingID != br.ID || q.Topic != "cloud" || q.Text != "Why did  say prices fell & why now?" || len(q.History) != 0 {
		t.Errorf("question = %+v", q)
	}

	second := h.userMessage("C1", ts, "And next week?")
	h.fake.SendEvent(t, "Ev2", second, 0)
	h.fake.WaitMessages(t, 2, func(m fakeslack.Message) bool {
		return m.Method == "chat.update" && strings.Contains(m.Text, "Sources:")
	})
	q = h.svc.Questions()[1]
	if len(q.History) != 1 || q.History[0].Question != "Why did  say prices fell & why now?" || !strings.Contains(q.History[0].Answer, "It is about cloud") {
		t.Errorf("second question's history = %+v", q.History)
	}
}

func TestAnswerStreamsIntoPlaceholder(t *testing.T) {
	h := newHarness(t)
	ts := h.askAndHold(t, "What changed?")
	h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool {
		return m.Method == "chat.update" && strings.HasPrefix(m.Text, "It is about …")
	})
	close(h.svc.Release)
	h.waitAnswer(t, "C1", ts)
}

func TestLongAnswerContinuesInThread(t *testing.T) {
	h := newHarness(t)
	h.svc.AnswerText = briefingtest.Sentences(150) // about 8,000 characters
	_, ts := h.postBriefing(t, "C1")
	h.fake.SendEvent(t, "Ev1", h.userMessage("C1", ts, "Tell me everything"), 0)
	last := h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool {
		return m.Method == "chat.postMessage" && m.ThreadTS == ts && strings.Contains(m.Text, "Sources:")
	})[0]
	h.stopBot(t)
	var text []string
	for _, m := range h.fake.Messages() {
		if m.ThreadTS != ts || m.Text == "_Looking into it…_" || strings.HasSuffix(m.Text, " …") {
			continue
		}
		if len([]rune(m.Text)) > 3500 {
			t.Errorf("a reply has %d characters", len([]rune(m.Text)))
		}
		text = append(text, m.Text)
	}
	if len(text) < 3 || text[len(text)-1] != last.Text {
		t.Fatalf("answer came in %d parts", len(text))
	}
	joined := strings.Join(text, " ")
	if !strings.Contains(joined, "Sentence number 0 ") || !strings.Contains(joined, "Sentence number 149 ") {
		t.Error("parts of the answer are missing")
	}
}

func TestAnswerFailureShownInPlaceholder(t *testing.T) {
	h := newHarness(t)
	h.svc.AnswerErr = briefing.Errorf(briefing.EINVALID, "That briefing is too old to discuss.")
	_, ts := h.postBriefing(t, "C1")
	h.fake.SendEvent(t, "Ev1", h.userMessage("C1", ts, "Why?"), 0)
	h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool {
		return m.Method == "chat.update" && m.ThreadTS == ts && m.Text == "That briefing is too old to discuss."
	})
}

func TestThreadSurvivesRestart(t *testing.T) {
	h := newHarness(t)
	br, ts := h.postBriefing(t, "C1")
	h.stopBot(t)
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	h.db = openStore(t, h.dbPath)
	h.start(t)

	h.fake.SendEvent(t, "Ev1", h.userMessage("C1", ts, "Still there?"), 0)
	h.waitAnswer(t, "C1", ts)
	if q := h.svc.Questions()[0]; q.BriefingID != br.ID {
		t.Errorf("after restart the question is about %q, want %q", q.BriefingID, br.ID)
	}
}

func TestEachMessageIsAnsweredOnce(t *testing.T) {
	for name, deliver := range map[string]func(t *testing.T, h *harness, ev map[string]any){
		"redelivered envelope": func(t *testing.T, h *harness, ev map[string]any) {
			h.fake.SendEvent(t, "Ev1", ev, 0)
			h.fake.WaitAck(t, h.fake.SendEvent(t, "Ev1", ev, 1))
		},
		"message and app_mention": func(t *testing.T, h *harness, ev map[string]any) {
			ev["text"] = "<@UBOT> why?"
			a := h.fake.SendEvent(t, "Ev1", ev, 0)
			b := h.fake.SendEvent(t, "Ev2", mention(ev), 0)
			h.fake.WaitAck(t, a)
			h.fake.WaitAck(t, b)
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			_, ts := h.postBriefing(t, "C1")
			deliver(t, h, h.userMessage("C1", ts, "why?"))
			h.waitAnswer(t, "C1", ts)
			h.stopBot(t)
			if n := len(placeholders(h.fake.Messages(), "C1", ts)); n != 1 {
				t.Errorf("answered %d times, want once", n)
			}
			if n := len(h.svc.Questions()); n != 1 {
				t.Errorf("Answer called %d times, want once", n)
			}
		})
	}
}

func TestIgnoredMessages(t *testing.T) {
	for name, edit := range map[string]func(ev map[string]any, ts string){
		"own message": func(ev map[string]any, _ string) {
			ev["user"], ev["bot_id"] = fakeslack.DefaultBotUserID, fakeslack.DefaultBotID
		},
		"other bot": func(ev map[string]any, _ string) {
			ev["subtype"], ev["bot_id"], ev["user"] = "bot_message", "B999", ""
		},
		"other bot as user": func(ev map[string]any, _ string) { ev["bot_id"] = "B999" },
		"edit": func(ev map[string]any, _ string) {
			ev["subtype"] = "message_changed"
			ev["message"] = map[string]any{"type": "message", "user": "U1", "text": "edited", "ts": ev["ts"], "thread_ts": ev["thread_ts"]}
		},
		"deletion": func(ev map[string]any, _ string) {
			ev["subtype"], ev["deleted_ts"] = "message_deleted", ev["ts"]
		},
		"thread the bot did not start": func(ev map[string]any, _ string) { ev["thread_ts"] = "1600000000.000100" },
		"top-level message":            func(ev map[string]any, _ string) { delete(ev, "thread_ts") },
		"own mention": func(ev map[string]any, _ string) {
			ev["type"], ev["user"], ev["text"] = "app_mention", fakeslack.DefaultBotUserID, "<@UBOT> hi"
		},
		"edited mention": func(ev map[string]any, _ string) {
			ev["type"], ev["text"] = "app_mention", "<@UBOT> hi"
			ev["edited"] = map[string]any{"user": "U1", "ts": "1700000001.000000"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			_, ts := h.postBriefing(t, "C1")
			ev := h.userMessage("C1", ts, "what about this?")
			edit(ev, ts)
			h.fake.WaitAck(t, h.fake.SendEvent(t, "Ev1", ev, 0))
			h.stopBot(t) // returns once work started by the event is done
			for _, m := range h.fake.Messages() {
				if m.ThreadTS != "" {
					t.Errorf("replied %+v", m)
				}
			}
			if q := h.svc.Questions(); len(q) != 0 {
				t.Errorf("asked %+v", q)
			}
		})
	}
}

func TestMentionOutsideBriefingThread(t *testing.T) {
	for name, tc := range map[string]struct {
		text, wantTopic  string
		inThread, direct bool
	}{
		"names topic id":   {text: "<@UBOT> anything new in AI?", wantTopic: "ai"},
		"names topic name": {text: "<@UBOT> artificial intelligence today?", wantTopic: "ai"},
		"names no topic":   {text: "<@UBOT> what's new?", wantTopic: "cloud"},
		"in other thread":  {text: "<@UBOT> and ai?", wantTopic: "ai", inThread: true},
		"direct message":   {text: "what's new in ai?", wantTopic: "ai", direct: true},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			channel, parent := "C1", ""
			if tc.direct {
				channel = "D1"
			}
			if tc.inThread {
				parent = h.fake.AddMessage(channel, slack.Msg{User: "U2", Text: "unrelated"})
			}
			ev := h.userMessage(channel, parent, tc.text)
			if tc.direct {
				ev["channel_type"] = "im"
			} else {
				ev = mention(ev)
			}
			replyTo := parent
			if replyTo == "" {
				replyTo = ev["ts"].(string)
			}
			h.fake.SendEvent(t, "Ev1", ev, 0)
			h.waitAnswer(t, channel, replyTo)
			q := h.svc.Questions()[0]
			if q.Topic != tc.wantTopic || q.BriefingID != "" || strings.Contains(q.Text, "<@") {
				t.Errorf("question = %+v, want topic %q and no briefing", q, tc.wantTopic)
			}
			if tc.direct {
				return
			}
			// The thread is not the bot's: a plain reply there is not a question.
			h.fake.WaitAck(t, h.fake.SendEvent(t, "Ev2", h.userMessage(channel, replyTo, "thanks"), 0))
			h.stopBot(t)
			if n := len(h.svc.Questions()); n != 1 {
				t.Errorf("%d questions, want 1", n)
			}
		})
	}
}

func TestPostedContentIsEscaped(t *testing.T) {
	h := newHarness(t)
	h.svc.Headline = "<!channel> prices & <@U123>"
	h.svc.AnswerText = "Tell <!here> and <#C999> about <https://evil.test|this>."
	_, ts := h.postBriefing(t, "C1")
	h.fake.SendEvent(t, "Ev1", h.userMessage("C1", ts, "Who?"), 0)
	answer := h.waitAnswer(t, "C1", ts)
	h.stopBot(t)
	for _, m := range h.fake.Messages() {
		for _, s := range []string{m.Text, readable(t, m.Blocks)} {
			for _, bad := range []string{"<!channel>", "<!here>", "<@U123>", "<#C999>", "<https://evil.test"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s posted %q unescaped", m.Method, bad)
				}
			}
		}
	}
	post := h.fake.Messages()[0]
	if !strings.Contains(readable(t, post.Blocks), "&lt;!channel&gt; prices &amp; &lt;@U123&gt;") {
		t.Errorf("header not escaped: %s", post.Blocks)
	}
	if !strings.Contains(answer.Text, "Tell &lt;!here&gt; and &lt;#C999&gt;") {
		t.Errorf("answer not escaped: %q", answer.Text)
	}
}

func TestRateLimitedPostIsPostedOnce(t *testing.T) {
	h := newHarness(t)
	h.fake.FailNext("chat.postMessage", 429, 1)
	_, ts := h.postBriefing(t, "C1")
	calls := h.fake.Requests("chat.postMessage")
	if len(calls) != 2 || calls[0].Status != 429 || calls[1].Status != 200 {
		t.Fatalf("calls = %+v, want a 429 then a success", calls)
	}
	if wait := calls[1].At.Sub(calls[0].At); wait < time.Second {
		t.Errorf("retried after %v, Retry-After said 1s", wait)
	}
	var posts []fakeslack.Message
	for _, m := range h.fake.Messages() {
		if m.Method == "chat.postMessage" {
			posts = append(posts, m)
		}
	}
	if len(posts) != 1 || posts[0].TS != ts {
		t.Errorf("posts = %+v, want exactly one with ts %s", posts, ts)
	}
}

func TestPostsToAChannelArePaced(t *testing.T) {
	const interval = 300 * time.Millisecond
	h := newHarness(t, func(o *slackbot.Options) { o.PostInterval = interval })
	h.postBriefing(t, "C1")
	h.postBriefing(t, "C1")
	calls := h.fake.Requests("chat.postMessage")
	// The fake timestamps arrivals, so the first request's transit time
	// can shorten the gap it sees; half the interval still proves pacing.
	if gap := calls[1].At.Sub(calls[0].At); gap < interval/2 {
		t.Errorf("second post came %v after the first, want at least %v", gap, interval)
	}
}

func TestReconnectsAfterDisconnect(t *testing.T) {
	h := newHarness(t)
	h.fake.WaitAck(t, h.fake.SendSlash(t, slack.SlashCommand{ChannelID: "C1", UserID: "U1", Text: "help"}))
	h.fake.Disconnect("refresh_requested")
	h.fake.WaitAck(t, h.fake.SendSlash(t, slack.SlashCommand{ChannelID: "C1", UserID: "U1", Text: "cloud"}))
	h.fake.WaitMessages(t, 1, func(m fakeslack.Message) bool { return m.Method == "chat.postMessage" })
	if n := h.fake.Connections(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestRunFinishesWorkInFlightOnCancel(t *testing.T) {
	h := newHarness(t)
	h.askAndHold(t, "Quick?")
	stopped := make(chan error, 1)
	go func() { stopped <- h.stop() }()
	h.fake.WaitDisconnected(t) // Run has seen the cancel
	select {
	case err := <-stopped:
		t.Fatalf("Run returned %v with an answer in flight", err)
	default:
	}
	close(h.svc.Release)
	if err := <-stopped; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	// Run returned only after the answer in flight was posted.
	var final bool
	for _, m := range h.fake.Messages() {
		final = final || (m.Method == "chat.update" && strings.Contains(m.Text, "Sources:"))
	}
	if !final {
		t.Error("the answer in flight was not finished")
	}
}

func TestRunRejectsBadAppToken(t *testing.T) {
	fake := fakeslack.New(t)
	db := openStore(t, filepath.Join(t.TempDir(), "b.db"))
	bot, err := slackbot.New(slackbot.Options{BotToken: fake.BotToken(), AppToken: "xapp-revoked", APIURL: fake.APIURL(),
		Service: briefingtest.NewRecordingService(), Threads: db, Jobs: db})
	if err != nil {
		t.Fatal(err)
	}
	err = bot.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "slack.app_token") || briefing.ErrorCode(err) != briefing.EINVALID {
		t.Errorf("Run = %v, want an invalid slack.app_token", err)
	}
}

func TestFindPosted(t *testing.T) {
	h := newHarness(t)
	start := time.Now().Add(-time.Minute)
	br, _ := h.svc.Build(context.Background(), "cloud", briefing.BuildOptions{})
	ts, err := h.bot.PostBriefing(context.Background(), "C1", br, "daily@2026-11-25T08:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	// Another app's message with the same metadata is not ours; and enough
	// later messages push ours to a second page.
	h.fake.AddMessage("C1", slack.Msg{BotID: "B999", User: "U9", Text: "copy", Metadata: slack.SlackMetadata{
		EventType: "briefing_posted", EventPayload: map[string]any{"slot": "other@2026-11-25T08:00:00Z"}}})
	for i := range 120 {
		h.fake.AddMessage("C1", slack.Msg{User: "U1", Text: fmt.Sprintf("chatter %d", i)})
	}
	for name, tc := range map[string]struct {
		channel, slot string
		since         time.Time
		want          string
	}{
		"found":            {"C1", "daily@2026-11-25T08:00:00Z", start, ts},
		"found, no since":  {"C1", "daily@2026-11-25T08:00:00Z", time.Time{}, ts},
		"other slot":       {"C1", "daily@2026-11-26T08:00:00Z", start, ""},
		"other app's post": {"C1", "other@2026-11-25T08:00:00Z", start, ""},
		"posted before":    {"C1", "daily@2026-11-25T08:00:00Z", time.Now().Add(time.Minute), ""},
		"other channel":    {"C2", "daily@2026-11-25T08:00:00Z", start, ""},
	} {
		t.Run(name, func(t *testing.T) {
			got, found, err := h.bot.FindPosted(context.Background(), tc.channel, tc.slot, tc.since)
			if err != nil || got != tc.want || found != (tc.want != "") {
				t.Errorf("FindPosted = %q, %v, %v; want %q", got, found, err, tc.want)
			}
		})
	}
}
