package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
)

// SlotAt returns the slot of schedule at the time at.
func SlotAt(schedule string, at time.Time) briefing.Slot {
	return briefing.Slot{Key: schedule + "@" + at.UTC().Format(time.RFC3339), Schedule: schedule, Time: at}
}

func testClaimSlot(t *testing.T, open Opener) {
	st := openAt(t, open)
	s := SlotAt("morning", T0)
	got, claimed, err := st.ClaimSlot(s, 0)
	if err != nil || !claimed {
		t.Fatalf("first claim: claimed=%v, %v", claimed, err)
	}
	want := s
	want.State, want.UpdatedAt, want.Attempts = briefing.SlotClaimed, T0, 1
	wantEqual(t, got, want)
	again, claimed, err := st.ClaimSlot(s, 0)
	if err != nil || claimed {
		t.Fatalf("second claim: claimed=%v, %v", claimed, err)
	}
	wantEqual(t, again, want)

	mustDo(t, st.MarkSlotPosted(s.Key, "C123", "1700000000.000100", "b1"))
	want.State, want.Channel, want.MessageTS, want.BriefingID = briefing.SlotPosted, "C123", "1700000000.000100", "b1"
	if got, found, err := st.Slot(s.Key); err != nil || !found {
		t.Errorf("after posting: %v, %v", found, err)
	} else {
		wantEqual(t, got, want)
	}
	if got, claimed, err := st.ClaimSlot(s, 0); err != nil || claimed || got.State != briefing.SlotPosted {
		t.Errorf("claim of a posted slot: %+v, %v, %v", got, claimed, err)
	}

	if _, found, err := st.Slot("evening@" + T0.Format(time.RFC3339)); err != nil || found {
		t.Errorf("unknown slot: found=%v, %v", found, err)
	}
	wantCode(t, st.MarkSlotPosted("evening@x", "C1", "1.2", "b1"), briefing.ENOTFOUND)
	_, _, err = st.ClaimSlot(briefing.Slot{Key: "no-schedule@x"}, 0)
	wantCode(t, err, briefing.EINVALID)

	quiet := SlotAt("morning", T0.Add(24*time.Hour))
	if _, _, err := st.ClaimSlot(quiet, 0); err != nil {
		t.Fatal(err)
	}
	mustDo(t, st.MarkSlotQuiet(quiet.Key))
	if got, claimed, err := st.ClaimSlot(quiet, 0); err != nil || claimed || got.State != briefing.SlotQuiet {
		t.Errorf("claim of a quiet slot: %+v, %v, %v", got, claimed, err)
	}
	wantCode(t, st.MarkSlotQuiet("evening@x"), briefing.ENOTFOUND)
}

// testSlotLeases has a claim hold until its lease runs out or is
// released, so that a replica that died mid-slot leaves it to another, and
// only then; of several retaking at once, one wins.
func testSlotLeases(t *testing.T, open Opener) {
	var now atomic.Pointer[time.Time]
	at := func(t time.Time) { now.Store(&t) }
	at(T0)
	st := open(t, Options{Now: func() time.Time { return *now.Load() }})
	s := SlotAt("hourly", T0)
	if _, claimed, err := st.ClaimSlot(s, time.Minute); err != nil || !claimed {
		t.Fatalf("first claim: %v, %v", claimed, err)
	}
	at(T0.Add(59 * time.Second))
	if got, claimed, err := st.ClaimSlot(s, time.Minute); err != nil || claimed || got.Attempts != 1 {
		t.Fatalf("claim while the lease holds: %+v, %v, %v", got, claimed, err)
	}
	at(T0.Add(time.Minute))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			got, claimed, err := st.ClaimSlot(s, 2*time.Minute)
			if err != nil {
				t.Error(err)
			}
			if claimed {
				wins.Add(1)
				if got.Attempts != 2 || !got.LeaseUntil.Equal(T0.Add(3*time.Minute)) || got.State != briefing.SlotClaimed {
					t.Errorf("retaken slot %+v", got)
				}
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d callers retook the slot whose lease ran out, want 1", n)
	}
	if unfinished, err := st.UnfinishedSlots("hourly", T0); err != nil || len(unfinished) != 1 || unfinished[0].Key != s.Key {
		t.Errorf("unfinished slots = %+v, %v", unfinished, err)
	}
	mustDo(t, st.ReleaseSlot(s.Key))
	if got, claimed, err := st.ClaimSlot(s, time.Minute); err != nil || !claimed || got.Attempts != 3 {
		t.Fatalf("claim after release: %+v, %v, %v", got, claimed, err)
	}
	mustDo(t, st.MarkSlotPosted(s.Key, "C1", "1.2", "b1"))
	mustDo(t, st.ReleaseSlot(s.Key))
	at(T0.Add(time.Hour))
	if got, claimed, err := st.ClaimSlot(s, 0); err != nil || claimed || got.State != briefing.SlotPosted {
		t.Errorf("claim of a posted slot after its lease: %+v, %v, %v", got, claimed, err)
	}
	mustDo(t, st.ReleaseSlot("unknown@x"))

	later := SlotAt("hourly", T0.Add(2*time.Hour))
	older := SlotAt("hourly", T0.Add(-2*time.Hour))
	for _, sl := range []briefing.Slot{later, older} {
		if _, _, err := st.ClaimSlot(sl, 0); err != nil {
			t.Fatal(err)
		}
	}
	if unfinished, err := st.UnfinishedSlots("hourly", T0.Add(-time.Hour)); err != nil || len(unfinished) != 1 || unfinished[0].Key != later.Key {
		t.Errorf("unfinished slots since T0-1h = %+v, %v; want only %s", unfinished, err, later.Key)
	}
	if unfinished, err := st.UnfinishedSlots("daily", T0.Add(-24*time.Hour)); err != nil || len(unfinished) != 0 {
		t.Errorf("unfinished slots of another schedule = %+v, %v", unfinished, err)
	}
}

