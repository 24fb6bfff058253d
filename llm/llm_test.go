package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/internal/fakeopenai"
	"github.com/briefing-bot/briefing/llm"
)

const testKey = "sk-test-secret-0123456789"

var schema = []byte(`{"type":"object","properties":{"summary":{"type":"string"}},"required":["summary"],"additionalProperties":false}`)

func ask(text string) briefing.CompletionRequest {
	return briefing.CompletionRequest{Messages: []briefing.Message{
		{Role: "system", Content: "You summarize."},
		{Role: "user", Content: text},
	}}
}

func askJSON(text string) briefing.CompletionRequest {
	req := ask(text)
	req.SchemaName, req.Schema = "story", schema
	return req
}

// newPool builds a pool with fast retries; providers without a BaseURL
// point at srv.
func newPool(tb testing.TB, srv *fakeopenai.Server, opts llm.Options, providers ...llm.Provider) *llm.Pool {
	tb.Helper()
	for i := range providers {
		if providers[i].BaseURL == "" {
			providers[i].BaseURL = srv.URL
		}
		if providers[i].APIKey == "" && providers[i].Kind != llm.KindCompatible {
			providers[i].APIKey = testKey
		}
	}
	opts.RetryBase, opts.RetryCap = time.Millisecond, 5*time.Millisecond
	p, err := llm.New(providers, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// byModel answers each request with the response for its model.
func byModel(responses map[string]fakeopenai.Response) func(fakeopenai.Request) fakeopenai.Response {
	return func(req fakeopenai.Request) fakeopenai.Response { return responses[req.Body.Model] }
}

func TestCompleteReturnsTextAndUsage(t *testing.T) {
	srv := fakeopenai.New(t)
	srv.Enqueue(fakeopenai.Response{Content: "Hello there.", Usage: openai.Usage{PromptTokens: 17, CompletionTokens: 3}})
	pool := newPool(t, srv, llm.Options{}, llm.Provider{Name: "primary", Model: "gpt-4.1-mini"})

	c, err := pool.Complete(context.Background(), ask("Say hello."))
	if err != nil {
		t.Fatal(err)
	}
	want := briefing.Completion{Text: "Hello there.", Provider: "primary", Usage: briefing.Usage{PromptTokens: 17, CompletionTokens: 3}}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	req := srv.Requests()[0]
	if req.Path != "/v1/chat/completions" || req.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("request to %s with auth %q", req.Path, req.Header.Get("Authorization"))
	}
	//lint:ignore SA1019 the pool sends max_tokens to non-reasoning models on purpose; the test checks it.
	maxTokens := req.Body.MaxTokens
	if maxTokens != llm.DefaultMaxOutputTokens || req.Body.Temperature != llm.DefaultTemperature {
		t.Errorf("max_tokens %d temperature %v, want the defaults", maxTokens, req.Body.Temperature)
	}
}

func TestStructuredOutput(t *testing.T) {
	srv := fakeopenai.New(t)
	srv.Enqueue(fakeopenai.Response{Content: `{"summary": "ok"}`})
	pool := newPool(t, srv, llm.Options{}, llm.Provider{Name: "primary", Model: "gpt-4.1"})

	c, err := pool.Complete(context.Background(), askJSON("Summarize."))
	if err != nil {
		t.Fatal(err)
	}
	if c.Text != `{"summary":"ok"}` {
		t.Errorf("text %q", c.Text)
	}
	f := srv.Requests()[0].Body.ResponseFormat
	if f == nil || f.Type != openai.ChatCompletionResponseFormatTypeJSONSchema || f.JSONSchema.Name != "story" || !f.JSONSchema.Strict {
		t.Fatalf("response_format %+v", f)
	}
	got, _ := f.JSONSchema.Schema.MarshalJSON()
	if string(got) != string(schema) {
		t.Errorf("schema sent %s", got)
	}
}

func TestJSONSchemaRejectedFallsBackToJSONInText(t *testing.T) {
	srv := fakeopenai.New(t)
	srv.Handle(func(req fakeopenai.Request) fakeopenai.Response {
		if req.Body.ResponseFormat != nil {
			return fakeopenai.Response{Status: http.StatusBadRequest, Body: `{"error":{"message":"response_format json_schema is not supported","type":"invalid_request_error","param":"response_format","code":null}}`}
		}
		return fakeopenai.Response{Content: "Sure! ```json\n{\"summary\": \"from text\"}\n``` Anything else?"}
	})
	pool := newPool(t, srv, llm.Options{}, llm.Provider{Name: "local", Kind: llm.KindCompatible, Model: "llama3.1"})

	for range 2 {
		c, err := pool.Complete(context.Background(), askJSON("Summarize."))
		if err != nil {
			t.Fatal(err)
		}
		if c.Text != `{"summary":"from text"}` {
			t.Errorf("text %q", c.Text)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3: one rejected, then JSON in the prompt twice", len(reqs))
	}
	for _, req := range reqs[1:] {
		if req.Body.ResponseFormat != nil {
			t.Error("json_schema sent again after the server rejected it")
		}
		if sys := req.Body.Messages[0]; sys.Role != "system" || !strings.Contains(sys.Content, "JSON schema: "+string(schema)) {
			t.Errorf("system prompt lacks the schema: %q", sys.Content)
		}
	}
	if reqs[1].Header.Get("Authorization") != "" {
		t.Error("a compatible provider without a key sent an Authorization header")
	}
}

func TestRateLimitRetriedAfterRetryAfter(t *testing.T) {
	srv := fakeopenai.New(t)
	srv.Enqueue(
		fakeopenai.Response{Status: http.StatusTooManyRequests, Headers: map[string]string{"Retry-After": "1"},
			Body: `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		fakeopenai.Response{Status: http.StatusTooManyRequests, Headers: map[string]string{"retry-after-ms": "2"}},
		fakeopenai.Response{Content: "finally"},
	)
	pool := newPool(t, srv, llm.Options{}, llm.Provider{Name: "primary", Model: "gpt-4.1"})

	c, err := pool.Complete(context.Background(), ask("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Text != "finally" || len(srv.Requests()) != 3 {
		t.Errorf("text %q after %d requests, want the third to succeed", c.Text, len(srv.Requests()))
	}
	for i, req := range srv.Requests() {
		if req.Body.Messages[1].Content != "hi" {
			t.Errorf("attempt %d lost its body: %q", i, req.Raw)
		}
	}
}

func TestFailover(t *testing.T) {
	tests := map[string]struct {
		first fakeopenai.Response
	}{
		"server error":        {first: fakeopenai.Response{Status: http.StatusInternalServerError}},
		"rate limit persists": {first: fakeopenai.Response{Status: http.StatusTooManyRequests}},
		"unauthorized":        {first: fakeopenai.Response{Status: http.StatusUnauthorized, Body: `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`}},
		"empty reply":         {first: fakeopenai.Response{Content: ""}},
		"not json":            {first: fakeopenai.Response{Content: "I cannot produce JSON today."}},
		"refusal":             {first: fakeopenai.Response{Refusal: "I can't help with that."}},
		"unparseable body":    {first: fakeopenai.Response{Status: http.StatusBadGateway, Body: "<html>bad gateway</html>"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := fakeopenai.New(t)
			srv.Handle(byModel(map[string]fakeopenai.Response{
				"model-1": tc.first,
				"model-2": {Content: `{"summary":"second"}`},
			}))
			pool := newPool(t, srv, llm.Options{},
				llm.Provider{Name: "one", Model: "model-1", MaxRetries: new(1)},
				llm.Provider{Name: "two", Model: "model-2"})

			c, err := pool.Complete(context.Background(), askJSON("x"))
			if err != nil {
				t.Fatal(err)
			}
			if c.Provider != "two" || c.Text != `{"summary":"second"}` {
				t.Errorf("got %+v, want the second provider's reply", c)
			}
		})
	}
}

func TestAllProvidersDown(t *testing.T) {
	srv := fakeopenai.New(t)
	srv.Handle(func(fakeopenai.Request) fakeopenai.Response {
		return fakeopenai.Response{Status: http.StatusServiceUnavailable}
	})
	pool := newPool(t, srv, llm.Options{},
		llm.Provider{Name: "one", Model: "m1", MaxRetries: new(2)},
		llm.Provider{Name: "two", Model: "m2", MaxRetries: new(0)})

	_, err := pool.Complete(context.Background(), ask("x"))
	if err == nil {
		t.Fatal("no error with every provider down")
	}
	for _, name := range []string{"provider one", "provider two"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != http.StatusServiceUnavailable {
		t.Errorf("error %v does not wrap the API error", err)
	}
	if n := len(srv.Requests()); n != 3+1 {
		t.Errorf("%d requests, want each provider tried 1+MaxRetries times", n)
	}
}

func TestEmptyPool(t *testing.T) {
	pool, err := llm.New([]llm.Provider{{Name: "keyless", Model: "gpt-4.1"}}, llm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if pool.Len() != 0 {
		t.Fatalf("Len %d, want the keyless openai provider skipped", pool.Len())
	}
	if _, err := pool.Complete(context.Background(), ask("x")); err == nil {
		t.Error("an empty pool completed")
	}
}

func TestBreakerSkipsFailingProvider(t *testing.T) {
	srv := fakeopenai.New(t)
	srv.Handle(byModel(map[string]fakeopenai.Response{
		"bad":  {Status: http.StatusInternalServerError},
		"good": {Content: "fine"},
	}))
	var mu sync.Mutex
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	pool := newPool(t, srv, llm.Options{Now: clock, BreakerThreshold: 2, BreakerCooldown: time.Minute},
		llm.Provider{Name: "flaky", Model: "bad", MaxRetries: new(1)},
		llm.Provider{Name: "backup", Model: "good"})

	for range 4 {
		if c, err := pool.Complete(context.Background(), ask("x")); err != nil || c.Provider != "backup" {
			t.Fatalf("got %+v, %v; want the backup's reply", c, err)
		}
	}
	if n := countModel(srv.Requests(), "bad"); n != 2*2 {
		t.Errorf("flaky provider got %d requests, want 2 calls of 2 attempts before its breaker opened", n)
	}

	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	srv.Handle(byModel(map[string]fakeopenai.Response{"bad": {Content: "recovered"}}))
	c, err := pool.Complete(context.Background(), ask("x"))
	if err != nil || c.Provider != "flaky" {
		t.Errorf("after the cooldown got %+v, %v; want the trial request to reach the flaky provider", c, err)
	}
}

func TestTimeoutRetriedOnceThenFailsOver(t *testing.T) {
	tests := map[string]struct {
		hangs    int // how many requests to the slow provider hang; -1: all
		slowGets int
		provider string
	}{
		"hangs for good":  {hangs: -1, slowGets: 2, provider: "fast"},
		"hangs only once": {hangs: 1, slowGets: 2, provider: "slow"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := fakeopenai.New(t)
			never := make(chan struct{})
			var mu sync.Mutex
			slowSeen := 0
			srv.Handle(func(req fakeopenai.Request) fakeopenai.Response {
				if req.Body.Model == "fast" {
					return fakeopenai.Response{Content: "in time"}
				}
				mu.Lock()
				defer mu.Unlock()
				slowSeen++
				if tc.hangs < 0 || slowSeen <= tc.hangs {
					return fakeopenai.Response{Delay: never, Content: "too late"}
				}
				return fakeopenai.Response{Content: "slow but there"}
			})
			// MaxRetries stays at its default of 3, so that only the
			// timeout rule can stop the retries; 5xx keeping theirs is
			// TestAllProvidersDown's.
			pool := newPool(t, srv, llm.Options{},
				llm.Provider{Name: "slow", Model: "slow", Timeout: 200 * time.Millisecond},
				llm.Provider{Name: "fast", Model: "fast"})

			c, err := pool.Complete(context.Background(), ask("x"))
			if err != nil {
				t.Fatal(err)
			}
			if c.Provider != tc.provider {
				t.Errorf("got %+v, want the %s provider's reply", c, tc.provider)
			}
			if n := countModel(srv.Requests(), "slow"); n != tc.slowGets {
				t.Errorf("the slow provider got %d requests, want %d (a timeout is retried once)", n, tc.slowGets)
			}
		})
	}
}

// countModel counts the requests for model.
func countModel(reqs []fakeopenai.Request, model string) int {
	n := 0
	for _, r := range reqs {
		if r.Body.Model == model {
			n++
		}
	}
	return n
}

func TestStreamDeliversGrowingText(t *testing.T) {
	srv := fakeopenai.New(t)
	srv.Enqueue(fakeopenai.Response{Chunks: []string{"One", " two", " three."}})
	pool := newPool(t, srv, llm.Options{}, llm.Provider{Name: "primary", Model: "gpt-4.1"})

	var deltas []string
	c, err := pool.Stream(context.Background(), ask("count"), func(text string) { deltas = append(deltas, text) })
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"One", "One two", "One two three."}; strings.Join(deltas, "|") != strings.Join(want, "|") {
		t.Errorf("deltas %q, want %q", deltas, want)
	}
	req := srv.Requests()[0]
	if !req.Body.Stream || req.Body.StreamOptions == nil || !req.Body.StreamOptions.IncludeUsage {
		t.Error("stream not requested with include_usage")
	}
	want := fakeopenai.Count(req.Body.Messages, "One two three.")
	if c.Text != "One two three." || c.Usage.PromptTokens != want.PromptTokens || c.Usage.CompletionTokens != want.CompletionTokens {
		t.Errorf("got %+v, want usage %+v", c, want)
	}
}

func TestStreamFailsOverOnlyBeforeFirstDelta(t *testing.T) {
	srv := fakeopenai.New(t)
	srv.Handle(byModel(map[string]fakeopenai.Response{
		"down": {Status: http.StatusInternalServerError},
		"up":   {Content: "answer"},
	}))
	pool := newPool(t, srv, llm.Options{},
		llm.Provider{Name: "down", Model: "down", MaxRetries: new(1)},
		llm.Provider{Name: "up", Model: "up"})

	var last string
	c, err := pool.Stream(context.Background(), ask("x"), func(text string) { last = text })
	if err != nil || c.Provider != "up" || last != "answer" {
		t.Errorf("got %+v, %v, last delta %q", c, err, last)
	}
}

func TestReasoningModelParameters(t *testing.T) {
	tests := map[string]struct {
		model     string
		reasoning bool
	}{
		"o3-mini":      {model: "o3-mini", reasoning: true},
		"o4-mini":      {model: "o4-mini", reasoning: true},
		"gpt-5":        {model: "gpt-5-mini", reasoning: true},
		"gpt-4.1":      {model: "gpt-4.1-mini", reasoning: false},
		"local llama3": {model: "llama3.1:8b", reasoning: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := fakeopenai.New(t)
			pool := newPool(t, srv, llm.Options{}, llm.Provider{Name: "p", Model: tc.model, MaxOutputTokens: 900})
			req := ask("x")
			for _, stream := range []bool{false, true} {
				var err error
				if stream {
					_, err = pool.Stream(context.Background(), req, nil)
				} else {
					_, err = pool.Complete(context.Background(), req)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range srv.Requests() {
				var body map[string]any
				if err := json.Unmarshal(r.Raw, &body); err != nil {
					t.Fatal(err)
				}
				_, hasMaxTokens := body["max_tokens"]
				_, hasTemperature := body["temperature"]
				if tc.reasoning != (body["max_completion_tokens"] == 900.0) || tc.reasoning == hasMaxTokens || tc.reasoning == hasTemperature {
					t.Errorf("reasoning=%v but the body is %s", tc.reasoning, r.Raw)
				}
			}
		})
	}
}

func TestAzureRequestShape(t *testing.T) {
	srv := fakeopenai.New(t)
	pool := newPool(t, srv, llm.Options{}, llm.Provider{
		Name: "azure", Kind: llm.KindAzure, BaseURL: srv.Root + "/", Deployment: "briefing-gpt41", Model: "gpt-4.1",
	})
	if _, err := pool.Complete(context.Background(), askJSON("x")); err != nil {
		t.Fatal(err)
	}
	req := srv.Requests()[0]
	if want := "/openai/deployments/briefing-gpt41/chat/completions?api-version=" + llm.DefaultAzureAPIVersion; req.Path != want {
		t.Errorf("path %s, want %s", req.Path, want)
	}
	if req.Header.Get("api-key") != testKey || req.Header.Get("Authorization") != "" {
		t.Errorf("headers api-key=%q Authorization=%q; want the key in api-key only", req.Header.Get("api-key"), req.Header.Get("Authorization"))
	}
	if req.Body.ResponseFormat == nil {
		t.Error("azure did not get json_schema")
	}
}

func TestAPIKeyOnlyInHeaders(t *testing.T) {
	srv := fakeopenai.New(t)
	srv.Handle(byModel(map[string]fakeopenai.Response{
		"m1": {Status: http.StatusTooManyRequests},
		"m2": {Content: `{"summary":"x"}`},
	}))
	pool := newPool(t, srv, llm.Options{},
		llm.Provider{Name: "one", Model: "m1", MaxRetries: new(1)},
		llm.Provider{Name: "two", Model: "m2"})
	if _, err := pool.Complete(context.Background(), askJSON("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Stream(context.Background(), ask("x"), nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if strings.Contains(string(r.Raw), testKey) || strings.Contains(r.Path, testKey) {
			t.Errorf("the API key is in a request to %s: %s", r.Path, r.Raw)
		}
		if r.Header.Get("Authorization") != "Bearer "+testKey {
			t.Errorf("Authorization header %q", r.Header.Get("Authorization"))
		}
	}
}

func TestNewRejectsInvalidProviders(t *testing.T) {
	tests := map[string]struct {
		provider llm.Provider
		want     string
	}{
		"no name":           {provider: llm.Provider{Model: "m", APIKey: "k"}, want: "provider 1: name is required"},
		"unknown kind":      {provider: llm.Provider{Name: "x", Kind: "anthropic", Model: "m", APIKey: "k"}, want: `"x": kind "anthropic"`},
		"no model":          {provider: llm.Provider{Name: "x", APIKey: "k"}, want: `"x": model is required`},
		"bad url":           {provider: llm.Provider{Name: "x", Model: "m", APIKey: "k", BaseURL: "api.openai.com"}, want: `"x": base_url`},
		"azure without dep": {provider: llm.Provider{Name: "x", Kind: llm.KindAzure, BaseURL: "https://r.openai.azure.com/", APIKey: "k"}, want: "deployment is required"},
		"compatible no url": {provider: llm.Provider{Name: "x", Kind: llm.KindCompatible, Model: "m"}, want: "base_url is required"},
		"negative timeout":  {provider: llm.Provider{Name: "x", Model: "m", APIKey: "k", Timeout: -time.Second}, want: "must not be negative"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := llm.New([]llm.Provider{tc.provider}, llm.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || briefing.ErrorCode(err) != briefing.EINVALID {
				t.Errorf("error %v, want an invalid error containing %q", err, tc.want)
			}
		})
	}
	_, err := llm.New([]llm.Provider{{Name: "a", Model: "m", APIKey: "k"}, {Name: "a", Model: "m", APIKey: "k"}}, llm.Options{})
	if err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("duplicate names: %v", err)
	}
}

// A temperature of 0 is asked for, not dropped: go-openai omits a zero
// value, which a server would read as its default of 1.
func TestZeroTemperatureIsSent(t *testing.T) {
	srv := fakeopenai.New(t)
	pool := newPool(t, srv, llm.Options{}, llm.Provider{Name: "one", Model: "gpt-4.1-mini", Temperature: new(float32(0))})
	if _, err := pool.Complete(context.Background(), ask("x")); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(srv.Requests()[0].Raw, &body); err != nil {
		t.Fatal(err)
	}
	if temp, ok := body["temperature"].(float64); !ok || temp > 1e-6 {
		t.Errorf("temperature = %v, want (nearly) zero and present", body["temperature"])
	}
}
