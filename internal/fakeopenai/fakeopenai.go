// Package fakeopenai is a loopback OpenAI chat-completions server for tests.
// It speaks the wire protocol the real API speaks (JSON responses with usage,
// server-sent events for streams, OpenAI error bodies), so that code under
// test goes through the real go-openai client.
package fakeopenai

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"
)

// Server is a fake OpenAI endpoint. Point a client at URL (OpenAI style) or
// at Root (Azure style, which adds /openai/deployments/… itself).
type Server struct {
	// URL is the base URL of the OpenAI-style API; it ends in /v1.
	URL string
	// Root is the server's address without a path.
	Root string

	mu       sync.Mutex
	handler  func(Request) Response
	queue    []Response
	requests []Request
}

// Request is one chat-completions request as the server received it.
type Request struct {
	// Path includes the query string, e.g. "/v1/chat/completions".
	Path   string
	Header http.Header
	Body   openai.ChatCompletionRequest
	Raw    []byte
	// At is when the request arrived.
	At time.Time
}

// Response scripts the server's reply to one request.
type Response struct {
	// Status defaults to 200. A status of 400 or more sends Body (or a
	// generated OpenAI error body when Body is empty).
	Status  int
	Headers map[string]string
	// Body is a raw error body such as {"error":{"message":…}}.
	Body string
	// Content is the assistant message; Refusal is sent instead of it
	// when set.
	Content string
	Refusal string
	// Chunks are the stream deltas; when nil a streamed Content is cut
	// into a few pieces.
	Chunks []string
	// Usage overrides the counted usage when non-zero.
	Usage openai.Usage
	// Delay blocks the reply until it is closed (or the client gives up),
	// to provoke timeouts.
	Delay <-chan struct{}
	// Sent, when set, is called after the reply has been written.
	Sent func()
}

// New starts a server that is closed when the test ends. Until Handle is
// called it answers every request with Default.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{handler: Default}
	ts := httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	tb.Cleanup(ts.Close)
	s.Root = ts.URL
	s.URL = ts.URL + "/v1"
	return s
}

// Handle makes h answer the requests that no queued response answers; nil
// restores Default.
func (s *Server) Handle(h func(Request) Response) {
	if h == nil {
		h = Default
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = h
}

// Enqueue scripts the next requests' responses, in order, ahead of the
// handler.
func (s *Server) Enqueue(responses ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, responses...)
}

