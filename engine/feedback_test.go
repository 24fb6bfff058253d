package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/collect"
	"github.com/briefing-bot/briefing/engine"
	"github.com/briefing-bot/briefing/store"
	"github.com/briefing-bot/briefing/summarize"
)

// Ten 👎 in channel A on one publisher's stories move that publisher's next
// story down in A, and leave channel B's ranking as it was.
func TestVotesMoveASourceDownInTheirChannelOnly(t *testing.T) {
	dir := t.TempDir()
	tabloid := [][3]string{
		{"Hot take declares Kubernetes dead again", "A columnist says Kubernetes is over.", "3h"},
		{"Ranking the ugliest server racks of the year", "Readers voted on racks.", "4h"},
	}
	wire := [][3]string{
		{"Nimbus Cloud outage hits storage in na-east-1", "Nimbus Cloud storage failed for six hours.", "2h"},
	}
	topic := briefing.Topic{ID: "cloud", Name: "Cloud", Window: 24 * time.Hour, MaxStories: 10,
		Feeds: []string{writeFeed(t, dir, "tabloid", tabloid...), writeFeed(t, dir, "wire", wire...)}}
	db, err := store.Open(filepath.Join(t.TempDir(), "b.db"), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := func() time.Time { return now }
	e := engine.New(engine.Options{Topics: []briefing.Topic{topic}, Store: db, Votes: db,
		Collector: collect.New(collect.Options{Now: clock}), Summarizer: summarize.Offline{Now: clock},
		Answerer: &summarize.Answerer{Now: clock}, Now: clock})
	ctx := context.Background()
	const chanA, chanB = "slack:CA", "slack:CB"

	first, err := e.Build(ctx, "cloud", briefing.BuildOptions{For: chanA})
	if err != nil {
		t.Fatal(err)
	}
	for _, dest := range []string{chanA, chanB} {
		if err := e.MarkPosted(ctx, first, briefing.Post{Destination: dest}); err != nil {
			t.Fatal(err)
		}
	}
	votes := 0
	for _, s := range first.Stories {
		if s.Articles[0].Source != "tabloid.example" {
			continue
		}
		for u := range 5 {
			if err := e.Vote(ctx, chanA, first.ID, s.ID, fmt.Sprintf("U%d", u), -1); err != nil {
				t.Fatal(err)
			}
			votes++
		}
	}
	if votes != 10 {
		t.Fatalf("%d votes cast on the tabloid's stories, want 10", votes)
	}
	if err := e.Vote(ctx, chanA, first.ID, "no-such-story", "U1", -1); briefing.ErrorCode(err) != briefing.ENOTFOUND {
		t.Errorf("vote on an unknown story: %v", err)
	}

	// New stories arrive: the tabloid's is the newest.
	writeFeed(t, dir, "tabloid", append(tabloid, [3]string{"Why every startup should quit the cloud", "An essay.", "10m"})...)
	writeFeed(t, dir, "wire", append(wire, [3]string{"Stratus launches Arm instances called Cirrus", "Stratus Compute launched Cirrus.", "20m"})...)
	ranks := map[string]int{}
	for _, dest := range []string{chanA, chanB} {
		b, err := e.Build(ctx, "cloud", briefing.BuildOptions{For: dest})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range b.Stories {
			t.Logf("%s rank %d: %-45s %-16s score %.2f", dest, i+1, s.Title, s.Articles[0].Source, s.Score)
			if s.Articles[0].Source == "tabloid.example" {
				ranks[dest] = i + 1
			}
		}
	}
	if ranks[chanB] != 1 || ranks[chanA] != 2 {
		t.Errorf("the tabloid's new story ranks %d in A and %d in B; want 2 in A (voted down) and 1 in B", ranks[chanA], ranks[chanB])
	}

	lines, err := e.Why(ctx, chanA)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(first.Stories) {
		t.Fatalf("why: %d lines for %d stories", len(lines), len(first.Stories))
	}
	for _, l := range lines {
		t.Log("why:", l)
		if !strings.Contains(l, "score") || !strings.Contains(l, "recency") {
			t.Errorf("why line %q does not explain a score", l)
		}
	}
	if _, err := e.Why(ctx, "slack:CNONE"); briefing.ErrorCode(err) != briefing.ENOTFOUND {
		t.Errorf("why where nothing was posted: %v", err)
	}
}
