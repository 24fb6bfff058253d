package store

import (
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Names the tests need to inspect or tamper with the file directly.
var (
	MetaBucket       = bucketMeta
	SchemaVersionKey = keySchemaVersion
	BucketArticles   = bucketArticles
	BucketContent    = bucketArticleContent
	BucketPublished  = bucketPublished
	BucketTopics     = bucketTopicArticles
	BucketTold       = bucketTold
	BucketToldTo     = bucketToldTo
	BucketFeeds      = bucketFeedArticles
	BucketSlots      = bucketSlots
	BucketEvents     = bucketEvents
	BucketEventTimes = bucketEventTimes
)

// Migrations returns the migrations the code knows.
func Migrations() []func(*bolt.Tx) error { return slices.Clip(migrations) }

// SetMigrations makes Open use ms until tb ends.
func SetMigrations(tb testing.TB, ms []func(*bolt.Tx) error) {
	tb.Helper()
	saved := migrations
	migrations = ms
	tb.Cleanup(func() { migrations = saved })
}
