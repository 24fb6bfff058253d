// Package llm talks to OpenAI-compatible chat-completion providers through
// go-openai: OpenAI itself, Azure OpenAI, and servers that imitate the API
// (Ollama, vLLM, Gemini's and Bedrock's OpenAI endpoints). A Pool tries its
// providers in order, retrying rate limits and outages within a provider,
// failing over to the next, and skipping a provider whose circuit breaker is
// open.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/metrics"
)

// Kind names the flavour of a provider's API.
type Kind string

// The kinds of provider.
const (
	KindOpenAI     Kind = "openai"
	KindAzure      Kind = "azure"
	KindCompatible Kind = "compatible"
)

// Defaults for Provider fields left zero.
const (
	DefaultTimeout         = 60 * time.Second
	DefaultMaxOutputTokens = 1200
	DefaultTemperature     = 0.2
	DefaultMaxRetries      = 3
	DefaultAzureAPIVersion = "2024-10-21"
	DefaultOpenAIBaseURL   = "https://api.openai.com/v1"
)

// Provider is one chat-completion endpoint and model.
type Provider struct {
	Name string
	// Kind defaults to openai.
	Kind Kind
	// BaseURL is the API base (".../v1"); for azure it is the resource
	// endpoint ("https://NAME.openai.azure.com/"). Defaults to OpenAI's for
	// kind openai.
	BaseURL string
	// APIKey goes only into the Authorization (or, for azure, api-key)
	// header. A provider of kind openai or azure without one is skipped;
	// a compatible server (Ollama) may need none.
	APIKey string
	// Model is the model name; for azure, the model behind the deployment
	// (it decides the request parameters) and defaults to Deployment.
	Model      string
	Deployment string
	// APIVersion is azure's api-version, default DefaultAzureAPIVersion.
	APIVersion string
	// Timeout bounds each HTTP attempt, the response body included. An
	// attempt that times out is retried once at most, so that a provider
	// that hangs costs two timeouts before the next provider is tried.
	Timeout         time.Duration
	MaxOutputTokens int
	// Temperature is nil for DefaultTemperature; reasoning models get none.
	Temperature *float32
	// JSONSchema says whether the provider supports json_schema structured
	// output. Unset means yes for openai and azure; for compatible servers
	// it is tried once, and a 400 that goes away without it switches the
	// provider to JSON in the prompt for the rest of the process.
	JSONSchema *bool
	// MaxRetries bounds the retries of a 429 or 5xx reply; nil means
	// DefaultMaxRetries, 0 none. Timeouts count against it too.
	MaxRetries *int
}

// String describes the provider without its key.
func (p Provider) String() string {
	return fmt.Sprintf("%s (%s %s)", p.Name, p.Kind, p.Model)
}

// LogValue keeps the API key out of logs.
func (p Provider) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", p.Name), slog.String("kind", string(p.Kind)),
		slog.String("base_url", p.BaseURL), slog.String("model", p.Model))
}

// Options configure a Pool.
type Options struct {
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// BreakerThreshold consecutive failures open a provider's breaker for
	// BreakerCooldown; defaults 3 and 5 minutes.
	BreakerThreshold int
	BreakerCooldown  time.Duration
	Now              func() time.Time
	// HTTPClient is the base client each provider's copy is made from
	// (with the provider's Timeout); nil means a new http.Client.
	HTTPClient *http.Client
	// RetryBase and RetryCap bound the back-off between retries within a
	// provider, and RetryCap also caps a server's Retry-After; defaults
	// 500ms and 8s.
	RetryBase time.Duration
	RetryCap  time.Duration
}

// Pool is a briefing.Completer over providers tried in order.
type Pool struct {
	providers []*provider
	logger    *slog.Logger
	metrics   *metrics.Metrics
	now       func() time.Time
}

var _ briefing.Completer = (*Pool)(nil)

type provider struct {
	Provider
	client  *openai.Client
	breaker *breaker
	// textJSON is set once a compatible server has shown it rejects
	// json_schema.
	textJSON atomic.Bool
}

