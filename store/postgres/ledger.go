package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/briefing-bot/briefing"
)

// ClaimSlot records s as claimed unless a slot with its key is stored and
// done, or claimed by another whose lease holds (see briefing.ClaimOver).
// The database decides between replicas: a transaction-scoped advisory
// lock on the key orders the claims of one slot, and the primary key
// refuses a second row whatever happens.
func (db *DB) ClaimSlot(s briefing.Slot, lease time.Duration) (briefing.Slot, bool, error) {
	if s.Key == "" || s.Schedule == "" {
		return briefing.Slot{}, false, briefing.Errorf(briefing.EINVALID, "a slot needs a key and a schedule (got %q, %q)", s.Key, s.Schedule)
	}
	ctx, cancel := db.call()
	defer cancel()
	var claimed bool
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// Claims of one key wait for each other here, so that each reads
		// the slot as the previous one left it.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "slot:"+s.Key); err != nil {
			return err
		}
		var stored briefing.Slot
		err := tx.QueryRow(ctx, `SELECT slot FROM slots WHERE key = $1`, s.Key).Scan(&stored)
		found := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		s, claimed = briefing.ClaimOver(stored, found, s, lease, db.now(), false)
		switch {
		case !claimed:
			return nil
		case found:
			_, err = tx.Exec(ctx, `UPDATE slots SET slot = $2 WHERE key = $1`, s.Key, s)
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO slots (key, schedule, time, slot) VALUES ($1, $2, $3, $4)
			ON CONFLICT (key) DO NOTHING`, s.Key, s.Schedule, s.Time, s)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("slot %s was inserted past the claim lock", s.Key)
		}
		return err
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
	ctx, cancel := db.call()
	defer cancel()
	rows, _ := db.pool.Query(ctx, `SELECT slot FROM slots WHERE schedule = $1 AND time >= $2
		AND slot->>'state' = $3 ORDER BY time, key`, schedule, since, string(briefing.SlotClaimed))
	slots, err := pgx.CollectRows(rows, pgx.RowTo[briefing.Slot])
	if err != nil {
		return nil, fmt.Errorf("unfinished slots of %s: %w", schedule, err)
	}
	return slots, nil
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
	ctx, cancel := db.call()
	defer cancel()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var s briefing.Slot
		err := tx.QueryRow(ctx, `SELECT slot FROM slots WHERE key = $1 FOR UPDATE`, key).Scan(&s)
		if errors.Is(err, pgx.ErrNoRows) {
			return briefing.Errorf(briefing.ENOTFOUND, "slot %s not found", key)
		}
		if err != nil {
			return err
		}
		update(&s)
		s.UpdatedAt = db.now()
		_, err = tx.Exec(ctx, `UPDATE slots SET slot = $2 WHERE key = $1`, key, s)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark slot %s %s: %w", key, as, err)
	}
	return nil
}

// Slot returns the slot stored under key, if any.
func (db *DB) Slot(key string) (briefing.Slot, bool, error) {
	return db.slot(`SELECT slot FROM slots WHERE key = $1`, key)
}

// LastSlot returns the schedule's slot with the latest Time, if any.
func (db *DB) LastSlot(schedule string) (briefing.Slot, bool, error) {
	return db.slot(`SELECT slot FROM slots WHERE schedule = $1 ORDER BY time DESC, key DESC LIMIT 1`, schedule)
}

func (db *DB) slot(query, arg string) (briefing.Slot, bool, error) {
	ctx, cancel := db.call()
	defer cancel()
	var s briefing.Slot
	err := db.pool.QueryRow(ctx, query, arg).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
		return briefing.Slot{}, false, nil
	}
	if err != nil {
		return briefing.Slot{}, false, fmt.Errorf("slot %s: %w", arg, err)
	}
	return s, true, nil
}
