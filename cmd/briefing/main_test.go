package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runMain runs the command line as a user would and returns its exit
// code and output.
func runMain(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// inTempDir runs the test in an empty folder, so that no ./config.yaml is found.
func inTempDir(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	tb.Chdir(dir)
	return dir
}

func writeConfig(tb testing.TB, dir, yaml string) string {
	tb.Helper()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestPreviewDemo(t *testing.T) {
	inTempDir(t)
	code, out, errOut := runMain(t, "preview")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"• ", "Sources", "offline"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo preview lacks %q:\n%s", want, out)
		}
	}
}

// previewJSON is the contract's JSON shape, as outside tests read it.
type previewJSON struct {
	Topic       string   `json:"topic"`
	GeneratedAt string   `json:"generated_at"`
	Summarizer  string   `json:"summarizer"`
	Headline    string   `json:"headline"`
	Bullets     []string `json:"bullets"`
	Paragraphs  []struct {
		Text    string   `json:"text"`
		Sources []string `json:"sources"`
	} `json:"paragraphs"`
	Stories []struct {
		Title    string `json:"title"`
		Articles []struct {
			URL    string `json:"url"`
			Title  string `json:"title"`
			Source string `json:"source"`
		} `json:"articles"`
	} `json:"stories"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

func decodePreview(tb testing.TB, out string) previewJSON {
	tb.Helper()
	var p previewJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		tb.Fatalf("preview --format json: %v\n%s", err, out)
	}
	return p
}

// checkGrounded fails when a paragraph cites a URL that is not an article
// of the briefing's stories.
func checkGrounded(tb testing.TB, p previewJSON) {
	tb.Helper()
	urls := map[string]bool{}
	for _, s := range p.Stories {
		for _, a := range s.Articles {
			urls[a.URL] = true
		}
	}
	if len(p.Paragraphs) == 0 {
		tb.Fatal("briefing has no paragraphs")
	}
	for _, para := range p.Paragraphs {
		if len(para.Sources) == 0 {
			tb.Errorf("paragraph without sources: %q", para.Text)
		}
		for _, u := range para.Sources {
			if !urls[u] {
				tb.Errorf("paragraph cites %s, which is not a collected article", u)
			}
		}
	}
}

func TestPreviewDemoJSONFlagsAfterTopic(t *testing.T) {
	inTempDir(t)
	code, out, errOut := runMain(t, "preview", "security", "--format", "json", "--max-stories", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p := decodePreview(t, out)
	if p.Topic != "security" || p.Summarizer != "offline" || p.Headline == "" || len(p.Bullets) != 3 {
		t.Errorf("unexpected briefing: topic %q summarizer %q headline %q bullets %d", p.Topic, p.Summarizer, p.Headline, len(p.Bullets))
	}
	multi := 0
	for _, s := range p.Stories {
		if len(s.Articles) >= 3 {
			multi++
		}
	}
	if multi < 2 {
		t.Errorf("want at least two stories told by three or more outlets, got %d", multi)
	}
	checkGrounded(t, p)
}

func TestPreviewFormats(t *testing.T) {
	inTempDir(t)
	for format, want := range map[string]string{"markdown": "# ", "slack": `"blocks"`} {
		code, out, errOut := runMain(t, "preview", "--format", format)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("--format %s: exit %d, output lacks %q: %s%s", format, code, want, out, errOut)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	inTempDir(t)
	tests := map[string]struct {
		args []string
		want string
	}{
		"no command":      {nil, "usage: briefing COMMAND"},
		"unknown command": {[]string{"frobnicate"}, `unknown command "frobnicate"`},
		"bad format":      {[]string{"preview", "--format", "html"}, `--format "html" is not text`},
		"unknown flag":    {[]string{"preview", "--colour"}, "flag provided but not defined: -colour"},
		"unknown topic":   {[]string{"preview", "sports"}, `unknown topic "sports" (known: cloud, security, ai)`},
		"no config":       {[]string{"collect"}, "no config: pass --config FILE"},
		"post no channel": {[]string{"post", "cloud"}, "--channel is required"},
		"ask no question": {[]string{"ask"}, "ask needs a question"},
		"bad log level":   {[]string{"version", "--log-level", "loud"}, `--log-level "loud"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := runMain(t, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	example, err := filepath.Abs("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := inTempDir(t)
	t.Run("bad config names every problem", func(t *testing.T) {
		path := writeConfig(t, dir, "topics:\n  - id: cloud\n    feeds: [https://example.com/f]\n    colour: blue\nschedules:\n  - {topic: cloud, cron: '61 * * * *', slack_channel: C1}\n")
		code, _, errOut := runMain(t, "check", "--config", path)
		if code != 2 {
			t.Fatalf("exit %d, want 2", code)
		}
		for _, want := range []string{"topics[0].colour: unknown key", "schedules[0].cron:"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
	})
	t.Run("example config", func(t *testing.T) {
		code, out, errOut := runMain(t, "check", "--config", example)
		if code != 0 || !strings.Contains(out, "config OK") {
			t.Errorf("exit %d: %s%s", code, out, errOut)
		}
	})
}

func TestCollectReportsEveryFeed(t *testing.T) {
	dir := inTempDir(t)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer broken.Close()
	feed := filepath.Join(dir, "feed.xml")
	os.WriteFile(feed, []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Nimbus opens a region</title><link>https://news.example/a</link><description>Nimbus opened a region.</description></item>
</channel></rss>`), 0o600)
	path := writeConfig(t, dir, "store: {path: "+filepath.Join(dir, "b.db")+"}\ntopics:\n  - id: cloud\n    feeds: ["+feed+", "+broken.URL+"/feed]\n")
	code, out, errOut := runMain(t, "collect", "--config", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "new") || !strings.HasPrefix(lines[1], "failed") || !strings.Contains(lines[1], "500") {
		t.Errorf("collect output:\n%s", out)
	}

	code, out, _ = runMain(t, "collect", "--config", path)
	if code != 0 || !strings.HasPrefix(out, "unchanged") {
		t.Errorf("second collect: exit %d\n%s", code, out)
	}
}

func TestCollectAllFailedExitsOne(t *testing.T) {
	dir := inTempDir(t)
	path := writeConfig(t, dir, "store: {path: "+filepath.Join(dir, "b.db")+"}\ntopics:\n  - id: cloud\n    feeds: ["+filepath.Join(dir, "missing.xml")+"]\n")
	code, out, _ := runMain(t, "collect", "--config", path)
	if code != 1 || !strings.HasPrefix(out, "failed") {
		t.Errorf("exit %d, output %q; want 1 and a failed line", code, out)
	}
}

func TestStoreInUse(t *testing.T) {
	dir := inTempDir(t)
	path := writeConfig(t, dir, "store: {path: "+filepath.Join(dir, "b.db")+"}\ntopics:\n  - {id: cloud, feeds: [x.xml]}\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	app, err := wire(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	code, _, errOut := runMain(t, "collect", "--config", path)
	if code != 1 || !strings.Contains(errOut, "is in use by another briefing process") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runMain(t, "version")
	if code != 0 || !strings.HasPrefix(out, "briefing ") {
		t.Errorf("exit %d: %q", code, out)
	}
}

func TestParseInterleaved(t *testing.T) {
	tests := map[string]struct {
		args       []string
		positional []string
		format     string
	}{
		"flags first":            {[]string{"--format", "json", "cloud"}, []string{"cloud"}, "json"},
		"flags after":            {[]string{"cloud", "--format", "json"}, []string{"cloud"}, "json"},
		"flags between":          {[]string{"what", "--format", "json", "now"}, []string{"what", "now"}, "json"},
		"dash-dash first":        {[]string{"--", "what", "does", "-v", "mean"}, []string{"what", "does", "-v", "mean"}, "text"},
		"dash-dash after a word": {[]string{"what", "--format", "json", "--", "-v", "--format"}, []string{"what", "-v", "--format"}, "json"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			format := fs.String("format", "text", "")
			got, err := parseInterleaved(fs, tc.args)
			if err != nil || !slices.Equal(got, tc.positional) || *format != tc.format {
				t.Errorf("got %q, --format %q, err %v; want %q, %q", got, *format, err, tc.positional, tc.format)
			}
		})
	}
}

// The container names its config with $BRIEFING_CONFIG; manifest must read
// it like every other command.
func TestManifestReadsBriefingConfig(t *testing.T) {
	dir := inTempDir(t)
	path := filepath.Join(dir, "elsewhere.yaml")
	if err := os.WriteFile(path, []byte("slack: {app_name: Newsdesk}\ntopics:\n  - {id: cloud, feeds: [x.xml]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BRIEFING_CONFIG", path)
	code, out, errOut := runMain(t, "manifest")
	if code != 0 || !strings.Contains(out, "name: Newsdesk") {
		t.Errorf("exit %d, stderr %q; manifest does not name the app Newsdesk:\n%s", code, errOut, out)
	}
}