// New checks the providers and builds their clients. A provider that needs
// an API key and has none is skipped (and logged), so the Pool may be empty:
// callers check Len and use the offline summarizer then.
func New(providers []Provider, opts Options) (*Pool, error) {
	p := &Pool{logger: opts.Logger, metrics: opts.Metrics, now: opts.Now}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	threshold, cooldown := opts.BreakerThreshold, opts.BreakerCooldown
	if threshold <= 0 {
		threshold = 3
	}
	if cooldown <= 0 {
		cooldown = 5 * time.Minute
	}
	base := opts.HTTPClient
	if base == nil {
		base = &http.Client{}
	}
	retryBase, retryCap := opts.RetryBase, opts.RetryCap
	if retryBase <= 0 {
		retryBase = 500 * time.Millisecond
	}
	if retryCap <= 0 {
		retryCap = 8 * time.Second
	}
	names := map[string]bool{}
	for i, pr := range providers {
		pr, err := withDefaults(pr)
		if err != nil {
			if pr.Name == "" {
				return nil, briefing.Errorf(briefing.EINVALID, "llm provider %d: %v", i+1, err)
			}
			return nil, briefing.Errorf(briefing.EINVALID, "llm provider %q: %v", pr.Name, err)
		}
		if names[pr.Name] {
			return nil, briefing.Errorf(briefing.EINVALID, "llm provider %q: the name is used twice", pr.Name)
		}
		names[pr.Name] = true
		if pr.APIKey == "" && pr.Kind != KindCompatible {
			p.logger.Warn("llm provider has no api key; skipping it", slog.String("provider", pr.Name))
			continue
		}
		hc := *base
		hc.Timeout = pr.Timeout
		doer := &retryingClient{client: &hc, maxRetries: *pr.MaxRetries, base: retryBase, cap: retryCap, now: p.now}
		p.providers = append(p.providers, &provider{
			Provider: pr,
			client:   openai.NewClientWithConfig(clientConfig(pr, doer)),
			breaker:  &breaker{threshold: threshold, cooldown: cooldown},
		})
	}
	return p, nil
}

// withDefaults validates pr and fills in its defaults.
func withDefaults(pr Provider) (Provider, error) {
	if pr.Name == "" {
		return pr, errors.New("name is required")
	}
	if pr.Kind == "" {
		pr.Kind = KindOpenAI
	}
	switch pr.Kind {
	case KindOpenAI:
		if pr.BaseURL == "" {
			pr.BaseURL = DefaultOpenAIBaseURL
		}
	case KindAzure:
		if pr.Deployment == "" {
			return pr, errors.New("deployment is required for kind azure")
		}
		if pr.Model == "" {
			pr.Model = pr.Deployment
		}
		if pr.APIVersion == "" {
			pr.APIVersion = DefaultAzureAPIVersion
		}
	case KindCompatible:
	default:
		return pr, fmt.Errorf("kind %q is not one of openai, azure, compatible", pr.Kind)
	}
	if pr.BaseURL == "" {
		return pr, fmt.Errorf("base_url is required for kind %s", pr.Kind)
	}
	if u, err := url.Parse(pr.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return pr, fmt.Errorf("base_url %q is not an http(s) URL", pr.BaseURL)
	}
	if pr.Model == "" {
		return pr, errors.New("model is required")
	}
	if pr.Timeout < 0 || pr.MaxOutputTokens < 0 || (pr.MaxRetries != nil && *pr.MaxRetries < 0) || (pr.Temperature != nil && *pr.Temperature < 0) {
		return pr, errors.New("timeout, max output tokens, retries and temperature must not be negative")
	}
	if pr.Timeout == 0 {
		pr.Timeout = DefaultTimeout
	}
	if pr.MaxOutputTokens == 0 {
		pr.MaxOutputTokens = DefaultMaxOutputTokens
	}
	if pr.Temperature == nil {
		pr.Temperature = new(float32(DefaultTemperature))
	}
	if pr.MaxRetries == nil {
		pr.MaxRetries = new(DefaultMaxRetries)
	}
	return pr, nil
}

