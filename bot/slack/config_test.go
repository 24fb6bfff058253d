package slack_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/briefing-bot/briefing"
	slackbot "github.com/briefing-bot/briefing/bot/slack"
	"github.com/briefing-bot/briefing/internal/briefingtest"
	"github.com/briefing-bot/briefing/internal/fakeslack"
)

func TestNewValidatesOptions(t *testing.T) {
	db := openStore(t, filepath.Join(t.TempDir(), "b.db"))
	valid := slackbot.Options{BotToken: "xoxb-1", AppToken: "xapp-1", Service: briefingtest.NewRecordingService(), Threads: db, Jobs: db}
	for name, tc := range map[string]struct {
		edit func(*slackbot.Options)
		want string // "" for success
	}{
		"valid":            {func(*slackbot.Options) {}, ""},
		"no app token":     {func(o *slackbot.Options) { o.AppToken = "" }, ""},
		"api url no slash": {func(o *slackbot.Options) { o.APIURL = "http://127.0.0.1:1/api" }, ""},
		"empty bot token":  {func(o *slackbot.Options) { o.BotToken = "" }, "slack.bot_token is empty"},
		"user token":       {func(o *slackbot.Options) { o.BotToken = "xoxp-1" }, "slack.bot_token must be a bot token"},
		"app token swap":   {func(o *slackbot.Options) { o.AppToken = "xoxb-1" }, "slack.app_token must be an app-level token"},
		"bad api url":      {func(o *slackbot.Options) { o.APIURL = "slack.example" }, "slack.api_url"},
		"token only":       {func(o *slackbot.Options) { o.Service, o.Threads, o.Jobs = nil, nil, nil }, ""},
	} {
		t.Run(name, func(t *testing.T) {
			opts := valid
			tc.edit(&opts)
			_, err := slackbot.New(opts)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("New = %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("New = %v, want an error about %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "xoxp-1"):
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

// A bot made for a token check only cannot run or post.
func TestTokenOnlyBotNeitherRunsNorPosts(t *testing.T) {
	bot, err := slackbot.New(slackbot.Options{BotToken: "xoxb-1", AppToken: "xapp-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := bot.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "Run needs a Service, Threads and Jobs") {
		t.Errorf("Run = %v", err)
	}
	if _, err := bot.PostBriefing(context.Background(), "C1", &briefing.Briefing{}, ""); err == nil {
		t.Error("PostBriefing without Threads did not fail")
	}
}

func TestCheck(t *testing.T) {
	slackSays := func(tb testing.TB, code string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":false,"error":"` + code + `"}`))
		}))
		tb.Cleanup(srv.Close)
		return srv.URL + "/api/"
	}
	fake := fakeslack.New(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for name, tc := range map[string]struct {
		token, apiURL string
		want, code    string // want "" for success
	}{
		"ok":               {fake.BotToken(), fake.APIURL(), "", ""},
		"invalid_auth":     {"xoxb-wrong", fake.APIURL(), "Slack rejected slack.bot_token (invalid_auth)", briefing.EINVALID},
		"token_revoked":    {"xoxb-1", slackSays(t, "token_revoked"), "slack.bot_token was revoked", briefing.EINVALID},
		"account_inactive": {"xoxb-1", slackSays(t, "account_inactive"), "slack.bot_token is inactive", briefing.EINVALID},
		"unreachable":      {"xoxb-1", closed.URL + "/api/", "cannot reach Slack at " + closed.URL, briefing.EINTERNAL},
	} {
		t.Run(name, func(t *testing.T) {
			db := openStore(t, filepath.Join(t.TempDir(), "b.db"))
			bot, err := slackbot.New(slackbot.Options{BotToken: tc.token, APIURL: tc.apiURL,
				Service: briefingtest.NewRecordingService(), Threads: db, Jobs: db})
			if err != nil {
				t.Fatal(err)
			}
			err = bot.Check(context.Background())
			if tc.want == "" {
				if err != nil {
					t.Errorf("Check = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || briefing.ErrorCode(err) != tc.code ||
				briefing.ErrorMessage(err) != err.Error() {
				t.Errorf("Check = %v (code %s), want %q (code %s)", err, briefing.ErrorCode(err), tc.want, tc.code)
			}
		})
	}
}
