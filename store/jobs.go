package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
)

// jobEventPrefix marks a job's id in the event log, which remembers that
// the job was enqueued for the log's horizon after it is done.
const jobEventPrefix = "job:"

// jobLeases are the leases taken through one opening of the file. They are
// not stored: the file lock proves that whoever held a lease before this
// opening has ended, so its jobs are free to claim.
type jobLeases struct {
	mu    chan struct{} // held across a transaction; a channel so Claim can honour ctx
	until map[string]time.Time
}

func newJobLeases() *jobLeases {
	return &jobLeases{mu: make(chan struct{}, 1), until: map[string]time.Time{}}
}

func (l *jobLeases) lock(ctx context.Context) error {
	select {
	case l.mu <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *jobLeases) unlock() { <-l.mu }

// Enqueue records j as pending, leased to the caller for lease, unless its
// id is pending or was enqueued within the last hour.
func (db *DB) Enqueue(ctx context.Context, j briefing.Job, lease time.Duration) (bool, error) {
	if j.ID == "" || j.Kind == "" {
		return false, briefing.Errorf(briefing.EINVALID, "a job needs an id and a kind")
	}
	if err := db.leases.lock(ctx); err != nil {
		return false, err
	}
	defer db.leases.unlock()
	now := db.now()
	var added bool
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		if jobs.Get([]byte(j.ID)) != nil {
			return nil
		}
		first, err := rememberEvent(tx, jobEventPrefix+j.ID, now)
		if err != nil || !first {
			return err
		}
		added = true
		j.Attempts, j.EnqueuedAt = 1, now
		return putJSON(jobs, []byte(j.ID), j)
	})
	if err != nil {
		return false, fmt.Errorf("enqueue job %s: %w", j.ID, err)
	}
	if added {
		db.leases.until[j.ID] = now.Add(lease)
	}
	return added, nil
}

// Claim leases up to limit pending jobs of kind that no one holds, oldest
// first.
func (db *DB) Claim(ctx context.Context, kind string, lease time.Duration, limit int) ([]briefing.Job, error) {
	if limit <= 0 {
		return nil, nil
	}
	if err := db.leases.lock(ctx); err != nil {
		return nil, err
	}
	defer db.leases.unlock()
	now := db.now()
	var claimed []briefing.Job
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		var free []briefing.Job
		err := jobs.ForEach(func(k, v []byte) error {
			var j briefing.Job
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("decode job %s: %w", k, err)
			}
			if j.Kind == kind && !db.leases.until[j.ID].After(now) {
				free = append(free, j)
			}
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortStableFunc(free, func(a, b briefing.Job) int { return a.EnqueuedAt.Compare(b.EnqueuedAt) })
		claimed = free[:min(limit, len(free))]
		for i := range claimed {
			claimed[i].Attempts++
			if err := putJSON(jobs, []byte(claimed[i].ID), claimed[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s jobs: %w", kind, err)
	}
	for _, j := range claimed {
		db.leases.until[j.ID] = now.Add(lease)
	}
	return claimed, nil
}

// Checkpoint replaces a pending job's progress; an unknown job is an
// ENOTFOUND error.
func (db *DB) Checkpoint(_ context.Context, id string, progress json.RawMessage) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		var j briefing.Job
		if err := getExisting(jobs, "job", id, &j); err != nil {
			return err
		}
		j.Progress = progress
		return putJSON(jobs, []byte(id), j)
	})
	if err != nil {
		return fmt.Errorf("checkpoint job %s: %w", id, err)
	}
	return nil
}

// Release ends this process's lease on a job.
func (db *DB) Release(ctx context.Context, id string) error {
	if err := db.leases.lock(ctx); err != nil {
		return err
	}
	delete(db.leases.until, id)
	db.leases.unlock()
	return nil
}

// Done deletes a job; its id stays in the event log for the hour.
func (db *DB) Done(ctx context.Context, id string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketJobs).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("finish job %s: %w", id, err)
	}
	return db.Release(ctx, id)
}

// PendingJobs counts the jobs not done.
func (db *DB) PendingJobs(context.Context) (int, error) {
	var n int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketJobs).Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count jobs: %w", err)
	}
	return n, nil
}
