package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/briefing-bot/briefing"
)

// Enqueue records j as pending, leased to the caller for lease, unless its
// id is pending or was enqueued within the last hour. The primary key
// decides between replicas enqueuing the same request.
func (db *DB) Enqueue(ctx context.Context, j briefing.Job, lease time.Duration) (bool, error) {
	if j.ID == "" || j.Kind == "" {
		return false, briefing.Errorf(briefing.EINVALID, "a job needs an id and a kind")
	}
	now := db.now()
	tag, err := db.pool.Exec(ctx, `INSERT INTO jobs (id, kind, payload, progress, attempts, enqueued_at, lease_until)
		VALUES ($1, $2, $3, $4, 1, $5, $6)
		ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, payload = EXCLUDED.payload, progress = EXCLUDED.progress,
			attempts = 1, enqueued_at = EXCLUDED.enqueued_at, lease_until = EXCLUDED.lease_until, done_at = NULL
		WHERE jobs.done_at IS NOT NULL AND jobs.enqueued_at < $7`,
		j.ID, j.Kind, []byte(j.Payload), []byte(j.Progress), now, now.Add(lease), now.Add(-eventHorizon))
	if err != nil {
		return false, fmt.Errorf("enqueue job %s: %w", j.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Claim leases up to limit pending jobs of kind whose lease has run out,
// oldest first. SKIP LOCKED lets replicas claiming at once take different
// jobs instead of waiting for each other.
func (db *DB) Claim(ctx context.Context, kind string, lease time.Duration, limit int) ([]briefing.Job, error) {
	if limit <= 0 {
		return nil, nil
	}
	now := db.now()
	rows, err := db.pool.Query(ctx, `WITH free AS (
			SELECT id FROM jobs WHERE kind = $1 AND done_at IS NULL AND lease_until <= $2
			ORDER BY enqueued_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		UPDATE jobs j SET attempts = j.attempts + 1, lease_until = $4 FROM free WHERE j.id = free.id
		RETURNING j.id, j.kind, j.payload, j.progress, j.attempts, j.enqueued_at`,
		kind, now, limit, now.Add(lease))
	if err != nil {
		return nil, fmt.Errorf("claim %s jobs: %w", kind, err)
	}
	jobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefing.Job, error) {
		var j briefing.Job
		var payload, progress []byte
		err := row.Scan(&j.ID, &j.Kind, &payload, &progress, &j.Attempts, &j.EnqueuedAt)
		j.Payload, j.Progress, j.EnqueuedAt = json.RawMessage(payload), json.RawMessage(progress), j.EnqueuedAt.UTC()
		return j, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s jobs: %w", kind, err)
	}
	slices.SortFunc(jobs, func(a, b briefing.Job) int {
		if c := a.EnqueuedAt.Compare(b.EnqueuedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return jobs, nil
}

// Checkpoint replaces a pending job's progress; an unknown job is an
// ENOTFOUND error.
func (db *DB) Checkpoint(ctx context.Context, id string, progress json.RawMessage) error {
	tag, err := db.pool.Exec(ctx, `UPDATE jobs SET progress = $2 WHERE id = $1 AND done_at IS NULL`, id, []byte(progress))
	if err != nil {
		return fmt.Errorf("checkpoint job %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return briefing.Errorf(briefing.ENOTFOUND, "job %s not found", id)
	}
	return nil
}

// Release ends the lease on a pending job, so that any replica may claim
// it at once.
func (db *DB) Release(ctx context.Context, id string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE jobs SET lease_until = '-infinity' WHERE id = $1 AND done_at IS NULL`, id); err != nil {
		return fmt.Errorf("release job %s: %w", id, err)
	}
	return nil
}

// Done ends a job for good; its row stays for the event horizon, so that a
// redelivered request is not enqueued again.
func (db *DB) Done(ctx context.Context, id string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE jobs SET done_at = $2 WHERE id = $1 AND done_at IS NULL`, id, db.now()); err != nil {
		return fmt.Errorf("finish job %s: %w", id, err)
	}
	return nil
}

// PendingJobs counts the jobs not done, leased or not.
func (db *DB) PendingJobs(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM jobs WHERE done_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending jobs: %w", err)
	}
	return n, nil
}
