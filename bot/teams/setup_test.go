package teams_test

import (
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/teams"
	"github.com/briefing-bot/briefing/collect"
	"github.com/briefing-bot/briefing/engine"
	"github.com/briefing-bot/briefing/internal/briefingtest"
	"github.com/briefing-bot/briefing/internal/faketeams"
	"github.com/briefing-bot/briefing/schedule"
	"github.com/briefing-bot/briefing/store"
	"github.com/briefing-bot/briefing/summarize"
)

func TestSetupCommandsAsText(t *testing.T) {
	var setup *schedule.Setup
	h := newHarness(t, func(o *teams.Options) {
		db, err := store.Open(filepath.Join(t.TempDir(), "setup.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		setup = &schedule.Setup{Store: db, Logger: slog.New(slog.DiscardHandler), Now: time.Now}
		o.Setup, o.Admins = setup, []string{"aad-admin"}
	})
	_, reply := h.ask(t, "briefing audience cloud platform engineers", faketeams.From("29:someone", "aad-someone"))
	if !strings.Contains(reply.Activity.Text, "Only the briefing's admins") {
		t.Errorf("a non-admin's change answered %q", reply.Activity.Text)
	}
	_, reply = h.ask(t, "audience cloud platform engineers", faketeams.From("29:admin", "aad-admin"))
	if !strings.Contains(reply.Activity.Text, "- Cloud: no schedule; written for platform engineers") {
		t.Errorf("audience answered %q", reply.Activity.Text)
	}
	subs, err := setup.Subscriptions(briefing.TeamsDestination(faketeams.DefaultChannel))
	if err != nil || len(subs) != 1 || subs[0].By != "aad-admin" {
		t.Errorf("stored set-up %+v, %v", subs, err)
	}
	_, reply = h.ask(t, "topics")
	if !strings.Contains(reply.Activity.Text, "- `cloud` — Cloud: 0 feeds") {
		t.Errorf("topics answered %q", reply.Activity.Text)
	}
}

// A click on a story's 👎 in a card is a vote for that channel.
func TestCardStoryButtonsVote(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	topic := briefing.Topic{ID: "cloud", Name: "Cloud", Window: 24 * time.Hour, MaxStories: 5, Feeds: []string{
		briefingtest.WriteFeed(t, dir, "wire", now, [3]string{"Nimbus Cloud outage hits storage", "Storage failed.", "1h"})}}
	db, err := store.Open(filepath.Join(t.TempDir(), "engine.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	eng := engine.New(engine.Options{Topics: []briefing.Topic{topic}, Store: db, Votes: db,
		Collector: collect.New(collect.Options{}), Summarizer: summarize.Offline{}, Answerer: &summarize.Answerer{}})
	h := newHarness(t, func(o *teams.Options) { o.Service, o.Feedback = eng, eng })

	_, reply := h.ask(t, "briefing cloud")
	var card struct {
		Body []struct {
			Type    string
			Actions []struct {
				Type string
				Data map[string]any
			}
		}
	}
	if err := json.Unmarshal(reply.Cards()[0], &card); err != nil {
		t.Fatal(err)
	}
	var down map[string]any
	for _, b := range card.Body {
		for _, a := range b.Actions {
			if b.Type == "ActionSet" && a.Type == "Action.Submit" && a.Data["value"] == "negative" {
				down = a.Data
			}
		}
	}
	if down == nil {
		t.Fatalf("the card has no 👎 button: %s", reply.Cards()[0])
	}
	h.send(t, h.fake.Submit(reply.ID, down, faketeams.From("29:reader", "aad-reader")))
	h.close(t) // the vote is recorded once the bot's work is done
	votes, err := db.Votes(briefing.TeamsDestination(faketeams.DefaultChannel), time.Time{})
	if err != nil || len(votes) != 1 || votes[0].Value != -1 || votes[0].User != "aad-reader" || votes[0].Sources[0] != "wire.example" {
		t.Errorf("votes %+v, %v", votes, err)
	}
}
