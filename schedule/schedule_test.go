package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/schedule"
	"github.com/briefing-bot/briefing/store"
)

// waitTimeout bounds every wait for an event, so a broken scheduler fails
// the test instead of hanging it.
const waitTimeout = 10 * time.Second

// fakeService stands for the engine: it builds numbered briefings for its
// topics and records what it was asked.
type fakeService struct {
	mu     sync.Mutex
	builds int
	marked []string
	// audiences holds each Build's BuildOptions.Audience.
	audiences []string
	buildErr  error
	panics    bool
	// release, when set, holds every Build until it is closed or its
	// context is done; started gets a value as each Build begins.
	release chan struct{}
	started chan struct{}
	// posted, when set, gets the id of each briefing marked posted: the
	// last step of Fire.
	posted chan string
}

func (f *fakeService) Topics() []briefing.Topic {
	return []briefing.Topic{{ID: "cloud", Name: "Cloud"}}
}

func (f *fakeService) Topic(id string) (briefing.Topic, bool) {
	for _, t := range f.Topics() {
		if t.ID == id {
			return t, true
		}
	}
	return briefing.Topic{}, false
}

func (f *fakeService) Build(ctx context.Context, topicID string, opts briefing.BuildOptions) (*briefing.Briefing, error) {
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panics {
		panic("summarizer blew up")
	}
	if f.buildErr != nil {
		return nil, f.buildErr
	}
	f.builds++
	f.audiences = append(f.audiences, opts.Audience)
	return &briefing.Briefing{ID: fmt.Sprintf("%s-%d", topicID, f.builds), Topic: topicID, Headline: "News"}, nil
}

func (f *fakeService) MarkPosted(_ context.Context, b *briefing.Briefing, _ briefing.Post) error {
	f.mu.Lock()
	f.marked = append(f.marked, b.ID)
	f.mu.Unlock()
	if f.posted != nil {
		f.posted <- b.ID
	}
	return nil
}

func (f *fakeService) Briefing(context.Context, string) (*briefing.Briefing, error) {
	return nil, briefing.Errorf(briefing.ENOTFOUND, "no briefings here")
}

func (f *fakeService) Answer(context.Context, briefing.Question, func(string)) (briefing.Answer, error) {
	return briefing.Answer{}, briefing.Errorf(briefing.ENOTFOUND, "no answers here")
}

func (f *fakeService) counts() (builds int, marked []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.builds, append([]string(nil), f.marked...)
}

// fakePoster stands for a chat channel: what it posted stays in its
// history, where FindPosted looks, as Slack's history outlives a crash.
type fakePoster struct {
	mu      sync.Mutex
	history []post
	finds   int
	postErr error
	findErr error
}

type post struct{ slotKey, briefingID, messageTS, note string }

const channel = "slack:C0BRIEF"

func (p *fakePoster) Destinations(schedule.Schedule) []string { return []string{channel} }

func (p *fakePoster) Post(_ context.Context, _ schedule.Schedule, slot briefing.Slot, _ string, b *briefing.Briefing) (string, error) {
	return p.record(post{slotKey: slot.Key, briefingID: b.ID})
}

func (p *fakePoster) PostNote(_ context.Context, _ schedule.Schedule, slot briefing.Slot, _ string, quiet *briefing.Quiet) error {
	_, err := p.record(post{slotKey: slot.Key, note: quiet.Message})
	return err
}

func (p *fakePoster) record(m post) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.postErr != nil {
		return "", p.postErr
	}
	m.messageTS = fmt.Sprintf("1700000000.%06d", len(p.history)+1)
	p.history = append(p.history, m)
	return m.messageTS, nil
}

func (p *fakePoster) FindPosted(_ context.Context, _ schedule.Schedule, slot briefing.Slot) (string, string, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finds++
	if p.findErr != nil {
		return "", "", false, p.findErr
	}
	for _, m := range p.history {
		if m.slotKey == slot.Key {
			return channel, m.messageTS, true, nil
		}
	}
	return "", "", false, nil
}

