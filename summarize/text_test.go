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

func TestQuotableSentences(t *testing.T) {
	tests := map[string]struct {
		article  briefing.Article
		language string
		want     []string
	}{
		"boilerplate dropped": {article: briefing.Article{Title: "T", Text: "Azure went down for four hours on Tuesday. Read more at https://example.com/x. " +
			"Short one.\n\nThe post Azure down appeared first on Example News. Microsoft blamed a configuration change."},
			want: []string{"Azure went down for four hours on Tuesday.", "Microsoft blamed a configuration change."}},
		"no text: the headline as a sentence": {article: briefing.Article{Title: "Azure goes down for four hours - Example", SourceName: "Example"},
			want: []string{"Azure goes down for four hours."}},
		"a headline too short to read as a sentence": {article: briefing.Article{Title: "Azure down - Example", SourceName: "Example"}},
		"nothing at all": {},
		"another language, kept out": {article: briefing.Article{Title: "Bundesregierung plant neue Regeln",
			Text: "Die Bundesregierung will die Regeln für Rechenzentren im kommenden Jahr deutlich verschärfen. " +
				"Betreiber müssen dann jedes Jahr melden, wie viel Strom sie verbrauchen und woher er kommt."}},
		"the topic's language": {language: "de", article: briefing.Article{Title: "Bundesregierung plant neue Regeln",
			Text: "Die Bundesregierung will die Regeln für Rechenzentren im kommenden Jahr deutlich verschärfen."},
			want: []string{"Die Bundesregierung will die Regeln für Rechenzentren im kommenden Jahr deutlich verschärfen."}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := summarize.QuotableSentences(tc.article, tc.language); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("QuotableSentences = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadable(t *testing.T) {
	tests := map[string]bool{
		"Nimbus Cloud said a configuration push caused the outage.":                  true,
		"Halyard Data is buying Ledgerline for $640 million.":                        true,
		`"We are sorry for the disruption," Nimbus chief executive Ana Ruiz said.`:   true,
		"“We will refund every affected customer,” the company said in a statement.": true,
		"14,000 accounts were exposed, the regulator said on Friday.":                true,
		"Netflix added five million subscribers in the quarter, beating forecasts.":  true,

		"adding custom fonts to iOS apps, and":                             false, // a fragment
		"Tim Cook, in a company-wide memo:":                                false, // no terminal mark
		"set tabstop=4 shiftwidth=4 expandtab in your vimrc file.":         false, // code
		"Leia mais (09/24/2018 - 19h22)":                                   false,
		"Visit here for details. # Not a heading":                          false,
		"The launch was delayed to April.Previously the company said May.": false, // two sentences run together
		"Let's say my father has activated Drop In for me on his Echo.":    false, // the writer's aside
		"Lumen 4 ran on a single eight-GPU server in our tests.":           false,
		"The post Nimbus down appeared first on Example News.":             false,
		"Continue reading the full story on our website today.":            false,
		"See the full changelog at https://example.com/changes for more.":  false,
		"Microsoft (MSFT shares rose three percent on the news.":           false, // unbalanced
		"Too short.":                             false,
		"By Ruben Schade in Sydney, 2023-01-11.": false, // a byline
		"Maybe he is the black in the shirt on the album cover.":            false,
		"See you in your PHP stack, where the new release now runs!":        false, // the writer to the reader
		"What is it about Omni that leads to such perseverance?":            false, // the writer's question
		"But just as important this year will be what Apple leaves out.":    false, // leans on the sentence before
		`"Why did nobody warn us?" asked Dana Okafor, the chief executive.`: true,
		"Read the <b>full</b> story of the outage here today.":              false,
	}
	for s, want := range tests {
		if got := summarize.Readable(s); got != want {
			t.Errorf("Readable(%q) = %v, want %v", s, got, want)
		}
	}
}
