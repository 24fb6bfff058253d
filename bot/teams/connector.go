package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/briefing-bot/briefing"
)

// Retry policy for 429, 412, 502 and 504 (protocol notes §7): Retry-After
// when given, else exponential back-off with jitter.
const (
	maxAttempts  = 5
	retryBase    = 500 * time.Millisecond
	maxRetryWait = time.Minute
	// maxResponseBytes bounds what is read of a response.
	maxResponseBytes = 1 << 20
)

// StatusError is a non-2xx answer from the Connector or a webhook.
type StatusError struct {
	Method, URL string
	Status      int
	// Code and Message are the Bot Framework ErrorResponse's, when present.
	Code, Message string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.URL, e.Status)
	if e.Code != "" || e.Message != "" {
		msg += fmt.Sprintf(" (%s: %s)", e.Code, e.Message)
	}
	return msg
}

func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusPreconditionFailed, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// sendJSON posts body as JSON to target, retrying throttling and gateway
// failures, and decodes a 2xx answer into out (when not nil). authorize,
// when set, adds credentials to each attempt. The request is not retried on
// any other failure: a message that may have landed must not land twice.
func sendJSON(ctx context.Context, client *http.Client, method, target string, body any, authorize func(*http.Request) error, out any) error {
	payload, err := encodeJSON(body)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", method, redact(target), err)
	}
	for attempt := 1; ; attempt++ {
		wait, err := sendOnce(ctx, client, method, target, payload, authorize, out)
		var status *StatusError
		if err == nil || !errors.As(err, &status) || !retryable(status.Status) || attempt == maxAttempts {
			return err
		}
		if wait < 0 {
			wait = backoff(attempt)
		}
		t := time.NewTimer(min(wait, maxRetryWait))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w; gave up waiting to retry: %w", err, ctx.Err())
		case <-t.C:
		}
	}
}

// sendOnce makes one attempt; wait is the answer's Retry-After, or -1.
func sendOnce(ctx context.Context, client *http.Client, method, target string, payload []byte, authorize func(*http.Request) error, out any) (wait time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(payload))
	if err != nil {
		return -1, fmt.Errorf("%s %s: %w", method, redact(target), err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if authorize != nil {
		if err := authorize(req); err != nil {
			return -1, err
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return -1, fmt.Errorf("%s %s: %w", method, redact(target), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return -1, fmt.Errorf("%s %s: read answer: %w", method, redact(target), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		serr := &StatusError{Method: method, URL: redact(target), Status: resp.StatusCode}
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil {
			serr.Code, serr.Message = e.Error.Code, e.Error.Message
		}
		return retryAfter(resp.Header.Get("Retry-After")), serr
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return -1, fmt.Errorf("%s %s: decode answer: %w", method, redact(target), err)
		}
	}
	return -1, nil
}

// retryAfter reads Retry-After as seconds or an HTTP date; -1 when absent.
func retryAfter(h string) time.Duration {
	if h == "" {
		return -1
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if at, err := http.ParseTime(h); err == nil {
		return max(time.Until(at), 0)
	}
	return -1
}

// backoff is retryBase·2^(attempt-1), with up to half of it added as jitter
// so that retries from many threads spread out.
func backoff(attempt int) time.Duration {
	d := retryBase << (attempt - 1)
	return d + rand.N(d/2+1)
}

// redact drops a URL's query, which for a Workflows webhook holds its
// signature: a secret that must not reach logs.
func redact(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return "(unparseable URL)"
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}

// webhookClient posts to webhooks for callers that bring no client. Its
// timeout matters: a webhook that never answers would otherwise hold a
// scheduled post, and with it every later slot of its schedule, until
// shutdown.
var webhookClient = &http.Client{Timeout: httpTimeout}

// PostWebhook posts the briefing's card to a Teams Workflows webhook ("When
// a Teams webhook request is received"), retrying throttling. Workflows
// answers 202 even when the flow later fails, so success means accepted. A
// nil client means one with a 30 s timeout per attempt.
func PostWebhook(ctx context.Context, client *http.Client, webhookURL string, br *briefing.Briefing) error {
	if br == nil {
		return errors.New("post briefing to webhook: no briefing")
	}
	if err := postWebhookCard(ctx, client, webhookURL, Card(br, "")); err != nil {
		return fmt.Errorf("post briefing %s: %w", br.ID, err)
	}
	return nil
}

// PostWebhookNote posts one line of plain text to a Teams Workflows
// webhook, as a card of one text block.
func PostWebhookNote(ctx context.Context, client *http.Client, webhookURL, text string) error {
	if err := postWebhookCard(ctx, client, webhookURL, cardOf([]any{textBlock(EscapeMarkdown(text), nil)})); err != nil {
		return fmt.Errorf("post note: %w", err)
	}
	return nil
}

func postWebhookCard(ctx context.Context, client *http.Client, webhookURL string, card map[string]any) error {
	if _, err := httpURL(webhookURL); err != nil {
		return briefing.Errorf(briefing.EINVALID, "teams webhook: %v", err)
	}
	if client == nil {
		client = webhookClient
	}
	msg := map[string]any{
		"type":        "message",
		"attachments": []any{webhookAttachment(card)},
	}
	if err := sendJSON(ctx, client, http.MethodPost, webhookURL, msg, nil, nil); err != nil {
		return fmt.Errorf("to teams webhook: %w", err)
	}
	return nil
}

// webhookAttachment is the attachment shape Workflows expects: with an
// explicit null contentUrl.
func webhookAttachment(card map[string]any) map[string]any {
	a := Attachment(card)
	a["contentUrl"] = nil
	return a
}

// httpURL parses an absolute http(s) URL.
func httpURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", redact(raw))
	}
	return u, nil
}