func (p *fakePoster) posts() []post {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]post(nil), p.history...)
}

// slotOf returns the key of the slot briefing id was posted for.
func (p *fakePoster) slotOf(tb testing.TB, briefingID string) string {
	tb.Helper()
	for _, m := range p.posts() {
		if m.briefingID == briefingID {
			return m.slotKey
		}
	}
	tb.Fatalf("briefing %s was not posted", briefingID)
	return ""
}

func (p *fakePoster) findCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.finds
}

// logLines collects text log lines and signals each write, so a test can
// wait for a line instead of sleeping.
type logLines struct {
	mu    sync.Mutex
	lines []string
	wrote chan struct{}
}

func newLogLines() *logLines { return &logLines{wrote: make(chan struct{}, 1)} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.lines = append(l.lines, string(p))
	l.mu.Unlock()
	select {
	case l.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *logLines) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// count returns how many lines contain every one of parts.
func (l *logLines) count(parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if containsAll(line, parts) {
			n++
		}
	}
	return n
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// waitFor waits until n lines contain every one of parts.
func (l *logLines) waitFor(tb testing.TB, n int, parts ...string) {
	tb.Helper()
	deadline := time.After(waitTimeout)
	for l.count(parts...) < n {
		select {
		case <-l.wrote:
		case <-deadline:
			tb.Fatalf("no %d log lines with %q in %s; log:\n%s", n, parts, waitTimeout, l.String())
		}
	}
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}

// openLedger opens a bbolt store in dir, closed when the test ends.
func openLedger(tb testing.TB, dir string) *store.DB {
	tb.Helper()
	db, err := store.Open(filepath.Join(dir, "briefing.db"), store.Options{})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// crashAfterPost is a ledger whose process dies right after posting: the
// post is never recorded.
type crashAfterPost struct{ briefing.Ledger }

func (crashAfterPost) MarkSlotPosted(string, string, string, string) error {
	return errors.New("process killed")
}

// 08:00 UTC every day: the slot most tests fire.
var (
	daily     = schedule.Schedule{ID: "cloud-0", Topic: "cloud", Spec: "0 8 * * *"}
	dailySlot = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
)

type harness struct {
	service *fakeService
	poster  *fakePoster
	ledger  briefing.Ledger
	log     *logLines
}

func newHarness(tb testing.TB) *harness {
	tb.Helper()
	return &harness{
		service: &fakeService{},
		poster:  &fakePoster{},
		ledger:  openLedger(tb, tb.TempDir()),
		log:     newLogLines(),
	}
}

// scheduler builds a Scheduler over the harness whose clock reads now
// (the real clock when now is zero).
func (h *harness) scheduler(tb testing.TB, now time.Time, schedules ...schedule.Schedule) *schedule.Scheduler {
	tb.Helper()
	clock := time.Now
	if !now.IsZero() {
		clock = func() time.Time { return now }
	}
	s, err := schedule.New(schedule.Options{
		Schedules: schedules,
		Service:   h.service,
		Ledger:    h.ledger,
		Poster:    h.poster,
		Logger:    h.log.logger(),
		Now:       clock,
	})
	if err != nil {
		tb.Fatalf("new scheduler: %v", err)
	}
	return s
}

// start starts s and stops it when the test ends.
func start(tb testing.TB, s *schedule.Scheduler) {
	tb.Helper()
	if err := s.Start(context.Background()); err != nil {
		tb.Fatalf("start: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			tb.Errorf("stop: %v", err)
		}
	})
}

func (h *harness) slot(tb testing.TB, key string) briefing.Slot {
	tb.Helper()
	slot, ok, err := h.ledger.Slot(key)
	if err != nil || !ok {
		tb.Fatalf("slot %s: found %v, error %v", key, ok, err)
	}
	return slot
}

func TestFire_twiceForOneSlotPostsOnce(t *testing.T) {
	h := newHarness(t)
	s := h.scheduler(t, dailySlot)
	for range 2 {
		if err := s.Fire(context.Background(), daily, dailySlot); err != nil {
			t.Fatalf("fire: %v", err)
		}
	}
	posts := h.poster.posts()
	if len(posts) != 1 {
		t.Fatalf("posted %d times, want once: %+v", len(posts), posts)
	}
	key := schedule.SlotKey(daily.ID, dailySlot)
	if key != "cloud-0@2026-03-02T08:00:00Z" {
		t.Errorf("slot key %q", key)
	}
	want := briefing.Slot{Key: key, Schedule: daily.ID, State: briefing.SlotPosted,
		Channel: channel, MessageTS: posts[0].messageTS, BriefingID: "cloud-1"}
	got := h.slot(t, key)
	if !got.Time.Equal(dailySlot) {
		t.Errorf("slot time %s, want %s", got.Time, dailySlot)
	}
	if got.Attempts != 1 || got.LeaseUntil.IsZero() {
		t.Errorf("slot attempts %d, lease until %s; want one attempt with a lease", got.Attempts, got.LeaseUntil)
	}
	got.Time, got.UpdatedAt, got.LeaseUntil, got.Attempts = time.Time{}, time.Time{}, time.Time{}, 0
	if got != want {
		t.Errorf("ledger slot\n got %+v\nwant %+v", got, want)
	}
	if builds, marked := h.service.counts(); builds != 1 || len(marked) != 1 || marked[0] != "cloud-1" {
		t.Errorf("builds %d, marked posted %v; want 1 build, [cloud-1]", builds, marked)
	}
}

func TestFire_concurrentCallsForOneSlotPostOnce(t *testing.T) {
	h := newHarness(t)
	h.service.release, h.service.started = make(chan struct{}), make(chan struct{}, 8)
	s := h.scheduler(t, dailySlot)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- s.Fire(context.Background(), daily, dailySlot) })
	}
	<-h.service.started // one build holds the slot while the others arrive
	close(h.service.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("fire: %v", err)
		}
	}
	if posts := h.poster.posts(); len(posts) != 1 {
		t.Errorf("posted %d times, want once", len(posts))
	}
}

