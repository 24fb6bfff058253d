package store_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/store"
)

func TestThreads(t *testing.T) {
	db := MustOpen(t)
	const key = "slack:C123:1700000000.000100"
	if _, found, err := db.Thread(key); err != nil || found {
		t.Fatalf("unknown thread: found=%v, %v", found, err)
	}
	want := briefing.Thread{Key: key, BriefingID: "b1", Topic: "cloud"}
	mustDo(t, db.PutThread(want))
	turns := []briefing.Turn{
		{Question: "Which regions?", Answer: "us-east-1.", At: t0},
		{Question: "Since when?", Answer: "Since 07:00.", At: t0.Add(time.Minute)},
	}
	for _, turn := range turns {
		mustDo(t, db.AppendTurn(key, turn))
	}
	want.Turns = turns
	got, found, err := db.Thread(key)
	if err != nil || !found || !reflect.DeepEqual(got, want) {
		t.Errorf("Thread = %+v, %v, %v; want %+v", got, found, err, want)
	}
	wantCode(t, db.AppendTurn("slack:C123:1.1", turns[0]), briefing.ENOTFOUND)
	wantCode(t, db.PutThread(briefing.Thread{Topic: "cloud"}), briefing.EINVALID)
}

func TestFirstDelivery(t *testing.T) {
	tests := map[string]struct {
		at   time.Duration // after the first delivery
		want bool
	}{
		"redelivered at once":         {0, false},
		"redelivered within the hour": {59 * time.Minute, false},
		"exactly an hour later":       {time.Hour, false},
		"older than an hour":          {time.Hour + time.Second, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			db := MustOpen(t)
			if first, err := db.FirstDelivery("Ev1", t0); err != nil || !first {
				t.Fatalf("first delivery: %v, %v", first, err)
			}
			if first, err := db.FirstDelivery("Ev1", t0.Add(tc.at)); err != nil || first != tc.want {
				t.Errorf("second delivery: %v, %v; want %v", first, err, tc.want)
			}
		})
	}
}

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

func TestFirstDeliveryRace(t *testing.T) {
	db := MustOpen(t)
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			first, err := db.FirstDelivery("Ev1", t0)
			if err != nil {
				t.Error(err)
			}
			if first {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	if n := firsts.Load(); n != 1 {
		t.Errorf("%d deliveries were first, want 1", n)
	}
	_, err := db.FirstDelivery("", t0)
	wantCode(t, err, briefing.EINVALID)
}
