package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.yaml.in/yaml/v3"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/teams"
	"github.com/briefing-bot/briefing/schedule"
	"github.com/briefing-bot/briefing/summarize"
)

// Config is the YAML configuration file. Its keys are part of the
// external contract: rename nothing.
type Config struct {
	Store     StoreConfig      `yaml:"store"`
	Collect   CollectConfig    `yaml:"collect"`
	LLM       LLMConfig        `yaml:"llm"`
	Slack     SlackConfig      `yaml:"slack"`
	Teams     TeamsConfig      `yaml:"teams"`
	Topics    []TopicConfig    `yaml:"topics"`
	Schedules []ScheduleConfig `yaml:"schedules"`
	Server    ServerConfig     `yaml:"server"`
	Chat      ChatConfig       `yaml:"chat"`
}

type StoreConfig struct {
	// Driver is "bbolt" (one file, one process) or "postgres" (any
	// number of replicas on one database).
	Driver    string   `yaml:"driver"`
	Path      string   `yaml:"path"`
	DSN       string   `yaml:"dsn"`
	Retention Duration `yaml:"retention"`
}

// The store drivers of store.driver.
const (
	driverBbolt    = "bbolt"
	driverPostgres = "postgres"
)

type CollectConfig struct {
	Interval       Duration `yaml:"interval"`
	Timeout        Duration `yaml:"timeout"`
	ConnectTimeout Duration `yaml:"connect_timeout"`
	MaxBodyBytes   int64    `yaml:"max_body_bytes"`
	Concurrency    int      `yaml:"concurrency"`
	UserAgent      string   `yaml:"user_agent"`
	// AllowPrivatePages lets full-text fetches reach private addresses,
	// for intranet news; article links come from feeds, so it is off.
	AllowPrivatePages bool `yaml:"allow_private_pages"`
}

type LLMConfig struct {
	Providers      []ProviderConfig `yaml:"providers"`
	MaxInputTokens int              `yaml:"max_input_tokens"`
}

type ProviderConfig struct {
	Name            string   `yaml:"name"`
	Kind            string   `yaml:"kind"`
	BaseURL         string   `yaml:"base_url"`
	APIKey          string   `yaml:"api_key"`
	Model           string   `yaml:"model"`
	Deployment      string   `yaml:"deployment"`
	APIVersion      string   `yaml:"api_version"`
	Timeout         Duration `yaml:"timeout"`
	MaxOutputTokens int      `yaml:"max_output_tokens"`
	Temperature     *float64 `yaml:"temperature"`
	JSONSchema      *bool    `yaml:"json_schema"`
	MaxRetries      *int     `yaml:"max_retries"`
}

type SlackConfig struct {
	BotToken string `yaml:"bot_token"`
	AppToken string `yaml:"app_token"`
	APIURL   string `yaml:"api_url"`
	AppName  string `yaml:"app_name"`
}

// Enabled reports whether Slack is configured at all.
func (s SlackConfig) Enabled() bool { return s.BotToken != "" || s.AppToken != "" }

// TeamsConfig is the Bot Framework endpoint and app registration.
type TeamsConfig struct {
	AppID       string `yaml:"app_id"`
	AppPassword string `yaml:"app_password"`
	TenantID    string `yaml:"tenant_id"`
	Listen      string `yaml:"listen"`
	// Auth is teams.AuthBotFramework (default) or teams.AuthNone, which
	// only a loopback Listen may use.
	Auth string `yaml:"auth"`
	// ServiceURLs are more allowed Connector endpoint prefixes.
	ServiceURLs       []string `yaml:"service_urls"`
	OpenIDMetadataURL string   `yaml:"openid_metadata_url"`
	TokenURL          string   `yaml:"token_url"`
}

// Enabled reports whether the Teams endpoint is configured: an app
// registration, or the local mode that needs none.
func (t TeamsConfig) Enabled() bool { return t.AppID != "" || t.Auth == teams.AuthNone }

type TopicConfig struct {
	ID         string   `yaml:"id"`
	Name       string   `yaml:"name"`
	Feeds      []string `yaml:"feeds"`
	Keywords   []string `yaml:"keywords"`
	Window     Duration `yaml:"window"`
	MaxStories *int     `yaml:"max_stories"`
	Audience   string   `yaml:"audience"`
	FullText   bool     `yaml:"full_text"`
	Language   string   `yaml:"language"`
}

