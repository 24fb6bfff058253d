// Package store keeps the bot's state in one bbolt file: feeds, articles,
// briefings, the post ledger, chat threads and delivered events.
//
// Every write is one committed bbolt transaction, so a crash loses nothing a
// method reported as stored. Values are JSON; keys that are ranged over are
// built to sort bytewise in time order (see timeKey).
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/briefing-bot/briefing"
)

var _ briefing.Store = (*DB)(nil)

// Defaults for zero Options fields.
const (
	DefaultLockTimeout = time.Second
	DefaultRetention   = 720 * time.Hour
)

// Options for Open. Zero values get defaults.
type Options struct {
	// LockTimeout bounds the wait for the file lock; another process
	// holding it makes Open fail with ErrInUse after this long.
	LockTimeout time.Duration
	// Retention is how long articles are kept; see Prune.
	Retention time.Duration
	Logger    *slog.Logger
	// Now is the clock for times the store sets itself.
	Now func() time.Time
}

// ErrInUse is matched (errors.Is) by the error Open returns when another
// process holds the file. That error is also a *briefing.Error with code
// ECONFLICT whose message names the file.
var ErrInUse = errors.New("store is in use by another briefing process")

type inUseError struct{ path string }

func (e *inUseError) Error() string {
	return fmt.Sprintf("store %s is in use by another briefing process", e.path)
}

func (e *inUseError) Unwrap() []error {
	return []error{ErrInUse, &briefing.Error{Code: briefing.ECONFLICT, Message: e.Error()}}
}

// Top-level buckets. Index buckets hold one nested bucket per topic or
// schedule, so that a name needs no separator inside a composite key.
var (
	bucketMeta           = []byte("meta")
	bucketFeeds          = []byte("feeds")
	bucketArticles       = []byte("articles")          // article id → Article
	bucketArticleContent = []byte("article_content")   // content hash → article id
	bucketPublished      = []byte("article_published") // timeKey(published)+id → nil
	bucketTopicArticles  = []byte("topic_articles")    // topic / timeKey(published)+id → nil
	bucketBriefings      = []byte("briefings")         // briefing id → Briefing
	bucketTopicBriefings = []byte("topic_briefings")   // topic / timeKey(generated)+id → nil
	bucketTold           = []byte("told")              // schema 2: topic / article id → briefing id
	bucketToldTo         = []byte("told_to")           // topic / destination / article id → briefing id
	bucketLastPosts      = []byte("last_posts")        // topic / destination → Post
	bucketFeedArticles   = []byte("feed_articles")     // feed URL / timeKey(published)+id → nil
	bucketCache          = []byte("cache")
	bucketSlots          = []byte("slots")          // slot key → Slot
	bucketScheduleSlots  = []byte("schedule_slots") // schedule / timeKey(slot time)+slot key → nil
	bucketThreads        = []byte("threads")        // thread key → Thread
	bucketEvents         = []byte("events")         // event id → timeKey(first delivery)
	bucketEventTimes     = []byte("event_times")    // timeKey(first delivery)+id → nil
	bucketJobs           = []byte("jobs")           // job id → Job, while pending
	bucketVotes          = []byte("votes")          // destination / story id+"\x00"+user → Vote
	bucketSubscriptions  = []byte("subscriptions")  // destination+"\x00"+topic → Subscription
)

var keySchemaVersion = []byte("schema_version")

