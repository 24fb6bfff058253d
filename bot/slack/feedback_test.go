package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
	slackbot "github.com/briefing-bot/briefing/bot/slack"
	"github.com/briefing-bot/briefing/collect"
	"github.com/briefing-bot/briefing/engine"
	"github.com/briefing-bot/briefing/internal/briefingtest"
	"github.com/briefing-bot/briefing/internal/fakeslack"
	"github.com/briefing-bot/briefing/summarize"
)

// Ten 👎 clicked in channel CA on one publisher's stories move that
// publisher's next story down in CA and not in CB; /briefing why says so.
func TestStoryVotesRankTheChannelsNextBriefing(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	tabloid := [][3]string{
		{"Hot take declares Kubernetes dead again", "A columnist says Kubernetes is over.", "3h"},
		{"Ranking the ugliest server racks of the year", "Readers voted on racks.", "4h"},
	}
	wire := [][3]string{{"Nimbus Cloud outage hits storage in na-east-1", "Nimbus Cloud storage failed for six hours.", "2h"}}
	topic := briefing.Topic{ID: "cloud", Name: "Cloud", Window: 24 * time.Hour, MaxStories: 10, Feeds: []string{
		briefingtest.WriteFeed(t, dir, "tabloid", now, tabloid...), briefingtest.WriteFeed(t, dir, "wire", now, wire...)}}
	db := openStore(t, filepath.Join(t.TempDir(), "engine.db"))
	eng := engine.New(engine.Options{Topics: []briefing.Topic{topic}, Store: db, Votes: db,
		Collector: collect.New(collect.Options{}), Summarizer: summarize.Offline{}, Answerer: &summarize.Answerer{}})
	h := newHarness(t, func(o *slackbot.Options) { o.Service, o.Feedback = eng, eng })
	ctx := context.Background()

	// post asks for the cloud briefing in channel and returns it.
	posts := map[string]int{}
	post := func(channel string) *briefing.Briefing {
		t.Helper()
		h.fake.SendSlash(t, slack.SlashCommand{ChannelID: channel, UserID: "U0", Text: "cloud"})
		posts[channel]++
		m := h.fake.WaitMessages(t, posts[channel], func(m fakeslack.Message) bool {
			return m.Method == "chat.postMessage" && m.Channel == channel && m.Metadata != nil
		})[posts[channel]-1]
		br, err := eng.Briefing(ctx, m.Metadata.EventPayload["briefing_id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(m.Blocks), `"type":"feedback_buttons"`); n != len(br.Stories) {
			t.Errorf("%d stories with %d feedback buttons", len(br.Stories), n)
		}
		return br
	}
	first := post("CA")
	post("CB")
	clicks := 0
	for _, s := range first.Stories {
		if s.Articles[0].Source != "tabloid.example" {
			continue
		}
		for u := range 5 {
			h.fake.SendBlockAction(t, fmt.Sprintf("U%d", u), "CA", "1.0", "vote|"+first.ID+"|"+s.ID, "story_feedback", "negative")
			clicks++
		}
	}
	if clicks != 10 {
		t.Fatalf("%d clicks on the tabloid's stories, want 10", clicks)
	}
	// Envelopes are handled in order, so the votes are in before the
	// next command is.
	// The next day's news: the tabloid's story is the newest.
	briefingtest.WriteFeed(t, dir, "tabloid", now, append(tabloid, [3]string{"Why every startup should quit the cloud", "An essay.", "10m"})...)
	briefingtest.WriteFeed(t, dir, "wire", now, append(wire, [3]string{"Stratus launches Arm instances called Cirrus", "Stratus launched Cirrus.", "20m"})...)
	ranks := map[string]int{}
	for _, channel := range []string{"CA", "CB"} {
		for i, s := range post(channel).Stories {
			t.Logf("%s rank %d: %-45s %-16s score %.2f", channel, i+1, s.Title, s.Articles[0].Source, s.Score)
			if s.Articles[0].Source == "tabloid.example" {
				ranks[channel] = i + 1
			}
		}
	}
	if ranks["CA"] != 2 || ranks["CB"] != 1 {
		t.Errorf("the tabloid's new story ranks %d in CA and %d in CB; want 2 (voted down) and 1", ranks["CA"], ranks["CB"])
	}
	ack := h.fake.WaitAck(t, h.fake.SendSlash(t, slack.SlashCommand{ChannelID: "CA", UserID: "U0", Text: "why"}))
	var why struct{ Text string }
	if err := json.Unmarshal(ack.Payload, &why); err != nil {
		t.Fatal(err)
	}
	t.Log(why.Text)
	if !strings.Contains(why.Text, "votes here -0.48 (source tabloid.example") || strings.Count(why.Text, "\n") != 2 {
		t.Errorf("/briefing why in CA:\n%s", why.Text)
	}
}
