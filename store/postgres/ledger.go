package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/briefing-bot/briefing"
)

// ClaimSlot records s as claimed unless a slot with its key is stored. It
// returns the stored slot and whether this call claimed it. The slot's
// primary key makes the claim: of any number of replicas claiming one
// slot, exactly one INSERT adds a row.
func (db *DB) ClaimSlot(s briefing.Slot) (briefing.Slot, bool, error) {
	if s.Key == "" || s.Schedule == "" {
		return briefing.Slot{}, false, briefing.Errorf(briefing.EINVALID, "a slot needs a key and a schedule (got %q, %q)", s.Key, s.Schedule)
	}
	ctx, cancel := db.call()
	defer cancel()
	s.State, s.UpdatedAt = briefing.SlotClaimed, db.now()
	tag, err := db.pool.Exec(ctx, `INSERT INTO slots (key, schedule, time, slot) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key) DO NOTHING`, s.Key, s.Schedule, s.Time, s)
	if err != nil {
		return briefing.Slot{}, false, fmt.Errorf("claim slot %s: %w", s.Key, err)
	}
	if tag.RowsAffected() == 1 {
		return s, true, nil
	}
	stored, found, err := db.Slot(s.Key)
	if err == nil && !found {
		err = errors.New("claimed by another and gone since")
	}
	if err != nil {
		return briefing.Slot{}, false, fmt.Errorf("claim slot %s: %w", s.Key, err)
	}
	return stored, false, nil
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