// migrations[i] moves the file from schema version i to i+1; the schema
// version the code writes is len(migrations). Append, never edit: a file
// records how far it got.
var migrations = []func(tx *bolt.Tx) error{
	func(tx *bolt.Tx) error {
		return createBuckets(tx, bucketFeeds, bucketArticles, bucketArticleContent,
			bucketPublished, bucketTopicArticles, bucketBriefings, bucketTopicBriefings,
			bucketTold, bucketCache, bucketSlots, bucketScheduleSlots, bucketThreads,
			bucketEvents, bucketEventTimes)
	},
	// Cache entries now start with the time they were written, so that
	// they can be pruned; the entries written before cannot be dated, and
	// a cache loses nothing by being emptied.
	func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketCache); err != nil {
			return fmt.Errorf("empty bucket %s: %w", bucketCache, err)
		}
		return createBuckets(tx, bucketCache)
	},
	func(tx *bolt.Tx) error { return createBuckets(tx, bucketJobs) },
	// What was told is kept per destination. The per-topic records are
	// dropped, not copied to every destination: they would withhold from
	// each channel what only one was told. Articles get a feed index,
	// which topics now select by.
	func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketTold); err != nil {
			return fmt.Errorf("drop bucket %s: %w", bucketTold, err)
		}
		if err := createBuckets(tx, bucketToldTo, bucketLastPosts, bucketFeedArticles); err != nil {
			return err
		}
		return indexArticlesByFeed(tx)
	},
	func(tx *bolt.Tx) error { return createBuckets(tx, bucketVotes) },
	func(tx *bolt.Tx) error { return createBuckets(tx, bucketSubscriptions) },
}

func createBuckets(tx *bolt.Tx, names ...[]byte) error {
	for _, name := range names {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// DB is the bot's store. It is safe for concurrent use.
type DB struct {
	bolt      *bolt.DB
	path      string
	retention time.Duration
	log       *slog.Logger
	now       func() time.Time
	// opened is when this opening took the file lock: a slot claimed
	// before it was claimed by a process that has ended.
	opened time.Time
	leases *jobLeases
	// fetches are the feed fetch claims; one process holds the file, so
	// they need not outlive it.
	fetches fetchClaims
}

// Open opens the store at path, creating its folder and file when missing,
// and brings the file's schema up to date.
func Open(path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, briefing.Errorf(briefing.EINVALID, "the store path is empty")
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// Without a timeout bbolt waits for the lock forever, even in-process.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, &inUseError{path: path}
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db := &DB{bolt: bdb, path: path, retention: opts.Retention, log: opts.Logger, now: opts.Now, opened: opts.Now(), leases: newJobLeases()}
	found, err := db.migrate()
	if err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.log.Info("store opened", slog.String("path", path),
		slog.Int("schema_version", len(migrations)), slog.Int("found_schema_version", found))
	return db, nil
}

// migrate runs, in one transaction, the migrations the file has not had
// yet, and returns the schema version the file had.
func (db *DB) migrate() (int, error) {
	var from int
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", bucketMeta, err)
		}
		if _, err := getJSON(meta, keySchemaVersion, &from); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if from > len(migrations) {
			return briefing.Errorf(briefing.ECONFLICT,
				"store %s has schema version %d, newer than this briefing knows (%d); use a newer release", db.path, from, len(migrations))
		}
		for v := from; v < len(migrations); v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
			}
		}
		return putJSON(meta, keySchemaVersion, len(migrations))
	})
	return from, err
}

// Close releases the file. Closing twice is harmless.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", db.path, err)
	}
	return nil
}

// Ping reports whether the file is open and readable.
func (db *DB) Ping(context.Context) error {
	if err := db.bolt.View(func(*bolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("store %s: %w", db.path, err)
	}
	return nil
}

// Path is the file the store was opened at.
func (db *DB) Path() string { return db.path }

// getJSON decodes the value at key into v and reports whether it was there.
// Decoding copies, so v stays valid after the transaction.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %q: %w", key, err)
	}
	return true, nil
}

// lookup returns the record stored under key in bucket and whether there
// is one.
func lookup[T any](db *DB, bucket []byte, what, key string) (T, bool, error) {
	var v T
	var found bool
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		found, err = getJSON(tx.Bucket(bucket), []byte(key), &v)
		return err
	})
	if err != nil {
		var zero T
		return zero, false, fmt.Errorf("%s %s: %w", what, key, err)
	}
	return v, found, nil
}

