package slack

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// The manifest's parts, in the order Slack documents them.
type manifest struct {
	Metadata struct {
		MajorVersion int `yaml:"major_version"`
	} `yaml:"_metadata"`
	Display     manifestDisplay  `yaml:"display_information"`
	Features    manifestFeatures `yaml:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings manifestSettings `yaml:"settings"`
}

type manifestDisplay struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
}

type manifestFeatures struct {
	BotUser struct {
		DisplayName  string `yaml:"display_name"`
		AlwaysOnline bool   `yaml:"always_online"`
	} `yaml:"bot_user"`
	// The messages tab lets people use /briefing and ask in a DM.
	AppHome struct {
		MessagesTabEnabled         bool `yaml:"messages_tab_enabled"`
		MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled"`
	} `yaml:"app_home"`
	SlashCommands []manifestCommand `yaml:"slash_commands"`
}

type manifestCommand struct {
	Command      string `yaml:"command"`
	Description  string `yaml:"description"`
	UsageHint    string `yaml:"usage_hint"`
	ShouldEscape bool   `yaml:"should_escape"`
}

type manifestSettings struct {
	EventSubscriptions struct {
		BotEvents []string `yaml:"bot_events"`
	} `yaml:"event_subscriptions"`
	// Interactivity delivers clicks on feedback buttons (block_actions).
	Interactivity struct {
		IsEnabled bool `yaml:"is_enabled"`
	} `yaml:"interactivity"`
	OrgDeployEnabled     bool `yaml:"org_deploy_enabled"`
	SocketModeEnabled    bool `yaml:"socket_mode_enabled"`
	TokenRotationEnabled bool `yaml:"token_rotation_enabled"`
}

// botScopes are exactly what this package calls: chat.postMessage,
// chat.update and chat.postEphemeral (chat:write), the /briefing command,
// mention and thread-reply events, and conversations.history in channels and
// private channels for FindPosted.
var botScopes = []string{"app_mentions:read", "channels:history", "chat:write", "commands", "groups:history", "im:history"}

var botEvents = []string{"app_mention", "message.channels", "message.groups", "message.im"}

// Manifest returns the Slack app manifest (YAML) for a socket-mode app
// named appName ("Briefing" when empty) that this package can serve.
func Manifest(appName string) string {
	appName = strings.TrimSpace(appName)
	if appName == "" {
		appName = "Briefing"
	}
	var m manifest
	m.Metadata.MajorVersion = 1
	m.Display = manifestDisplay{Name: appName, Description: "A daily news briefing, with follow-up questions in its thread."}
	m.Features.BotUser.DisplayName = displayName(appName)
	m.Features.BotUser.AlwaysOnline = true
	m.Features.AppHome.MessagesTabEnabled = true
	m.Features.SlashCommands = []manifestCommand{{
		Command: "/briefing", Description: "Post a news briefing", UsageHint: "[topic | help]",
	}}
	m.OAuthConfig.Scopes.Bot = botScopes
	m.Settings.EventSubscriptions.BotEvents = botEvents
	m.Settings.SocketModeEnabled = true
	m.Settings.Interactivity.IsEnabled = true
	var out strings.Builder
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&m); err != nil {
		panic("slack: encode manifest: " + err.Error()) // fixed types: cannot fail
	}
	return out.String()
}

// displayName derives the bot user's name (lowercase letters, digits, ".",
// "-", "_") from the app's name.
func displayName(appName string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(appName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			sb.WriteRune(r)
		case r == ' ':
			sb.WriteRune('-')
		}
	}
	if sb.Len() == 0 {
		return "briefing"
	}
	return sb.String()
}
