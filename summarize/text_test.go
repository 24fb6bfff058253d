package summarize_test

import (
	"reflect"
	"testing"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/summarize"
)

func TestSentences(t *testing.T) {
	tests := map[string]struct {
		text string
		want []string
	}{
		"plain": {"AWS grew. Azure grew faster! Did Google?", []string{"AWS grew.", "Azure grew faster!", "Did Google?"}},
		"abbreviations": {"The U.S. government sued Acme Inc. on Monday. Mr. Smith said no.",
			[]string{"The U.S. government sued Acme Inc. on Monday.", "Mr. Smith said no."}},
		"initials":   {"J. R. Smith left. He was 40.", []string{"J. R. Smith left.", "He was 40."}},
		"quotes":     {`He said "it is done." Then he left.`, []string{`He said "it is done."`, "Then he left."}},
		"paragraphs": {"First line\n\nSecond one. Third", []string{"First line", "Second one.", "Third"}},
		"decimals":   {"Revenue rose 3.5 percent. Costs fell.", []string{"Revenue rose 3.5 percent.", "Costs fell."}},
		"lowercase":  {"It uses e.g. this. and that", []string{"It uses e.g. this. and that"}},
		"empty":      {"", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := summarize.Sentences(tc.text); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Sentences(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestTerms(t *testing.T) {
	got := summarize.Terms("Amazon's clouds: the companies' AWS outage hits 3 regions")
	want := []string{"amazon", "cloud", "company", "aws", "outage", "hit", "region"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Terms = %q, want %q", got, want)
	}
}

func TestCleanTitle(t *testing.T) {
	tests := map[string]struct {
		article briefing.Article
		want    string
	}{
		"feed title suffix": {briefing.Article{Title: "Fed holds rates - Reuters", SourceName: "Reuters"}, "Fed holds rates"},
		"domain suffix":     {briefing.Article{Title: "Azure outage | CNBC.com", Source: "cnbc.com"}, "Azure outage"},
		"long feed name":    {briefing.Article{Title: "Gas prices up – WBOC-TV 16", SourceName: "WBOC-TV 16, Delmarva's News Leader"}, "Gas prices up"},
		"quote attribution stays": {briefing.Article{Title: "UK economy has room to grow - Carney", SourceName: "Reuters"},
			"UK economy has room to grow - Carney"},
		"no suffix":         {briefing.Article{Title: "  Fed holds\nrates  ", SourceName: "Reuters"}, "Fed holds rates"},
		"only a site name":  {briefing.Article{Title: "- Reuters", SourceName: "Reuters"}, "- Reuters"},
		"short source name": {briefing.Article{Title: "Rates rise - AP", SourceName: "AP"}, "Rates rise - AP"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := summarize.CleanTitle(tc.article); got != tc.want {
				t.Errorf("CleanTitle(%q) = %q, want %q", tc.article.Title, got, tc.want)
			}
		})
	}
}

func TestArticleSentences(t *testing.T) {
	tests := map[string]struct {
		article briefing.Article
		want    []string
	}{
		"boilerplate dropped": {briefing.Article{Title: "T", Text: "Azure went down for four hours on Tuesday. Read more at https://example.com/x. " +
			"Short one.\n\nThe post Azure down appeared first on Example News. Microsoft blamed a configuration change."},
			[]string{"Azure went down for four hours on Tuesday.", "Microsoft blamed a configuration change."}},
		"no text: the headline": {briefing.Article{Title: "Azure down - Example", SourceName: "Example"}, []string{"Azure down"}},
		"nothing at all":        {briefing.Article{}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := summarize.ArticleSentences(tc.article); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ArticleSentences = %q, want %q", got, tc.want)
			}
		})
	}
}
