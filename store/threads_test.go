package store_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing/store"
)

func TestFirstDeliveryForgetsOldEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "briefing.db")
	db := MustOpenWith(t, path, store.Options{})
	// More expired events than one call forgets, so that the redelivered
	// one is still recorded when it comes again.
	const old = 100
	for i := range old {
		if _, err := db.FirstDelivery(fmt.Sprintf("ev%03d", i), t0); err != nil {
			t.Fatal(err)
		}
	}
	const last = "ev099"
	later := t0.Add(61 * time.Minute)
	if first, err := db.FirstDelivery(last, later); err != nil || !first {
		t.Fatalf("redelivery after an hour: first=%v, %v", first, err)
	}
	// Forgetting the rest of the expired events must not take the new record.
	if first, err := db.FirstDelivery(last, later.Add(time.Minute)); err != nil || first {
		t.Fatalf("redelivery within the hour: first=%v, %v", first, err)
	}
	mustDo(t, db.Close())
	inspect(t, path, func(tx *bolt.Tx) error {
		for name, bucket := range map[string][]byte{"events": store.BucketEvents, "event times": store.BucketEventTimes} {
			if n := keyCount(tx, bucket); n != 1 {
				t.Errorf("%s has %d keys, want only %s's", name, n, last)
			}
		}
		return nil
	})
}
