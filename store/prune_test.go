package store_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/store"
)

// TestPruneBoundsEveryRecord checks that briefings, threads and cache
// entries past the retention go too, so that a long-running store does not
// grow without end, while what is still needed stays.
func TestPruneBoundsEveryRecord(t *testing.T) {
	const retention = 48 * time.Hour
	old, recent := t0.Add(-retention-time.Hour), t0.Add(-time.Hour)
	path := filepath.Join(t.TempDir(), "briefing.db")
	writtenAt := old
	db := MustOpenWith(t, path, store.Options{Retention: retention, Now: func() time.Time { return writtenAt }})

	briefings := map[string]*briefing.Briefing{
		"old cloud":      {ID: "b-old-cloud", Topic: "cloud", GeneratedAt: old},
		"recent cloud":   {ID: "b-recent-cloud", Topic: "cloud", GeneratedAt: recent},
		"only of topic":  {ID: "b-security", Topic: "security", GeneratedAt: old},
		"older of topic": {ID: "b-security-0", Topic: "security", GeneratedAt: old.Add(-time.Hour)},
	}
	for _, b := range briefings {
		mustDo(t, db.PutBriefing(b))
	}
	threads := map[string]struct {
		thread briefing.Thread
		kept   bool
	}{
		"briefing pruned, no turns":     {briefing.Thread{Key: "t1", BriefingID: "b-old-cloud"}, false},
		"briefing pruned, old turn":     {briefing.Thread{Key: "t2", BriefingID: "b-old-cloud", Turns: []briefing.Turn{{Question: "q", At: old}}}, false},
		"briefing pruned, recent turn":  {briefing.Thread{Key: "t3", BriefingID: "b-old-cloud", Turns: []briefing.Turn{{Question: "q", At: old}, {Question: "q", At: recent}}}, true},
		"briefing kept":                 {briefing.Thread{Key: "t4", BriefingID: "b-recent-cloud"}, true},
		"old briefing, newest of topic": {briefing.Thread{Key: "t5", BriefingID: "b-security"}, true},
		"no briefing, no turns":         {briefing.Thread{Key: "t6", Topic: "cloud"}, false},
	}
	for _, tc := range threads {
		mustDo(t, db.PutThread(tc.thread))
	}
	mustDo(t, db.Put("old", []byte("stale summary")))
	writtenAt = recent
	mustDo(t, db.Put("recent", []byte("fresh summary")))

	if _, err := db.Prune(t0); err != nil {
		t.Fatal(err)
	}

	for name, tc := range map[string]struct {
		id   string
		kept bool
	}{
		"old briefing":                         {"b-old-cloud", false},
		"recent briefing":                      {"b-recent-cloud", true},
		"old briefing, the topic's newest":     {"b-security", true},
		"old briefing, not the topic's newest": {"b-security-0", false},
	} {
		_, err := db.Briefing(tc.id)
		if kept := err == nil; kept != tc.kept {
			t.Errorf("%s: kept=%v (%v), want %v", name, kept, err, tc.kept)
		}
	}
	if b, err := db.LatestBriefing("cloud"); err != nil || b.ID != "b-recent-cloud" {
		t.Errorf("latest cloud briefing: %+v, %v", b, err)
	}
	for name, tc := range threads {
		if _, found, err := db.Thread(tc.thread.Key); err != nil || found != tc.kept {
			t.Errorf("thread %s: found=%v, %v; want %v", name, found, err, tc.kept)
		}
	}
	if _, found, _ := db.Get("old"); found {
		t.Error("a cache entry written before the retention survived")
	}
	if v, found, err := db.Get("recent"); err != nil || !found || string(v) != "fresh summary" {
		t.Errorf("recent cache entry: %q, %v, %v", v, found, err)
	}
	mustDo(t, db.Close())
	inspect(t, path, func(tx *bolt.Tx) error {
		for _, topic := range []string{"cloud", "security"} {
			if n := keyCount(tx, []byte("topic_briefings"), []byte(topic)); n != 1 {
				t.Errorf("the %s briefing index has %d keys, want 1", topic, n)
			}
		}
		return nil
	})
}

// TestPruneInBatches prunes more articles than one transaction deletes.
func TestPruneInBatches(t *testing.T) {
	const total = 2500
	db := MustOpenWith(t, filepath.Join(t.TempDir(), "briefing.db"), store.Options{Retention: time.Hour, Now: clock(t0)})
	arts := make([]briefing.Article, 0, total+1)
	for i := range total {
		arts = append(arts, article(fmt.Sprintf("old%05d", i), t0.Add(-2*time.Hour-time.Duration(i)*time.Second), "cloud"))
	}
	arts = append(arts, article("new", t0, "cloud"))
	if _, err := db.PutArticles(arts); err != nil {
		t.Fatal(err)
	}
	n, err := db.Prune(t0)
	if err != nil || n != total {
		t.Fatalf("pruned %d, %v; want %d", n, err, total)
	}
	if count, err := db.CountArticles(); err != nil || count != 1 {
		t.Errorf("%d articles left, %v; want 1", count, err)
	}
}
