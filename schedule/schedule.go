// Package schedule posts a topic's briefing at cron times, each slot at
// most once, also across a crash and restart.
//
// A slot is one activation of a schedule, keyed by the schedule id and the
// activation time in UTC. Fire claims the slot in the ledger before
// building and records it as posted afterwards; a slot found claimed but
// not posted is checked with the Poster before it is posted again.
//
// robfig/cron never catches up on slots missed while the program was down,
// so Start does: the schedule's latest slot is posted if it is younger
// than the schedule's grace period and was not posted yet, else skipped
// and logged. Only the latest slot is considered, so a long outage posts
// at most one briefing per schedule.
//
// Times follow robfig/cron v3 in the schedule's zone: "0 8 * * 1-5" in
// America/New_York fires at 08:00 New York time in summer and winter. A
// slot inside a spring-forward gap (02:30 on the day clocks jump from
// 02:00 to 03:00) does not fire that day, and a slot in the repeated hour
// of a fall-back day (01:30) fires twice, an hour apart: they are two
// instants, so two slots, and both are posted. @every is the exception:
// robfig counts it from when cron started, which would give a slot a
// different time after every restart, so here it is aligned to multiples
// of its interval since midnight UTC (@every 10m fires at :00, :10, …).
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"golang.org/x/sync/singleflight"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/metrics"
)

// DefaultGrace is how old a missed slot may be and still be posted on
// start, when a schedule sets no grace.
const DefaultGrace = time.Hour

// Schedule posts a topic's briefing at cron times.
type Schedule struct {
	// ID is stable across restarts (e.g. "cloud-0"): slot keys are built
	// from it, so changing it forgets which slots were posted.
	ID    string
	Topic string
	// Spec is a five-field cron spec or a descriptor (@daily, @every 10m),
	// optionally prefixed with CRON_TZ=<zone>, which wins over Location.
	Spec string
	// Location is the zone the spec is read in; nil means UTC.
	Location *time.Location
	// Grace is how old a missed slot may be and still be posted on start;
	// zero means DefaultGrace.
	Grace time.Duration
	// Audience overrides the topic's audience in this schedule's briefings.
	Audience string
	// WhenQuiet is what a destination with nothing new gets: WhenQuietNote
	// (also for "") or WhenQuietSkip.
	WhenQuiet string
	// Destination is the one destination of a schedule set up in chat
	// ("slack:C123"); config schedules leave it to the Poster. Address
	// reaches it beyond its key (a Teams serviceUrl).
	Destination string
	Address     string
}

// What a schedule does for a destination with nothing new.
const (
	// WhenQuietNote posts one line saying so, with a link to the last
	// briefing there.
	WhenQuietNote = "note"
	// WhenQuietSkip posts nothing.
	WhenQuietSkip = "skip"
)

// Poster delivers a scheduled briefing to the schedule's destinations.
type Poster interface {
	// Destinations returns the destination keys ("slack:C123") of s that
	// this process can post to, in a stable order.
	Destinations(s Schedule) []string
	// Post posts b to destination for slot and returns the message's id
	// on its platform (a Slack ts), "" when it has none.
	Post(ctx context.Context, s Schedule, slot briefing.Slot, destination string, b *briefing.Briefing) (messageID string, err error)
	// PostNote posts quiet's one-line message to destination for slot.
	PostNote(ctx context.Context, s Schedule, slot briefing.Slot, destination string, quiet *briefing.Quiet) error
	// FindPosted reports whether an earlier attempt already posted slot
	// (e.g. Slack message metadata found in the channel's recent history),
	// so a crash between posting and recording does not post twice.
	FindPosted(ctx context.Context, s Schedule, slot briefing.Slot) (channel, messageTS string, found bool, err error)
}

// Options configure a Scheduler. Service, Ledger and Poster are required.
type Options struct {
	Schedules []Schedule
	Service   briefing.Service
	Ledger    briefing.Ledger
	Poster    Poster
	// Metrics nil records nothing.
	Metrics *metrics.Metrics
	// Logger nil discards logs.
	Logger *slog.Logger
	// Now is the clock for slot times; nil means time.Now. cron's own
	// timer runs on the real clock.
	Now func() time.Time
}

// Scheduler runs schedules on cron and fires their slots.
type Scheduler struct {
	entries []*entry
	byID    map[string]*entry
	service briefing.Service
	ledger  briefing.Ledger
	poster  Poster
	metrics *metrics.Metrics
	log     *slog.Logger
	now     func() time.Time
	// inflight runs one Fire per slot key at a time in this process;
	// concurrent callers of the same slot wait and share its result.
	inflight singleflight.Group

	mu         sync.Mutex
	cron       *cron.Cron
	jobCtx     context.Context
	cancelJobs context.CancelFunc
	quitSweep  chan struct{}
	sweeping   sync.WaitGroup
}

