package fakeopenai_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/briefing-bot/briefing/internal/fakeopenai"
)

func client(srv *fakeopenai.Server) *openai.Client {
	cfg := openai.DefaultConfig("sk-test")
	cfg.BaseURL = srv.URL
	return openai.NewClientWithConfig(cfg)
}

var schema = json.RawMessage(`{"type":"object","properties":{"headline":{"type":"string"},` +
	`"bullets":{"type":"array","items":{"type":"string"}},"sources":{"type":"array","items":{"type":"string"}}},` +
	`"required":["headline","bullets","sources"],"additionalProperties":false}`)

func TestDefaultFillsSchemas(t *testing.T) {
	tests := map[string]openai.ChatCompletionRequest{
		"response_format": {Model: "m", Messages: []openai.ChatCompletionMessage{
			{Role: "system", Content: "Cite like [a9]."},
			{Role: "user", Content: `<article id="a1">x</article><article id="a2">y</article>`},
		}, ResponseFormat: &openai.ChatCompletionResponseFormat{
			Type:       openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{Name: "b", Schema: schema, Strict: true},
		}},
		"schema in the prompt": {Model: "m", Messages: []openai.ChatCompletionMessage{
			{Role: "system", Content: "Reply with only a JSON object matching this JSON schema: " + string(schema)},
			{Role: "user", Content: "Facts: one [a1, a2]."},
		}},
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			srv := fakeopenai.New(t)
			resp, err := client(srv).CreateChatCompletion(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Headline string
				Bullets  []string
				Sources  []string
			}
			if err := json.Unmarshal([]byte(resp.Choices[0].Message.Content), &got); err != nil {
				t.Fatalf("reply %q is not the schema's JSON: %v", resp.Choices[0].Message.Content, err)
			}
			if got.Headline == "" || len(got.Bullets) != 3 || strings.Join(got.Sources, ",") != "a1,a2" {
				t.Errorf("reply %+v, want a headline, three bullets and the user messages' ids", got)
			}
			want := fakeopenai.Count(req.Messages, resp.Choices[0].Message.Content)
			if resp.Usage.PromptTokens != want.PromptTokens || resp.Usage.CompletionTokens != want.CompletionTokens {
				t.Errorf("usage %+v, want %+v", resp.Usage, want)
			}
		})
	}
}

func TestStreamSendsUsageChunkAndDone(t *testing.T) {
	srv := fakeopenai.New(t)
	srv.Enqueue(fakeopenai.Response{Chunks: []string{"a", "b"}, Usage: openai.Usage{PromptTokens: 9, CompletionTokens: 2}})
	stream, err := client(srv).CreateChatCompletionStream(context.Background(), openai.ChatCompletionRequest{
		Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}},
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var text strings.Builder
	var usage *openai.Usage
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if chunk.Usage != nil {
			if len(chunk.Choices) != 0 {
				t.Error("the usage chunk has choices")
			}
			usage = chunk.Usage
		}
		for _, c := range chunk.Choices {
			text.WriteString(c.Delta.Content)
		}
	}
	if text.String() != "ab" || usage == nil || usage.PromptTokens != 9 {
		t.Errorf("text %q usage %+v", text.String(), usage)
	}
}

func TestErrorBodies(t *testing.T) {
	srv := fakeopenai.New(t)
	srv.Enqueue(
		fakeopenai.Response{Status: http.StatusTooManyRequests, Headers: map[string]string{"Retry-After": "3"}},
		fakeopenai.Response{Status: http.StatusBadRequest, Body: `{"error":{"message":"bad schema","type":"invalid_request_error","param":"response_format","code":null}}`},
	)
	req := openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "x"}}}
	for _, want := range []int{http.StatusTooManyRequests, http.StatusBadRequest} {
		_, err := client(srv).CreateChatCompletion(context.Background(), req)
		var apiErr *openai.APIError
		if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != want || apiErr.Message == "" {
			t.Errorf("error %v, want an API error with status %d", err, want)
		}
	}
	if got := srv.Requests(); len(got) != 2 || got[0].Header.Get("Authorization") != "Bearer sk-test" {
		t.Errorf("recorded %d requests", len(got))
	}
}
