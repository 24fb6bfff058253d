package store_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/store"
	"github.com/briefing-bot/briefing/store/storetest"
)

// t0 is the tests' "now".
var t0 = storetest.T0

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

// MustOpen opens a store in a fresh temporary folder, with the clock at t0.
func MustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	return MustOpenWith(tb, filepath.Join(tb.TempDir(), "data", "briefing.db"), store.Options{Now: clock(t0)})
}

// MustOpenWith opens the store at path. When tb ends it closes the store
// and checks the file's consistency.
func MustOpenWith(tb testing.TB, path string, opts store.Options) *store.DB {
	tb.Helper()
	db, err := store.Open(path, opts)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
		inspect(tb, path, func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				tb.Errorf("consistency of %s: %v", path, err)
			}
			return nil
		})
	})
	return db
}

// inspect reads the closed store's file directly.
func inspect(tb testing.TB, path string, fn func(tx *bolt.Tx) error) {
	tb.Helper()
	raw, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		tb.Fatalf("open %s read-only: %v", path, err)
	}
	defer raw.Close()
	if err := raw.View(fn); err != nil {
		tb.Fatal(err)
	}
}

// tamper writes to the closed store's file directly.
func tamper(tb testing.TB, path string, fn func(tx *bolt.Tx) error) {
	tb.Helper()
	raw, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	defer raw.Close()
	if err := raw.Update(fn); err != nil {
		tb.Fatal(err)
	}
}

// keyCount counts the keys of the bucket at path, nested buckets included;
// a missing bucket has none.
func keyCount(tx *bolt.Tx, path ...[]byte) int {
	b := tx.Bucket(path[0])
	for _, name := range path[1:] {
		if b == nil {
			return 0
		}
		b = b.Bucket(name)
	}
	if b == nil {
		return 0
	}
	return b.Stats().KeyN
}

func schemaVersion(tb testing.TB, tx *bolt.Tx) int {
	tb.Helper()
	var v int
	if err := json.Unmarshal(tx.Bucket(store.MetaBucket).Get(store.SchemaVersionKey), &v); err != nil {
		tb.Fatalf("schema version: %v", err)
	}
	return v
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := briefing.ErrorCode(err); got != code {
		tb.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func TestOpenCreatesFolderAndFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "briefing.db")
	db := MustOpenWith(t, path, store.Options{})
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode %v, want 0600", perm)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	inspect(t, path, func(tx *bolt.Tx) error {
		if got, want := schemaVersion(t, tx), len(store.Migrations()); got != want {
			t.Errorf("schema version %d, want %d", got, want)
		}
		return nil
	})
}