// putRecord stores v under key in bucket, in a transaction of its own.
func (db *DB) putRecord(bucket []byte, what, key string, v any) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucket), []byte(key), v)
	})
	if err != nil {
		return fmt.Errorf("store %s %s: %w", what, key, err)
	}
	return nil
}

// getExisting decodes the value at key into v; a missing key is an
// ENOTFOUND error that names it as what.
func getExisting(b *bolt.Bucket, what, key string, v any) error {
	found, err := getJSON(b, []byte(key), v)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, key, err)
	}
	if !found {
		return briefing.Errorf(briefing.ENOTFOUND, "%s %s not found", what, key)
	}
	return nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	if err := b.Put(key, data); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	return nil
}

// timeKeyLen is the width of a timeKey.
const timeKeyLen = 12

// timeKey encodes t so that keys sort bytewise in time order: seconds since
// the Unix epoch with the sign bit flipped (so times before 1970, including
// the zero time, sort first), then nanoseconds, both big-endian.
func timeKey(t time.Time) []byte {
	return appendTimeKey(make([]byte, 0, timeKeyLen), t)
}

func appendTimeKey(dst []byte, t time.Time) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(dst, uint32(t.Nanosecond()))
}

// timeIDKey is the key of a time index entry: the time, then the id that
// makes it unique.
func timeIDKey(t time.Time, id string) []byte {
	return append(appendTimeKey(make([]byte, 0, timeKeyLen+len(id)), t), id...)
}

// keysBefore returns copies of b's first keys, those that sort before end,
// at most limit of them when limit > 0. Callers delete them afterwards:
// deleting under a live cursor can make it skip keys.
func keysBefore(b *bolt.Bucket, end []byte, limit int) [][]byte {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		if limit > 0 && len(keys) == limit {
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}

// nested returns the bucket name inside parent, creating it.
func nested(parent *bolt.Bucket, name string) (*bolt.Bucket, error) {
	b, err := parent.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return nil, fmt.Errorf("index bucket %q: %w", name, err)
	}
	return b, nil
}

// nestedPath returns the bucket at names below parent, creating each.
func nestedPath(parent *bolt.Bucket, names ...string) (*bolt.Bucket, error) {
	b := parent
	for _, name := range names {
		var err error
		if b, err = nested(b, name); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// forEachNested calls fn with each bucket nested in parent.
func forEachNested(parent *bolt.Bucket, fn func(*bolt.Bucket) error) error {
	var names [][]byte
	if err := parent.ForEachBucket(func(name []byte) error {
		names = append(names, bytes.Clone(name))
		return nil
	}); err != nil {
		return err
	}
	for _, name := range names {
		if err := fn(parent.Bucket(name)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// deleteIndexedBefore deletes the records of records that an index bucket
// of nested buckets (one per topic or schedule, keyed timeKey+record key)
// dates before cutoff, except the newest of each nested bucket: the last
// briefing of a topic and the last slot of a schedule are needed however
// old they are. It returns how many it deleted.
func deleteIndexedBefore(records, index *bolt.Bucket, cutoff time.Time) (int, error) {
	end := timeKey(cutoff)
	var deleted int
	err := forEachNested(index, func(nested *bolt.Bucket) error {
		keys := keysBefore(nested, end, 0)
		if last, _ := nested.Cursor().Last(); len(keys) > 0 && bytes.Equal(keys[len(keys)-1], last) {
			keys = keys[:len(keys)-1]
		}
		for _, k := range keys {
			if err := records.Delete(k[timeKeyLen:]); err != nil {
				return fmt.Errorf("delete %s: %w", k[timeKeyLen:], err)
			}
			if err := nested.Delete(k); err != nil {
				return fmt.Errorf("index: %w", err)
			}
			deleted++
		}
		return nil
	})
	return deleted, err
}
