package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/briefing-bot/briefing/internal/fakeopenai"
	"github.com/briefing-bot/briefing/internal/fakeslack"
)

// llmConfig writes a config over the demo's cloud feeds whose one LLM
// provider is at llmURL ("" for none).
func llmConfig(tb testing.TB, dir, llmURL, extra string) string {
	tb.Helper()
	llm := ""
	if llmURL != "" {
		llm = fmt.Sprintf("llm:\n  providers:\n    - {name: primary, kind: openai, base_url: %q, api_key: %s, model: gpt-4.1-mini}\n", llmURL, testAPIKey)
	}
	return writeConfig(tb, dir, fmt.Sprintf("store: {path: %q}\n%s%stopics:\n  - {id: cloud, name: Cloud, feeds: [%s]}\n",
		filepath.Join(dir, "b.db"), llm, extra, strings.Join(demoCloudFeeds(tb, dir), ", ")))
}

func TestPreviewWithLLM(t *testing.T) {
	dir := inTempDir(t)
	llm := fakeopenai.New(t)
	configPath := llmConfig(t, dir, llm.URL, "")

	code, out, errOut := runMain(t, "preview", "--config", configPath, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p := decodePreview(t, out)
	if p.Summarizer != "llm:primary" || p.Usage.PromptTokens == 0 || p.Usage.CompletionTokens == 0 {
		t.Errorf("summarizer %q usage %+v, want llm:primary with tokens counted", p.Summarizer, p.Usage)
	}
	checkGrounded(t, p)
	checkNoSecret(t, llm)
}

// The provider dies in the middle of a briefing: the briefing still comes,
// written offline and marked so.
func TestPreviewProviderDiesMidRun(t *testing.T) {
	dir := inTempDir(t)
	llm := fakeopenai.New(t)
	var calls atomic.Int32
	llm.Handle(func(r fakeopenai.Request) fakeopenai.Response {
		if calls.Add(1) > 2 {
			return fakeopenai.Response{Status: http.StatusServiceUnavailable,
				Body: `{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}`}
		}
		return fakeopenai.Default(r)
	})
	configPath := llmConfig(t, dir, llm.URL, "")
	code, out, errOut := runMain(t, "preview", "--config", configPath, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p := decodePreview(t, out)
	if p.Summarizer != "offline" {
		t.Errorf("summarizer = %q, want offline", p.Summarizer)
	}
	checkGrounded(t, p)
}

func TestAsk(t *testing.T) {
	t.Run("offline", func(t *testing.T) {
		dir := inTempDir(t)
		configPath := llmConfig(t, dir, "", "")
		if code, _, errOut := runMain(t, "preview", "--config", configPath); code != 0 {
			t.Fatalf("preview: %s", errOut)
		}
		code, out, errOut := runMain(t, "ask", "--config", configPath, "What", "caused", "the", "Nimbus", "outage?")
		if code != 0 || !strings.Contains(out, "No LLM is configured") || !strings.Contains(out, "https://") {
			t.Errorf("exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("llm", func(t *testing.T) {
		dir := inTempDir(t)
		llm := fakeopenai.New(t)
		configPath := llmConfig(t, dir, llm.URL, "")
		if code, _, errOut := runMain(t, "preview", "--config", configPath); code != 0 {
			t.Fatalf("preview: %s", errOut)
		}
		code, out, errOut := runMain(t, "ask", "--topic", "cloud", "--config", configPath, "What caused the Nimbus outage?")
		if code != 0 || !strings.Contains(out, "According to the sources") || !strings.Contains(out, "https://") {
			t.Errorf("exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("demo", func(t *testing.T) {
		inTempDir(t)
		code, out, errOut := runMain(t, "ask", "Who is buying Ledgerline?")
		if code != 0 || !strings.Contains(out, "Ledgerline") {
			t.Errorf("exit %d\n%s%s", code, out, errOut)
		}
	})
}

func TestPost(t *testing.T) {
	dir := inTempDir(t)
	slackFake := fakeslack.New(t)
	configPath := llmConfig(t, dir, "", fmt.Sprintf("slack: {bot_token: %s, api_url: %q}\n", slackFake.BotToken(), slackFake.APIURL()))
	code, out, errOut := runMain(t, "post", "cloud", "--channel", "C9", "--config", configPath)
	if code != 0 || !strings.Contains(out, "posted briefing") {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	posts := slackFake.Messages()
	if len(posts) != 1 || posts[0].Channel != "C9" || !strings.Contains(string(posts[0].Blocks), "offline") {
		t.Errorf("posts = %+v", posts)
	}
	// The posted stories are told: the next briefing tells only the rest.
	if code, _, errOut := runMain(t, "post", "cloud", "--channel", "C9", "--config", configPath); code != 0 {
		t.Fatalf("second post: exit %d: %s", code, errOut)
	}
	posts = slackFake.Messages()
	first, second := linkedURLs(string(posts[0].Blocks)), linkedURLs(string(posts[1].Blocks))
	if len(first) == 0 || len(second) == 0 {
		t.Fatalf("no source links in the posts: %d and %d", len(first), len(second))
	}
	for u := range second {
		if first[u] {
			t.Errorf("the second briefing repeats %s", u)
		}
	}
}

var slackLink = regexp.MustCompile(`<(https?://[^|>]+)\|`)

func linkedURLs(blocks string) map[string]bool {
	urls := map[string]bool{}
	for _, m := range slackLink.FindAllStringSubmatch(strings.ReplaceAll(blocks, `\u003c`, "<"), -1) {
		urls[m[1]] = true
	}
	return urls
}

// check --online reaches Slack and every keyed provider. The fake model
// reasons like gpt-5: a small output budget leaves no room for the reply,
// so a ping that caps it would fail against a working provider.
func TestCheckOnline(t *testing.T) {
	tests := map[string]struct {
		status   int
		wantCode int
		want     string
	}{
		"working provider": {http.StatusOK, 0, "llm primary: OK"},
		"key refused":      {http.StatusUnauthorized, 1, "llm provider primary"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := inTempDir(t)
			slackFake := fakeslack.New(t)
			llm := fakeopenai.New(t)
			llm.Handle(func(r fakeopenai.Request) fakeopenai.Response {
				if tc.status != http.StatusOK {
					return fakeopenai.Response{Status: tc.status}
				}
				if budget := r.Body.MaxCompletionTokens; budget > 0 && budget < 100 {
					return fakeopenai.Response{Content: ""}
				}
				return fakeopenai.Response{Content: "OK"}
			})
			path := writeConfig(t, dir, fmt.Sprintf(`store: {path: %q}
llm:
  providers:
    - {name: primary, kind: openai, base_url: %q, api_key: %s, model: gpt-5-mini}
slack: {bot_token: %s, api_url: %q}
topics:
  - {id: cloud, feeds: [x.xml]}
`, filepath.Join(dir, "b.db"), llm.URL, testAPIKey, slackFake.BotToken(), slackFake.APIURL()))
			code, out, errOut := runMain(t, "check", "--online", "--config", path)
			if code != tc.wantCode || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, want %d and %q:\n%s%s", code, tc.wantCode, tc.want, out, errOut)
			}
			if code == 0 && !strings.Contains(out, "slack: auth.test OK") {
				t.Errorf("Slack not checked:\n%s", out)
			}
			// A running daemon holds the store; a check must not need it.
			if _, err := os.Stat(filepath.Join(dir, "b.db")); err == nil {
				t.Error("check --online opened the store")
			}
		})
	}
}