type ScheduleConfig struct {
	ID              string   `yaml:"id"`
	Topic           string   `yaml:"topic"`
	Cron            string   `yaml:"cron"`
	Timezone        string   `yaml:"timezone"`
	Grace           Duration `yaml:"grace"`
	Audience        string   `yaml:"audience"`
	SlackChannel    string   `yaml:"slack_channel"`
	TeamsChannel    string   `yaml:"teams_channel"`
	TeamsServiceURL string   `yaml:"teams_service_url"`
	TeamsWebhook    string   `yaml:"teams_webhook"`
	WhenQuiet       string   `yaml:"when_quiet"`
}

type ServerConfig struct {
	Listen string `yaml:"listen"`
}

// ChatConfig is how channels are set up from chat.
type ChatConfig struct {
	// Admins are the Slack user ids (U…) and Teams AAD object ids who
	// alone may change a channel's set-up; empty lets anyone in it.
	Admins []string `yaml:"admins"`
}

// Duration is a time.Duration written as Go writes it: "30s", "24h".
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("%q is not a duration like 30s, 15m or 24h", n.Value)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) D() time.Duration { return time.Duration(d) }

// Problem is one thing wrong with a config, at a key path.
type Problem struct {
	Path    string
	Line    int
	Message string
}

// ConfigError lists every problem found in a config file.
type ConfigError struct {
	File     string
	Problems []Problem
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
		if p.Path != "" {
			b.WriteString(p.Path + ": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// LoadConfig reads, expands, checks and validates a config file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig is LoadConfig on bytes; name is used in messages.
func ParseConfig(name string, data []byte) (*Config, error) {
	var doc yaml.Node
	err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc)
	if errors.Is(err, io.EOF) || (err == nil && len(doc.Content) == 0) {
		return nil, &ConfigError{File: name, Problems: []Problem{{Message: "the file is empty"}}}
	}
	if err != nil {
		return nil, &ConfigError{File: name, Problems: []Problem{{Message: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	root := doc.Content[0]
	expandEnv(root)
	c := &checker{lines: map[string]int{}}
	c.walk(root, reflect.TypeOf(Config{}), "")
	var cfg Config
	if err := root.Decode(&cfg); err != nil {
		// Only a value the checker already reported can fail to decode.
		if len(c.problems) == 0 {
			c.problems = append(c.problems, Problem{Message: err.Error()})
		}
		return nil, &ConfigError{File: name, Problems: c.problems}
	}
	cfg.applyDefaults()
	if problems := append(c.problems, cfg.validate(c.lines)...); len(problems) > 0 {
		return nil, &ConfigError{File: name, Problems: problems}
	}
	return &cfg, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} in every scalar value. Keys are left alone,
// and a bare "$" stays as written so that values may contain one.
func expandEnv(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			return os.Getenv(ref[2 : len(ref)-1])
		})
		return
	}
	for i, child := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			continue
		}
		expandEnv(child)
	}
}

// checker walks the YAML tree against the Go types before decoding, so that
// unknown keys and ill-typed values are reported with their key paths and
// lines, all of them at once rather than the first one only.
type checker struct {
	problems []Problem
	lines    map[string]int
}

func (c *checker) add(path string, line int, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
}

var durationType = reflect.TypeOf(Duration(0))

func (c *checker) walk(n *yaml.Node, t reflect.Type, path string) {
	c.lines[path] = n.Line
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Tag == "!!null" {
		return
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		if _, err := time.ParseDuration(n.Value); n.Kind != yaml.ScalarNode || err != nil {
			c.add(path, n.Line, "%q is not a duration like 30s, 15m or 24h", n.Value)
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.add(path, n.Line, "must be a mapping of keys")
			return
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			fields[strings.Split(f.Tag.Get("yaml"), ",")[0]] = f.Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			ft, ok := fields[key.Value]
			if !ok {
				c.add(join(path, key.Value), key.Line, "unknown key (known keys: %s)", knownKeys(fields))
				continue
			}
			c.walk(val, ft, join(path, key.Value))
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.add(path, n.Line, "must be a list")
			return
		}
		for i, item := range n.Content {
			c.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		if n.Kind != yaml.ScalarNode {
			c.add(path, n.Line, "must be a single value")
			return
		}
		// Decoding the value alone accepts exactly what the decoder will
		// (0x10 as a number, "1" not as a bool) and names the key.
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			c.add(path, n.Line, "%q is not a %s", n.Value, kindName(t.Kind()))
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func knownKeys(fields map[string]reflect.Type) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int64:
		return "whole number"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "true or false"
	}
	return k.String()
}

const (
	defaultStorePath   = "./data/briefing.db"
	defaultRetention   = 30 * 24 * time.Hour
	defaultWindow      = 24 * time.Hour
	defaultMaxStories  = 5
	defaultGrace       = time.Hour
	defaultListen      = "127.0.0.1:9090"
	defaultInterval    = 15 * time.Minute
	defaultTeamsListen = ":3978"
	// defaultLocalTeamsListen serves teams.auth none: loopback only.
	defaultLocalTeamsListen = "127.0.0.1:3978"
)

func (cfg *Config) applyDefaults() {
	if cfg.Store.Driver == "" {
		cfg.Store.Driver = driverBbolt
	}
	if cfg.Store.Path == "" {
		cfg.Store.Path = defaultStorePath
	}
	if cfg.Store.Retention == 0 {
		cfg.Store.Retention = Duration(defaultRetention)
	}
	if cfg.Collect.Interval == 0 {
		cfg.Collect.Interval = Duration(defaultInterval)
	}
	if cfg.Server.Listen == "" {
		cfg.Server.Listen = defaultListen
	}
	if cfg.Teams.Auth == "" {
		cfg.Teams.Auth = teams.AuthBotFramework
	}
	if cfg.Teams.Enabled() && cfg.Teams.Listen == "" {
		cfg.Teams.Listen = defaultTeamsListen
		if cfg.Teams.Auth == teams.AuthNone {
			cfg.Teams.Listen = defaultLocalTeamsListen
		}
	}
	if cfg.Slack.AppName == "" {
		cfg.Slack.AppName = "Briefing"
	}
	if cfg.Slack.APIURL != "" && !strings.HasSuffix(cfg.Slack.APIURL, "/") {
		// slack-go joins its base URL and method names by concatenation.
		cfg.Slack.APIURL += "/"
	}
	for i := range cfg.Topics {
		t := &cfg.Topics[i]
		if t.Name == "" {
			t.Name = t.ID
		}
		if t.Window == 0 {
			t.Window = Duration(defaultWindow)
		}
		if t.MaxStories == nil {
			n := defaultMaxStories
			t.MaxStories = &n
		}
		if t.Language == "" {
			t.Language = summarize.DefaultLanguage
		}
	}
	for i := range cfg.Schedules {
		s := &cfg.Schedules[i]
		if s.Timezone == "" {
			s.Timezone = "UTC"
		}
		if s.Grace == 0 {
			s.Grace = Duration(defaultGrace)
		}
		if s.WhenQuiet == "" {
			s.WhenQuiet = schedule.WhenQuietNote
		}
		if s.ID == "" {
			s.ID = fmt.Sprintf("%s-%d", s.Topic, i)
		}
	}
	for i := range cfg.LLM.Providers {
		p := &cfg.LLM.Providers[i]
		if p.Name == "" {
			p.Name = fmt.Sprintf("%s-%d", p.Kind, i)
		}
		if p.Kind == "openai" && p.BaseURL == "" {
			p.BaseURL = "https://api.openai.com/v1"
		}
	}
}

var (
	topicIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
)

// validate returns every semantic problem, each at its key path.
func (cfg *Config) validate(lines map[string]int) []Problem {
	var problems []Problem
	add := func(path, format string, args ...any) {
		problems = append(problems, Problem{Path: path, Line: lines[path], Message: fmt.Sprintf(format, args...)})
	}
	if cfg.Store.Retention < 0 {
		add("store.retention", "must be positive")
	}
	switch cfg.Store.Driver {
	case driverBbolt:
		if cfg.Store.DSN != "" {
			add("store.dsn", "is set, but store.driver is bbolt; set store.driver: postgres to use the database")
		}
	case driverPostgres:
		if cfg.Store.DSN == "" {
			add("store.dsn", "is required with store.driver postgres (e.g. postgres://briefing@db:5432/briefing, or ${DATABASE_URL})")
		} else if _, err := pgconn.ParseConfig(cfg.Store.DSN); err != nil {
			add("store.dsn", "is not a PostgreSQL connection string: %v", err)
		}
	default:
		add("store.driver", "%q is not one of bbolt, postgres", cfg.Store.Driver)
	}
	for i, id := range cfg.Chat.Admins {
		if id == "" || strings.ContainsAny(id, " \t\n<>@") {
			add(fmt.Sprintf("chat.admins[%d]", i), "%q is not a Slack user id (U…) or a Teams AAD object id", id)
		}
	}
	if cfg.Collect.Concurrency < 0 {
		add("collect.concurrency", "must not be negative")
	}
	if cfg.Collect.MaxBodyBytes < 0 {
		add("collect.max_body_bytes", "must not be negative")
	}
	for _, k := range []struct {
		path string
		d    Duration
	}{{"collect.interval", cfg.Collect.Interval}, {"collect.timeout", cfg.Collect.Timeout}, {"collect.connect_timeout", cfg.Collect.ConnectTimeout}} {
		if k.d < 0 {
			add(k.path, "must be positive")
		}
	}

	if len(cfg.Topics) == 0 {
		add("topics", "list at least one topic")
	}
	topics := map[string]bool{}
	for i, t := range cfg.Topics {
		p := fmt.Sprintf("topics[%d]", i)
		switch {
		case t.ID == "":
			add(p+".id", "is required")
		case !topicIDPattern.MatchString(t.ID):
			add(p+".id", "%q must be lower-case letters, digits, '-' or '_' (it is typed as /briefing %s)", t.ID, t.ID)
		case topics[t.ID]:
			add(p+".id", "%q is used by another topic", t.ID)
		}
		topics[t.ID] = true
		if len(t.Feeds) == 0 {
			add(p+".feeds", "list at least one feed")
		}
		for j, f := range t.Feeds {
			if msg := checkFeedURL(f); msg != "" {
				add(fmt.Sprintf("%s.feeds[%d]", p, j), "%s", msg)
			}
		}
		if t.Window <= 0 {
			add(p+".window", "must be positive")
		}
		if *t.MaxStories < 0 {
			add(p+".max_stories", "must not be negative (0 means all stories)")
		}
		if !summarize.KnownLanguage(t.Language) {
			add(p+".language", "%q is not an ISO 639-1 language code such as en, de or pt", t.Language)
		}
	}

	for i, s := range cfg.Schedules {
		p := fmt.Sprintf("schedules[%d]", i)
		if !topics[s.Topic] {
			add(p+".topic", "%q is not a topic id (known: %s)", s.Topic, strings.Join(topicIDs(cfg.Topics), ", "))
		}
		if s.Cron == "" {
			add(p+".cron", "is required")
		} else if err := schedule.Validate(s.Cron); err != nil {
			add(p+".cron", "%s", briefing.ErrorMessage(err))
		}
		if _, err := time.LoadLocation(s.Timezone); err != nil {
			add(p+".timezone", "%q is not an IANA time zone like Europe/Paris", s.Timezone)
		}
		if s.Grace < 0 {
			add(p+".grace", "must not be negative")
		}
		if s.WhenQuiet != schedule.WhenQuietNote && s.WhenQuiet != schedule.WhenQuietSkip {
			add(p+".when_quiet", "%q is not %s or %s", s.WhenQuiet, schedule.WhenQuietNote, schedule.WhenQuietSkip)
		}
		if s.SlackChannel == "" && s.TeamsChannel == "" && s.TeamsWebhook == "" {
			add(p, "names no destination: set slack_channel (or teams_channel / teams_webhook)")
		}
		if s.TeamsChannel != "" {
			if msg := checkHTTPURL(s.TeamsServiceURL); msg != "" {
				add(p+".teams_service_url", "is required with teams_channel: the serviceUrl of the team's conversations (%s)", msg)
			} else if err := teams.CheckServiceURL(s.TeamsServiceURL, cfg.Teams.ServiceURLs, cfg.Teams.Auth == teams.AuthNone); err != nil {
				add(p+".teams_service_url", "%v; add its prefix to teams.service_urls if it is yours", err)
			}
		}
		if s.TeamsWebhook != "" {
			if msg := checkHTTPURL(s.TeamsWebhook); msg != "" {
				add(p+".teams_webhook", "%s", msg)
			}
		}
	}

	if t := cfg.Slack.BotToken; t != "" && !strings.HasPrefix(t, "xoxb-") {
		add("slack.bot_token", "must be a bot token starting with xoxb-")
	}
	if t := cfg.Slack.AppToken; t != "" && !strings.HasPrefix(t, "xapp-") {
		add("slack.app_token", "must be an app-level token starting with xapp- (with the connections:write scope)")
	}
	if u := cfg.Slack.APIURL; u != "" {
		if msg := checkHTTPURL(u); msg != "" {
			add("slack.api_url", "%s", msg)
		}
	}

	names := map[string]bool{}
	for i, pr := range cfg.LLM.Providers {
		p := fmt.Sprintf("llm.providers[%d]", i)
		if names[pr.Name] {
			add(p+".name", "%q is used by another provider", pr.Name)
		}
		names[pr.Name] = true
		switch pr.Kind {
		case "openai", "compatible":
			if pr.BaseURL == "" {
				add(p+".base_url", "is required for kind %s", pr.Kind)
			}
		case "azure":
			if pr.BaseURL == "" {
				add(p+".base_url", "is required for kind azure: the resource endpoint, https://NAME.openai.azure.com/")
			}
			if pr.Deployment == "" {
				add(p+".deployment", "is required for kind azure")
			}
		default:
			add(p+".kind", "%q is not one of openai, azure, compatible", pr.Kind)
		}
		if pr.BaseURL != "" {
			if msg := checkHTTPURL(pr.BaseURL); msg != "" {
				add(p+".base_url", "%s", msg)
			}
		}
		if pr.Model == "" && pr.Kind != "azure" {
			add(p+".model", "is required")
		}
		if pr.Timeout < 0 {
			add(p+".timeout", "must be positive")
		}
		if pr.MaxOutputTokens < 0 {
			add(p+".max_output_tokens", "must not be negative")
		}
		if pr.Temperature != nil && (*pr.Temperature < 0 || *pr.Temperature > 2) {
			add(p+".temperature", "must be between 0 and 2")
		}
		if pr.MaxRetries != nil && *pr.MaxRetries < 0 {
			add(p+".max_retries", "must not be negative")
		}
	}
	if cfg.LLM.MaxInputTokens < 0 {
		add("llm.max_input_tokens", "must not be negative")
	}

	if _, _, err := net.SplitHostPort(cfg.Server.Listen); err != nil {
		add("server.listen", "%q is not a host:port address", cfg.Server.Listen)
	}
	if t := cfg.Teams; t.AppID != "" && t.Auth != teams.AuthNone {
		if t.AppPassword == "" {
			add("teams.app_password", "is required with teams.app_id")
		}
		if t.TenantID == "" {
			add("teams.tenant_id", "is required with teams.app_id: the bot's Entra tenant")
		}
		for _, u := range []struct{ path, url string }{{"teams.openid_metadata_url", t.OpenIDMetadataURL}, {"teams.token_url", t.TokenURL}} {
			if u.url != "" {
				if msg := checkHTTPURL(u.url); msg != "" {
					add(u.path, "%s", msg)
				}
			}
		}
	}
	if l := cfg.Teams.Listen; l != "" {
		if _, _, err := net.SplitHostPort(l); err != nil {
			add("teams.listen", "%q is not a host:port address", l)
		}
	}
	switch cfg.Teams.Auth {
	case teams.AuthBotFramework:
	case teams.AuthNone:
		if !teams.IsLoopbackListen(cfg.Teams.Listen) {
			add("teams.auth", "none turns off every token check, so teams.listen must be a loopback address such as 127.0.0.1:3978, not %q", cfg.Teams.Listen)
		}
	default:
		add("teams.auth", "%q is neither %s nor %s", cfg.Teams.Auth, teams.AuthBotFramework, teams.AuthNone)
	}
	for i, u := range cfg.Teams.ServiceURLs {
		if msg := checkHTTPURL(u); msg != "" {
			add(fmt.Sprintf("teams.service_urls[%d]", i), "%s", msg)
		}
	}
	return problems
}

// checkFeedURL accepts http(s) URLs, file:// URLs and local paths.
func checkFeedURL(raw string) string {
	if raw == "" {
		return "is empty"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || (len(u.Scheme) == 1 && len(raw) > 1 && raw[1] == ':') {
		return "" // a local path
	}
	if u.Scheme == "file" {
		return ""
	}
	return checkHTTPURL(raw)
}

func checkHTTPURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not an http(s) URL", raw)
	}
	return ""
}

func topicIDs(topics []TopicConfig) []string {
	ids := make([]string, len(topics))
	for i, t := range topics {
		ids[i] = t.ID
	}
	return ids
}

// Warnings are facts about a valid config that the operator should hear.
func (cfg *Config) Warnings() []string {
	var w []string
	usesSlack, usesTeams := false, false
	for _, s := range cfg.Schedules {
		usesSlack = usesSlack || s.SlackChannel != ""
		usesTeams = usesTeams || s.TeamsChannel != ""
	}
	if usesSlack && cfg.Slack.BotToken == "" {
		w = append(w, "schedules post to Slack but slack.bot_token is empty: set SLACK_BOT_TOKEN before `briefing run`")
	}
	if cfg.Slack.BotToken != "" && cfg.Slack.AppToken == "" {
		w = append(w, "slack.app_token is empty: `briefing run` needs it for socket mode; `briefing post` works without it")
	}
	if usesTeams && !cfg.Teams.Enabled() {
		w = append(w, "schedules post to Teams channels but teams.app_id is empty: set TEAMS_APP_ID before `briefing run`")
	}
	keyed := 0
	for _, p := range cfg.LLM.Providers {
		if p.APIKey != "" {
			keyed++
		}
	}
	if keyed == 0 {
		w = append(w, "no LLM provider has an api_key: briefings use the offline summarizer")
	}
	return w
}