func TestFire_crashAfterPostIsNotPostedAgain(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "briefing.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.ledger = crashAfterPost{db}
	if err := h.scheduler(t, dailySlot).Fire(context.Background(), daily, dailySlot); err == nil {
		t.Fatal("fire reported success though the post was never recorded")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart on the same file, within the grace period.
	h.ledger = openLedger(t, dir)
	start(t, h.scheduler(t, dailySlot.Add(10*time.Minute), daily))

	posts := h.poster.posts()
	if len(posts) != 1 {
		t.Fatalf("posted %d times across the crash, want once", len(posts))
	}
	got := h.slot(t, schedule.SlotKey(daily.ID, dailySlot))
	if got.State != briefing.SlotPosted || got.MessageTS != posts[0].messageTS || got.Channel != channel {
		t.Errorf("ledger slot %+v, want posted at %s in %s", got, posts[0].messageTS, channel)
	}
	if builds, _ := h.service.counts(); builds != 1 {
		t.Errorf("built %d briefings, want 1", builds)
	}
}

// expiredLease claims a slot as an attempt that ended would have: its
// lease has run out by the time the scheduler comes to the slot.
const expiredLease = time.Nanosecond

func TestFire_claimedSlotNotFoundIsPostedOnce(t *testing.T) {
	h := newHarness(t)
	key := schedule.SlotKey(daily.ID, dailySlot)
	if _, _, err := h.ledger.ClaimSlot(briefing.Slot{Key: key, Schedule: daily.ID, Time: dailySlot}, expiredLease); err != nil {
		t.Fatal(err)
	}
	s := h.scheduler(t, dailySlot)
	if err := s.Fire(context.Background(), daily, dailySlot); err != nil {
		t.Fatalf("fire: %v", err)
	}
	if n := h.poster.findCalls(); n != 1 {
		t.Errorf("FindPosted called %d times, want once for a slot claimed earlier", n)
	}
	if posts := h.poster.posts(); len(posts) != 1 {
		t.Errorf("posted %d times, want once", len(posts))
	}
	if got := h.slot(t, key); got.State != briefing.SlotPosted || got.BriefingID != "cloud-1" {
		t.Errorf("ledger slot %+v, want posted with briefing cloud-1", got)
	}
}

func TestFire_failureLeavesSlotClaimedForRetry(t *testing.T) {
	tests := map[string]struct {
		break_  func(*harness)
		wantErr string
	}{
		"build fails": {
			break_:  func(h *harness) { h.service.buildErr = errors.New("no articles") },
			wantErr: "build cloud briefing: no articles",
		},
		"post fails": {
			break_:  func(h *harness) { h.poster.postErr = errors.New("channel_not_found") },
			wantErr: "channel_not_found",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			tt.break_(h)
			s := h.scheduler(t, dailySlot)
			key := schedule.SlotKey(daily.ID, dailySlot)
			err := s.Fire(context.Background(), daily, dailySlot)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("fire: %v, want an error with %q", err, tt.wantErr)
			}
			if got := h.slot(t, key); got.State != briefing.SlotClaimed {
				t.Errorf("slot state %q after a failure, want %q", got.State, briefing.SlotClaimed)
			}
			if n := h.log.count("scheduled briefing failed", key); n != 1 {
				t.Errorf("%d failure log lines for %s, want 1:\n%s", n, key, h.log)
			}

			h.service.buildErr, h.poster.postErr = nil, nil
			if err := s.Fire(context.Background(), daily, dailySlot); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if posts := h.poster.posts(); len(posts) != 1 {
				t.Errorf("posted %d times after the retry, want once", len(posts))
			}
		})
	}
}