// entry is a schedule with its parsed spec.
type entry struct {
	sc     Schedule
	sched  cron.Schedule
	log    *slog.Logger
	cronID cron.EntryID // while the scheduler runs
}

// New checks and parses every schedule. Errors are *briefing.Error
// (EINVALID) naming the schedule.
func New(opts Options) (*Scheduler, error) {
	switch {
	case opts.Service == nil:
		return nil, errors.New("new scheduler: no briefing service")
	case opts.Ledger == nil:
		return nil, errors.New("new scheduler: no ledger")
	case opts.Poster == nil:
		return nil, errors.New("new scheduler: no poster")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Scheduler{
		byID:    make(map[string]*entry, len(opts.Schedules)),
		service: opts.Service,
		ledger:  opts.Ledger,
		poster:  opts.Poster,
		metrics: opts.Metrics,
		log:     opts.Logger,
		now:     opts.Now,
	}
	for i, sc := range opts.Schedules {
		e, err := s.newEntry(sc)
		if err != nil {
			if sc.ID == "" {
				return nil, briefing.Errorf(briefing.EINVALID, "schedule %d: %s", i+1, briefing.ErrorMessage(err))
			}
			return nil, briefing.Errorf(briefing.EINVALID, "schedule %q: %s", sc.ID, briefing.ErrorMessage(err))
		}
		s.entries = append(s.entries, e)
		s.byID[sc.ID] = e
	}
	return s, nil
}

func (s *Scheduler) newEntry(sc Schedule) (*entry, error) {
	switch {
	case sc.ID == "":
		return nil, briefing.Errorf(briefing.EINVALID, "the schedule has no id")
	case s.byID[sc.ID] != nil:
		return nil, briefing.Errorf(briefing.EINVALID, "another schedule has the same id")
	case sc.Grace < 0:
		return nil, briefing.Errorf(briefing.EINVALID, "grace %s is negative", sc.Grace)
	case sc.WhenQuiet != "" && sc.WhenQuiet != WhenQuietNote && sc.WhenQuiet != WhenQuietSkip:
		return nil, briefing.Errorf(briefing.EINVALID, "when_quiet %q is not %s or %s", sc.WhenQuiet, WhenQuietNote, WhenQuietSkip)
	}
	if _, ok := s.service.Topic(sc.Topic); !ok {
		return nil, briefing.Errorf(briefing.EINVALID, "unknown topic %q", sc.Topic)
	}
	if sc.Location == nil {
		sc.Location = time.UTC
	}
	if sc.Grace == 0 {
		sc.Grace = DefaultGrace
	}
	sched, err := parse(sc.Spec, sc.Location)
	if err != nil {
		return nil, err
	}
	return &entry{sc: sc, sched: sched, log: s.scheduleLogger(sc)}, nil
}

func (s *Scheduler) scheduleLogger(sc Schedule) *slog.Logger {
	return s.log.With(slog.String("schedule", sc.ID), slog.String("topic", sc.Topic))
}

// Start starts cron and posts the slots missed while the program was down
// (synchronously: they are handled when Start returns). A slot that fails
// is logged and left claimed, for the next start to retry within its
// grace; it does not stop Start. Jobs outlive ctx until Stop, so that Stop
// can let a running post finish.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cron != nil {
		return errors.New("start scheduler: already started")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start scheduler: %w", err)
	}
	// Every schedule carries its own zone (see parse), so the cron's
	// location only matters for its log lines.
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cronLogger{s.log}))
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	for _, e := range s.entries {
		e.cronID = c.Schedule(e.sched, s.cronJob(jobCtx, e))
	}
	// cron runs before the catch-up, which may take a minute building with
	// an LLM: a slot due meanwhile is fired by cron instead of being lost
	// (cron counts from its start and never looks back). A slot both reach
	// is posted once, since Fire runs one slot once.
	c.Start()
	s.cron, s.jobCtx, s.cancelJobs = c, jobCtx, cancel
	for _, e := range s.entries {
		s.catchUp(ctx, e)
	}
	// Swept also without schedules: chat subscriptions may come.
	s.quitSweep = make(chan struct{})
	quit := s.quitSweep
	s.sweeping.Go(func() { s.sweep(jobCtx, quit) })
	s.log.Info("scheduler started", slog.Int("schedules", len(s.entries)))
	return nil
}

// cronJob fires the slot cron woke up for. The job is wrapped per entry,
// not with cron.WithChain, so that a panic or a skipped run is logged
// with the schedule it belongs to.
func (s *Scheduler) cronJob(ctx context.Context, e *entry) cron.Job {
	l := cronLogger{e.log}
	return cron.NewChain(cron.Recover(l), cron.SkipIfStillRunning(l)).Then(cron.FuncJob(func() {
		// cron does not tell a job its planned time; the latest
		// activation is it, even when the job starts late.
		_ = s.Fire(ctx, e.sc, lastActivation(e.sched, s.now())) // Fire logs failures
	}))
}

