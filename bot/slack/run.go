package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

// maxFrame caps one socket-mode frame. Slack's envelopes are a few KB (a
// message is at most 40,000 characters); a larger frame closes the
// connection, which reconnects, rather than be read into memory whole.
const maxFrame = 1 << 20

// shutdownGrace is how long Run lets in-flight work finish after its
// context ends, before cancelling it.
const shutdownGrace = 5 * time.Second

// identityRetryMax caps the wait between auth.test attempts while Slack
// cannot be reached at start.
const identityRetryMax = 30 * time.Second

// Run serves socket mode until ctx is done; then it closes the connection,
// lets in-flight work finish for a few seconds, cancels what remains, and
// returns nil. It returns an error when Slack refuses a token. A Bot runs
// one Run at a time.
func (b *Bot) Run(ctx context.Context) error {
	if b.opts.AppToken == "" {
		return invalidf("slack.app_token is empty; socket mode needs an app-level token (xapp-…) with connections:write")
	}
	if b.opts.Service == nil || b.opts.Threads == nil || b.opts.Jobs == nil {
		return errors.New("slack: Run needs a Service, Threads and Jobs")
	}
	if err := b.awaitIdentity(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	client := socketmode.New(b.api, socketmode.OptionLog(slackLog(b.log)), socketmode.OptionDebug(debugging(b.log)),
		socketmode.OptionReadLimit(maxFrame))
	connCtx, closeConn := context.WithCancel(ctx)
	defer closeConn()
	connDone := make(chan error, 1)
	go func() { connDone <- client.RunContext(connCtx) }()

	// Work outlives ctx by up to shutdownGrace, so a briefing being posted
	// when the process is told to stop still gets posted.
	work, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	s := &session{bot: b, client: client, work: work}
	resumeCtx, stopResuming := context.WithCancel(ctx)
	defer stopResuming()
	s.wg.Go(func() { s.resume(resumeCtx) })

	var connErr error
	connected := true
	for connected {
		select {
		case <-ctx.Done():
			connected = false
		case connErr = <-connDone:
			connected = false
			connDone = nil
		case evt := <-client.Events:
			s.dispatch(ctx, time.Now(), evt)
		}
	}
	closeConn()
	b.connected.Store(false)
	stopResuming()
	if connDone != nil {
		<-connDone
	}
	s.finish(abandon)
	if ctx.Err() != nil || errors.Is(connErr, context.Canceled) {
		return nil
	}
	return authFailure("slack.app_token", "apps.connections.open", b.endpoint(), connErr)
}

// awaitIdentity calls Check until it succeeds, retrying while Slack cannot
// be reached; a refused token ends Run at once.
func (b *Bot) awaitIdentity(ctx context.Context) error {
	wait := time.Second
	for {
		_, _, err := b.identity(ctx)
		if err == nil || briefing.ErrorCode(err) == briefing.EINVALID || ctx.Err() != nil {
			return err
		}
		b.log.Warn("slack unavailable; retrying", slog.Duration("in", wait), slog.Any("error", err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, identityRetryMax)
	}
}

// session is one Run: its socket-mode client and the work it started.
type session struct {
	bot    *Bot
	client *socketmode.Client
	work   context.Context
	wg     sync.WaitGroup
}

// spawn runs f in its own goroutine once q has room, and reports false
// when q is full. Work that has not started when it is abandoned at
// shutdown never starts.
func (s *session) spawn(q *chat.Queue, f func(ctx context.Context)) bool {
	return q.Go(s.work, &s.wg, f)
}

// finish waits for the work in flight, cancelling it after shutdownGrace.
func (s *session) finish(abandon context.CancelFunc) {
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-time.After(shutdownGrace):
	}
	s.bot.log.Warn("stopping: cancelling unfinished work", slog.Duration("after", shutdownGrace))
	abandon()
	select {
	case <-done:
	case <-time.After(time.Second):
		s.bot.log.Error("stopping: work did not end after cancellation; abandoning it")
	}
}

// ack acknowledges an envelope, with payload when the envelope accepts one.
// It runs before any slow work: Slack retries envelopes not acked in 3 s.
func (s *session) ack(ctx context.Context, received time.Time, envelopeID string, payload any) {
	err := s.client.AckCtx(ctx, envelopeID, payload)
	if err != nil && payload != nil {
		// A payload over Slack's 20 KB limit: ack bare so Slack does not retry.
		s.bot.log.Warn("ack payload refused; acking without it", slog.String("envelope_id", envelopeID), slog.Any("error", err))
		err = s.client.AckCtx(ctx, envelopeID, nil)
	}
	if err != nil {
		s.bot.log.Warn("ack failed", slog.String("envelope_id", envelopeID), slog.Any("error", err))
		return
	}
	s.bot.opts.Metrics.Acked(time.Since(received))
}

func (s *session) dispatch(ctx context.Context, received time.Time, evt socketmode.Event) {
	log := s.bot.log
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		s.bot.connected.Store(false)
		log.Debug("connecting to slack socket mode")
	case socketmode.EventTypeConnected:
		s.bot.connected.Store(true)
		log.Info("connected to slack socket mode")
	case socketmode.EventTypeDisconnect:
		s.bot.connected.Store(false)
	case socketmode.EventTypeConnectionError:
		s.bot.connected.Store(false)
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			log.Warn("slack socket mode connection failed; retrying", slog.Duration("in", e.Backoff), slog.Any("error", e.ErrorObj))
		}
	case socketmode.EventTypeInvalidAuth:
		log.Error("slack refused the socket mode connection")
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		log.Warn("slack socket mode error", slog.String("type", string(evt.Type)), slog.Any("data", evt.Data))
	case socketmode.EventTypeErrorBadMessage:
		s.badMessage(ctx, received, evt)
	case socketmode.EventTypeSlashCommand:
		cmd, _ := evt.Data.(slack.SlashCommand)
		s.slashCommand(ctx, received, evt.Request, cmd)
	case socketmode.EventTypeInteractive:
		s.ack(ctx, received, evt.Request.EnvelopeID, nil)
		if cb, ok := evt.Data.(slack.InteractionCallback); ok {
			s.interactive(ctx, cb)
		}
	case socketmode.EventTypeEventsAPI:
		api, _ := evt.Data.(slackevents.EventsAPIEvent)
		s.event(ctx, received, evt.Request, api)
	default:
		// Interactive payloads and anything newer: nothing to do, but an
		// unacked envelope would come back.
		if evt.Request != nil && evt.Request.EnvelopeID != "" {
			s.ack(ctx, received, evt.Request.EnvelopeID, nil)
		}
	}
}

// badMessage acks an envelope slack-go could not parse (an event type it
// does not know), so that Slack does not deliver it again.
func (s *session) badMessage(ctx context.Context, received time.Time, evt socketmode.Event) {
	bad, ok := evt.Data.(*socketmode.ErrorBadMessage)
	if !ok {
		return
	}
	var envelope struct {
		EnvelopeID string `json:"envelope_id"`
	}
	if json.Unmarshal(bad.Message, &envelope) == nil && envelope.EnvelopeID != "" {
		s.ack(ctx, received, envelope.EnvelopeID, nil)
	}
	s.bot.log.Debug("slack envelope not understood", slog.String("envelope_id", envelope.EnvelopeID),
		slog.Any("error", bad.Cause))
}
