package llm

import (
	"sync"
	"time"
)

// breaker is one provider's circuit breaker: after threshold consecutive
// failures the provider is skipped for cooldown, then a single trial
// request decides whether it closes again or stays open for another
// cooldown. It keeps a dead provider from adding its timeout to every
// briefing and answer.
type breaker struct {
	threshold int
	cooldown  time.Duration

	mu        sync.Mutex
	failures  int
	open      bool
	openUntil time.Time
	trial     bool // a trial request is in flight
}

// allow reports whether a request may go to the provider now.
func (b *breaker) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true
	}
	if now.Before(b.openUntil) || b.trial {
		return false
	}
	b.trial = true
	return true
}

// success records a good request and reports whether it closed the breaker.
func (b *breaker) success() (closed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures = 0
	closed = b.open
	b.open, b.trial = false, false
	return closed
}

// failure records a failed request and reports whether it opened the
// breaker (a failed trial only extends the open state).
func (b *breaker) failure(now time.Time) (opened bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if b.open {
		b.trial = false
		b.openUntil = now.Add(b.cooldown)
		return false
	}
	if b.failures < b.threshold {
		return false
	}
	b.open = true
	b.openUntil = now.Add(b.cooldown)
	return true
}

// release gives back a trial slot that ended neither in success nor in
// failure (the caller's context was cancelled).
func (b *breaker) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
}
