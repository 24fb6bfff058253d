// Command briefing gives teams a daily news briefing in Slack: it collects
// feeds, clusters stories, summarizes them with an LLM (or offline) and
// posts them on schedule, on demand, and answers follow-ups in threads.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	_ "time/tzdata" // schedules name IANA zones; a static image has no zoneinfo

	"github.com/briefing-bot/briefing"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is bad usage of the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// command is one subcommand: its flags and what it runs.
type command struct {
	name, args, help string
	flags            func(fs *flag.FlagSet) func(ctx context.Context, env *Env, args []string) error
}

var commands = []command{
	{"preview", "[TOPIC]", "collect, build one briefing and print it; posts nothing", previewFlags},
	{"run", "", "the daemon: collector, scheduler, Slack socket mode, Teams endpoint, /healthz and /metrics", runFlags},
	{"post", "TOPIC --channel ID", "build and post one briefing now, then exit", postFlags},
	{"ask", "[--topic T] [--briefing ID] QUESTION", "answer a follow-up question about a briefing", askFlags},
	{"collect", "", "fetch every feed once and store new articles", collectFlags},
	{"check", "[--online]", "validate the config (exit 2 on any problem)", checkFlags},
	{"manifest", "", "print the Slack app manifest (YAML)", manifestFlags},
	{"version", "", "print the version", versionFlags},
}

// Env is what every command gets: global flags, output streams, logger.
type Env struct {
	// ConfigPath is --config until a config is loaded, then the file read.
	ConfigPath string
	LogLevel   string
	LogFormat  string
	Stdout     io.Writer
	Stderr     io.Writer
	Logger     *slog.Logger
}

// Main runs the command line and returns the exit code: 0 success,
// 1 runtime failure, 2 bad usage or bad config.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var cmd *command
	for i := range commands {
		if commands[i].name == args[0] {
			cmd = &commands[i]
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "briefing: unknown command %q\n", args[0])
		printUsage(stderr)
		return 2
	}
	env := &Env{Stdout: stdout, Stderr: stderr}
	fs := flag.NewFlagSet("briefing "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&env.ConfigPath, "config", "", "config `file` (default $BRIEFING_CONFIG, else ./config.yaml if present)")
	defaultLevel := "warn"
	if cmd.name == "run" {
		defaultLevel = "info"
	}
	fs.StringVar(&env.LogLevel, "log-level", defaultLevel, "debug, info, warn or error")
	fs.StringVar(&env.LogFormat, "log-format", "text", "text or json")
	run := cmd.flags(fs)
	positional, err := parseInterleaved(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stderr, "usage: briefing %s %s\n  %s\n\nflags:\n", cmd.name, cmd.args, cmd.help)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return 0
	}
	if err == nil {
		env.Logger, err = newLogger(stderr, env.LogLevel, env.LogFormat)
	}
	if err == nil {
		defer func() {
			// A bug must still end in one sentence, not a stack trace; the
			// stack goes to the debug log.
			if r := recover(); r != nil {
				env.Logger.Debug("panic", slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
				fmt.Fprintf(stderr, "briefing %s: internal error: %v (run with --log-level debug for details)\n", cmd.name, r)
				code = 1
			}
		}()
		err = run(ctx, env, positional)
	}
	return exitCode(stderr, cmd.name, err)
}

// parseInterleaved lets flags come before or after positional arguments.
// After "--" everything is positional, so a question may contain "-v".
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		rest := fs.Args()
		// flag consumes the "--" that ends its parsing; without this check
		// the next round would parse what follows it as flags again.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func exitCode(stderr io.Writer, name string, err error) int {
	if err == nil {
		return 0
	}
	var ue *usageError
	var ce *ConfigError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "briefing %s: %s\nRun 'briefing %s -h' for usage.\n", name, ue.msg, name)
		return 2
	case errors.As(err, &ce):
		fmt.Fprintln(stderr, ce.Error())
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "briefing %s: interrupted\n", name)
		return 1
	}
	var be *briefing.Error
	if errors.As(err, &be) {
		fmt.Fprintf(stderr, "briefing %s: %s\n", name, be.Message)
		return 1
	}
	fmt.Fprintf(stderr, "briefing %s: %s\n", name, err)
	return 1
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "briefing: a daily news briefing for Slack and Microsoft Teams")
	fmt.Fprintln(w, "\nusage: briefing COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.help)
	}
	fmt.Fprintln(w, "\nflags for every command: --config FILE, --log-level LEVEL, --log-format text|json")
	fmt.Fprintln(w, "Without a config, `briefing preview` shows a briefing from built-in demo news.")
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q is not one of debug, info, warn, error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q is not text or json", format)
}

func versionFlags(*flag.FlagSet) func(context.Context, *Env, []string) error {
	return func(_ context.Context, env *Env, args []string) error {
		if len(args) > 0 {
			return usagef("version takes no arguments")
		}
		fmt.Fprintf(env.Stdout, "briefing %s\n", buildVersion())
		return nil
	}
}

func buildVersion() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		// `go install …@v1.2.3` records the module version.
		if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

// joinWords turns the remaining arguments into one question.
func joinWords(args []string) string { return strings.TrimSpace(strings.Join(args, " ")) }
