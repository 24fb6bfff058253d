package store_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/store"
)

func jobIDs(jobs []briefing.Job) []string {
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

// openMovable opens a store at a fresh path whose clock the test moves
// through *now; the caller closes it.
func openMovable(t *testing.T, now *time.Time) (*store.DB, string, store.Options) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "briefing.db")
	opts := store.Options{Now: func() time.Time { return *now }}
	db, err := store.Open(path, opts)
	mustDo(t, err)
	return db, path, opts
}

func TestJobsAreDoneOnceAndResumedAfterReopen(t *testing.T) {
	ctx := context.Background()
	now := t0
	db, path, opts := openMovable(t, &now)
	for i, id := range []string{"q1", "q2", "c1"} {
		kind := "question"
		if id == "c1" {
			kind = "command"
		}
		now = t0.Add(time.Duration(i) * time.Second)
		added, err := db.Enqueue(ctx, briefing.Job{ID: id, Kind: kind, Payload: json.RawMessage(`{"text":"` + id + `"}`)}, time.Minute)
		if err != nil || !added {
			t.Fatalf("enqueue %s: %v, %v", id, added, err)
		}
	}
	if added, err := db.Enqueue(ctx, briefing.Job{ID: "q1", Kind: "question"}, time.Minute); err != nil || added {
		t.Fatalf("enqueue pending q1 again: added=%v, %v", added, err)
	}
	// Leased to the enqueuer: nobody else may run them yet.
	if jobs, err := db.Claim(ctx, "question", time.Minute, 10); err != nil || len(jobs) != 0 {
		t.Fatalf("claim leased jobs: %v, %v", jobIDs(jobs), err)
	}
	mustDo(t, db.Checkpoint(ctx, "q2", json.RawMessage(`{"placeholder":"1.2"}`)))
	mustDo(t, db.Done(ctx, "q1"))
	if n, err := db.PendingJobs(ctx); err != nil || n != 2 {
		t.Fatalf("PendingJobs = %d, %v; want 2", n, err)
	}
	mustDo(t, db.Close())

	// The process that held the leases is gone.
	db = MustOpenWith(t, path, opts)
	jobs, err := db.Claim(ctx, "question", time.Minute, 10)
	if err != nil || !slices.Equal(jobIDs(jobs), []string{"q2"}) {
		t.Fatalf("claim after reopen = %v, %v; want [q2]", jobIDs(jobs), err)
	}
	if j := jobs[0]; string(j.Progress) != `{"placeholder":"1.2"}` || j.Attempts != 2 || string(j.Payload) != `{"text":"q2"}` {
		t.Errorf("resumed job = %+v", j)
	}
	if again, _ := db.Claim(ctx, "question", time.Minute, 10); len(again) != 0 {
		t.Errorf("a claimed job was claimed again: %v", jobIDs(again))
	}
	mustDo(t, db.Release(ctx, "q2"))
	if again, _ := db.Claim(ctx, "question", time.Minute, 10); len(again) != 1 {
		t.Errorf("a released job was not claimable: %v", jobIDs(again))
	}
	now = now.Add(2 * time.Minute)
	if again, _ := db.Claim(ctx, "question", time.Minute, 10); len(again) != 1 {
		t.Errorf("a job whose lease ran out was not claimable: %v", jobIDs(again))
	}
	// A redelivery of a done request within the hour is no new job.
	if added, err := db.Enqueue(ctx, briefing.Job{ID: "q1", Kind: "question"}, time.Minute); err != nil || added {
		t.Errorf("enqueue done q1 again: added=%v, %v", added, err)
	}
	now = now.Add(2 * time.Hour)
	if added, err := db.Enqueue(ctx, briefing.Job{ID: "q1", Kind: "question"}, time.Minute); err != nil || !added {
		t.Errorf("enqueue q1 hours later: added=%v, %v", added, err)
	}
	wantCode(t, db.Checkpoint(ctx, "nope", nil), briefing.ENOTFOUND)
	wantCode(t, func() error { _, err := db.Enqueue(ctx, briefing.Job{ID: "x"}, time.Minute); return err }(), briefing.EINVALID)
}
