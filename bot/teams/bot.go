// Package teams is the Microsoft Teams front end: a Bot Framework endpoint
// (POST /api/messages) for briefing commands and follow-up questions, the
// Connector REST API for replies and proactive channel posts, Workflows
// webhooks, and the Adaptive Card rendering of a briefing.
//
// A Bot's lifecycle: New, then serve Handler from an http.Server; every
// accepted activity is answered 200 at once and handled in a goroutine the
// Bot owns. Close stops taking activities and waits for that work, which is
// cancelled when Close's context ends. Shut the http.Server down first.
package teams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
	"github.com/briefing-bot/briefing/metrics"
)

// Defaults for empty Options fields.
const (
	DefaultOpenIDMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	// DefaultTokenURL is formatted with the tenant id.
	DefaultTokenURL = "https://login.microsoftonline.com/%s/oauth2/v2.0/token"
	tokenScope      = "https://api.botframework.com/.default"
)

// How much work runs at once: builds are heavy (feeds, an LLM), answers
// lighter. Up to maxWaiting more of each kind wait their turn after their
// activity was acknowledged; beyond that an activity gets 503.
const (
	maxBuilds  = 4
	maxAnswers = 8
	maxWaiting = 100
	// maxActivityBytes bounds an inbound activity; real ones are a few KB.
	maxActivityBytes = 256 << 10
	// httpTimeout bounds one outbound call when Options bring no client.
	httpTimeout = 30 * time.Second
)

// Auth modes: how inbound activities and outbound calls are authenticated.
const (
	// AuthBotFramework checks every activity's Bearer token and sends a
	// client-credentials token with every outbound call: what Teams needs.
	AuthBotFramework = "botframework"
	// AuthNone does neither, for local clients such as the Microsoft 365
	// Agents Playground, which send no token and want none. Only ever
	// serve it on a loopback address.
	AuthNone = "none"
)

// Options configure a Bot. Service, Threads and Events are required, and
// with AuthBotFramework also AppID, AppPassword and TenantID.
type Options struct {
	// Auth is AuthBotFramework (the default when empty) or AuthNone.
	Auth                         string
	AppID, AppPassword, TenantID string
	// ServiceURLs are Connector endpoint prefixes allowed besides
	// Microsoft's (tests, sovereign clouds); see serviceURLs.
	ServiceURLs []string
	// OpenIDMetadataURL is where the inbound tokens' signing keys are
	// found; default DefaultOpenIDMetadataURL.
	OpenIDMetadataURL string
	// TokenURL issues outbound tokens (client credentials); default
	// DefaultTokenURL for TenantID.
	TokenURL string
	Service  briefing.Service
	Threads  briefing.ThreadStore
	Events   briefing.EventLog
	// Setup, Feedback and Admins: as chat.Commands has them; Feedback
	// also records the votes of the cards' story buttons.
	Setup    briefing.ChannelSetup
	Feedback briefing.Feedback
	Admins   []string
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
	// HTTPClient makes every outbound call; default one with a 30 s timeout.
	HTTPClient *http.Client
	Now        func() time.Time
}