// Requests returns every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "")
		return
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		writeError(w, http.StatusNotFound, "")
		return
	}
	req := Request{Path: r.URL.RequestURI(), Header: r.Header.Clone(), Raw: raw, At: time.Now()}
	if err := json.Unmarshal(raw, &req.Body); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`{"error":{"message":%q,"type":"invalid_request_error","param":null,"code":null}}`, err.Error()))
		return
	}

	s.mu.Lock()
	s.requests = append(s.requests, req)
	var resp Response
	if len(s.queue) > 0 {
		resp = s.queue[0]
		s.queue = s.queue[1:]
	} else {
		resp = s.handler(req)
	}
	s.mu.Unlock()

	if resp.Delay != nil {
		select {
		case <-resp.Delay:
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	switch {
	case resp.Status >= http.StatusBadRequest:
		writeError(w, resp.Status, resp.Body)
	case req.Body.Stream:
		writeStream(w, req, resp)
	default:
		writeJSON(w, req, resp)
	}
	if resp.Sent != nil {
		resp.Sent()
	}
}

// writeError sends an OpenAI error body, generating one from the status
// when body is empty.
func writeError(w http.ResponseWriter, status int, body string) {
	if body == "" {
		kind := "invalid_request_error"
		if status >= 500 {
			kind = "server_error"
		}
		body = fmt.Sprintf(`{"error":{"message":%q,"type":%q,"param":null,"code":null}}`, http.StatusText(status), kind)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func writeJSON(w http.ResponseWriter, req Request, resp Response) {
	out := openai.ChatCompletionResponse{
		ID:      "chatcmpl-fake",
		Object:  "chat.completion",
		Created: time.Now().Unix(),
		Model:   req.Body.Model,
		Choices: []openai.ChatCompletionChoice{{
			Message:      openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: resp.Content, Refusal: resp.Refusal},
			FinishReason: openai.FinishReasonStop,
		}},
		Usage:             usage(req, resp),
		SystemFingerprint: "fp_fake",
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// writeStream sends the reply as server-sent events: a role chunk, the
// content deltas, a finishing chunk, the usage chunk when asked for, and
// [DONE].
func writeStream(w http.ResponseWriter, req Request, resp Response) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	chunk := func(delta openai.ChatCompletionStreamChoiceDelta, finish openai.FinishReason) map[string]any {
		return map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": time.Now().Unix(),
			"model": req.Body.Model, "usage": nil,
			"choices": []openai.ChatCompletionStreamChoice{{Delta: delta, FinishReason: finish}},
		}
	}
	send(chunk(openai.ChatCompletionStreamChoiceDelta{Role: openai.ChatMessageRoleAssistant}, ""))
	if resp.Refusal != "" {
		send(chunk(openai.ChatCompletionStreamChoiceDelta{Refusal: resp.Refusal}, ""))
	}
	chunks := resp.Chunks
	if chunks == nil {
		chunks = split(resp.Content, 4)
	}
	for _, c := range chunks {
		send(chunk(openai.ChatCompletionStreamChoiceDelta{Content: c}, ""))
	}
	send(chunk(openai.ChatCompletionStreamChoiceDelta{}, openai.FinishReasonStop))
	if req.Body.StreamOptions != nil && req.Body.StreamOptions.IncludeUsage {
		if resp.Chunks != nil {
			resp.Content = strings.Join(resp.Chunks, "")
		}
		u := usage(req, resp)
		send(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": time.Now().Unix(),
			"model": req.Body.Model, "choices": []any{}, "usage": u,
		})
	}
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

// split cuts s into about n pieces at word boundaries.
func split(s string, n int) []string {
	words := strings.SplitAfter(s, " ")
	per := max(1, (len(words)+n-1)/n)
	var out []string
	for i := 0; i < len(words); i += per {
		out = append(out, strings.Join(words[i:min(i+per, len(words))], ""))
	}
	return out
}

// usage counts about four characters a token, the rule of thumb for
// English text, so that benchmarks can compare prompt sizes.
func usage(req Request, resp Response) openai.Usage {
	if resp.Usage != (openai.Usage{}) {
		return resp.Usage
	}
	return Count(req.Body.Messages, resp.Content)
}

// Count is the server's token count for a prompt and a reply.
func Count(messages []openai.ChatCompletionMessage, reply string) openai.Usage {
	chars := 0
	for _, m := range messages {
		chars += utf8.RuneCountInString(m.Content)
	}
	u := openai.Usage{PromptTokens: (chars + 3) / 4, CompletionTokens: (utf8.RuneCountInString(reply) + 3) / 4}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// articleID finds article ids such as a3 in a prompt.
var (
	articleID    = regexp.MustCompile(`\b(a\d+)\b`)
	storySection = regexp.MustCompile(`(?s)<story n="\d+"[^>]*>(.*?)</story>`)
	titleLine    = regexp.MustCompile(`(?m)^Title: (.+)$`)
)

// story is a <story> section of a prompt: its article ids and a sentence
// its articles state (its title, made a sentence).
type story struct {
	ids      []string
	sentence string
}

// uniqueIDs lists the article ids (a1, a2, …) in text, once each, in order.
func uniqueIDs(text string) []string {
	var ids []string
	seen := map[string]bool{}
	for _, m := range articleID.FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			ids = append(ids, m[1])
		}
	}
	return ids
}

// Default answers like a cooperative model: a request asking for a JSON
// schema (as response_format, or in the system prompt) gets an instance of
// the schema, with every "sources" array citing the article ids (a1, a2…)
// that the user messages mention; any other request gets a short text
// citing the first of them as [a1]. A briefing's paragraph for a <story>
// section cites that story's articles, and its sentence is the story's
// title, which they state.
func Default(req Request) Response {
	var prompt, data strings.Builder
	for _, m := range req.Body.Messages {
		prompt.WriteString(m.Content + "\n")
		if m.Role != openai.ChatMessageRoleSystem {
			data.WriteString(m.Content + "\n")
		}
	}
	ids := uniqueIDs(data.String())
	var stories []story
	for _, m := range storySection.FindAllStringSubmatch(data.String(), -1) {
		st := story{ids: uniqueIDs(m[1])}
		if t := titleLine.FindStringSubmatch(m[1]); t != nil {
			st.sentence = strings.TrimSpace(t[1]) + "."
		}
		stories = append(stories, st)
	}
	schema := requestSchema(req.Body, prompt.String())
	if schema == nil {
		text := "The sources say little more than the briefing does."
		if len(ids) > 0 {
			text = fmt.Sprintf("According to the sources, the story is as the briefing says [%s].", ids[0])
		}
		return Response{Content: text}
	}
	b, _ := json.Marshal(instance(schema, "", story{ids: ids}, stories))
	return Response{Content: string(b)}
}

// requestSchema returns the JSON schema a request asks for, or nil.
func requestSchema(body openai.ChatCompletionRequest, prompt string) map[string]any {
	var raw []byte
	if f := body.ResponseFormat; f != nil && f.JSONSchema != nil && f.JSONSchema.Schema != nil {
		raw, _ = f.JSONSchema.Schema.MarshalJSON()
	} else if i := strings.Index(prompt, "JSON schema:"); i >= 0 {
		dec := json.NewDecoder(strings.NewReader(prompt[i+len("JSON schema:"):]))
		var m map[string]any
		if dec.Decode(&m) == nil {
			return m
		}
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// instance builds a value matching schema; name is the property it fills,
// cur the story it tells (its sentence empty outside a story's paragraph).
func instance(schema map[string]any, name string, cur story, stories []story) any {
	switch schema["type"] {
	case "object":
		props, _ := schema["properties"].(map[string]any)
		out := map[string]any{}
		for k, p := range props {
			ps, _ := p.(map[string]any)
			out[k] = instance(ps, k, cur, stories)
		}
		return out
	case "array":
		if name == "sources" {
			return append([]string{}, cur.ids...)
		}
		items, _ := schema["items"].(map[string]any)
		if name == "paragraphs" && len(stories) > 0 {
			// One paragraph per story, citing that story's own articles,
			// as a briefing's compose step is asked to.
			out := make([]any, len(stories))
			for i, st := range stories {
				out[i] = instance(items, name, st, nil)
			}
			return out
		}
		if name == "bullets" {
			// One takeaway per story, as a briefing's compose step is
			// asked for, then filler.
			out := make([]any, 3)
			for i := range out {
				out[i] = fmt.Sprintf("Fake bullet number %s.", []string{"one", "two", "three"}[i])
				if i < len(stories) && stories[i].sentence != "" {
					out[i] = stories[i].sentence
				}
			}
			return out
		}
		n := 1
		out := make([]any, n)
		for i := range out {
			out[i] = instance(items, name, cur, stories)
		}
		return out
	case "string":
		if name == "text" && cur.sentence != "" {
			return cur.sentence
		}
		return fmt.Sprintf("Fake %s text.", name)
	case "integer", "number":
		return 0
	case "boolean":
		return false
	}
	return nil
}
