package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing/internal/fakeopenai"
	"github.com/briefing-bot/briefing/internal/fakeslack"
	"github.com/briefing-bot/briefing/schedule"
	"github.com/briefing-bot/briefing/store"
)

// slotPost matches the scheduled posts (briefings and notes) of a chat
// subscription in channel.
func slotPost(channel, scheduleID string) func(fakeslack.Message) bool {
	return func(m fakeslack.Message) bool {
		if !isPost(channel)(m) || m.Metadata == nil {
			return false
		}
		slot, _ := m.Metadata.EventPayload["slot"].(string)
		return strings.HasPrefix(slot, scheduleID+"@")
	}
}

func slashReply(tb testing.TB, s *fakeslack.Server, channel, user, text string) string {
	tb.Helper()
	ack := s.WaitAck(tb, s.SendSlash(tb, slack.SlashCommand{Command: "/briefing", Text: text, ChannelID: channel, UserID: user}))
	var reply struct{ Text string }
	if err := json.Unmarshal(ack.Payload, &reply); err != nil {
		tb.Fatal(err)
	}
	return reply.Text
}

// A channel subscribed in chat gets its slots through the scheduler and
// the post ledger, also after a restart; only chat.admins may change it.
func TestSubscribeInChat(t *testing.T) {
	dir := inTempDir(t)
	slackFake := fakeslack.New(t)
	llm := fakeopenai.New(t)
	configPath, storePath := daemonConfig(t, dir, slackFake, llm.URL)
	cfg, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(configPath, append(cfg, "chat: {admins: [UADMIN]}\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	const channel = "CSUB"
	id := schedule.SubscriptionID("slack:"+channel, "cloud")

	d := startDaemon(t, configPath)
	// @every slots are aligned to the interval, so the next one is at most
	// two seconds away: a driveable stand-in for "weekdays 08:00".
	reply := slashReply(t, slackFake, channel, "UADMIN", "subscribe cloud @every 2s")
	if !strings.Contains(reply, "Done.") || !strings.Contains(reply, "`@every 2s` (UTC), set here by <@UADMIN>") {
		t.Errorf("subscribe answered %q", reply)
	}
	if reply := slashReply(t, slackFake, channel, "UOTHER", "unsubscribe cloud"); !strings.Contains(reply, "Only the briefing's admins") {
		t.Errorf("a non-admin's unsubscribe answered %q", reply)
	}
	if reply := slashReply(t, slackFake, channel, "UADMIN", "subscribe cloud weekdays 08:00 Mars/Olympus"); !strings.Contains(reply, "not a time zone") {
		t.Errorf("a bad zone answered %q", reply)
	}
	if reply := slashReply(t, slackFake, channel, "UADMIN", "audience cloud platform engineers at a bank"); !strings.Contains(reply, "; written for platform engineers at a bank") {
		t.Errorf("audience answered %q", reply)
	}
	if reply := slashReply(t, slackFake, channel, "UOTHER", "topics"); !strings.Contains(reply, "• `cloud` — Cloud: ") {
		t.Errorf("topics answered %q", reply)
	}
	slackFake.WaitMessages(t, 1, slotPost(channel, id))
	d.stop(t)
	before := len(slackFake.WaitMessages(t, 1, slotPost(channel, id)))

	d = startDaemon(t, configPath)
	slackFake.WaitMessages(t, before+1, slotPost(channel, id))
	reply = slashReply(t, slackFake, channel, "UADMIN", "list")
	if !strings.Contains(reply, "Cloud: `@every 2s` (UTC)") {
		t.Errorf("list after a restart answered %q", reply)
	}
	if reply := slashReply(t, slackFake, channel, "UADMIN", "unsubscribe cloud"); !strings.Contains(reply, "Cloud: no schedule; written for platform engineers") {
		t.Errorf("unsubscribe answered %q", reply)
	}
	d.stop(t)

	db, err := store.Open(storePath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if slot, ok, err := db.LastSlot(id); err != nil || !ok || slot.State == "claimed" {
		t.Errorf("the subscription's last slot in the ledger: %+v, %v, %v", slot, ok, err)
	}
	if subs, _ := db.Subscriptions(); len(subs) != 1 || subs[0].Cron != "" || subs[0].By != "UADMIN" {
		t.Errorf("after unsubscribe the audience alone should be kept: %+v", subs)
	}
}
