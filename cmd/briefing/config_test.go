package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const validConfig = `
topics:
  - id: cloud
    feeds: [https://example.com/feed.xml]
`

func TestExampleConfigIsValid(t *testing.T) {
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-1")
	t.Setenv("SLACK_APP_TOKEN", "xapp-1")
	cfg, err := LoadConfig("../../config.example.yaml")
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	if len(cfg.Topics) < 2 || len(cfg.Schedules) < 2 || len(cfg.LLM.Providers) < 3 {
		t.Errorf("example lost its topics, schedules or providers: %+v", cfg)
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig("c.yaml", []byte(validConfig+`
schedules:
  - topic: cloud
    cron: "@daily"
    slack_channel: C1
`))
	if err != nil {
		t.Fatal(err)
	}
	tp, s := cfg.Topics[0], cfg.Schedules[0]
	switch {
	case cfg.Store.Path != defaultStorePath, cfg.Store.Retention.D() != defaultRetention:
		t.Errorf("store defaults: %+v", cfg.Store)
	case tp.Name != "cloud", tp.Window.D() != defaultWindow, *tp.MaxStories != defaultMaxStories:
		t.Errorf("topic defaults: %+v", tp)
	case s.Timezone != "UTC", s.Grace.D() != defaultGrace, s.ID != "cloud-0":
		t.Errorf("schedule defaults: %+v", s)
	case cfg.Server.Listen != defaultListen, cfg.Collect.Interval.D() != defaultInterval:
		t.Errorf("server/collect defaults: %+v %+v", cfg.Server, cfg.Collect)
	}
}

func TestConfigEnvExpansion(t *testing.T) {
	t.Setenv("BRIEFING_TEST_KEY", "sk-secret")
	t.Setenv("BRIEFING_TEST_CHANNEL", "C42")
	cfg, err := ParseConfig("c.yaml", []byte(validConfig+`
llm:
  providers:
    - {name: p, kind: openai, api_key: "${BRIEFING_TEST_KEY}", model: m}
schedules:
  - {topic: cloud, cron: "@daily", slack_channel: "${BRIEFING_TEST_CHANNEL}"}
slack:
  bot_token: "${BRIEFING_TEST_UNSET}"
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.LLM.Providers[0].APIKey; got != "sk-secret" {
		t.Errorf("api_key = %q", got)
	}
	if got := cfg.Schedules[0].SlackChannel; got != "C42" {
		t.Errorf("slack_channel = %q", got)
	}
	if cfg.Slack.BotToken != "" {
		t.Errorf("unset variable expanded to %q", cfg.Slack.BotToken)
	}
}

// Every validation rule, each with the key path (and line) it must name.
func TestConfigProblems(t *testing.T) {
	tests := map[string]struct {
		yaml string
		want []string
	}{
		"not yaml":           {"topics: [", []string{"not valid YAML"}},
		"empty":              {"", []string{"the file is empty"}},
		"unknown top key":    {validConfig + "stroe: {}\n", []string{"c.yaml:5: stroe: unknown key"}},
		"unknown nested key": {validConfig + "store:\n  pth: x\n", []string{"store.pth: unknown key (known keys: driver, dsn, path, retention)"}},
		"store driver":       {validConfig + "store: {driver: sqlite}\n", []string{`store.driver: "sqlite" is not one of bbolt, postgres`}},
		"postgres needs dsn": {validConfig + "store: {driver: postgres, dsn: '${BRIEFING_TEST_UNSET}'}\n", []string{"store.dsn: is required with store.driver postgres"}},
		"bad dsn":            {validConfig + "store: {driver: postgres, dsn: 'postgres://a:b@[::1'}\n", []string{"store.dsn: is not a PostgreSQL connection string"}},
		"dsn without driver": {validConfig + "store: {dsn: 'postgres://db/briefing'}\n", []string{"store.dsn: is set, but store.driver is bbolt"}},
		"unknown topic key":  {"topics:\n  - id: a\n    feed: [x]\n", []string{"topics[0].feed: unknown key", "topics[0].feeds: list at least one feed"}},
		"bad duration":       {validConfig + "store:\n  retention: 30 days\n", []string{`store.retention: "30 days" is not a duration`}},
		"bad int":            {"topics:\n  - id: a\n    feeds: [x]\n    max_stories: five\n", []string{`topics[0].max_stories: "five" is not a whole number`}},
		"bad bool":           {"topics:\n  - id: a\n    feeds: [x]\n    full_text: maybe\n", []string{`topics[0].full_text: "maybe" is not a true or false`}},
		"bool as a number":   {"topics:\n  - id: a\n    feeds: [x]\n    full_text: 1\n", []string{`c.yaml:4: topics[0].full_text: "1" is not a true or false`}},
		"list expected":      {"topics: cloud\n", []string{"topics: must be a list"}},
		"mapping expected":   {"store: here\n" + validConfig, []string{"store: must be a mapping of keys"}},
		"no topics":          {"store: {path: x}\n", []string{"topics: list at least one topic"}},
		"topic id missing":   {"topics:\n  - feeds: [x]\n", []string{"topics[0].id: is required"}},
		"topic id shape":     {"topics:\n  - id: Cloud News\n    feeds: [x]\n", []string{`topics[0].id: "Cloud News" must be lower-case`}},
		"topic id twice":     {"topics:\n  - {id: a, feeds: [x]}\n  - {id: a, feeds: [y]}\n", []string{`topics[1].id: "a" is used by another topic`}},
		"bad feed url":       {"topics:\n  - id: a\n    feeds: [https://ok.example/f, \"htp://x\"]\n", []string{`c.yaml:3: topics[0].feeds[1]: "htp://x" is not an http(s) URL`}},
		"window":             {"topics:\n  - {id: a, feeds: [x], window: -1h}\n", []string{"topics[0].window: must be positive"}},
		"max stories":        {"topics:\n  - {id: a, feeds: [x], max_stories: -1}\n", []string{"topics[0].max_stories: must not be negative"}},
		"language":           {"topics:\n  - {id: a, feeds: [x], language: english}\n", []string{`topics[0].language: "english" is not an ISO 639-1 language code`}},
		"schedule topic":     {validConfig + "schedules:\n  - {topic: ai, cron: '@daily', slack_channel: C1}\n", []string{`schedules[0].topic: "ai" is not a topic id (known: cloud)`}},
		"bad cron":           {validConfig + "schedules:\n  - {topic: cloud, cron: '0 25 * * *', slack_channel: C1}\n", []string{`schedules[0].cron: cron spec "0 25 * * *": end of range`}},
		"six-field cron":     {validConfig + "schedules:\n  - {topic: cloud, cron: '0 0 8 * * *', slack_channel: C1}\n", []string{`schedules[0].cron:`}},
		"cron missing":       {validConfig + "schedules:\n  - {topic: cloud, slack_channel: C1}\n", []string{"schedules[0].cron: is required"}},
		"time zone":          {validConfig + "schedules:\n  - {topic: cloud, cron: '@daily', timezone: Mars/Olympus, slack_channel: C1}\n", []string{`schedules[0].timezone: "Mars/Olympus" is not an IANA time zone`}},
		"grace":              {validConfig + "schedules:\n  - {topic: cloud, cron: '@daily', grace: -1m, slack_channel: C1}\n", []string{"schedules[0].grace: must not be negative"}},
		"no destination":     {validConfig + "schedules:\n  - {topic: cloud, cron: '@daily'}\n", []string{"schedules[0]: names no destination"}},
		"teams webhook":      {validConfig + "schedules:\n  - {topic: cloud, cron: '@daily', teams_webhook: 'nope'}\n", []string{`schedules[0].teams_webhook: "nope" is not an http(s) URL`}},
		"bot token":          {validConfig + "slack: {bot_token: xoxp-1}\n", []string{"slack.bot_token: must be a bot token starting with xoxb-"}},
		"app token":          {validConfig + "slack: {app_token: xoxb-1}\n", []string{"slack.app_token: must be an app-level token starting with xapp-"}},
		"api url":            {validConfig + "slack: {api_url: 'localhost:1'}\n", []string{"slack.api_url:"}},
		"provider kind":      {validConfig + "llm:\n  providers:\n    - {name: a, kind: bedrock, model: m}\n", []string{`llm.providers[0].kind: "bedrock" is not one of openai, azure, compatible`}},
		"provider name twice": {validConfig + "llm:\n  providers:\n    - {name: a, kind: openai, model: m}\n    - {name: a, kind: openai, model: m}\n",
			[]string{`llm.providers[1].name: "a" is used by another provider`}},
		"compatible base url": {validConfig + "llm:\n  providers:\n    - {name: a, kind: compatible, model: m}\n", []string{"llm.providers[0].base_url: is required for kind compatible"}},
		"azure fields":        {validConfig + "llm:\n  providers:\n    - {name: a, kind: azure}\n", []string{"llm.providers[0].base_url: is required for kind azure", "llm.providers[0].deployment: is required"}},
		"model":               {validConfig + "llm:\n  providers:\n    - {name: a, kind: openai}\n", []string{"llm.providers[0].model: is required"}},
		"temperature":         {validConfig + "llm:\n  providers:\n    - {name: a, kind: openai, model: m, temperature: 3}\n", []string{"llm.providers[0].temperature: must be between 0 and 2"}},
		"max retries":         {validConfig + "llm:\n  providers:\n    - {name: a, kind: openai, model: m, max_retries: -1}\n", []string{"llm.providers[0].max_retries: must not be negative"}},
		"max input tokens":    {validConfig + "llm: {max_input_tokens: -5}\n", []string{"llm.max_input_tokens: must not be negative"}},
		"listen":              {validConfig + "server: {listen: 9090}\n", []string{`server.listen: "9090" is not a host:port address`}},
		"chat admins":         {validConfig + "chat: {admins: [U1, '<@U2>']}\n", []string{`chat.admins[1]: "<@U2>" is not a Slack user id (U…) or a Teams AAD object id`}},
		"teams channel needs its service url": {validConfig + "schedules:\n  - {topic: cloud, cron: '@daily', teams_channel: '19:x@thread.tacv2'}\n",
			[]string{"schedules[0].teams_service_url: is required with teams_channel"}},
		"teams app needs its secrets": {validConfig + "teams: {app_id: a, token_url: 'nope'}\n",
			[]string{"teams.app_password: is required", "teams.tenant_id: is required", `teams.token_url: "nope" is not an http(s) URL`}},
		"teams listen": {validConfig + "teams: {listen: nope}\n", []string{`teams.listen: "nope" is not a host:port address`}},
		"teams auth none on every interface": {validConfig + "teams: {auth: none, listen: ':3978'}\n",
			[]string{`teams.auth: none turns off every token check, so teams.listen must be a loopback address such as 127.0.0.1:3978, not ":3978"`}},
		"teams auth none on a LAN address": {validConfig + "teams: {auth: none, listen: '192.168.1.5:3978'}\n", []string{"teams.auth: none turns off"}},
		"teams auth mode":                  {validConfig + "teams: {auth: jwt}\n", []string{`teams.auth: "jwt" is neither botframework nor none`}},
		"teams service urls":               {validConfig + "teams: {service_urls: [ok.example]}\n", []string{`teams.service_urls[0]: "ok.example" is not an http(s) URL`}},
		"teams channel service url not allowed": {validConfig + "schedules:\n  - {topic: cloud, cron: '@daily', teams_channel: '19:x@thread.tacv2', teams_service_url: 'https://smba.trafficmanager.net.evil.test/amer/'}\n",
			[]string{"schedules[0].teams_service_url: serviceUrl https://smba.trafficmanager.net.evil.test/amer/ is not a Microsoft Bot Framework endpoint nor in teams.service_urls"}},
		"concurrency":          {validConfig + "collect: {concurrency: -1}\n", []string{"collect.concurrency: must not be negative"}},
		"all problems at once": {"stroe: {}\ntopics:\n  - id: a\n    feeds: [x]\n    windw: 1h\n", []string{"stroe: unknown key", "topics[0].windw: unknown key"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig("c.yaml", []byte(tc.yaml))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%s", want, err)
				}
			}
		})
	}
}

// teams.auth none is for local clients: on a loopback listen (its default),
// with no app registration, and then its Connector may be on loopback too.
func TestConfigTeamsLocalMode(t *testing.T) {
	for _, listen := range []string{"", "127.0.0.1:3978", "[::1]:4000", "localhost:3978"} {
		yaml := validConfig + "teams: {auth: none}\n"
		if listen != "" {
			yaml = validConfig + fmt.Sprintf("teams: {auth: none, listen: %q}\n", listen)
		}
		cfg, err := ParseConfig("c.yaml", []byte(yaml))
		if err != nil {
			t.Errorf("listen %q: %v", listen, err)
			continue
		}
		if !cfg.Teams.Enabled() || (listen == "" && cfg.Teams.Listen != "127.0.0.1:3978") {
			t.Errorf("listen %q: enabled %v, listen %q", listen, cfg.Teams.Enabled(), cfg.Teams.Listen)
		}
	}
	cfg, err := ParseConfig("c.yaml", []byte(validConfig+"teams: {app_id: a, app_password: p, tenant_id: t}\n"))
	if err != nil || cfg.Teams.Auth != "botframework" || cfg.Teams.Listen != ":3978" {
		t.Errorf("default mode: %+v, %v", cfg.Teams, err)
	}
}

func TestConfigAcceptsLocalFeedsAndDescriptors(t *testing.T) {
	_, err := ParseConfig("c.yaml", []byte(`
topics:
  - id: local
    feeds: [./feeds/a.xml, /srv/feeds/b.xml, "file:///srv/c.xml", "http://127.0.0.1:8080/feed"]
schedules:
  - {topic: local, cron: "@every 10m", slack_channel: C1}
  - {topic: local, cron: "@every 1s", slack_channel: C1}
  - {topic: local, cron: "0 8 * * 1-5", timezone: America/New_York, slack_channel: C1}
`))
	if err != nil {
		t.Fatal(err)
	}
}
