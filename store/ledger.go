package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
)

// ClaimSlot records s as claimed unless a slot with its key is stored and
// done, or claimed in this opening of the file with a lease that holds
// (see briefing.ClaimOver): a claim from an earlier opening is free, since
// the file lock proves its holder gone. Check and claim are one
// transaction, so of two racing callers only one wins.
func (db *DB) ClaimSlot(s briefing.Slot, lease time.Duration) (briefing.Slot, bool, error) {
	if s.Key == "" || s.Schedule == "" {
		return briefing.Slot{}, false, briefing.Errorf(briefing.EINVALID, "a slot needs a key and a schedule (got %q, %q)", s.Key, s.Schedule)
	}
	var claimed bool
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		slots := tx.Bucket(bucketSlots)
		var stored briefing.Slot
		found, err := getJSON(slots, []byte(s.Key), &stored)
		if err != nil {
			return err
		}
		s, claimed = briefing.ClaimOver(stored, found, s, lease, db.now(), stored.UpdatedAt.Before(db.opened))
		if !claimed {
			return nil
		}
		if err := putJSON(slots, []byte(s.Key), s); err != nil {
			return err
		}
		if found {
			return nil
		}
		index, err := nested(tx.Bucket(bucketScheduleSlots), s.Schedule)
		if err != nil {
			return err
		}
		return index.Put(timeIDKey(s.Time, s.Key), nil)
	})
	if err != nil {
		return briefing.Slot{}, false, fmt.Errorf("claim slot %s: %w", s.Key, err)
	}
	return s, claimed, nil
}

// ReleaseSlot ends the lease on a claimed slot.
func (db *DB) ReleaseSlot(key string) error {
	err := db.updateSlot(key, "released", briefing.EndLease(db.now()))
	if briefing.ErrorCode(err) == briefing.ENOTFOUND {
		return nil
	}
	return err
}

// UnfinishedSlots returns the schedule's claimed slots from since on,
// oldest first.
func (db *DB) UnfinishedSlots(schedule string, since time.Time) ([]briefing.Slot, error) {
	var out []briefing.Slot
	err := db.bolt.View(func(tx *bolt.Tx) error {
		index := tx.Bucket(bucketScheduleSlots).Bucket([]byte(schedule))
		if index == nil {
			return nil
		}
		c := index.Cursor()
		for k, _ := c.Seek(timeKey(since)); k != nil; k, _ = c.Next() {
			var s briefing.Slot
			if err := getExisting(tx.Bucket(bucketSlots), "slot", string(k[timeKeyLen:]), &s); err != nil {
				return err
			}
			if s.State == briefing.SlotClaimed {
				out = append(out, s)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("unfinished slots of %s: %w", schedule, err)
	}
	return out, nil
}

// MarkSlotPosted records where the claimed slot's briefing was posted.
func (db *DB) MarkSlotPosted(key, channel, messageTS, briefingID string) error {
	return db.updateSlot(key, "posted", func(s *briefing.Slot) {
		s.State, s.Channel, s.MessageTS, s.BriefingID = briefing.SlotPosted, channel, messageTS, briefingID
	})
}

// MarkSlotQuiet records the claimed slot as done with nothing new to post.
func (db *DB) MarkSlotQuiet(key string) error {
	return db.updateSlot(key, "quiet", func(s *briefing.Slot) { s.State = briefing.SlotQuiet })
}

func (db *DB) updateSlot(key, as string, update func(*briefing.Slot)) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		slots := tx.Bucket(bucketSlots)
		var s briefing.Slot
		if err := getExisting(slots, "slot", key, &s); err != nil {
			return err
		}
		update(&s)
		s.UpdatedAt = db.now()
		return putJSON(slots, []byte(key), s)
	})
	if err != nil {
		return fmt.Errorf("mark slot %s %s: %w", key, as, err)
	}
	return nil
}

// Slot returns the slot stored under key, if any.
func (db *DB) Slot(key string) (briefing.Slot, bool, error) {
	return lookup[briefing.Slot](db, bucketSlots, "slot", key)
}

// LastSlot returns the schedule's slot with the latest Time, if any.
func (db *DB) LastSlot(schedule string) (briefing.Slot, bool, error) {
	var s briefing.Slot
	var found bool
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		index := tx.Bucket(bucketScheduleSlots).Bucket([]byte(schedule))
		if index == nil {
			return nil
		}
		last, _ := index.Cursor().Last()
		if last == nil {
			return nil
		}
		found = true
		return getExisting(tx.Bucket(bucketSlots), "slot", string(last[timeKeyLen:]), &s)
	})
	if err != nil {
		return briefing.Slot{}, false, fmt.Errorf("last slot of %s: %w", schedule, err)
	}
	return s, found, nil
}

// deleteSlotsBefore deletes the slots whose Time is before cutoff, except
// each schedule's newest, which LastSlot needs to find missed slots after a
// long stop. It returns how many it deleted.
func deleteSlotsBefore(tx *bolt.Tx, cutoff time.Time) (int, error) {
	return deleteIndexedBefore(tx.Bucket(bucketSlots), tx.Bucket(bucketScheduleSlots), cutoff)
}