func clientConfig(pr Provider, doer openai.HTTPDoer) openai.ClientConfig {
	var cfg openai.ClientConfig
	if pr.Kind == KindAzure {
		cfg = openai.DefaultAzureConfig(pr.APIKey, pr.BaseURL)
		cfg.APIVersion = pr.APIVersion
		deployment := pr.Deployment
		cfg.AzureModelMapperFunc = func(string) string { return deployment }
	} else {
		cfg = openai.DefaultConfig(pr.APIKey)
		cfg.BaseURL = pr.BaseURL
	}
	cfg.HTTPClient = doer
	return cfg
}

// Len is the number of usable providers.
func (p *Pool) Len() int { return len(p.providers) }

// Fingerprint names the providers and models in order. Derived results
// cached under it (story summaries) are redone when the models change.
func (p *Pool) Fingerprint() string {
	parts := make([]string, len(p.providers))
	for i, pr := range p.providers {
		parts[i] = fmt.Sprintf("%s/%s/%s/%s", pr.Name, pr.Kind, pr.Model, pr.Deployment)
	}
	return strings.Join(parts, ",")
}

// Complete asks the providers in order until one gives a usable answer.
func (p *Pool) Complete(ctx context.Context, req briefing.CompletionRequest) (briefing.Completion, error) {
	return p.run(ctx, req, nil)
}

// Stream is Complete with the reply streamed: onDelta gets the whole text
// so far each time it grows. A provider that fails after the first delta
// is not failed over, as the text shown would start again.
func (p *Pool) Stream(ctx context.Context, req briefing.CompletionRequest, onDelta func(text string)) (briefing.Completion, error) {
	if onDelta == nil {
		onDelta = func(string) {}
	}
	return p.run(ctx, req, onDelta)
}

func (p *Pool) run(ctx context.Context, req briefing.CompletionRequest, onDelta func(string)) (briefing.Completion, error) {
	if len(p.providers) == 0 {
		return briefing.Completion{}, errors.New("no LLM provider is configured")
	}
	var errs []error
	for _, pr := range p.providers {
		if !pr.breaker.allow(p.now()) {
			errs = append(errs, fmt.Errorf("provider %s: skipped while its circuit breaker is open", pr.Name))
			continue
		}
		c, started, err := pr.complete(ctx, req, onDelta, p.logger)
		p.metrics.LLMUsed(pr.Name, c.Usage.PromptTokens, c.Usage.CompletionTokens, err)
		if err == nil {
			if pr.breaker.success() {
				p.logger.Info("llm provider circuit closed", slog.String("provider", pr.Name))
			}
			return c, nil
		}
		err = fmt.Errorf("provider %s: %w", pr.Name, err)
		if ctx.Err() != nil {
			pr.breaker.release()
			return c, err
		}
		if pr.breaker.failure(p.now()) {
			p.logger.Warn("llm provider circuit opened", slog.String("provider", pr.Name),
				slog.Duration("cooldown", pr.breaker.cooldown))
		}
		p.logger.Warn("llm provider failed", slog.String("provider", pr.Name), slog.Any("error", err))
		if started {
			return c, err
		}
		errs = append(errs, err)
	}
	return briefing.Completion{}, fmt.Errorf("all LLM providers failed: %w", errors.Join(errs...))
}

// complete sends req to one provider. started reports whether onDelta has
// seen text.
func (pr *provider) complete(ctx context.Context, req briefing.CompletionRequest, onDelta func(string), logger *slog.Logger) (c briefing.Completion, started bool, err error) {
	useSchema := req.Schema != nil && pr.supportsSchema()
	c, started, err = pr.send(ctx, pr.request(req, useSchema), req.Schema != nil, onDelta)
	if err == nil || !useSchema || started || pr.JSONSchema != nil || pr.Kind != KindCompatible || !isBadRequest(err) {
		return c, started, err
	}
	c, started, err = pr.send(ctx, pr.request(req, false), true, onDelta)
	if err == nil {
		pr.textJSON.Store(true)
		logger.Info("llm provider rejects json_schema; asking for JSON in the prompt from now on",
			slog.String("provider", pr.Name))
	}
	return c, started, err
}

func (pr *provider) supportsSchema() bool {
	if pr.JSONSchema != nil {
		return *pr.JSONSchema
	}
	return !pr.textJSON.Load()
}

