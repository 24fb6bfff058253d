package store_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/store"
)

func slotAt(schedule string, at time.Time) briefing.Slot {
	return briefing.Slot{Key: schedule + "@" + at.UTC().Format(time.RFC3339), Schedule: schedule, Time: at}
}

func TestClaimSlot(t *testing.T) {
	db := MustOpen(t)
	s := slotAt("morning", t0)
	got, claimed, err := db.ClaimSlot(s)
	if err != nil || !claimed {
		t.Fatalf("first claim: claimed=%v, %v", claimed, err)
	}
	want := s
	want.State, want.UpdatedAt = briefing.SlotClaimed, t0
	if got != want {
		t.Errorf("claimed %+v, want %+v", got, want)
	}
	again, claimed, err := db.ClaimSlot(s)
	if err != nil || claimed {
		t.Fatalf("second claim: claimed=%v, %v", claimed, err)
	}
	if again != want {
		t.Errorf("second claim returned %+v, want the stored %+v", again, want)
	}

	mustDo(t, db.MarkSlotPosted(s.Key, "C123", "1700000000.000100", "b1"))
	want.State, want.Channel, want.MessageTS, want.BriefingID = briefing.SlotPosted, "C123", "1700000000.000100", "b1"
	if got, found, err := db.Slot(s.Key); err != nil || !found || got != want {
		t.Errorf("after posting: %+v, %v, %v; want %+v", got, found, err, want)
	}
	if got, claimed, err := db.ClaimSlot(s); err != nil || claimed || got.State != briefing.SlotPosted {
		t.Errorf("claim of a posted slot: %+v, %v, %v", got, claimed, err)
	}

	if _, found, err := db.Slot("evening@" + t0.Format(time.RFC3339)); err != nil || found {
		t.Errorf("unknown slot: found=%v, %v", found, err)
	}
	wantCode(t, db.MarkSlotPosted("evening@x", "C1", "1.2", "b1"), briefing.ENOTFOUND)
	_, _, err = db.ClaimSlot(briefing.Slot{Key: "no-schedule@x"})
	wantCode(t, err, briefing.EINVALID)
}

func TestClaimSlotRace(t *testing.T) {
	db := MustOpen(t)
	s := slotAt("morning", t0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	claims := 0
	for range 8 {
		wg.Go(func() {
			_, claimed, err := db.ClaimSlot(s)
			if err != nil {
				t.Error(err)
			}
			if claimed {
				mu.Lock()
				claims++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if claims != 1 {
		t.Errorf("%d callers claimed the slot, want 1", claims)
	}
}

func TestLastSlot(t *testing.T) {
	db := MustOpen(t)
	if _, found, err := db.LastSlot("morning"); err != nil || found {
		t.Fatalf("no slots yet: found=%v, %v", found, err)
	}
	for _, s := range []briefing.Slot{
		slotAt("morning", t0.Add(-24*time.Hour)),
		slotAt("morning", t0),
		slotAt("morning", t0.Add(-48*time.Hour)),
		slotAt("evening", t0.Add(10*time.Hour)),
	} {
		if _, _, err := db.ClaimSlot(s); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]time.Time{"morning": t0, "evening": t0.Add(10 * time.Hour)}
	for schedule, want := range tests {
		t.Run(schedule, func(t *testing.T) {
			got, found, err := db.LastSlot(schedule)
			if err != nil || !found || !got.Time.Equal(want) {
				t.Errorf("LastSlot = %+v, %v, %v; want time %v", got, found, err, want)
			}
		})
	}
}

func TestPruneSlots(t *testing.T) {
	path := filepath.Join(t.TempDir(), "briefing.db")
	db := MustOpenWith(t, path, store.Options{Retention: 48 * time.Hour, Now: clock(t0)})
	var slots []briefing.Slot
	for d := range 5 {
		slots = append(slots, slotAt("daily", t0.Add(-time.Duration(d)*24*time.Hour)))
	}
	// A schedule whose slots are all old keeps its newest.
	slots = append(slots, slotAt("stopped", t0.Add(-100*time.Hour)), slotAt("stopped", t0.Add(-200*time.Hour)))
	for _, s := range slots {
		if _, _, err := db.ClaimSlot(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Prune(t0); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		slot briefing.Slot
		kept bool
	}{
		"recent":          {slots[0], true},
		"at the cutoff":   {slots[2], true},
		"old":             {slots[3], false},
		"stopped, newest": {slots[5], true},
		"stopped, older":  {slots[6], false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, found, err := db.Slot(tc.slot.Key); err != nil || found != tc.kept {
				t.Errorf("slot %s found=%v, %v; want %v", tc.slot.Key, found, err, tc.kept)
			}
		})
	}
	if last, found, err := db.LastSlot("stopped"); err != nil || !found || last.Key != slots[5].Key {
		t.Errorf("LastSlot(stopped) = %+v, %v, %v", last, found, err)
	}
	mustDo(t, db.Close())
	inspect(t, path, func(tx *bolt.Tx) error {
		if n := keyCount(tx, store.BucketSlots); n != 4 {
			t.Errorf("%d slots stored, want 4", n)
		}
		return nil
	})
}