func TestFire_findPostedErrorDoesNotPost(t *testing.T) {
	h := newHarness(t)
	key := schedule.SlotKey(daily.ID, dailySlot)
	if _, _, err := h.ledger.ClaimSlot(briefing.Slot{Key: key, Schedule: daily.ID, Time: dailySlot}, expiredLease); err != nil {
		t.Fatal(err)
	}
	h.poster.findErr = errors.New("ratelimited")
	err := h.scheduler(t, dailySlot).Fire(context.Background(), daily, dailySlot)
	if err == nil || !strings.Contains(err.Error(), "ratelimited") {
		t.Fatalf("fire: %v, want the FindPosted error", err)
	}
	if posts := h.poster.posts(); len(posts) != 0 {
		t.Errorf("posted %d times without knowing whether an earlier attempt had, want none", len(posts))
	}
}

func TestStart_catchesUpTheLatestMissedSlot(t *testing.T) {
	tests := map[string]struct {
		grace      time.Duration
		late       time.Duration // how long after the slot the program starts
		postedOnce bool          // the slot was posted before the stop
		wantPosts  int
		wantLog    []string
	}{
		"within grace": {
			late: 30 * time.Minute, wantPosts: 1,
			wantLog: []string{"catching up missed slot", "slot_time=2026-03-02T08:00:00.000Z"},
		},
		"older than grace": {
			late: 2 * time.Hour, wantPosts: 0,
			wantLog: []string{"level=WARN", "skipped missed slot", "slot_time=2026-03-02T08:00:00.000Z", "age=2h0m0s"},
		},
		"within a longer grace": {
			grace: 3 * time.Hour, late: 2 * time.Hour, wantPosts: 1,
			wantLog: []string{"catching up missed slot"},
		},
		"posted before the stop": {
			late: 30 * time.Minute, postedOnce: true, wantPosts: 1,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			sc := daily
			sc.Grace = tt.grace
			if tt.postedOnce {
				if err := h.scheduler(t, dailySlot).Fire(context.Background(), sc, dailySlot); err != nil {
					t.Fatal(err)
				}
			}
			start(t, h.scheduler(t, dailySlot.Add(tt.late), sc))
			if posts := h.poster.posts(); len(posts) != tt.wantPosts {
				t.Errorf("posted %d times, want %d", len(posts), tt.wantPosts)
			}
			if tt.wantLog != nil && h.log.count(tt.wantLog...) != 1 {
				t.Errorf("want one log line with %q; log:\n%s", tt.wantLog, h.log)
			}
			if h.log.count("skipped missed slot") > 0 && tt.wantPosts > 0 {
				t.Errorf("a posted slot was logged as skipped:\n%s", h.log)
			}
		})
	}
}

