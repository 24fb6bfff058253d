package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/demo"
	"github.com/briefing-bot/briefing/internal/fakeopenai"
	"github.com/briefing-bot/briefing/internal/fakeslack"
	"github.com/briefing-bot/briefing/schedule"
	"github.com/briefing-bot/briefing/store"
)

const (
	testAPIKey       = "sk-test-never-in-a-prompt"
	scheduledChannel = "CSCHED"
)

// daemonConfig writes a config that runs against the fakes: the demo's
// cloud feeds, a fake LLM, a fake Slack, and a daily schedule whose
// latest slot is always less than its grace old, so every start owes it.
func daemonConfig(tb testing.TB, dir string, slackFake *fakeslack.Server, llmURL string) (path, storePath string) {
	tb.Helper()
	storePath = filepath.Join(dir, "briefing.db")
	cfg := fmt.Sprintf(`
store: {path: %q}
collect: {interval: 1h}
llm:
  providers:
    - {name: primary, kind: compatible, base_url: %q, api_key: %s, model: test-model}
slack: {bot_token: %s, app_token: %s, api_url: %q}
topics:
  - {id: cloud, name: Cloud, feeds: [%s]}
schedules:
  - {id: cloud-daily, topic: cloud, cron: "@every 24h", grace: 24h, slack_channel: %s}
server: {listen: %q}
`, storePath, llmURL, testAPIKey, slackFake.BotToken(), slackFake.AppToken(), slackFake.APIURL(),
		strings.Join(demoCloudFeeds(tb, dir), ", "), scheduledChannel, freeAddr(tb))
	return writeConfig(tb, dir, cfg), storePath
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// daemon is one `briefing run` in the test process.
type daemon struct {
	cancel context.CancelFunc
	done   chan int
	stderr *syncBuffer
}

func startDaemon(tb testing.TB, configPath string) *daemon {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{cancel: cancel, done: make(chan int, 1), stderr: &syncBuffer{}}
	go func() {
		d.done <- Main(ctx, []string{"run", "--config", configPath, "--log-level", "debug"}, io.Discard, d.stderr)
	}()
	tb.Cleanup(func() {
		d.stop(tb)
		if tb.Failed() {
			tb.Logf("daemon log:\n%s", d.stderr)
		}
	})
	return d
}

// stop cancels the daemon as SIGTERM does and checks it exits 0 within 10 s.
func (d *daemon) stop(tb testing.TB) {
	tb.Helper()
	if d.cancel == nil {
		return
	}
	d.cancel()
	d.cancel = nil
	select {
	case code := <-d.done:
		if code != 0 {
			tb.Errorf("run exited %d:\n%s", code, d.stderr)
		}
	case <-time.After(10 * time.Second):
		tb.Fatalf("run did not stop within 10s:\n%s", d.stderr)
	}
}

func isPost(channel string) func(fakeslack.Message) bool {
	return func(m fakeslack.Message) bool {
		return m.Method == "chat.postMessage" && m.Channel == channel && m.ThreadTS == ""
	}
}

func countPosts(s *fakeslack.Server, channel string) int {
	n := 0
	for _, m := range s.Messages() {
		if isPost(channel)(m) {
			n++
		}
	}
	return n
}

// The whole product through the real wiring: a missed slot posted on
// start, /briefing, a grounded follow-up, a restart that neither reposts
// the slot nor forgets the thread, and a clean stop.
func TestRunEndToEnd(t *testing.T) {
	dir := inTempDir(t)
	slackFake := fakeslack.New(t)
	llm := fakeopenai.New(t)
	configPath, _ := daemonConfig(t, dir, slackFake, llm.URL)

	d := startDaemon(t, configPath)
	scheduled := slackFake.WaitMessages(t, 1, isPost(scheduledChannel))[0]
	if scheduled.Metadata == nil || scheduled.Metadata.EventType != "briefing_posted" ||
		!strings.HasPrefix(fmt.Sprint(scheduled.Metadata.EventPayload["slot"]), "cloud-daily@") {
		t.Errorf("scheduled post metadata = %+v", scheduled.Metadata)
	}

	ack := slackFake.WaitAck(t, slackFake.SendSlash(t, slack.SlashCommand{Command: "/briefing", Text: "cloud", ChannelID: "C1", UserID: "U1"}))
	if !strings.Contains(string(ack.Payload), "Preparing the Cloud briefing") {
		t.Errorf("ack payload %s", ack.Payload)
	}
	post := slackFake.WaitMessages(t, 1, isPost("C1"))[0]
	if !strings.Contains(string(post.Blocks), "LLM summary (primary)") {
		t.Errorf("briefing blocks do not name the LLM summarizer: %s", post.Blocks)
	}

	askInThread(t, slackFake, "C1", post.TS, "Ev1", "What caused the Nimbus outage?")
	if !llmSaw(llm, "configuration") {
		t.Error("the follow-up prompt did not carry the briefing's articles")
	}

	d.stop(t)
	// Events must reach the new connection, not the one going away.
	slackFake.WaitDisconnected(t)
	d = startDaemon(t, configPath)
	askInThread(t, slackFake, "C1", post.TS, "Ev2", "Which regions were hit?")
	if n := countPosts(slackFake, scheduledChannel); n != 1 {
		t.Errorf("the scheduled slot was posted %d times across a restart, want 1", n)
	}
	d.stop(t)

	checkNoSecret(t, llm)
}

// checkNoSecret fails when the API key went into any request body.
func checkNoSecret(tb testing.TB, llm *fakeopenai.Server) {
	tb.Helper()
	for _, r := range llm.Requests() {
		if strings.Contains(string(r.Raw), testAPIKey) {
			tb.Fatalf("the API key went into a request body: %s", r.Raw)
		}
	}
}

// demoCloudFeeds writes the demo corpus into dir and returns its cloud feeds.
func demoCloudFeeds(tb testing.TB, dir string) []string {
	tb.Helper()
	demoYAML, err := demo.Write(filepath.Join(dir, "feeds"), time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	demoCfg, err := ParseConfig("demo", demoYAML)
	if err != nil {
		tb.Fatal(err)
	}
	return demoCfg.Topics[0].Feeds
}

// askInThread replies in a briefing's thread and waits for the answer.
func askInThread(tb testing.TB, s *fakeslack.Server, channel, threadTS, eventID, question string) {
	tb.Helper()
	isAnswer := func(m fakeslack.Message) bool {
		return m.Method == "chat.stopStream" && m.ThreadTS == threadTS && strings.Contains(string(m.Blocks), "Sources:")
	}
	earlier := 0
	for _, m := range s.Messages() {
		if isAnswer(m) {
			earlier++
		}
	}
	ts := s.AddMessage("CUSERS", slack.Msg{Text: question}) // a fresh ts from Slack's clock
	s.SendEvent(tb, eventID, map[string]any{"type": "message", "channel": channel, "user": "U1",
		"text": question, "ts": ts, "thread_ts": threadTS}, 0)
	s.WaitMessages(tb, earlier+1, isAnswer)
}

func llmSaw(s *fakeopenai.Server, text string) bool {
	for _, r := range s.Requests() {
		if r.Body.Stream && strings.Contains(string(r.Raw), text) {
			return true
		}
	}
	return false
}

// A crash after posting but before the ledger recorded it: on start the
// post is found by its metadata and not repeated.
func TestRunFindsSlotPostedBeforeCrash(t *testing.T) {
	dir := inTempDir(t)
	slackFake := fakeslack.New(t)
	llm := fakeopenai.New(t)
	configPath, storePath := daemonConfig(t, dir, slackFake, llm.URL)

	// "@every 24h" slots fall at midnight UTC.
	slotTime := time.Now().UTC().Truncate(24 * time.Hour)
	key := schedule.SlotKey("cloud-daily", slotTime)
	db, err := store.Open(storePath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.ClaimSlot(briefing.Slot{Key: key, Schedule: "cloud-daily", Time: slotTime}, 0); err != nil {
		t.Fatal(err)
	}
	db.Close()
	slackFake.AddMessage(scheduledChannel, slack.Msg{BotID: slackFake.BotID(), User: slackFake.BotUserID(), Text: "Cloud briefing",
		Metadata: slack.SlackMetadata{EventType: "briefing_posted", EventPayload: map[string]any{"slot": key}}})

	d := startDaemon(t, configPath)
	// A slash command's post proves the daemon is up, and so past its catch-up.
	slackFake.SendSlash(t, slack.SlashCommand{Command: "/briefing", Text: "cloud", ChannelID: "C1", UserID: "U1"})
	slackFake.WaitMessages(t, 1, isPost("C1"))
	d.stop(t)

	if n := countPosts(slackFake, scheduledChannel); n != 0 {
		t.Errorf("the slot was posted again (%d posts) although Slack had it", n)
	}
	db, err = store.Open(storePath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if slot, ok, _ := db.Slot(key); !ok || slot.State != briefing.SlotPosted {
		t.Errorf("slot = %+v, want posted", slot)
	}
}

func TestRunServesHealthAndMetrics(t *testing.T) {
	dir := inTempDir(t)
	slackFake := fakeslack.New(t)
	configPath, _ := daemonConfig(t, dir, slackFake, fakeopenai.New(t).URL)
	cfg, err := LoadConfig(configPath)
	if err != nil {
		t.Fatal(err)
	}
	startDaemon(t, configPath)
	slackFake.WaitMessages(t, 1, isPost(scheduledChannel))
	for path, want := range map[string]string{"/healthz": "ok", "/metrics": "briefing_briefings_total"} {
		resp, err := http.Get("http://" + cfg.Server.Listen + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
}

func TestRunRefusesRevokedToken(t *testing.T) {
	dir := inTempDir(t)
	slackFake := fakeslack.New(t)
	configPath, _ := daemonConfig(t, dir, slackFake, fakeopenai.New(t).URL)
	data, _ := os.ReadFile(configPath)
	writeConfig(t, dir, strings.Replace(string(data), slackFake.BotToken(), "xoxb-revoked", 1))
	code, _, errOut := runMain(t, "run", "--config", configPath)
	if code == 0 || !strings.Contains(errOut, "slack.bot_token") {
		t.Errorf("exit %d, stderr %q; want a failure naming slack.bot_token", code, errOut)
	}
}

// SIGTERM to the real process: it stops within 10 s with exit code 0.
func TestRunStopsOnSIGTERM(t *testing.T) {
	if asChild() {
		return
	}
	dir := inTempDir(t)
	slackFake := fakeslack.New(t)
	configPath, _ := daemonConfig(t, dir, slackFake, fakeopenai.New(t).URL)
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunStopsOnSIGTERM$")
	cmd.Args = append(cmd.Args, "--", "run", "--config", configPath)
	cmd.Env = append(os.Environ(), "BRIEFING_TEST_MAIN=1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slackFake.WaitMessages(t, 1, isPost(scheduledChannel))
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, &stderr)
		}
		t.Logf("stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 10s after SIGTERM:\n%s", &stderr)
	}
}

// syncBuffer collects a daemon's log while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A bot token without an app token cannot run socket mode: run refuses at
// once, before it posts anything.
func TestRunRefusesBotTokenWithoutAppToken(t *testing.T) {
	dir := inTempDir(t)
	slackFake := fakeslack.New(t)
	configPath, _ := daemonConfig(t, dir, slackFake, fakeopenai.New(t).URL)
	data, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	writeConfig(t, dir, strings.Replace(string(data), "app_token: "+slackFake.AppToken()+",", "", 1))
	code, _, errOut := runMain(t, "run", "--config", configPath)
	if code != 2 || !strings.Contains(errOut, "slack.app_token: is required") {
		t.Errorf("exit %d, stderr %q; want 2 naming slack.app_token", code, errOut)
	}
	if n := len(slackFake.Messages()); n != 0 {
		t.Errorf("%d messages posted before refusing to run", n)
	}
}
