package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing/internal/fakeopenai"
	"github.com/briefing-bot/briefing/internal/fakeslack"
)

// openTestDaemon wires the config at path with server.listen on port 0
// and opens its daemon; the test reads the address back.
func openTestDaemon(tb testing.TB, path string) (*App, *Daemon) {
	tb.Helper()
	cfg, err := LoadConfig(path)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Server.Listen = "127.0.0.1:0"
	app, err := wire(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { app.Close() })
	d, err := OpenDaemon(context.Background(), app)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return app, d
}

func get(tb testing.TB, addr net.Addr, path string) (int, string) {
	tb.Helper()
	resp, err := http.Get("http://" + addr.String() + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// /readyz names each part and answers 503 when one is not ready, while
// /healthz stays a liveness check.
func TestDaemonReadiness(t *testing.T) {
	dir := inTempDir(t)
	slackFake := fakeslack.New(t)
	path, _ := daemonConfig(t, dir, slackFake, fakeopenai.New(t).URL)
	app, d := openTestDaemon(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	// A slash command answered proves the socket connected.
	slackFake.SendSlash(t, slack.SlashCommand{Command: "/briefing", Text: "cloud", ChannelID: "C1", UserID: "U1"})
	slackFake.WaitMessages(t, 1, isPost("C1"))
	if code, body := get(t, d.HealthAddr(), "/readyz"); code != http.StatusOK || body != "store: ok\nslack: ok\n" {
		t.Errorf("running: /readyz %d %q", code, body)
	}

	if err := app.Store.Close(); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, d.HealthAddr(), "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "store: ") || strings.Contains(body, "store: ok") {
		t.Errorf("store closed: /readyz %d %q; want 503 naming the store", code, body)
	}
	if code, body := get(t, d.HealthAddr(), "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz %d %q", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// Close releases the listeners of a daemon that never ran.
func TestDaemonCloseReleasesListeners(t *testing.T) {
	dir := inTempDir(t)
	slackFake := fakeslack.New(t)
	path, _ := daemonConfig(t, dir, slackFake, fakeopenai.New(t).URL)
	_, d := openTestDaemon(t, path)
	addr := d.HealthAddr().String()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the health address is still taken after Close: %v", err)
	}
	ln.Close()
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_ = os.Remove(path)
}

// Start-up collects before its catch-up builds, and a build joins a fetch
// in flight: each feed is fetched once although a slot is owed.
func TestDaemonStartFetchesEachFeedOnce(t *testing.T) {
	dir := inTempDir(t)
	slackFake := fakeslack.New(t)
	path, _ := daemonConfig(t, dir, slackFake, fakeopenai.New(t).URL)
	var mu sync.Mutex
	fetches := map[string]int{}
	feeds := demoCloudFeeds(t, dir)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetches[r.URL.Path]++
		mu.Unlock()
		http.ServeFile(w, r, filepath.Join(filepath.Dir(feeds[0]), filepath.Base(r.URL.Path)))
	}))
	defer srv.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	config := string(data)
	for _, f := range feeds {
		config = strings.ReplaceAll(config, f, srv.URL+"/"+filepath.Base(f))
	}
	path = writeConfig(t, dir, config)
	_, d := openTestDaemon(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	slackFake.WaitMessages(t, 1, isPost(scheduledChannel))
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(fetches) != len(feeds) {
		t.Errorf("%d of %d feeds fetched: %v", len(fetches), len(feeds), fetches)
	}
	for feed, n := range fetches {
		if n != 1 {
			t.Errorf("%s fetched %d times at start-up", feed, n)
		}
	}
}
