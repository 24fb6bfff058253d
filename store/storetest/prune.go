package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
)

func testPrune(t *testing.T, open Opener) {
	st := open(t, Options{Retention: 48 * time.Hour, Now: clock(T0)})
	keep := []briefing.Article{Article("new", T0.Add(-time.Hour), "cloud"), Article("edge", T0.Add(-48*time.Hour), "cloud", "security")}
	drop := []briefing.Article{Article("old", T0.Add(-49*time.Hour), "cloud", "security"), Article("older", T0.Add(-100*time.Hour), "cloud")}
	if _, err := st.PutArticles(append(slices.Clone(keep), drop...)); err != nil {
		t.Fatal(err)
	}
	posted := &briefing.Briefing{ID: "b1", Topic: "cloud", Stories: []briefing.Story{{Articles: []briefing.Article{keep[0], drop[0]}}}}
	mustDo(t, st.RecordTold(posted, briefing.Post{Destination: "slack:C1"}))
	mustDo(t, st.RecordTold(posted, briefing.Post{Destination: "teams:19:x"}))

	n, err := st.Prune(T0)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(drop) {
		t.Errorf("pruned %d, want %d", n, len(drop))
	}
	for _, a := range drop {
		if stored(t, st, a.ID) {
			t.Errorf("article %s past the retention is still stored", a.ID)
		}
	}
	got, err := st.TopicArticles("cloud", time.Time{}, T0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"new", "edge"}; !slices.Equal(ids(got), want) {
		t.Errorf("cloud has %q, want %q", ids(got), want)
	}
	if got, _ := st.TopicArticles("security", time.Time{}, T0); !slices.Equal(ids(got), []string{"edge"}) {
		t.Errorf("security has %q, want [edge]", ids(got))
	}
	for _, dest := range []string{"slack:C1", "teams:19:x"} {
		told, err := st.Told("cloud", dest)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]bool{"new": true}; !reflect.DeepEqual(told, want) {
			t.Errorf("told to %s: %v, want %v", dest, told, want)
		}
	}
	if n, err := st.Prune(T0); err != nil || n != 0 {
		t.Errorf("second prune: %d, %v", n, err)
	}
	// The content index forgot the pruned article, so it counts as new if
	// a feed carries it again.
	if n, err := st.PutArticles(drop[:1]); err != nil || n != 1 {
		t.Errorf("re-put of a pruned article: %d new, %v", n, err)
	}
	n, err = st.Prune(T0)
	if err != nil || n != 1 {
		t.Fatalf("third prune: %d, %v", n, err)
	}
}

func testPruneSlots(t *testing.T, open Opener) {
	st := open(t, Options{Retention: 48 * time.Hour, Now: clock(T0)})
	var slots []briefing.Slot
	for d := range 5 {
		slots = append(slots, SlotAt("daily", T0.Add(-time.Duration(d)*24*time.Hour)))
	}
	// A schedule whose slots are all old keeps its newest.
	slots = append(slots, SlotAt("stopped", T0.Add(-100*time.Hour)), SlotAt("stopped", T0.Add(-200*time.Hour)))
	for _, s := range slots {
		if _, _, err := st.ClaimSlot(s, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Prune(T0); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		slot briefing.Slot
		kept bool
	}{
		"recent":          {slots[0], true},
		"at the cutoff":   {slots[2], true},
		"old":             {slots[3], false},
		"older":           {slots[4], false},
		"stopped, newest": {slots[5], true},
		"stopped, older":  {slots[6], false},
	} {
		if _, found, err := st.Slot(tc.slot.Key); err != nil || found != tc.kept {
			t.Errorf("%s: slot %s found=%v, %v; want %v", name, tc.slot.Key, found, err, tc.kept)
		}
	}
	if last, found, err := st.LastSlot("stopped"); err != nil || !found || last.Key != slots[5].Key {
		t.Errorf("LastSlot(stopped) = %+v, %v, %v", last, found, err)
	}
}

// testPruneBoundsEveryRecord checks that briefings, threads and cache
// entries past the retention go too, so that a long-running store does not
// grow without end, while what is still needed stays.
func testPruneBoundsEveryRecord(t *testing.T, open Opener) {
	const retention = 48 * time.Hour
	old, recent := T0.Add(-retention-time.Hour), T0.Add(-time.Hour)
	var writtenAt atomic.Pointer[time.Time]
	writtenAt.Store(&old)
	st := open(t, Options{Retention: retention, Now: func() time.Time { return *writtenAt.Load() }})

	for _, b := range []*briefing.Briefing{
		{ID: "b-old-cloud", Topic: "cloud", GeneratedAt: old},
		{ID: "b-recent-cloud", Topic: "cloud", GeneratedAt: recent},
		{ID: "b-security", Topic: "security", GeneratedAt: old},
		{ID: "b-security-0", Topic: "security", GeneratedAt: old.Add(-time.Hour)},
	} {
		mustDo(t, st.PutBriefing(b))
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
		mustDo(t, st.PutThread(tc.thread))
	}
	mustDo(t, st.Put("old", []byte("stale summary")))
	writtenAt.Store(&recent)
	mustDo(t, st.Put("recent", []byte("fresh summary")))

	if _, err := st.Prune(T0); err != nil {
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
		_, err := st.Briefing(tc.id)
		if kept := err == nil; kept != tc.kept {
			t.Errorf("%s: kept=%v (%v), want %v", name, kept, err, tc.kept)
		}
	}
	if b, err := st.LatestBriefing("cloud"); err != nil || b.ID != "b-recent-cloud" {
		t.Errorf("latest cloud briefing: %+v, %v", b, err)
	}
	for name, tc := range threads {
		if _, found, err := st.Thread(tc.thread.Key); err != nil || found != tc.kept {
			t.Errorf("thread %s: found=%v, %v; want %v", name, found, err, tc.kept)
		}
	}
	if _, found, _ := st.Get("old"); found {
		t.Error("a cache entry written before the retention survived")
	}
	if v, found, err := st.Get("recent"); err != nil || !found || string(v) != "fresh summary" {
		t.Errorf("recent cache entry: %q, %v, %v", v, found, err)
	}
}

// testPruneInBatches prunes more articles than one transaction deletes.
func testPruneInBatches(t *testing.T, open Opener) {
	const total = 2500
	st := open(t, Options{Retention: time.Hour, Now: clock(T0)})
	arts := make([]briefing.Article, 0, total+1)
	for i := range total {
		arts = append(arts, Article(fmt.Sprintf("old%05d", i), T0.Add(-2*time.Hour-time.Duration(i)*time.Second), "cloud"))
	}
	arts = append(arts, Article("new", T0, "cloud"))
	if _, err := st.PutArticles(arts); err != nil {
		t.Fatal(err)
	}
	n, err := st.Prune(T0)
	if err != nil || n != total {
		t.Fatalf("pruned %d, %v; want %d", n, err, total)
	}
	if left, err := st.TopicArticles("cloud", time.Time{}, T0.Add(time.Hour)); err != nil || !slices.Equal(ids(left), []string{"new"}) {
		t.Errorf("left %q, %v; want [new]", ids(left), err)
	}
}
