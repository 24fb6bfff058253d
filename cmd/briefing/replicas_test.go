package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/sync/errgroup"

	"github.com/briefing-bot/briefing/internal/fakeopenai"
	"github.com/briefing-bot/briefing/internal/fakeslack"
	"github.com/briefing-bot/briefing/store/postgres"
	"github.com/briefing-bot/briefing/store/postgres/pgtest"
)

// Three `briefing run` replicas on one PostgreSQL database and one Slack
// app, each with its own socket-mode connection, envelopes spread over
// them and half the questions delivered twice: every slot of an
// `@every 2s` schedule is done once, and every command and question is
// answered once, whichever replica gets it.
func TestReplicasShareTheWork(t *testing.T) {
	const replicas, commands, questions, slots = 3, 10, 10, 4
	dir := inTempDir(t)
	slackFake := fakeslack.New(t)
	llm := fakeopenai.New(t)
	dsn := pgtest.DSN(t)
	t.Setenv("BRIEFING_TEST_DSN", dsn)
	// The end-to-end config, on the database and with a slot every 2s.
	path, storePath := daemonConfig(t, dir, slackFake, llm.URL)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	config := strings.NewReplacer(fmt.Sprintf("store: {path: %q}", storePath), `store: {driver: postgres, dsn: "${BRIEFING_TEST_DSN}"}`,
		`cron: "@every 24h", grace: 24h`, `cron: "@every 2s", grace: 20s`).Replace(string(data))
	if config == string(data) {
		t.Fatal("the end-to-end config changed shape; update this test's replacements")
	}
	path = writeConfig(t, dir, config)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var g errgroup.Group
	for range replicas {
		_, d := openTestDaemon(t, path)
		g.Go(func() error { return d.Run(ctx) })
	}
	slackFake.WaitConnected(t, replicas)
	slackFake.SpreadEnvelopes()
	briefingPost := slackFake.WaitMessages(t, 1, func(m fakeslack.Message) bool {
		return isPost(scheduledChannel)(m) && m.Metadata != nil && m.Metadata.EventPayload["briefing_id"] != ""
	})[0]

	for i := range commands {
		slackFake.SendSlash(t, slack.SlashCommand{Command: "/briefing", Text: "cloud", ChannelID: fmt.Sprintf("CCMD%02d", i), UserID: "U1"})
	}
	for i := range questions {
		question := fmt.Sprintf("What happened in region %d?", i)
		event := map[string]any{"type": "message", "channel": scheduledChannel, "user": "U1", "text": question,
			"ts": slackFake.AddMessage("CUSERS", slack.Msg{Text: question}), "thread_ts": briefingPost.TS}
		id := fmt.Sprintf("EvQ%02d", i)
		slackFake.SendEvent(t, id, event, 0)
		if i%2 == 0 {
			slackFake.SendEvent(t, id, event, 1) // to the next connection
		}
	}
	isAnswer := func(m fakeslack.Message) bool {
		return m.Method == "chat.stopStream" && m.ThreadTS == briefingPost.TS
	}
	slackFake.WaitMessages(t, questions, isAnswer)
	for i := range commands {
		slackFake.WaitMessages(t, 1, isPost(fmt.Sprintf("CCMD%02d", i)))
	}
	slackFake.WaitMessages(t, slots, isPost(scheduledChannel))
	cancel()
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	// Every top-level post to the scheduled channel names its slot; no
	// slot twice.
	posted := map[string]int{}
	for _, m := range slackFake.Messages() {
		if isPost(scheduledChannel)(m) && m.Metadata != nil {
			posted[fmt.Sprint(m.Metadata.EventPayload["slot"])]++
		}
	}
	for slot, n := range posted {
		if n != 1 {
			t.Errorf("slot %s posted %d times", slot, n)
		}
	}
	if n := len(slackFake.Messages()); n == 0 {
		t.Fatal("no messages")
	}
	answers := 0
	for _, m := range slackFake.Messages() {
		if isAnswer(m) {
			answers++
		}
	}
	if answers != questions {
		t.Errorf("%d answers to %d questions (%d of them delivered twice)", answers, questions, (questions+1)/2)
	}
	for i := range commands {
		if n := countPosts(slackFake, fmt.Sprintf("CCMD%02d", i)); n != 1 {
			t.Errorf("command in CCMD%02d answered %d times", i, n)
		}
	}

	// No slot between the first and the last is left undone.
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	unfinished, err := db.UnfinishedSlots("cloud-daily", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	last, _, err := db.LastSlot("cloud-daily")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range unfinished {
		// A slot that came due while the replicas stopped may be claimed
		// and cut short; one before the last is lost.
		if s.Time.Before(last.Time) {
			t.Errorf("slot %s left %s", s.Key, s.State)
		}
	}
	t.Logf("%d replicas: %d slots posted, %d answers to %d questions (%d delivered twice), %d commands",
		replicas, len(posted), answers, questions, (questions+1)/2, commands)
}
