// Package postgres keeps the bot's state in PostgreSQL, so that any number
// of `briefing run` replicas can share one database. It implements
// briefing.Store with the same behaviour as the bbolt store (store/storetest
// holds both to it); what must happen once across replicas (a schedule
// slot, an event's first delivery, a job's lease) is decided by a
// constraint or a row lock in the database, never by memory of one process.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/briefing-bot/briefing"
)

var _ briefing.Store = (*DB)(nil)

// Defaults for zero Options fields.
const (
	DefaultRetention    = 720 * time.Hour
	DefaultQueryTimeout = 30 * time.Second
)

// Options for Open. Zero values get defaults.
type Options struct {
	// Retention is how long articles are kept; see Prune.
	Retention time.Duration
	// QueryTimeout bounds each store call: the store's methods take no
	// context, and a stalled database must not hold a schedule forever.
	QueryTimeout time.Duration
	Logger       *slog.Logger
	// Now is the clock for times the store sets itself.
	Now func() time.Time
}

// DB is the PostgreSQL store. It is safe for concurrent use, also by
// several processes on one database.
type DB struct {
	pool      *pgxpool.Pool
	target    string // host:port/database, for messages; never the password
	retention time.Duration
	timeout   time.Duration
	log       *slog.Logger
	now       func() time.Time
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the advisory lock key that serialises migrations of
// replicas starting at once ("briefing" in ASCII, as a bigint).
const migrationLock = 0x6272696566696e67

// Open connects to the database at dsn (a postgres:// URL or key=value
// string), waits until it answers, and brings its schema up to date.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = DefaultQueryTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors quote the DSN with its password masked.
		return nil, briefing.Errorf(briefing.EINVALID, "store.dsn is not a PostgreSQL connection string: %v", err)
	}
	target := cfg.ConnConfig.Host + ":" + strconv.Itoa(int(cfg.ConnConfig.Port)) + "/" + cfg.ConnConfig.Database
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store postgres %s: %w", target, err)
	}
	db := &DB{pool: pool, target: target, retention: opts.Retention, timeout: opts.QueryTimeout, log: opts.Logger, now: opts.Now}
	from, to, err := db.migrate(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store postgres %s: %w", target, err)
	}
	db.log.Info("store opened", slog.String("driver", "postgres"), slog.String("database", target),
		slog.Int("schema_version", to), slog.Int("found_schema_version", from))
	return db, nil
}

// Close releases the connections. Closing twice is harmless.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping reports whether the database answers, for readiness checks.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store postgres %s: %w", db.target, err)
	}
	return nil
}

// Pool is the store's connection pool, for what shares the database (the
// job queue of the replicas).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// migration is one embedded SQL file, named NNNN_what.sql.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var out []migration
	for i, name := range names {
		base := path.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want the number %04d", base, i+1)
		}
		data, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(data)})
	}
	return out, nil
}

// migrate runs, in one transaction under an advisory lock (replicas may
// start together), the migrations the database has not had, and returns
// the schema version it had and has.
func (db *DB) migrate(ctx context.Context) (from, to int, err error) {
	ms, err := migrations()
	if err != nil {
		return 0, 0, err
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return fmt.Errorf("lock for migrations: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&from); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if from > len(ms) {
			return briefing.Errorf(briefing.ECONFLICT,
				"database %s has schema version %d, newer than this briefing knows (%d); use a newer release", db.target, from, len(ms))
		}
		for _, m := range ms[from:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
		}
		return nil
	})
	return from, len(ms), err
}

// call gives a store method without a context its deadline.
func (db *DB) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), db.timeout)
}

// maxTxAttempts bounds the retries of a transaction that lost a deadlock
// or a serialization conflict to another writer.
const maxTxAttempts = 5

// inTx runs fn in a transaction and commits it, retrying from the start
// when PostgreSQL aborted it for a deadlock or serialization failure:
// overlapping batches of replicas lock rows in different orders.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, db.pool, fn)
		var pgErr *pgconn.PgError
		if attempt < maxTxAttempts && errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001") {
			continue
		}
		return err
	}
}
