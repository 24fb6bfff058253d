package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
)

// PutThread stores t under t.Key, replacing what was there.
func (db *DB) PutThread(t briefing.Thread) error {
	if t.Key == "" {
		return briefing.Errorf(briefing.EINVALID, "a thread needs a key to be stored")
	}
	return db.putRecord(bucketThreads, "thread", t.Key, t)
}

// Thread returns the thread stored under key, if any.
func (db *DB) Thread(key string) (briefing.Thread, bool, error) {
	return lookup[briefing.Thread](db, bucketThreads, "thread", key)
}

// AppendTurn adds a turn to a stored thread; an unknown thread is an
// ENOTFOUND error.
func (db *DB) AppendTurn(key string, turn briefing.Turn) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		threads := tx.Bucket(bucketThreads)
		var t briefing.Thread
		if err := getExisting(threads, "thread", key, &t); err != nil {
			return err
		}
		t.Turns = append(t.Turns, turn)
		return putJSON(threads, []byte(key), t)
	})
	if err != nil {
		return fmt.Errorf("append to thread %s: %w", key, err)
	}
	return nil
}

// deleteThreadsBefore deletes the threads whose briefing is no longer
// stored and whose last turn, if any, came before cutoff: nobody can ask
// about them any more. It returns how many it deleted.
func deleteThreadsBefore(tx *bolt.Tx, cutoff time.Time) (int, error) {
	threads, briefings := tx.Bucket(bucketThreads), tx.Bucket(bucketBriefings)
	var stale [][]byte
	err := threads.ForEach(func(k, v []byte) error {
		var t briefing.Thread
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("decode thread %s: %w", k, err)
		}
		if t.BriefingID != "" && briefings.Get([]byte(t.BriefingID)) != nil {
			return nil
		}
		if n := len(t.Turns); n > 0 && !t.Turns[n-1].At.Before(cutoff) {
			return nil
		}
		stale = append(stale, bytes.Clone(k))
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range stale {
		if err := threads.Delete(k); err != nil {
			return 0, fmt.Errorf("delete thread %s: %w", k, err)
		}
	}
	return len(stale), nil
}

// eventHorizon is how long a delivered event is remembered: Slack redelivers
// an unacknowledged envelope within minutes.
const eventHorizon = time.Hour

// eventForgetBatch bounds the expired events each FirstDelivery deletes. It
// exceeds the one event a call adds, so the log cannot outgrow the horizon.
const eventForgetBatch = 64

// FirstDelivery reports whether the event id is delivered for the first time
// in the last hour, and records it. Check and record are one transaction,
// which also forgets some events older than the hour.
func (db *DB) FirstDelivery(id string, now time.Time) (bool, error) {
	if id == "" {
		return false, briefing.Errorf(briefing.EINVALID, "an event needs an id")
	}
	var first bool
	err := db.bolt.Update(func(tx *bolt.Tx) (err error) {
		first, err = rememberEvent(tx, id, now)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record event %s: %w", id, err)
	}
	return first, nil
}

// rememberEvent is FirstDelivery inside the caller's transaction.
func rememberEvent(tx *bolt.Tx, id string, now time.Time) (bool, error) {
	events, byTime := tx.Bucket(bucketEvents), tx.Bucket(bucketEventTimes)
	horizon := timeKey(now.Add(-eventHorizon))
	if err := forgetEvents(events, byTime, horizon); err != nil {
		return false, err
	}
	if seen := events.Get([]byte(id)); seen != nil {
		if bytes.Compare(seen, horizon) >= 0 {
			return false, nil
		}
		// Expired but not yet forgotten: its index entry must go, or
		// forgetting it later would drop the new record too.
		if err := byTime.Delete(append(bytes.Clone(seen), id...)); err != nil {
			return false, fmt.Errorf("event index: %w", err)
		}
	}
	if err := events.Put([]byte(id), timeKey(now)); err != nil {
		return false, err
	}
	return true, byTime.Put(timeIDKey(now, id), nil)
}

// forgetEvents deletes up to eventForgetBatch events recorded before
// horizon, oldest first.
func forgetEvents(events, byTime *bolt.Bucket, horizon []byte) error {
	for _, k := range keysBefore(byTime, horizon, eventForgetBatch) {
		if err := events.Delete(k[timeKeyLen:]); err != nil {
			return fmt.Errorf("event %s: %w", k[timeKeyLen:], err)
		}
		if err := byTime.Delete(k); err != nil {
			return fmt.Errorf("event index: %w", err)
		}
	}
	return nil
}