func isBadRequest(err error) bool {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.As(err, &apiErr):
		return apiErr.HTTPStatusCode == http.StatusBadRequest
	case errors.As(err, &reqErr):
		return reqErr.HTTPStatusCode == http.StatusBadRequest
	}
	return false
}

// isReasoningModel matches the models go-openai's reasoning validator
// holds to reasoning rules: max_completion_tokens, no temperature.
func isReasoningModel(model string) bool {
	for _, prefix := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(model, prefix) {
			return true
		}
	}
	return false
}

// request builds the chat request; without schema support the schema goes
// into the system prompt instead of response_format.
func (pr *provider) request(req briefing.CompletionRequest, useSchema bool) openai.ChatCompletionRequest {
	msgs := make([]openai.ChatCompletionMessage, 0, len(req.Messages)+1)
	for _, m := range req.Messages {
		msgs = append(msgs, openai.ChatCompletionMessage{Role: m.Role, Content: m.Content})
	}
	if req.Schema != nil && !useSchema {
		instruction := "Reply with only a JSON object matching this JSON schema: " + string(req.Schema)
		if len(msgs) > 0 && msgs[0].Role == openai.ChatMessageRoleSystem {
			msgs[0].Content += "\n\n" + instruction
		} else {
			msgs = append([]openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleSystem, Content: instruction}}, msgs...)
		}
	}
	r := openai.ChatCompletionRequest{Model: pr.Model, Messages: msgs}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = pr.MaxOutputTokens
	}
	if isReasoningModel(pr.Model) {
		r.MaxCompletionTokens = maxTokens
	} else {
		//lint:ignore SA1019 max_tokens, deprecated by OpenAI, is what every OpenAI-compatible server (Ollama, vLLM, gateways) understands.
		r.MaxTokens = maxTokens
		// go-openai omits a zero temperature, which servers read as their
		// default (1.0); the smallest float is its documented stand-in.
		r.Temperature = max(*pr.Temperature, math.SmallestNonzeroFloat32)
	}
	if useSchema {
		name := req.SchemaName
		if name == "" {
			name = "reply"
		}
		r.ResponseFormat = &openai.ChatCompletionResponseFormat{
			Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
				Name: name, Schema: json.RawMessage(req.Schema), Strict: true,
			},
		}
	}
	return r
}

// send makes one request, streamed when onDelta is set, and checks the
// reply: not refused, not empty, and a JSON object when wantJSON.
func (pr *provider) send(ctx context.Context, r openai.ChatCompletionRequest, wantJSON bool, onDelta func(string)) (briefing.Completion, bool, error) {
	c := briefing.Completion{Provider: pr.Name}
	var refusal string
	started := false
	if onDelta == nil {
		resp, err := pr.client.CreateChatCompletion(ctx, r)
		if err != nil {
			return c, false, err
		}
		if len(resp.Choices) == 0 {
			return c, false, errors.New("the reply has no choices")
		}
		c.Text, refusal = resp.Choices[0].Message.Content, resp.Choices[0].Message.Refusal
		c.Usage = briefing.Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}
	} else {
		r.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
		stream, err := pr.client.CreateChatCompletionStream(ctx, r)
		if err != nil {
			return c, false, err
		}
		defer stream.Close()
		var text, refused strings.Builder
		for {
			chunk, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				c.Text = text.String()
				return c, started, fmt.Errorf("read stream: %w", err)
			}
			if chunk.Usage != nil {
				c.Usage = briefing.Usage{PromptTokens: chunk.Usage.PromptTokens, CompletionTokens: chunk.Usage.CompletionTokens}
			}
			if len(chunk.Choices) == 0 {
				continue
			}
			delta := chunk.Choices[0].Delta
			refused.WriteString(delta.Refusal)
			if delta.Content != "" {
				text.WriteString(delta.Content)
				started = true
				onDelta(text.String())
			}
		}
		c.Text, refusal = text.String(), refused.String()
	}
	switch {
	case refusal != "":
		return c, started, fmt.Errorf("the model refused: %s", refusal)
	case strings.TrimSpace(c.Text) == "":
		return c, started, errors.New("the reply is empty")
	case wantJSON:
		obj, err := extractJSON(c.Text)
		if err != nil {
			return c, started, err
		}
		c.Text = obj
	}
	return c, started, nil
}
