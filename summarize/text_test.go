package summarize_test

import (
	"reflect"
	"testing"

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