func TestStart_restartWithinGracePostsOnce(t *testing.T) {
	h := newHarness(t)
	for _, late := range []time.Duration{10 * time.Minute, 20 * time.Minute} {
		s := h.scheduler(t, dailySlot.Add(late), daily)
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if posts := h.poster.posts(); len(posts) != 1 {
		t.Errorf("posted %d times over two starts, want once", len(posts))
	}
}

func TestStart_finishesAnOlderUnfinishedSlot(t *testing.T) {
	h := newHarness(t)
	hourly := schedule.Schedule{ID: "cloud-1", Topic: "cloud", Spec: "@hourly", Grace: 3 * time.Hour}
	unfinished := dailySlot.Add(-time.Hour)
	if _, _, err := h.ledger.ClaimSlot(briefing.Slot{
		Key: schedule.SlotKey(hourly.ID, unfinished), Schedule: hourly.ID, Time: unfinished,
	}, expiredLease); err != nil {
		t.Fatal(err)
	}
	start(t, h.scheduler(t, dailySlot.Add(30*time.Minute), hourly))

	var keys []string
	for _, p := range h.poster.posts() {
		keys = append(keys, p.slotKey)
	}
	want := []string{"cloud-1@2026-03-02T07:00:00Z", "cloud-1@2026-03-02T08:00:00Z"}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("posted slots %v, want %v", keys, want)
	}
}

func TestStart_cronPostsAtEverySlot(t *testing.T) {
	h := newHarness(t)
	h.service.posted = make(chan string, 16)
	every := schedule.Schedule{ID: "cloud-2", Topic: "cloud", Spec: "@every 1s"}
	start(t, h.scheduler(t, time.Time{}, every))

	caughtUp := map[string]bool{}
	for _, p := range h.poster.posts() {
		caughtUp[p.briefingID] = true
	}
	deadline := time.After(waitTimeout)
	for {
		select {
		case id := <-h.service.posted:
			if caughtUp[id] {
				continue
			}
			slot := h.slot(t, h.poster.slotOf(t, id))
			if slot.State != briefing.SlotPosted || slot.Time.Nanosecond() != 0 {
				t.Errorf("cron slot %+v, want posted on a whole second", slot)
			}
			return
		case <-deadline:
			t.Fatalf("cron posted nothing in %s; log:\n%s", waitTimeout, h.log)
		}
	}
}

func TestStart_panickingServiceDoesNotCrash(t *testing.T) {
	h := newHarness(t)
	h.service.panics = true
	every := schedule.Schedule{ID: "cloud-2", Topic: "cloud", Spec: "@every 1s"}
	start(t, h.scheduler(t, time.Time{}, every)) // its catch-up panics first

	// One panic from the catch-up, then at least one from a cron slot.
	h.log.waitFor(t, 2, "level=ERROR", "cron panic", "summarizer blew up", "schedule=cloud-2")
	if posts := h.poster.posts(); len(posts) != 0 {
		t.Errorf("posted %d times with a panicking build", len(posts))
	}
}

func TestStop_boundedByContext(t *testing.T) {
	h := newHarness(t)
	h.service.release, h.service.started = make(chan struct{}), make(chan struct{}, 16)
	every := schedule.Schedule{ID: "cloud-2", Topic: "cloud", Spec: "@every 1s", Grace: time.Millisecond}
	// Half a second past the slot: the catch-up skips it, and every cron
	// run fires that same slot.
	s := h.scheduler(t, dailySlot.Add(500*time.Millisecond), every)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.service.started: // a cron job is now held in Build
	case <-time.After(waitTimeout):
		t.Fatalf("cron started no build in %s", waitTimeout)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("stop with a running job and a done context: %v, want context.Canceled", err)
	}
	// The abandoned job is cancelled, not left running.
	h.log.waitFor(t, 1, "scheduled briefing failed", "context canceled")
}

