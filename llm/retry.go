package llm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// retryingClient is the HTTPDoer go-openai sends through. go-openai itself
// never retries, so rate limits and brief outages are absorbed here, below
// the provider failover. A 429 or 5xx is retried up to maxRetries times,
// but an attempt that ran into the client's own timeout only once: each
// such attempt costs the provider's whole timeout, and a provider that
// hangs twice in a row is better left to the next one.
type retryingClient struct {
	client     *http.Client
	maxRetries int
	base, cap  time.Duration
	now        func() time.Time
}

// maxTimeoutRetries bounds the retries of attempts that timed out.
const maxTimeoutRetries = 1

// retryable are the statuses worth another attempt at the same provider.
var retryable = map[int]bool{
	http.StatusTooManyRequests:     true,
	http.StatusInternalServerError: true,
	http.StatusBadGateway:          true,
	http.StatusServiceUnavailable:  true,
	http.StatusGatewayTimeout:      true,
}

func (c *retryingClient) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	getBody := req.GetBody
	if req.Body != nil && req.Body != http.NoBody && getBody == nil {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		getBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	timeouts := 0
	for attempt := 0; ; attempt++ {
		try := req.Clone(ctx)
		if getBody != nil {
			body, err := getBody()
			if err != nil {
				return nil, fmt.Errorf("rewind request body: %w", err)
			}
			try.Body = body
		}
		resp, err := c.client.Do(try)
		last := attempt >= c.maxRetries
		switch {
		case err != nil:
			// A timeout with the caller's context done is the caller's
			// deadline, not the provider's: no attempt would beat it.
			if last || ctx.Err() != nil || !isTimeout(err) || timeouts == maxTimeoutRetries {
				return nil, err
			}
			timeouts++
		case !retryable[resp.StatusCode] || last:
			return resp, nil
		}
		wait := c.backoff(attempt)
		if resp != nil {
			if d, ok := retryAfter(resp.Header, c.now()); ok {
				wait = min(d, c.cap)
			}
			// Drain so the connection can be reused for the next attempt.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// backoff is exponential with jitter: half the delay fixed, half random, so
// that clients rate-limited together do not retry together.
func (c *retryingClient) backoff(attempt int) time.Duration {
	d := c.base << min(attempt, 20)
	if d <= 0 || d > c.cap {
		d = c.cap
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads the server's wish: retry-after-ms first (OpenAI's own
// header), then Retry-After in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
