package slack_test

import (
	"path/filepath"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"

	slackbot "github.com/briefing-bot/briefing/bot/slack"
	"github.com/briefing-bot/briefing/internal/briefingtest"
)

func TestManifestGolden(t *testing.T) {
	briefingtest.AssertGolden(t, filepath.Join("testdata", "manifest.yaml"), []byte(slackbot.Manifest("Briefing")), *update)
}

func TestManifest(t *testing.T) {
	for name, tc := range map[string]struct{ app, wantName, wantBot string }{
		"plain":        {"Briefing", "Briefing", "briefing"},
		"spaces":       {"Team News: Daily", "Team News: Daily", "team-news-daily"},
		"yaml special": {"#1 'quoted' & {braces}", "#1 'quoted' & {braces}", "1-quoted--braces"},
		"empty":        {"", "Briefing", "briefing"},
	} {
		t.Run(name, func(t *testing.T) {
			var m struct {
				Display struct {
					Name string `yaml:"name"`
				} `yaml:"display_information"`
				Features struct {
					BotUser struct {
						DisplayName string `yaml:"display_name"`
					} `yaml:"bot_user"`
					SlashCommands []struct {
						Command   string `yaml:"command"`
						UsageHint string `yaml:"usage_hint"`
					} `yaml:"slash_commands"`
				} `yaml:"features"`
				OAuth struct {
					Scopes struct {
						Bot []string `yaml:"bot"`
					} `yaml:"scopes"`
				} `yaml:"oauth_config"`
				Settings struct {
					Events struct {
						Bot []string `yaml:"bot_events"`
					} `yaml:"event_subscriptions"`
					SocketMode bool `yaml:"socket_mode_enabled"`
				} `yaml:"settings"`
			}
			if err := yaml.Unmarshal([]byte(slackbot.Manifest(tc.app)), &m); err != nil {
				t.Fatal(err)
			}
			if m.Display.Name != tc.wantName || m.Features.BotUser.DisplayName != tc.wantBot {
				t.Errorf("names = %q, %q; want %q, %q", m.Display.Name, m.Features.BotUser.DisplayName, tc.wantName, tc.wantBot)
			}
			if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/briefing" ||
				m.Features.SlashCommands[0].UsageHint != "[topic | help]" {
				t.Errorf("slash commands = %+v", m.Features.SlashCommands)
			}
			wantScopes := []string{"app_mentions:read", "channels:history", "chat:write", "commands", "groups:history", "im:history"}
			if !slices.Equal(m.OAuth.Scopes.Bot, wantScopes) {
				t.Errorf("scopes = %v, want %v", m.OAuth.Scopes.Bot, wantScopes)
			}
			wantEvents := []string{"app_mention", "message.channels", "message.groups", "message.im"}
			if !slices.Equal(m.Settings.Events.Bot, wantEvents) {
				t.Errorf("events = %v, want %v", m.Settings.Events.Bot, wantEvents)
			}
			if !m.Settings.SocketMode {
				t.Error("socket mode is off")
			}
		})
	}
}