func TestNew_rejectsBadSchedules(t *testing.T) {
	tests := map[string]struct {
		schedules []schedule.Schedule
		wantErr   string
	}{
		"bad spec": {
			schedules: []schedule.Schedule{{ID: "cloud-0", Topic: "cloud", Spec: "0 25 * * *"}},
			wantErr:   `schedule "cloud-0": cron spec "0 25 * * *": end of range (25) above maximum (23): 25`,
		},
		"unknown topic": {
			schedules: []schedule.Schedule{{ID: "ai-0", Topic: "ai", Spec: "@daily"}},
			wantErr:   `schedule "ai-0": unknown topic "ai"`,
		},
		"no id": {
			schedules: []schedule.Schedule{daily, {Topic: "cloud", Spec: "@daily"}},
			wantErr:   "schedule 2: the schedule has no id",
		},
		"same id twice": {
			schedules: []schedule.Schedule{daily, daily},
			wantErr:   `schedule "cloud-0": another schedule has the same id`,
		},
		"negative grace": {
			schedules: []schedule.Schedule{{ID: "cloud-0", Topic: "cloud", Spec: "@daily", Grace: -time.Minute}},
			wantErr:   `schedule "cloud-0": grace -1m0s is negative`,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := schedule.New(schedule.Options{
				Schedules: tt.schedules, Service: &fakeService{}, Ledger: openLedger(t, t.TempDir()), Poster: &fakePoster{},
			})
			if err == nil {
				t.Fatalf("New accepted %+v", tt.schedules)
			}
			if got := briefing.ErrorMessage(err); got != tt.wantErr {
				t.Errorf("error message\n got %q\nwant %q", got, tt.wantErr)
			}
		})
	}
}

func TestFire_buildsForTheSchedulesAudience(t *testing.T) {
	h := newHarness(t)
	sc := daily
	sc.Audience = "platform team on AWS"
	if err := h.scheduler(t, dailySlot).Fire(context.Background(), sc, dailySlot); err != nil {
		t.Fatal(err)
	}
	h.service.mu.Lock()
	defer h.service.mu.Unlock()
	if len(h.service.audiences) != 1 || h.service.audiences[0] != sc.Audience {
		t.Errorf("built for audiences %q, want [%q]", h.service.audiences, sc.Audience)
	}
}

// A slot that comes due while Start is still catching up (a build can take
// a minute) is fired by cron, not lost.
func TestStart_slotDueDuringCatchUpIsFired(t *testing.T) {
	h := newHarness(t)
	h.service.release, h.service.started = make(chan struct{}), make(chan struct{}, 16)
	h.service.posted = make(chan string, 16)
	every := schedule.Schedule{ID: "cloud-2", Topic: "cloud", Spec: "@every 1s", Grace: time.Hour}
	s := h.scheduler(t, time.Time{}, every)
	started := make(chan error, 1)
	go func() { started <- s.Start(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	<-h.service.started // the catch-up's build, held
	select {
	case <-h.service.started: // a later slot's build, from cron
	case <-time.After(waitTimeout):
		t.Fatalf("no slot fired while the catch-up was building; log:\n%s", h.log)
	}
	close(h.service.release)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	for range 2 { // both held builds were posted
		select {
		case <-h.service.posted:
		case <-time.After(waitTimeout):
			t.Fatalf("the held builds were not both posted; log:\n%s", h.log)
		}
	}
	slots := map[string]bool{}
	for _, p := range h.poster.posts() {
		if slots[p.slotKey] {
			t.Errorf("slot %s posted twice", p.slotKey)
		}
		slots[p.slotKey] = true
	}
	if len(slots) < 2 {
		t.Errorf("posted slots %v, want the caught-up one and the one due during catch-up", slots)
	}
}
