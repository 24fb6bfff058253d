package briefing_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/briefing-bot/briefing"
)

func TestErrorMessageShowsOnlySafeText(t *testing.T) {
	tests := map[string]struct {
		err        error
		code, want string
	}{
		"domain error": {briefing.Errorf(briefing.ENOTFOUND, "No topic %q.", "x"), briefing.ENOTFOUND, `No topic "x".`},
		"wrapped":      {fmt.Errorf("build: %w", briefing.Errorf(briefing.EINVALID, "Bad.")), briefing.EINVALID, "Bad."},
		"internal":     {errors.New("open /secret/path: permission denied"), briefing.EINTERNAL, "Something went wrong on our side; the details are in the bot's log."},
		"nil":          {nil, "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := briefing.ErrorCode(tc.err); got != tc.code {
				t.Errorf("ErrorCode = %q, want %q", got, tc.code)
			}
			if got := briefing.ErrorMessage(tc.err); got != tc.want {
				t.Errorf("ErrorMessage = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBriefingLabels(t *testing.T) {
	b := &briefing.Briefing{Summarizer: "llm:primary", Stories: []briefing.Story{
		{Articles: []briefing.Article{{URL: "https://a.example/1"}, {URL: "https://b.example/2"}}},
		{Articles: []briefing.Article{{URL: "https://a.example/1"}}},
	}}
	if got := b.SourcesLabel(); got != "2 sources" {
		t.Errorf("SourcesLabel = %q", got)
	}
	if got := b.SummarizerLabel(); got != "LLM summary (primary)" {
		t.Errorf("SummarizerLabel = %q", got)
	}
	if a, ok := b.ArticleByURL("https://b.example/2"); !ok || a.URL != "https://b.example/2" {
		t.Errorf("ArticleByURL found %+v, %v", a, ok)
	}
	if _, ok := b.ArticleByURL("https://made.up/"); ok {
		t.Error("ArticleByURL found an article the briefing does not have")
	}
	one := &briefing.Briefing{Summarizer: briefing.SummarizerOffline, Paragraphs: []briefing.Paragraph{{Sources: []string{"https://a.example/1"}}}}
	if got := one.SourcesLabel() + " · " + one.SummarizerLabel(); got != "1 source · offline summary" {
		t.Errorf("labels = %q", got)
	}
}