// catchUp posts e's latest slot if the program missed it less than the
// grace period ago, and first finishes an older slot that an earlier
// attempt claimed but did not record as posted.
func (s *Scheduler) catchUp(ctx context.Context, e *entry) {
	now := s.now()
	last := lastActivation(e.sched, now)
	if last.IsZero() {
		return
	}
	prev, ok, err := s.ledger.LastSlot(e.sc.ID)
	if err != nil {
		e.log.Error("read the schedule's last slot", slog.Any("error", err))
	} else if ok && prev.State == briefing.SlotClaimed && prev.Time.Before(last) && now.Sub(prev.Time) < e.sc.Grace {
		e.log.Info("finishing an unfinished slot", slog.Time("slot_time", prev.Time))
		s.fireRecovering(ctx, e, prev.Time)
	}
	key := SlotKey(e.sc.ID, last)
	slot, ok, err := s.ledger.Slot(key)
	if err != nil {
		e.log.Error("read the latest slot", slog.String("slot", key), slog.Any("error", err))
		return
	}
	if ok && slot.State == briefing.SlotPosted {
		return
	}
	age := now.Sub(last)
	if age >= e.sc.Grace {
		e.log.Warn("skipped missed slot", slog.Time("slot_time", last),
			slog.Duration("age", age), slog.Duration("grace", e.sc.Grace))
		return
	}
	e.log.Info("catching up missed slot", slog.Time("slot_time", last), slog.Duration("age", age))
	s.fireRecovering(ctx, e, last)
}

// sweep retries, while the scheduler runs, the slots within their grace
// that an attempt claimed and did not finish: one that failed here, or
// one whose process (a replica) died, once its lease ran out.
// Its fires run on ctx, like cron's jobs; quit stops it between them.
func (s *Scheduler) sweep(ctx context.Context, quit <-chan struct{}) {
	every := maxSweepInterval
	for _, e := range s.current() {
		every = min(every, slotLease(e.sc)/2)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		for _, e := range s.current() {
			s.retryUnfinished(ctx, quit, e)
		}
	}
}

// maxSweepInterval bounds how long a failed slot waits for its retry.
const maxSweepInterval = time.Minute

// retryUnfinished fires e's unfinished slots within grace whose lease ran
// out.
func (s *Scheduler) retryUnfinished(ctx context.Context, quit <-chan struct{}, e *entry) {
	now := s.now()
	slots, err := s.ledger.UnfinishedSlots(e.sc.ID, now.Add(-e.sc.Grace))
	if err != nil {
		e.log.Error("read unfinished slots", slog.Any("error", err))
		return
	}
	for _, slot := range slots {
		select {
		case <-quit:
			return
		default:
		}
		if slot.LeaseUntil.After(now) || slot.LeaseUntil.IsZero() {
			continue
		}
		e.log.Info("retrying an unfinished slot", slog.Time("slot_time", slot.Time), slog.Int("attempts", slot.Attempts))
		s.fireRecovering(ctx, e, slot.Time)
	}
}

// fireRecovering fires a slot outside cron with cron's own panic
// recovery, so that a panicking build at start is logged like one at a
// cron time and the other schedules still start.
func (s *Scheduler) fireRecovering(ctx context.Context, e *entry, slotTime time.Time) {
	cron.Recover(cronLogger{e.log})(cron.FuncJob(func() {
		_ = s.Fire(ctx, e.sc, slotTime) // Fire logs failures
	})).Run()
}

// Stop stops cron and waits for running jobs until ctx is done; then it
// cancels them and returns ctx's error. A job cancelled mid-post leaves
// its slot claimed, and the next start checks it with the Poster.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	c, cancel, quit := s.cron, s.cancelJobs, s.quitSweep
	s.cron, s.jobCtx, s.cancelJobs = nil, nil, nil
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	close(quit)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		<-c.Stop().Done()
		s.sweeping.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
		s.log.Info("scheduler stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop scheduler: jobs still running: %w", ctx.Err())
	}
}

// cronLogger passes robfig/cron's log lines to slog. cron reports every
// wake-up at Info, which is routine here (Debug); a skipped run loses a
// slot, so it is a warning.
type cronLogger struct{ log *slog.Logger }

// Info logs a routine cron event.
func (l cronLogger) Info(msg string, keysAndValues ...any) {
	if msg == "skip" {
		l.log.Warn("skipped a slot: the schedule's previous run is still going")
		return
	}
	l.log.Debug("cron "+msg, keysAndValues...)
}

// Error logs a cron failure, such as a recovered panic and its stack.
func (l cronLogger) Error(err error, msg string, keysAndValues ...any) {
	l.log.Error("cron "+msg, append([]any{slog.Any("error", err)}, keysAndValues...)...)
}
