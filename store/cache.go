package store

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
)

// A cache entry is the timeKey of when it was written, then the value, so
// that Prune can drop the entries older than the retention: their keys
// hash articles that are pruned too, and nothing would ask for them again.

// Get returns the cached value of key and whether there is one.
func (db *DB) Get(key string) ([]byte, bool, error) {
	var value []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if entry := tx.Bucket(bucketCache).Get([]byte(key)); len(entry) >= timeKeyLen {
			// The page memory is only valid inside the transaction.
			value = bytes.Clone(entry[timeKeyLen:])
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("cache get %s: %w", key, err)
	}
	return value, value != nil, nil
}

// Put caches value under key, replacing what was there.
func (db *DB) Put(key string, value []byte) error {
	if key == "" {
		return briefing.Errorf(briefing.EINVALID, "a cache key is empty")
	}
	entry := append(timeKey(db.now()), value...)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCache).Put([]byte(key), entry)
	})
	if err != nil {
		return fmt.Errorf("cache put %s: %w", key, err)
	}
	return nil
}

// deleteCacheBefore deletes the cache entries written before cutoff and
// returns how many. The cache holds a few entries per story, so reading it
// whole at each prune costs little.
func deleteCacheBefore(tx *bolt.Tx, cutoff time.Time) (int, error) {
	cache := tx.Bucket(bucketCache)
	end := timeKey(cutoff)
	var stale [][]byte
	if err := cache.ForEach(func(k, v []byte) error {
		if len(v) < timeKeyLen || bytes.Compare(v[:timeKeyLen], end) < 0 {
			stale = append(stale, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, k := range stale {
		if err := cache.Delete(k); err != nil {
			return 0, fmt.Errorf("delete cache entry %s: %w", k, err)
		}
	}
	return len(stale), nil
}
