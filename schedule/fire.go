package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/briefing-bot/briefing"
)

// SlotKey is the ledger key of a schedule's slot at t.
func SlotKey(scheduleID string, t time.Time) string {
	return scheduleID + "@" + t.UTC().Format(time.RFC3339)
}

// Fire posts sc's briefing for the slot at slotTime unless that slot was
// posted already: it claims the slot, builds, posts and records the slot
// as posted. A slot that an earlier attempt claimed and never recorded is
// first looked for with Poster.FindPosted, so a crash between posting and
// recording does not post twice. A failure is logged and returned; the
// slot then stays claimed for a later attempt. Concurrent calls for one
// slot run it once.
func (s *Scheduler) Fire(ctx context.Context, sc Schedule, slotTime time.Time) error {
	key := SlotKey(sc.ID, slotTime)
	_, err, _ := s.inflight.Do(key, func() (any, error) {
		log := s.scheduleLogger(sc).With(slog.String("slot", key))
		err := s.fire(ctx, sc, briefing.Slot{Key: key, Schedule: sc.ID, Time: slotTime}, log)
		if err != nil {
			log.Error("scheduled briefing failed", slog.Any("error", err))
		}
		return nil, err
	})
	return err
}

func (s *Scheduler) fire(ctx context.Context, sc Schedule, want briefing.Slot, log *slog.Logger) error {
	slot, claimed, err := s.ledger.ClaimSlot(want)
	if err != nil {
		return fmt.Errorf("claim slot %s: %w", want.Key, err)
	}
	if slot.State == briefing.SlotPosted {
		log.Debug("slot already posted", slog.String("channel", slot.Channel), slog.String("message_ts", slot.MessageTS))
		return nil
	}
	if !claimed {
		channel, ts, found, err := s.poster.FindPosted(ctx, sc, slot)
		if err != nil {
			// Posting without knowing could post twice; the slot stays
			// claimed for the next attempt to look again.
			return fmt.Errorf("look for an earlier post of slot %s: %w", slot.Key, err)
		}
		if found {
			// The briefing of that attempt is unknown here, so the slot
			// records no briefing id and the briefing is not marked told.
			if err := s.markPosted(slot.Key, channel, ts, ""); err != nil {
				return err
			}
			log.Info("slot was posted by an earlier attempt; recorded it",
				slog.String("channel", channel), slog.String("message_ts", ts))
			return nil
		}
	}
	b, err := s.service.Build(ctx, sc.Topic, briefing.BuildOptions{Audience: sc.Audience})
	if err != nil {
		return fmt.Errorf("build %s briefing: %w", sc.Topic, err)
	}
	channel, ts, err := s.poster.Post(ctx, sc, slot, b)
	if err != nil {
		return fmt.Errorf("post briefing %s: %w", b.ID, err)
	}
	if err := s.markPosted(slot.Key, channel, ts, b.ID); err != nil {
		return err
	}
	log.Info("posted scheduled briefing", slog.String("briefing_id", b.ID),
		slog.String("channel", channel), slog.String("message_ts", ts))
	if err := s.service.MarkPosted(ctx, b); err != nil {
		return fmt.Errorf("remember briefing %s as posted: %w", b.ID, err)
	}
	return nil
}

func (s *Scheduler) markPosted(key, channel, messageTS, briefingID string) error {
	if err := s.ledger.MarkSlotPosted(key, channel, messageTS, briefingID); err != nil {
		return fmt.Errorf("record slot %s as posted to %s at %s: %w", key, channel, messageTS, err)
	}
	return nil
}
