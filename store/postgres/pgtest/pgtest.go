// Package pgtest gives tests a PostgreSQL database of their own: each test
// binary creates one with a unique name and drops it when done, so that
// parallel runs on one server never collide, and each caller of DSN gets a
// fresh schema in it.
//
// The server is $BRIEFING_TEST_POSTGRES, by default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable (a URL).
// Without a reachable server the tests that need one are skipped, except
// in CI (CI=true), where they fail: CI must test both backends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultServer is used when $BRIEFING_TEST_POSTGRES is unset.
const DefaultServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	database    *url.URL // the run's database; nil when unavailable
	unavailable error
	schemas     atomic.Int64
)

// Main creates the run's database, runs m, drops the database and returns
// m's exit code. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	server := os.Getenv("BRIEFING_TEST_POSTGRES")
	if server == "" {
		server = DefaultServer
	}
	drop, err := create(server)
	if err != nil {
		unavailable = err
	} else {
		defer drop()
	}
	return m.Run()
}

// create makes a database with a unique name on server and returns how to
// drop it.
func create(server string) (func(), error) {
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("$BRIEFING_TEST_POSTGRES %q is not a postgres:// URL", server)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return nil, fmt.Errorf("no PostgreSQL at %s: %w", u.Redacted(), err)
	}
	defer conn.Close(context.Background())
	dropStale(ctx, conn)
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := fmt.Sprintf("%s%d_%s", prefix, time.Now().Unix(), hex.EncodeToString(suffix[:]))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s at %s: %w", name, u.Redacted(), err)
	}
	db := *u
	db.Path = "/" + name
	database = &db
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err == nil {
			_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(ctx)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: drop database %s: %v\n", name, err)
		}
	}, nil
}

// prefix starts the name of every database a run creates; the Unix time
// of its creation follows.
const prefix = "briefing_test_"

// staleAfter is the age past which a run's database is taken to be left
// by a run that could not drop it (killed, timed out), when nobody is
// connected to it.
const staleAfter = time.Hour

// dropStale drops the databases earlier runs left behind. Failures are
// ignored: another run may be dropping the same one.
func dropStale(ctx context.Context, conn *pgx.Conn) {
	rows, _ := conn.Query(ctx, `SELECT datname FROM pg_database d WHERE datname LIKE $1
		AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)`, prefix+"%")
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		created, _, _ := strings.Cut(strings.TrimPrefix(name, prefix), "_")
		if at, err := strconv.ParseInt(created, 10, 64); err == nil && time.Since(time.Unix(at, 0)) > staleAfter {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize())
		}
	}
}

// DSN returns the URL of a new, empty schema in the run's database (its
// search_path names the schema). Without a server, it skips tb, or fails
// it in CI.
func DSN(tb testing.TB) string {
	tb.Helper()
	if database == nil {
		if unavailable == nil {
			unavailable = fmt.Errorf("pgtest.Main did not run; call it from TestMain")
		}
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL is needed in CI: %v", unavailable)
		}
		tb.Skipf("PostgreSQL unavailable: %v", unavailable)
	}
	schema := fmt.Sprintf("s%d_%s", schemas.Add(1), strings.ToLower(sanitize(tb.Name())))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, database.String())
	if err != nil {
		tb.Fatalf("connect to %s: %v", database.Redacted(), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatalf("create schema %s: %v", schema, err)
	}
	u := *database
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// sanitize keeps the letters and digits of a test name, at most 40 of
// them, so that the schema name tells which test made it.
func sanitize(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() == 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
