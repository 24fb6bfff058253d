package schedule

import (
	"context"
	"errors"
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
// slot is then released for a later attempt within its grace. Concurrent
// calls for one slot run it once: in one process by singleflight, across
// processes by the ledger's lease.
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
	slot, claimed, err := s.ledger.ClaimSlot(want, slotLease(sc))
	if err != nil {
		return fmt.Errorf("claim slot %s: %w", want.Key, err)
	}
	if slot.State == briefing.SlotPosted || slot.State == briefing.SlotQuiet {
		log.Debug("slot already done", slog.String("state", string(slot.State)),
			slog.String("channel", slot.Channel), slog.String("message_ts", slot.MessageTS))
		return nil
	}
	if !claimed {
		// Another process (a replica) holds the slot; should it die, its
		// lease runs out and a sweep here or there takes the slot over.
		log.Debug("slot is being posted by another process", slog.Time("lease_until", slot.LeaseUntil))
		return nil
	}
	err = s.post(ctx, sc, slot, log)
	if err != nil {
		// Free the slot at once for the retry within its grace.
		if rerr := s.ledger.ReleaseSlot(slot.Key); rerr != nil {
			log.Warn("release failed slot", slog.Any("error", rerr))
		}
	}
	return err
}

// post delivers a claimed slot. A slot claimed before (by a process that
// ended, or an attempt that failed) is first looked for with
// Poster.FindPosted, so a crash between posting and recording does not
// post twice.
func (s *Scheduler) post(ctx context.Context, sc Schedule, slot briefing.Slot, log *slog.Logger) error {
	if slot.Attempts > 1 {
		channel, ts, found, err := s.poster.FindPosted(ctx, sc, slot)
		if err != nil {
			// Posting without knowing could post twice; the slot is
			// released for the next attempt to look again.
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
	return s.deliver(ctx, sc, slot, log)
}

// slotLease is how long a claim on one of sc's slots holds: long enough
// to build and post, short enough that a slot is taken over within its
// grace even when the process that took it over dies too.
func slotLease(sc Schedule) time.Duration {
	return max(minSlotLease, min(maxSlotLease, sc.Grace/4))
}

// Bounds of slotLease: a build with an LLM takes a minute or two.
const (
	minSlotLease = 2 * time.Second
	maxSlotLease = 10 * time.Minute
)

// deliver builds and posts the slot's briefing for each destination, with
// the stories not yet told there. One destination posted makes the slot
// posted (a retry would repeat it there; the others' failures are logged);
// every destination quiet makes it quiet, which is done, not a failure.
// The slot is recorded before the stories count as told, so that a crash
// between the two cannot post the slot again.
func (s *Scheduler) deliver(ctx context.Context, sc Schedule, slot briefing.Slot, log *slog.Logger) error {
	var posted []delivered
	var errs []error
	for _, dest := range s.poster.Destinations(sc) {
		d, err := s.deliverTo(ctx, sc, slot, dest, log.With(slog.String("destination", dest)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", dest, err))
		} else if d.briefing != nil {
			posted = append(posted, d)
		}
	}
	switch {
	case len(posted) > 0:
		first := posted[0].post
		if err := s.markPosted(slot.Key, first.Destination, first.MessageID, first.BriefingID); err != nil {
			return err
		}
		for _, err := range errs {
			log.Error("scheduled briefing missed a destination", slog.Any("error", err))
		}
		var markErrs []error
		for _, d := range posted {
			if err := s.service.MarkPosted(ctx, d.briefing, d.post); err != nil {
				markErrs = append(markErrs, fmt.Errorf("remember briefing %s as posted to %s: %w", d.post.BriefingID, d.post.Destination, err))
			}
		}
		return errors.Join(markErrs...)
	case len(errs) > 0:
		return errors.Join(errs...)
	}
	if err := s.ledger.MarkSlotQuiet(slot.Key); err != nil {
		return fmt.Errorf("record slot %s as quiet: %w", slot.Key, err)
	}
	s.metrics.SlotQuiet(sc.ID)
	log.Info("slot done: nothing new for its destinations", slog.String("when_quiet", whenQuiet(sc)))
	return nil
}

// delivered is a briefing posted to one destination.
type delivered struct {
	briefing *briefing.Briefing
	post     briefing.Post
}

// deliverTo posts the briefing of dest's new stories, or the note that it
// has none; a quiet destination gives a zero delivered.
func (s *Scheduler) deliverTo(ctx context.Context, sc Schedule, slot briefing.Slot, dest string, log *slog.Logger) (delivered, error) {
	b, err := s.service.Build(ctx, sc.Topic, briefing.BuildOptions{Audience: sc.Audience, For: dest})
	var quiet *briefing.Quiet
	if errors.As(err, &quiet) {
		log.Info("nothing to brief", slog.String("reason", quiet.Reason), slog.String("message", quiet.Message))
		if whenQuiet(sc) == WhenQuietNote {
			if err := s.poster.PostNote(ctx, sc, slot, dest, quiet); err != nil {
				return delivered{}, fmt.Errorf("post note that %s is quiet: %w", sc.Topic, err)
			}
		}
		return delivered{}, nil
	}
	if err != nil {
		return delivered{}, fmt.Errorf("build %s briefing: %w", sc.Topic, err)
	}
	id, err := s.poster.Post(ctx, sc, slot, dest, b)
	if err != nil {
		return delivered{}, fmt.Errorf("post briefing %s: %w", b.ID, err)
	}
	log.Info("posted scheduled briefing", slog.String("briefing_id", b.ID), slog.String("message_id", id))
	return delivered{briefing: b, post: briefing.Post{Destination: dest, Topic: b.Topic, BriefingID: b.ID, MessageID: id}}, nil
}

func whenQuiet(sc Schedule) string {
	if sc.WhenQuiet == "" {
		return WhenQuietNote
	}
	return sc.WhenQuiet
}

func (s *Scheduler) markPosted(key, channel, messageTS, briefingID string) error {
	if err := s.ledger.MarkSlotPosted(key, channel, messageTS, briefingID); err != nil {
		return fmt.Errorf("record slot %s as posted to %s at %s: %w", key, channel, messageTS, err)
	}
	return nil
}
