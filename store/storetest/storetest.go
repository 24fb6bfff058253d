// Package storetest holds any briefing.Store to the behaviour the program
// relies on, in the manner of the database/sql driver suites: a backend's
// test calls Run with a function that opens an empty store of its kind,
// and Bench likewise for its benchmarks.
package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
)

// Options are what a store is opened with for one test.
type Options struct {
	// Retention is how long the store keeps articles; 0 is its default.
	Retention time.Duration
	// Now is the store's clock for the times it sets itself.
	Now func() time.Time
}

// Opener opens an empty store for tb with opts and closes it when tb ends.
// Stores opened for different tests share nothing.
type Opener func(tb testing.TB, opts Options) briefing.Store

// T0 is the tests' "now".
var T0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// Run runs the conformance tests against the stores open makes. The
// subtests run in parallel, as the stores of replicas would.
func Run(t *testing.T, open Opener) {
	tests := map[string]func(*testing.T, Opener){
		"ClaimFetch":                   testClaimFetch,
		"Feed":                         testFeed,
		"PutArticlesDedup":             testPutArticlesDedup,
		"PutArticlesRejectsBadBatch":   testPutArticlesRejectsBadBatch,
		"PutArticlesDefaultsPublished": testPutArticlesDefaultsPublished,
		"ArticleRoundTrip":             testArticleRoundTrip,
		"TopicArticles":                testTopicArticles,
		"FeedArticles":                 testFeedArticles,
		"ConcurrentWriters":            testConcurrentWriters,
		"BriefingRoundTrip":            testBriefingRoundTrip,
		"BriefingIDsSortByTime":        testBriefingIDsSortByTime,
		"LatestBriefing":               testLatestBriefing,
		"Told":                         testTold,
		"Cache":                        testCache,
		"CacheValueIsACopy":            testCacheValueIsACopy,
		"ClaimSlot":                    testClaimSlot,
		"SlotLeases":                   testSlotLeases,
		"ClaimSlotRace":                testClaimSlotRace,
		"LastSlot":                     testLastSlot,
		"Threads":                      testThreads,
		"AppendTurnRace":               testAppendTurnRace,
		"FirstDelivery":                testFirstDelivery,
		"FirstDeliveryAfterForgetting": testFirstDeliveryAfterForgetting,
		"FirstDeliveryRace":            testFirstDeliveryRace,
		"Jobs":                         testJobs,
		"Votes":                        testVotes,
		"Subscriptions":                testSubscriptions,
		"ClaimJobsOldestFirst":         testClaimJobsOldestFirst,
		"ClaimJobsRace":                testClaimJobsRace,
		"Prune":                        testPrune,
		"PruneSlots":                   testPruneSlots,
		"PruneBoundsEveryRecord":       testPruneBoundsEveryRecord,
		"PruneInBatches":               testPruneInBatches,
	}
	for name, test := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, open)
		})
	}
}

// openAt opens a store whose clock stands at T0.
func openAt(tb testing.TB, open Opener) briefing.Store {
	tb.Helper()
	return open(tb, Options{Now: clock(T0)})
}

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

// Article returns an article whose title and text derive from id.
func Article(id string, published time.Time, topics ...string) briefing.Article {
	return briefing.Article{
		ID:        id,
		URL:       "https://example.com/" + id,
		Title:     "Title of " + id,
		Text:      "Text of " + id + ".\n\nSecond paragraph.",
		Source:    "example.com",
		Topics:    topics,
		Published: published,
		Fetched:   published.Add(time.Minute),
	}
}

func ids(arts []briefing.Article) []string {
	out := make([]string, len(arts))
	for i, a := range arts {
		out[i] = a.ID
	}
	return out
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := briefing.ErrorCode(err); got != code {
		tb.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func wantEqual(tb testing.TB, got, want any) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("got %+v\nwant %+v", got, want)
	}
}

func mustDo(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// stored reports whether the store holds the article with that id.
func stored(tb testing.TB, st briefing.Store, id string) bool {
	tb.Helper()
	_, err := st.Article(id)
	if err != nil && briefing.ErrorCode(err) != briefing.ENOTFOUND {
		tb.Fatalf("article %s: %v", id, err)
	}
	return err == nil
}
