package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/briefing-bot/briefing/store/postgres/pgtest"
)

// TestMain gives the tests a database of their own, except in a child
// process (see asChild), which uses its parent's and may be killed before
// it could drop one.
func TestMain(m *testing.M) {
	if os.Getenv("BRIEFING_TEST_MAIN") == "1" {
		os.Exit(m.Run())
	}
	os.Exit(pgtest.Main(m))
}

// TestPostgresStore runs the commands on store.driver postgres, with the
// DSN from the environment as a deployment would pass it: what collect
// stores, the next collect and preview read back.
func TestPostgresStore(t *testing.T) {
	dir := inTempDir(t)
	t.Setenv("BRIEFING_TEST_DSN", pgtest.DSN(t))
	feed := filepath.Join(dir, "feed.xml")
	if err := os.WriteFile(feed, []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Nimbus opens a region in Oslo</title><link>https://news.example/a</link><description>Nimbus opened a region in Oslo on Monday.</description></item>
</channel></rss>`), 0o600); err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, dir, "store: {driver: postgres, dsn: '${BRIEFING_TEST_DSN}'}\ntopics:\n  - id: cloud\n    window: 87600h\n    feeds: ["+feed+"]\n")
	for _, want := range []string{"new", "unchanged"} {
		code, out, errOut := runMain(t, "collect", "--config", path)
		if code != 0 || !strings.HasPrefix(out, want) {
			t.Fatalf("collect: exit %d, want a %q line:\n%s%s", code, want, out, errOut)
		}
	}
	code, out, errOut := runMain(t, "preview", "--config", path, "--offline", "--format", "json")
	if code != 0 {
		t.Fatalf("preview: exit %d: %s", code, errOut)
	}
	if p := decodePreview(t, out); !strings.Contains(out, "Oslo") || p.Topic != "cloud" {
		t.Errorf("preview from the database:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("a bbolt file was created although store.driver is postgres")
	}
}