// Bot serves one Bot Framework app registration.
type Bot struct {
	opts Options
	log  *slog.Logger
	// auth and tokens are nil with AuthNone.
	auth     *verifier
	tokens   oauth2.TokenSource
	services serviceURLs
	builds   *chat.Queue
	answers  *chat.Queue
	// commands answers the set-up commands (subscribe, list, why, …).
	commands *chat.Commands
	answerer chat.Answerer

	work   context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// New validates opts and returns a Bot; it makes no network call.
func New(opts Options) (*Bot, error) {
	if opts.Auth == "" {
		opts.Auth = AuthBotFramework
	}
	if opts.Auth != AuthBotFramework && opts.Auth != AuthNone {
		return nil, briefing.Errorf(briefing.EINVALID, "teams.auth %q is neither %s nor %s", opts.Auth, AuthBotFramework, AuthNone)
	}
	var missing []string
	for key, v := range map[string]string{"teams.app_id": opts.AppID, "teams.app_password": opts.AppPassword, "teams.tenant_id": opts.TenantID} {
		if strings.TrimSpace(v) == "" && opts.Auth == AuthBotFramework {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, briefing.Errorf(briefing.EINVALID, "%s must be set: the bot's Azure app registration", strings.Join(missing, ", "))
	}
	services, err := newServiceURLs(opts.ServiceURLs, opts.Auth == AuthNone)
	if err != nil {
		return nil, briefing.Errorf(briefing.EINVALID, "%v", err)
	}
	if opts.OpenIDMetadataURL == "" {
		opts.OpenIDMetadataURL = DefaultOpenIDMetadataURL
	}
	if opts.TokenURL == "" {
		opts.TokenURL = fmt.Sprintf(DefaultTokenURL, opts.TenantID)
	}
	for key, v := range map[string]string{"teams.openid_metadata_url": opts.OpenIDMetadataURL, "teams.token_url": opts.TokenURL} {
		if _, err := httpURL(v); err != nil {
			return nil, briefing.Errorf(briefing.EINVALID, "%s: %v", key, err)
		}
	}
	if opts.Service == nil || opts.Threads == nil || opts.Events == nil {
		return nil, errors.New("teams: Options need a Service, Threads and Events")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: httpTimeout}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	creds := clientcredentials.Config{
		ClientID: opts.AppID, ClientSecret: opts.AppPassword, TokenURL: opts.TokenURL,
		Scopes: []string{tokenScope}, AuthStyle: oauth2.AuthStyleInParams,
	}
	// The token source outlives any one request, so it gets its own
	// context, carrying only the HTTP client to fetch tokens with.
	tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, opts.HTTPClient)
	work, cancel := context.WithCancel(context.Background())
	log := opts.Logger.With(slog.String("platform", "teams"))
	b := &Bot{
		opts:     opts,
		log:      log,
		services: services,
		builds:   chat.NewQueue(maxBuilds, maxWaiting, log),
		answers:  chat.NewQueue(maxAnswers, maxWaiting, log),
		answerer: chat.Answerer{Service: opts.Service, Threads: opts.Threads, Now: opts.Now},
		commands: &chat.Commands{Service: opts.Service, Setup: opts.Setup, Feedback: opts.Feedback, Admins: opts.Admins,
			Logger: log, Markup: teamsMarkup},
		work:   work,
		cancel: cancel,
	}
	if opts.Auth == AuthBotFramework {
		b.auth = newVerifier(opts.AppID, opts.OpenIDMetadataURL, opts.HTTPClient, opts.Now)
		b.tokens = creds.TokenSource(tokenCtx)
	}
	return b, nil
}

// spawn runs f in a goroutine the Bot owns, once q has room. It reports
// false when the Bot is closed or q is full, and f will not run. Work that
// Close cancels before it started never starts.
func (b *Bot) spawn(q *chat.Queue, f func(ctx context.Context)) bool {
	// Under mu, so that no goroutine joins wg after Close began waiting.
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.closed && q.Go(b.work, &b.wg, f)
}

// abandonAfter is how long Close waits for cancelled work to return before
// giving up on it, so that work stuck where cancellation does not reach
// (an outbound token fetch) cannot hold up the process's exit.
const abandonAfter = time.Second

// Close stops accepting activities (later ones get 503, which Bot Framework
// retries) and waits for the work in flight; when ctx ends first, it cancels
// that work, waits up to a second for it to stop and returns ctx's error.
func (b *Bot) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	done := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		b.cancel()
		return nil
	case <-ctx.Done():
	}
	b.log.Warn("stopping: cancelling unfinished work")
	b.cancel()
	select {
	case <-done:
	case <-time.After(abandonAfter):
		b.log.Error("stopping: work did not end after cancellation; abandoning it")
	}
	return ctx.Err()
}

// authorize adds the outbound Bearer token, fetched once and reused until
// it is about to expire; with AuthNone there is none.
func (b *Bot) authorize(req *http.Request) error {
	if b.tokens == nil {
		return nil
	}
	tok, err := b.tokens.Token()
	if err != nil {
		return fmt.Errorf("get a Bot Framework token from %s (check teams.app_id, teams.app_password and teams.tenant_id): %w",
			b.opts.TokenURL, err)
	}
	tok.SetAuthHeader(req)
	return nil
}

// connector calls the Connector REST API at serviceURL, which must be an
// allowed one: the bot's token goes nowhere else.
func (b *Bot) connector(ctx context.Context, serviceURL, path string, body, out any) error {
	if err := b.services.check(serviceURL); err != nil {
		return briefing.Errorf(briefing.EINVALID, "teams: %v", err)
	}
	return sendJSON(ctx, b.opts.HTTPClient, http.MethodPost, strings.TrimSuffix(serviceURL, "/")+"/"+path, body, b.authorize, out)
}