// testClaimSlotRace claims the same slots from several goroutines at once,
// as replicas firing the same schedule do: each slot has one winner.
func testClaimSlotRace(t *testing.T, open Opener) {
	st := openAt(t, open)
	const slots = 5
	var wins [slots]atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range slots {
				_, claimed, err := st.ClaimSlot(SlotAt("morning", T0.Add(time.Duration(i)*time.Hour)), time.Minute)
				if err != nil {
					t.Error(err)
				}
				if claimed {
					wins[i].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for i := range wins {
		if n := wins[i].Load(); n != 1 {
			t.Errorf("slot %d: %d callers claimed it, want 1", i, n)
		}
	}
}

func testLastSlot(t *testing.T, open Opener) {
	st := openAt(t, open)
	if _, found, err := st.LastSlot("morning"); err != nil || found {
		t.Fatalf("no slots yet: found=%v, %v", found, err)
	}
	for _, s := range []briefing.Slot{
		SlotAt("morning", T0.Add(-24*time.Hour)),
		SlotAt("morning", T0),
		SlotAt("morning", T0.Add(-48*time.Hour)),
		SlotAt("evening", T0.Add(10*time.Hour)),
	} {
		if _, _, err := st.ClaimSlot(s, 0); err != nil {
			t.Fatal(err)
		}
	}
	for schedule, want := range map[string]time.Time{"morning": T0, "evening": T0.Add(10 * time.Hour)} {
		got, found, err := st.LastSlot(schedule)
		if err != nil || !found || !got.Time.Equal(want) {
			t.Errorf("LastSlot(%s) = %+v, %v, %v; want time %v", schedule, got, found, err, want)
		}
	}
}

func jobIDs(jobs []briefing.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.ID)
	}
	return out
}

