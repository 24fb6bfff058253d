package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/store/postgres"
	"github.com/briefing-bot/briefing/store/postgres/pgtest"
	"github.com/briefing-bot/briefing/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// openSchema opens a store on a fresh schema of the run's database.
func openSchema(tb testing.TB, opts storetest.Options) briefing.Store {
	tb.Helper()
	db, err := postgres.Open(context.Background(), pgtest.DSN(tb), postgres.Options{Retention: opts.Retention, Now: opts.Now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) { storetest.Run(t, openSchema) }

func BenchmarkStore(b *testing.B) { storetest.Bench(b, openSchema) }

// TestReplicasShareOneDatabase opens several stores on one database at
// once, as replicas starting together do: the migrations run once, and
// each slot, event and job goes to exactly one of them.
func TestReplicasShareOneDatabase(t *testing.T) {
	dsn := pgtest.DSN(t)
	const replicas = 3
	dbs := make([]*postgres.DB, replicas)
	var g errgroup.Group
	for i := range dbs {
		g.Go(func() (err error) {
			dbs[i], err = postgres.Open(context.Background(), dsn, postgres.Options{Now: func() time.Time { return storetest.T0 }})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("replicas opening at once: %v", err)
	}
	for _, db := range dbs {
		t.Cleanup(func() { db.Close() })
	}
	var slots, events, jobs atomic.Int32
	for i := range 20 {
		for _, db := range dbs {
			g.Go(func() error {
				_, claimed, err := db.ClaimSlot(storetest.SlotAt("daily", storetest.T0.Add(time.Duration(i)*time.Hour)), time.Minute)
				if claimed {
					slots.Add(1)
				}
				if err != nil {
					return err
				}
				first, err := db.FirstDelivery(fmt.Sprintf("Ev%d", i), storetest.T0)
				if first {
					events.Add(1)
				}
				if err != nil {
					return err
				}
				added, err := db.Enqueue(context.Background(), briefing.Job{ID: fmt.Sprintf("job%d", i), Kind: "k"}, time.Minute)
				if added {
					jobs.Add(1)
				}
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if slots.Load() != 20 || events.Load() != 20 || jobs.Load() != 20 {
		t.Errorf("of 20 each, %d slots claimed, %d events first, %d jobs enqueued", slots.Load(), events.Load(), jobs.Load())
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dsn := pgtest.DSN(t)
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(context.Background(), `INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = postgres.Open(context.Background(), dsn, postgres.Options{})
	if briefing.ErrorCode(err) != briefing.ECONFLICT || !strings.Contains(err.Error(), "schema version 999, newer than") {
		t.Errorf("open of a newer schema: %v", err)
	}
}

func TestOpenBadDSN(t *testing.T) {
	tests := map[string]struct {
		dsn, want string
		code      string
	}{
		"not a dsn":    {"postgres://x:y@[::1", "store.dsn is not a PostgreSQL connection string", briefing.EINVALID},
		"nobody there": {"postgres://postgres@127.0.0.1:1/briefing?sslmode=disable&connect_timeout=2", "127.0.0.1:1/briefing", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			db, err := postgres.Open(context.Background(), tc.dsn, postgres.Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || briefing.ErrorCode(err) != tc.code && tc.code != "" {
				t.Errorf("error %q (code %q), want it to say %q", err, briefing.ErrorCode(err), tc.want)
			}
		})
	}
}
