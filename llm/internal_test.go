package llm

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		header http.Header
		want   time.Duration
		ok     bool
	}{
		"milliseconds first": {header: http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, want: 250 * time.Millisecond, ok: true},
		"seconds":            {header: http.Header{"Retry-After": {"2"}}, want: 2 * time.Second, ok: true},
		"fractional seconds": {header: http.Header{"Retry-After": {"0.5"}}, want: 500 * time.Millisecond, ok: true},
		"http date":          {header: http.Header{"Retry-After": {now.Add(3 * time.Second).Format(http.TimeFormat)}}, want: 3 * time.Second, ok: true},
		"date in the past":   {header: http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, want: 0, ok: true},
		"garbage":            {header: http.Header{"Retry-After": {"soon"}}},
		"absent":             {header: http.Header{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := retryAfter(tc.header, now)
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestBackoffGrowsWithinCap(t *testing.T) {
	c := &retryingClient{base: 500 * time.Millisecond, cap: 8 * time.Second}
	for attempt, ceiling := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		for range 20 {
			d := c.backoff(attempt)
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("attempt %d: back-off %v outside [%v, %v]", attempt, d, ceiling/2, ceiling)
			}
		}
	}
	if d := c.backoff(80); d > c.cap || d <= 0 {
		t.Errorf("attempt 80: back-off %v overflowed", d)
	}
}

func TestExtractJSON(t *testing.T) {
	tests := map[string]struct {
		text, want string
	}{
		"bare":            {text: `{"a": 1}`, want: `{"a":1}`},
		"code fence":      {text: "```json\n{\"a\": [1, 2]}\n```", want: `{"a":[1,2]}`},
		"prose around":    {text: "Here you go: {\"a\": \"}\"} hope it helps", want: `{"a":"}"}`},
		"broken then ok":  {text: `{oops} {"a": true}`, want: `{"a":true}`},
		"no object":       {text: "sorry, no", want: ""},
		"truncated reply": {text: `{"a": "unfinished`, want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := extractJSON(tc.text)
			if got != tc.want || (err != nil) != (tc.want == "") {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestBreakerHalfOpen(t *testing.T) {
	b := &breaker{threshold: 2, cooldown: time.Minute}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if b.failure(t0) {
		t.Fatal("opened after one failure")
	}
	if !b.failure(t0) {
		t.Fatal("not opened after two")
	}
	if b.allow(t0.Add(30 * time.Second)) {
		t.Fatal("allowed during the cooldown")
	}
	if !b.allow(t0.Add(time.Minute)) || b.allow(t0.Add(time.Minute)) {
		t.Fatal("want exactly one trial after the cooldown")
	}
	b.failure(t0.Add(time.Minute))
	if b.allow(t0.Add(90 * time.Second)) {
		t.Fatal("a failed trial did not restart the cooldown")
	}
	if !b.allow(t0.Add(2*time.Minute)) || !b.success() || !b.allow(t0.Add(2*time.Minute)) {
		t.Fatal("a good trial did not close the breaker")
	}
}