func TestOpenBadInput(t *testing.T) {
	notBolt := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notBolt, []byte(strings.Repeat("not a database\n", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		path    string
		wantErr string
	}{
		"empty path":       {path: "", wantErr: "path is empty"},
		"not a bbolt file": {path: notBolt, wantErr: notBolt},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			db, err := store.Open(tc.path, store.Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestOpenInUse(t *testing.T) {
	first := MustOpen(t)
	second, err := store.Open(first.Path(), store.Options{LockTimeout: 100 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatal("second Open succeeded")
	}
	want := "store " + first.Path() + " is in use by another briefing process"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if !errors.Is(err, store.ErrInUse) {
		t.Error("error is not ErrInUse")
	}
	wantCode(t, err, briefing.ECONFLICT)
	if got := briefing.ErrorMessage(err); got != want {
		t.Errorf("user message %q, want %q", got, want)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	db := MustOpen(t)
	path := db.Path()
	db.Close()
	tamper(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket(store.MetaBucket).Put(store.SchemaVersionKey, []byte("999"))
	})
	again, err := store.Open(path, store.Options{})
	if err == nil {
		again.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	wantCode(t, err, briefing.ECONFLICT)
	if msg := briefing.ErrorMessage(err); !strings.Contains(msg, "schema version 999, newer than") || !strings.Contains(msg, path) {
		t.Errorf("message %q does not explain the schema version", msg)
	}
	// The refused file is left as it was, and the lock released.
	inspect(t, path, func(tx *bolt.Tx) error {
		if v := schemaVersion(t, tx); v != 999 {
			t.Errorf("schema version became %d", v)
		}
		return nil
	})
}

func TestOpenRunsNewMigrationsOnce(t *testing.T) {
	db := MustOpen(t)
	path := db.Path()
	db.Close()

	runs := 0
	SetMigrationsPlus(t, func(tx *bolt.Tx) error {
		runs++
		_, err := tx.CreateBucket([]byte("added_by_migration"))
		return err
	})
	for range 2 {
		MustOpenWith(t, path, store.Options{}).Close()
	}
	if runs != 1 {
		t.Errorf("migration ran %d times, want once", runs)
	}
	inspect(t, path, func(tx *bolt.Tx) error {
		if got, want := schemaVersion(t, tx), len(store.Migrations()); got != want {
			t.Errorf("schema version %d, want %d", got, want)
		}
		if tx.Bucket([]byte("added_by_migration")) == nil {
			t.Error("the migration's bucket is missing")
		}
		return nil
	})
}

func TestOpenFailedMigrationChangesNothing(t *testing.T) {
	db := MustOpen(t)
	path := db.Path()
	db.Close()

	SetMigrationsPlus(t, func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucket([]byte("half_done")); err != nil {
			return err
		}
		return errors.New("disk on fire")
	})
	again, err := store.Open(path, store.Options{})
	if err == nil {
		again.Close()
		t.Fatal("Open succeeded despite a failing migration")
	}
	if !strings.Contains(err.Error(), "disk on fire") || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q lacks the cause or the path", err)
	}
	inspect(t, path, func(tx *bolt.Tx) error {
		if got, want := schemaVersion(t, tx), len(store.Migrations())-1; got != want {
			t.Errorf("schema version %d, want %d", got, want)
		}
		if tx.Bucket([]byte("half_done")) != nil {
			t.Error("a failed migration left a bucket behind")
		}
		return nil
	})
}

// SetMigrationsPlus makes Open know one more migration until tb ends.
func SetMigrationsPlus(tb testing.TB, m func(*bolt.Tx) error) {
	tb.Helper()
	store.SetMigrations(tb, append(store.Migrations(), m))
}

func TestDataSurvivesReopen(t *testing.T) {
	db := MustOpen(t)
	path := db.Path()
	art := article("a1", t0.Add(-time.Hour), "cloud")
	feed := briefing.FeedState{URL: "https://example.com/feed.xml", ETag: `"v1"`}
	b := &briefing.Briefing{Topic: "cloud", GeneratedAt: t0, Headline: "Clouds"}
	slot := briefing.Slot{Key: "s1@2026-11-25T08:00:00Z", Schedule: "s1", Time: t0}
	thread := briefing.Thread{Key: "slack:C1:1.2", Topic: "cloud"}
	mustDo(t, db.PutFeed(feed))
	if _, err := db.PutArticles([]briefing.Article{art}); err != nil {
		t.Fatal(err)
	}
	mustDo(t, db.PutBriefing(b))
	mustDo(t, db.RecordTold(&briefing.Briefing{ID: b.ID, Topic: "cloud", Stories: []briefing.Story{{Articles: []briefing.Article{art}}}},
		briefing.Post{Destination: "slack:C1", MessageID: "1.2"}))
	if _, _, err := db.ClaimSlot(slot, 0); err != nil {
		t.Fatal(err)
	}
	mustDo(t, db.PutThread(thread))
	mustDo(t, db.Put("k", []byte("v")))
	if _, err := db.FirstDelivery("e1", t0); err != nil {
		t.Fatal(err)
	}
	mustDo(t, db.Close())

	db = MustOpenWith(t, path, store.Options{})
	if got, err := db.Feed(feed.URL); err != nil || got != feed {
		t.Errorf("feed: %+v, %v", got, err)
	}
	if got, err := db.Article("a1"); err != nil || got.Title != art.Title {
		t.Errorf("article: %+v, %v", got, err)
	}
	if got, err := db.Briefing(b.ID); err != nil || got.Headline != "Clouds" {
		t.Errorf("briefing: %+v, %v", got, err)
	}
	if told, err := db.Told("cloud", "slack:C1"); err != nil || !told["a1"] {
		t.Errorf("told: %v, %v", told, err)
	}
	if p, found, err := db.LastPost("cloud", "slack:C1"); err != nil || !found || p.MessageID != "1.2" || p.BriefingID != b.ID {
		t.Errorf("last post: %+v, %v, %v", p, found, err)
	}
	if _, found, err := db.Slot(slot.Key); err != nil || !found {
		t.Errorf("slot: %v, %v", found, err)
	}
	if _, found, err := db.Thread(thread.Key); err != nil || !found {
		t.Errorf("thread: %v, %v", found, err)
	}
	if v, found, err := db.Get("k"); err != nil || !found || string(v) != "v" {
		t.Errorf("cache: %q, %v, %v", v, found, err)
	}
	if first, err := db.FirstDelivery("e1", t0.Add(time.Minute)); err != nil || first {
		t.Errorf("event redelivered after reopen: first=%v, %v", first, err)
	}
}

func mustDo(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// A file of schema 3 kept what was told per topic; opening it drops those
// records (they cannot be given to the right destinations) and indexes its
// articles by feed.
func TestMigrateToldPerDestination(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	current := store.Migrations()
	store.SetMigrations(t, current[:3])
	mustDo(t, MustOpenWith(t, path, store.Options{}).Close())
	old := article("a1", t0, "cloud")
	old.FeedURL = feedURL
	tamper(t, path, func(tx *bolt.Tx) error {
		data, err := json.Marshal(old)
		if err != nil {
			return err
		}
		if err := tx.Bucket(store.BucketArticles).Put([]byte("a1"), data); err != nil {
			return err
		}
		told, err := tx.Bucket(store.BucketTold).CreateBucketIfNotExists([]byte("cloud"))
		if err != nil {
			return err
		}
		return told.Put([]byte("a1"), []byte("b1"))
	})
	store.SetMigrations(t, current)

	db := MustOpenWith(t, path, store.Options{})
	got, err := db.FeedArticles([]string{feedURL}, t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil || len(got) != 1 || got[0].ID != "a1" {
		t.Errorf("feed articles after migration: %v, %v", got, err)
	}
	if told, err := db.Told("cloud", "slack:C1"); err != nil || len(told) != 0 {
		t.Errorf("told after migration: %v, %v", told, err)
	}
}
