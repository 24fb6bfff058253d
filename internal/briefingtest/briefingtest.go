// Package briefingtest holds what the chat front ends' and renderers' tests
// share: a sample briefing, a briefing.Service with canned briefings that
// records how it was called, and golden-file comparison. Only tests import
// it.
package briefingtest

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
)

// TwoArticleBriefing is a small cloud briefing from two collected articles,
// each its own story. The second article's URL holds "(", ")" and "&", which
// chat link syntaxes must escape.
func TwoArticleBriefing() *briefing.Briefing {
	a1 := briefing.Article{ID: "a1", URL: "https://www.example.com/cloud/prices", Title: "Cloud prices fall",
		Source: "example.com", SourceName: "Example News", Topics: []string{"cloud"},
		Published: time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)}
	a2 := briefing.Article{ID: "a2", URL: "https://news.test/regions_(eu)?id=7&ref=feed", Title: "Three regions open",
		Source: "news.test", SourceName: "News Test", Topics: []string{"cloud"},
		Published: time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)}
	return &briefing.Briefing{
		ID: "br-cloud-1", Topic: "cloud", TopicName: "Cloud",
		GeneratedAt: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC),
		Summarizer:  briefing.SummarizerOffline,
		Headline:    "Cloud prices fall as three regions open",
		Bullets:     []string{"Prices fall 10%.", "Three regions open.", "Customers move workloads."},
		Paragraphs: []briefing.Paragraph{
			{Text: "Compute prices fell by a tenth this week. Storage stayed flat.", Sources: []string{a1.URL}},
			{Text: "Three regions opened in Europe, easing capacity limits.", Sources: []string{a2.URL, a1.URL}, Story: 1},
		},
		Stories: []briefing.Story{
			{ID: "s1", Title: a1.Title, Articles: []briefing.Article{a1}},
			{ID: "s2", Title: a2.Title, Articles: []briefing.Article{a2}},
		},
	}
}

// Sentences returns n numbered sentences of about 55 characters each, to
// fill text up to a platform's size limits.
func Sentences(n int) string {
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "Sentence number %d tells a little more of the story. ", i)
	}
	return strings.TrimSpace(sb.String())
}

// AssertGolden compares got with the golden file at path, or, when update
// is set (the test package's -update flag), rewrites the file with got.
func AssertGolden(tb testing.TB, path string, got []byte, update bool) {
	tb.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs (run go test -update and review the diff)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// Variants returns the ways every platform's tests vary TwoArticleBriefing
// ("offline": as is, "llm": written by an LLM, "empty": nothing to say),
// together with a platform's own, each a change made to the briefing.
func Variants(own map[string]func(*briefing.Briefing)) map[string]func(*briefing.Briefing) {
	variants := map[string]func(*briefing.Briefing){
		"offline": func(*briefing.Briefing) {},
		"llm":     func(b *briefing.Briefing) { b.Summarizer = "llm:primary" },
		"empty":   func(b *briefing.Briefing) { b.Headline, b.Bullets, b.Paragraphs = "", nil, nil },
	}
	maps.Copy(variants, own)
	return variants
}
