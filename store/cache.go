package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
)

// Get returns the cached value of key and whether there is one.
func (db *DB) Get(key string) ([]byte, bool, error) {
	var value []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		// The page memory is only valid inside the transaction.
		value = bytes.Clone(tx.Bucket(bucketCache).Get([]byte(key)))
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
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCache).Put([]byte(key), value)
	})
	if err != nil {
		return fmt.Errorf("cache put %s: %w", key, err)
	}
	return nil
}