// testJobs follows jobs through enqueue, leases, checkpoints and done.
// Leases run out by the store's clock; how a backend learns earlier that a
// lease holder ended is its own test's business.
func testJobs(t *testing.T, open Opener) {
	ctx := context.Background()
	var mu sync.Mutex
	now := T0
	at := func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
	st := open(t, Options{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	for _, id := range []string{"q1", "q2", "c1"} {
		kind := "question"
		if id == "c1" {
			kind = "command"
		}
		at(time.Second)
		added, err := st.Enqueue(ctx, briefing.Job{ID: id, Kind: kind, Payload: json.RawMessage(`{"text":"` + id + `"}`)}, time.Minute)
		if err != nil || !added {
			t.Fatalf("enqueue %s: %v, %v", id, added, err)
		}
	}
	if added, err := st.Enqueue(ctx, briefing.Job{ID: "q1", Kind: "question"}, time.Minute); err != nil || added {
		t.Fatalf("enqueue pending q1 again: added=%v, %v", added, err)
	}
	// Leased to the enqueuer: nobody else may run them yet.
	if jobs, err := st.Claim(ctx, "question", time.Minute, 10); err != nil || len(jobs) != 0 {
		t.Fatalf("claim leased jobs: %v, %v", jobIDs(jobs), err)
	}
	mustDo(t, st.Checkpoint(ctx, "q2", json.RawMessage(`{"placeholder":"1.2"}`)))
	mustDo(t, st.Done(ctx, "q1"))
	if n, err := st.PendingJobs(ctx); err != nil || n != 2 {
		t.Fatalf("PendingJobs = %d, %v; want 2", n, err)
	}

	at(2 * time.Minute) // the enqueuer's leases ran out
	jobs, err := st.Claim(ctx, "question", time.Minute, 10)
	if err != nil || !slices.Equal(jobIDs(jobs), []string{"q2"}) {
		t.Fatalf("claim after the leases ran out = %v, %v; want [q2]", jobIDs(jobs), err)
	}
	if j := jobs[0]; string(j.Progress) != `{"placeholder":"1.2"}` || j.Attempts != 2 || string(j.Payload) != `{"text":"q2"}` || j.Kind != "question" {
		t.Errorf("resumed job = %+v", j)
	}
	if again, _ := st.Claim(ctx, "question", time.Minute, 10); len(again) != 0 {
		t.Errorf("a claimed job was claimed again: %v", jobIDs(again))
	}
	mustDo(t, st.Release(ctx, "q2"))
	if again, _ := st.Claim(ctx, "question", time.Minute, 10); len(again) != 1 {
		t.Errorf("a released job was not claimable: %v", jobIDs(again))
	}
	at(2 * time.Minute)
	if again, _ := st.Claim(ctx, "question", time.Minute, 10); len(again) != 1 || again[0].Attempts != 4 {
		t.Errorf("a job whose lease ran out was not claimable with its attempts counted: %+v", again)
	}
	// A redelivery of a done request within the hour is no new job.
	if added, err := st.Enqueue(ctx, briefing.Job{ID: "q1", Kind: "question"}, time.Minute); err != nil || added {
		t.Errorf("enqueue done q1 again: added=%v, %v", added, err)
	}
	at(2 * time.Hour)
	if added, err := st.Enqueue(ctx, briefing.Job{ID: "q1", Kind: "question"}, time.Minute); err != nil || !added {
		t.Errorf("enqueue q1 hours later: added=%v, %v", added, err)
	}
	mustDo(t, st.Done(ctx, "never-enqueued"))
	wantCode(t, st.Checkpoint(ctx, "nope", nil), briefing.ENOTFOUND)
	_, err = st.Enqueue(ctx, briefing.Job{ID: "x"}, time.Minute)
	wantCode(t, err, briefing.EINVALID)
}

func testClaimJobsOldestFirst(t *testing.T, open Opener) {
	ctx := context.Background()
	var now atomic.Pointer[time.Time]
	now.Store(&T0)
	st := open(t, Options{Now: func() time.Time { return *now.Load() }})
	for i, id := range []string{"c", "a", "d", "b"} {
		at := T0.Add(time.Duration(i) * time.Second)
		now.Store(&at)
		if _, err := st.Enqueue(ctx, briefing.Job{ID: id, Kind: "k"}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	later := T0.Add(time.Hour)
	now.Store(&later)
	first, err := st.Claim(ctx, "k", time.Minute, 3)
	if err != nil || !slices.Equal(jobIDs(first), []string{"c", "a", "d"}) {
		t.Fatalf("claim 3 = %v, %v", jobIDs(first), err)
	}
	rest, err := st.Claim(ctx, "k", time.Minute, 3)
	if err != nil || !slices.Equal(jobIDs(rest), []string{"b"}) {
		t.Fatalf("claim the rest = %v, %v", jobIDs(rest), err)
	}
}

// testClaimJobsRace has several workers claim at once: each job goes to one.
func testClaimJobsRace(t *testing.T, open Opener) {
	ctx := context.Background()
	var now atomic.Pointer[time.Time]
	now.Store(&T0)
	st := open(t, Options{Now: func() time.Time { return *now.Load() }})
	const jobs = 30
	for i := range jobs {
		if _, err := st.Enqueue(ctx, briefing.Job{ID: fmt.Sprintf("j%02d", i), Kind: "k"}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	later := T0.Add(time.Hour)
	now.Store(&later)
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				claimed, err := st.Claim(ctx, "k", time.Hour, 4)
				if err != nil {
					t.Error(err)
					return
				}
				if len(claimed) == 0 {
					return
				}
				mu.Lock()
				for _, j := range claimed {
					got[j.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != jobs {
		t.Errorf("%d of %d jobs claimed", len(got), jobs)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("job %s claimed %d times", id, n)
		}
	}
}
