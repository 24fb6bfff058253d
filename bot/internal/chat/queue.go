package chat

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Queue runs one kind of work (building briefings, answering questions) in
// goroutines: at most running at once, and at most waiting more parked for
// their turn. Work beyond that is refused rather than parked, so that a
// burst of messages cannot pile up goroutines without bound.
type Queue struct {
	slots   *semaphore.Weighted // running + waiting
	running *semaphore.Weighted
	log     *slog.Logger

	mu       sync.Mutex
	admitted int // running + waiting
	started  int // running
	observe  func(running, waiting int)
}

// NewQueue returns a Queue that runs running jobs at once and parks up to
// waiting more. A job that panics is logged to log, with its stack.
func NewQueue(running, waiting int64, log *slog.Logger) *Queue {
	return &Queue{slots: semaphore.NewWeighted(running + waiting), running: semaphore.NewWeighted(running), log: log}
}

// Go runs f in a goroutine tracked by wg once a running slot is free, and
// reports false, without starting anything, when the queue is full. A job
// still waiting when ctx ends is dropped; f gets ctx. A panic in f ends
// only that job: the process serves every other message.
func (q *Queue) Go(ctx context.Context, wg *sync.WaitGroup, f func(ctx context.Context)) bool {
	if !q.slots.TryAcquire(1) {
		return false
	}
	q.count(1, 0)
	wg.Go(func() {
		defer q.slots.Release(1)
		defer q.count(-1, 0)
		if err := q.running.Acquire(ctx, 1); err != nil {
			return
		}
		defer q.running.Release(1)
		q.count(0, 1)
		defer q.count(0, -1)
		defer func() {
			if r := recover(); r != nil {
				q.log.Error("chat work panicked", slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			}
		}()
		f(ctx)
	})
	return true
}

// Observe makes the queue call f with its size whenever it changes, for
// metrics. Call it before the first Go.
func (q *Queue) Observe(f func(running, waiting int)) { q.observe = f }

func (q *Queue) count(admitted, started int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.admitted += admitted
	q.started += started
	if q.observe != nil {
		q.observe(q.started, q.admitted-q.started)
	}
}
