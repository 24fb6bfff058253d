package store_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/store"
)

// A process killed with SIGKILL in the middle of writing loses nothing it
// had reported as stored: every write is a committed transaction.
func TestKillLosesNothingReported(t *testing.T) {
	if path := os.Getenv("BRIEFING_STORE_WRITER"); path != "" {
		writeUntilKilled(path)
		return
	}
	path := filepath.Join(t.TempDir(), "b.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillLosesNothingReported$")
	cmd.Env = append(os.Environ(), "BRIEFING_STORE_WRITER="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reported := 0
	lines := bufio.NewScanner(out)
	for reported < 50 && lines.Scan() {
		if n, err := strconv.Atoi(lines.Text()); err == nil {
			reported = n
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if reported < 50 {
		t.Fatalf("the writer reported only %d batches", reported)
	}

	db := MustOpenWith(t, path, store.Options{})
	n, err := db.CountArticles()
	if err != nil {
		t.Fatal(err)
	}
	if n < reported*10 {
		t.Errorf("%d articles after the kill, but %d were reported stored", n, reported*10)
	}
}

// writeUntilKilled stores batches of ten articles and prints the number
// of batches stored after each, until the process is killed.
func writeUntilKilled(path string) {
	db, err := store.Open(path, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	now := time.Now()
	for batch := 1; ; batch++ {
		arts := make([]briefing.Article, 0, 10)
		for i := range 10 {
			arts = append(arts, article(fmt.Sprintf("b%d-%d", batch, i), now, "cloud"))
		}
		if _, err := db.PutArticles(arts); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(batch)
	}
}
