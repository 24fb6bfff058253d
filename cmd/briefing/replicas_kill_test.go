package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/internal/fakeopenai"
	"github.com/briefing-bot/briefing/internal/fakeslack"
	"github.com/briefing-bot/briefing/schedule"
	"github.com/briefing-bot/briefing/store/postgres"
	"github.com/briefing-bot/briefing/store/postgres/pgtest"
)

// asChild runs the command line after "--" as the program would, when the
// test binary was started as a child process by startChild; it reports
// whether it did.
func asChild() bool {
	if os.Getenv("BRIEFING_TEST_MAIN") != "1" {
		return false
	}
	os.Args = append([]string{"briefing"}, flag.Args()...)
	main()
	return true
}

// replica is one `briefing run` child process.
type replica struct {
	cmd *exec.Cmd
	log *os.File
}

// startReplica starts `briefing run --config path` as a child process of
// the test binary (through test), logging to a file in dir.
func startReplica(tb testing.TB, test, dir, path string, n int) *replica {
	tb.Helper()
	log, err := os.Create(filepath.Join(dir, fmt.Sprintf("replica-%02d.log", n)))
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "--", "run", "--config", path, "--log-level", "debug")
	cmd.Env = append(os.Environ(), "BRIEFING_TEST_MAIN=1")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	return &replica{cmd: cmd, log: log}
}

// kill ends the replica with SIGKILL and waits for it.
func (r *replica) kill() {
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.log.Close()
}

// Three `briefing run` processes on one PostgreSQL database post an
// `@every 2s` schedule while replicas are killed with SIGKILL and
// restarted at random: no slot is posted twice, and every slot is done
// within its grace by whichever replica is left.
func TestReplicasSurviveKills(t *testing.T) {
	if asChild() {
		return
	}
	if testing.Short() {
		t.Skip("runs about 30 s")
	}
	// A grace of 16s gives the slot leases 4s: a slot survives three
	// takeovers in a row.
	const replicas, chaos, grace = 3, 14 * time.Second, 16 * time.Second
	dir := inTempDir(t)
	slackFake := fakeslack.New(t, fakeslack.WithTimeout(40*time.Second))
	dsn := pgtest.DSN(t)
	t.Setenv("BRIEFING_TEST_DSN", dsn)
	path, storePath := daemonConfig(t, dir, slackFake, fakeopenai.New(t).URL)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	config := strings.NewReplacer(fmt.Sprintf("store: {path: %q}", storePath), `store: {driver: postgres, dsn: "${BRIEFING_TEST_DSN}"}`,
		`cron: "@every 24h", grace: 24h`, fmt.Sprintf(`cron: "@every 2s", grace: %s`, grace),
		"server: {listen: ", "server: {listen: 127.0.0.1:0} #").Replace(string(data))
	path = writeConfig(t, dir, config)

	seed := uint64(time.Now().UnixNano())
	rnd := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)
	var mu sync.Mutex
	running := make([]*replica, replicas)
	started := 0
	for i := range running {
		running[i] = startReplica(t, "TestReplicasSurviveKills", dir, path, started)
		started++
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range running {
			r.kill()
		}
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(dir, "replica-*.log"))
			for _, l := range logs {
				data, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", l, data)
			}
		}
	})
	restart := func(i int) {
		running[i].kill()
		running[i] = startReplica(t, "TestReplicasSurviveKills", dir, path, started)
		started++
	}
	slackFake.WaitMessages(t, 1, isPost(scheduledChannel))
	begin := time.Now()
	kills, slotPosts := 0, 0
	// Every other slot's post is cut off before its poster hears back:
	// two of the three replicas die then, the poster among them two
	// times in three, and a survivor or a restarted one must find the
	// post rather than post again.
	slackFake.OnMessage(func(m fakeslack.Message) {
		if !isPost(scheduledChannel)(m) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if slotPosts++; slotPosts%2 == 1 || time.Since(begin) > chaos {
			return
		}
		survivor := rnd.IntN(replicas)
		for i := range running {
			if i != survivor {
				restart(i)
				kills++
			}
		}
	})
	// And any replica dies now and then, between posts.
	for time.Since(begin) < chaos {
		mu.Lock()
		pause := time.Duration(500+rnd.IntN(1500)) * time.Millisecond
		mu.Unlock()
		time.Sleep(pause)
		mu.Lock()
		restart(rnd.IntN(replicas))
		kills++
		mu.Unlock()
	}
	slackFake.OnMessage(nil)
	end := time.Now()

	db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Every slot due up to the end of the chaos is done within its grace:
	// wait for the ledger to say so, as long as the grace allows.
	var undone []briefing.Slot
	for deadline := end.Add(grace + 4*time.Second); ; {
		undone = undone[:0]
		unfinished, err := db.UnfinishedSlots("cloud-daily", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range unfinished {
			if !s.Time.After(end) {
				undone = append(undone, s)
			}
		}
		if len(undone) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // the ledger has no change feed to wait on
	}
	for _, s := range undone {
		t.Errorf("slot %s not done %s after the chaos ended (attempts %d)", s.Key, time.Since(end).Round(time.Second), s.Attempts)
	}
	posted := map[string]int{}
	for _, m := range slackFake.Messages() {
		if isPost(scheduledChannel)(m) && m.Metadata != nil {
			posted[fmt.Sprint(m.Metadata.EventPayload["slot"])]++
		}
	}
	twice := 0
	first := end
	for slot, n := range posted {
		if n != 1 {
			twice++
			t.Errorf("slot %s posted %d times", slot, n)
		}
		_, at, _ := strings.Cut(slot, "@")
		if when, err := time.Parse(time.RFC3339, at); err == nil && when.Before(first) {
			first = when
		}
	}
	// No slot from the first to the end of the chaos was skipped, not
	// even one due while every replica was starting.
	lost, retaken := 0, 0
	for at := first; !at.After(end); at = at.Add(2 * time.Second) {
		key := schedule.SlotKey("cloud-daily", at)
		s, found, err := db.Slot(key)
		if err != nil || !found || (s.State != briefing.SlotPosted && s.State != briefing.SlotQuiet) {
			lost++
			t.Errorf("slot %s: %+v, found %v, %v; want it done", key, s, found, err)
		}
		if s.Attempts > 1 {
			retaken++
		}
	}
	t.Logf("%d replicas, %d kills in %s: %d slots posted, %d twice, %d not done within grace, %d lost, %d taken over from a killed replica",
		replicas, kills, chaos, len(posted), twice, len(undone), lost, retaken)
}
