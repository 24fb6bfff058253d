package store_test

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/store"
	"github.com/briefing-bot/briefing/store/storetest"
)

var article = storetest.Article

const feedURL = "https://example.com/feed.xml"

// TestPruneLeavesNoIndexEntries checks what the conformance suite cannot
// see: pruning removes a record's entries from every bbolt index too, so
// that the file does not grow with dangling keys.
func TestPruneLeavesNoIndexEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "briefing.db")
	db := MustOpenWith(t, path, store.Options{Retention: 48 * time.Hour, Now: clock(t0)})
	keep := []briefing.Article{article("new", t0.Add(-time.Hour), "cloud"), article("edge", t0.Add(-48*time.Hour), "cloud", "security")}
	drop := []briefing.Article{article("old", t0.Add(-49*time.Hour), "cloud", "security"), article("older", t0.Add(-100*time.Hour), "cloud")}
	for i := range keep {
		keep[i].FeedURL, drop[i].FeedURL = feedURL, feedURL
	}
	if _, err := db.PutArticles(append(keep, drop...)); err != nil {
		t.Fatal(err)
	}
	mustDo(t, db.RecordTold(&briefing.Briefing{ID: "b1", Topic: "cloud", Stories: []briefing.Story{{Articles: []briefing.Article{keep[0], drop[0]}}}},
		briefing.Post{Destination: "slack:C1"}))
	for _, b := range []*briefing.Briefing{
		{ID: "b-old", Topic: "cloud", GeneratedAt: t0.Add(-49 * time.Hour)},
		{ID: "b-recent", Topic: "cloud", GeneratedAt: t0.Add(-time.Hour)},
	} {
		mustDo(t, db.PutBriefing(b))
	}
	if n, err := db.Prune(t0); err != nil || n != len(drop) {
		t.Fatalf("pruned %d, %v; want %d", n, err, len(drop))
	}
	mustDo(t, db.Close())

	inspect(t, path, func(tx *bolt.Tx) error {
		counts := map[string]struct{ got, want int }{
			"articles":         {keyCount(tx, store.BucketArticles), len(keep)},
			"content index":    {keyCount(tx, store.BucketContent), len(keep)},
			"published index":  {keyCount(tx, store.BucketPublished), len(keep)},
			"cloud index":      {keyCount(tx, store.BucketTopics, []byte("cloud")), 2},
			"security index":   {keyCount(tx, store.BucketTopics, []byte("security")), 1},
			"feed index":       {keyCount(tx, store.BucketFeeds, []byte(feedURL)), len(keep)},
			"told in slack:C1": {keyCount(tx, store.BucketToldTo, []byte("cloud"), []byte("slack:C1")), 1},
			"cloud briefings":  {keyCount(tx, []byte("topic_briefings"), []byte("cloud")), 1},
		}
		for name, c := range counts {
			if c.got != c.want {
				t.Errorf("%s has %d keys, want %d", name, c.got, c.want)
			}
		}
		return nil
	})
}
