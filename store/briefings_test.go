package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
)

func TestBriefingRoundTrip(t *testing.T) {
	db := MustOpen(t)
	b := &briefing.Briefing{
		Topic: "cloud", TopicName: "Cloud", GeneratedAt: t0, Summarizer: "llm:primary",
		Headline: "Regions go down", Bullets: []string{"one", "two", "three"},
		Paragraphs: []briefing.Paragraph{{Text: "Things failed.", Sources: []string{"https://example.com/a"}}},
		Stories:    []briefing.Story{{ID: "s1", Title: "Outage", Articles: []briefing.Article{article("a", t0, "cloud")}, Score: 1.5}},
		Usage:      briefing.Usage{PromptTokens: 10, CompletionTokens: 5},
	}
	mustDo(t, db.PutBriefing(b))
	if b.ID == "" {
		t.Fatal("PutBriefing set no id")
	}
	got, err := db.Briefing(b.ID)
	mustDo(t, err)
	wantEqual(t, got, b)
	_, err = db.Briefing("missing")
	wantCode(t, err, briefing.ENOTFOUND)
	wantCode(t, db.PutBriefing(&briefing.Briefing{Headline: "no topic"}), briefing.EINVALID)
}

func TestBriefingIDsSortByTime(t *testing.T) {
	db := MustOpen(t)
	var prev string
	for i := range 5 {
		b := &briefing.Briefing{Topic: "cloud", GeneratedAt: t0.Add(time.Duration(i) * time.Millisecond)}
		mustDo(t, db.PutBriefing(b))
		if b.ID <= prev {
			t.Errorf("id %q does not sort after %q", b.ID, prev)
		}
		prev = b.ID
	}
	kept := &briefing.Briefing{ID: "given", Topic: "cloud"}
	mustDo(t, db.PutBriefing(kept))
	if kept.ID != "given" {
		t.Errorf("a given id became %q", kept.ID)
	}
}

func TestLatestBriefing(t *testing.T) {
	db := MustOpen(t)
	_, err := db.LatestBriefing("cloud")
	wantCode(t, err, briefing.ENOTFOUND)

	newer := &briefing.Briefing{Topic: "cloud", GeneratedAt: t0, Headline: "newer"}
	older := &briefing.Briefing{Topic: "cloud", GeneratedAt: t0.Add(-24 * time.Hour), Headline: "older"}
	other := &briefing.Briefing{Topic: "security", GeneratedAt: t0.Add(time.Hour), Headline: "other topic"}
	for _, b := range []*briefing.Briefing{newer, older, other} {
		mustDo(t, db.PutBriefing(b))
	}
	latest := func(want string) {
		t.Helper()
		got, err := db.LatestBriefing("cloud")
		if err != nil {
			t.Fatal(err)
		}
		if got.Headline != want {
			t.Errorf("latest is %q, want %q", got.Headline, want)
		}
	}
	latest("newer")
	// Storing a briefing again under its id moves it in time, leaving no
	// trace at its old time.
	older.GeneratedAt = t0.Add(time.Minute)
	mustDo(t, db.PutBriefing(older))
	latest("older")
	older.GeneratedAt = t0.Add(-time.Minute)
	mustDo(t, db.PutBriefing(older))
	latest("newer")
}

func TestTold(t *testing.T) {
	db := MustOpen(t)
	told, err := db.Told("cloud")
	if err != nil || len(told) != 0 {
		t.Fatalf("nothing told yet: %v, %v", told, err)
	}
	posted := &briefing.Briefing{ID: "b1", Topic: "cloud", Stories: []briefing.Story{
		{Articles: []briefing.Article{article("a", t0, "cloud"), article("b", t0, "cloud")}},
		{Articles: []briefing.Article{article("c", t0, "cloud", "security")}},
	}}
	mustDo(t, db.RecordTold(posted))
	preview := &briefing.Briefing{ID: "b2", Topic: "cloud", Stories: []briefing.Story{{Articles: []briefing.Article{article("d", t0, "cloud")}}}}
	mustDo(t, db.PutBriefing(preview))

	told, err = db.Told("cloud")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"a": true, "b": true, "c": true}; !reflect.DeepEqual(told, want) {
		t.Errorf("told %v, want %v", told, want)
	}
	if told, _ := db.Told("security"); len(told) != 0 {
		t.Errorf("another topic's briefing counts as told in security: %v", told)
	}
	wantCode(t, db.RecordTold(&briefing.Briefing{ID: "b3"}), briefing.EINVALID)
}
