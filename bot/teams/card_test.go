package teams_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/teams"
	"github.com/briefing-bot/briefing/internal/briefingtest"
)

// channelHint is the footer of a card posted in a channel.
const channelHint = "Mention me in a reply to this thread to ask a follow-up."

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var briefingCases = briefingtest.Variants(map[string]func(*briefing.Briefing){
	"escaped": func(b *briefing.Briefing) {
		b.Headline = "<at>Everyone</at> @channel **Outage** & recovery"
		b.Bullets[0] = "# Ping @team and [click](https://evil.test)"
		b.Bullets[1] = "1. not a list _nor italic_ `code`"
		b.Paragraphs[0].Text = "- See <b>this</b> ![img](https://evil.test/x.png) now.\n2) second line"
		b.Paragraphs[0].Sources = []string{"https://odd.test/a)b c", "javascript:alert(1)", b.Paragraphs[0].Sources[0]}
	},
	"many_paragraphs": func(b *briefing.Briefing) {
		for i := range 80 {
			b.Paragraphs = append(b.Paragraphs, briefing.Paragraph{
				Text: fmt.Sprintf("Extra paragraph %d. %s", i, briefingtest.Sentences(8)), Sources: []string{b.Stories[0].Articles[0].URL}})
		}
	},
})

func renderCard(tb testing.TB, br *briefing.Briefing) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(teams.Card(br, channelHint)); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestCardGolden(t *testing.T) {
	for name, mutate := range briefingCases {
		t.Run(name, func(t *testing.T) {
			br := briefingtest.TwoArticleBriefing()
			mutate(br)
			briefingtest.AssertGolden(t, filepath.Join("testdata", "card_"+name+".json"), renderCard(t, br), *update)
		})
	}
}

// cardTexts returns every TextBlock's text.
func cardTexts(tb testing.TB, card map[string]any) []string {
	tb.Helper()
	var texts []string
	for _, block := range card["body"].([]any) {
		if text, ok := block.(map[string]any)["text"].(string); ok {
			texts = append(texts, text)
		}
	}
	return texts
}

var markdownLink = regexp.MustCompile(`\]\(([^)]*)\)`)

func TestCardEscapesContent(t *testing.T) {
	br := briefingtest.TwoArticleBriefing()
	briefingCases["escaped"](br)
	allowed := map[string]bool{}
	for _, s := range br.Stories {
		for _, a := range s.Articles {
			allowed[a.URL] = true
		}
	}
	for _, text := range cardTexts(t, teams.Card(br, channelHint)) {
		for _, bad := range []string{"<at>", "<b>", "*Outage", "@channel", "@team", "[click]", "[img]", "_nor", "`code", "# Ping", "- See", ". not a list", ") second"} {
			for i := strings.Index(text, bad); i >= 0; i = nextIndex(text, bad, i) {
				if i == 0 || text[i-1] != '\\' {
					t.Errorf("content markup %q survives in %q", bad, text)
				}
			}
		}
		for _, m := range markdownLink.FindAllStringSubmatch(text, -1) {
			target := strings.NewReplacer("%28", "(", "%29", ")", "%20", " ").Replace(m[1])
			if !allowed[target] {
				t.Errorf("link to %q, which is no article of the briefing, in %q", m[1], text)
			}
		}
	}
}

func nextIndex(s, sub string, after int) int {
	if i := strings.Index(s[after+1:], sub); i >= 0 {
		return after + 1 + i
	}
	return -1
}

func TestCardFitsSizeLimit(t *testing.T) {
	br := briefingtest.TwoArticleBriefing()
	for i := range 300 {
		br.Paragraphs = append(br.Paragraphs, briefing.Paragraph{Text: briefingtest.Sentences(10), Sources: []string{fmt.Sprint("https://x.test/", i)}})
	}
	card, err := json.Marshal(teams.Card(br, channelHint))
	if err != nil {
		t.Fatal(err)
	}
	if len(card) > 28*1024 {
		t.Errorf("card is %d bytes, over the 28 KB webhook limit", len(card))
	}
	texts := cardTexts(t, teams.Card(br, channelHint))
	if last := texts[len(texts)-1]; !strings.Contains(last, "Paragraphs left out") {
		t.Errorf("footer does not say paragraphs were left out: %q", last)
	}
}

func TestEscapeMarkdown(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"plain":       {"Prices fall 10% today.", "Prices fall 10% today."},
		"mention":     {"<at>All</at>", `\<at\>All\</at\>`},
		"at sign":     {"hi @channel", `hi \@channel`},
		"emphasis":    {"**a** _b_", `\*\*a\*\* \_b\_`},
		"link":        {"[x](y)", `\[x\]\(y\)`},
		"list":        {"- a\n+ b\n12. c", "\\- a\n\\+ b\n12\\. c"},
		"heading":     {"# h", `\# h`},
		"inner digit": {"version 2.5", "version 2.5"},
		"entity":      {"&lt;at&gt;", `\&lt;at\&gt;`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := teams.EscapeMarkdown(tc.in); got != tc.want {
				t.Errorf("EscapeMarkdown(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzEscapeMarkdown(f *testing.F) {
	for _, s := range []string{"<at>x</at>", "**a**", "1. x", "[a](b)", "@channel"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := teams.EscapeMarkdown(s)
		escaped := false
		for _, r := range out {
			if !escaped && strings.ContainsRune("<>[]*_`@&", r) {
				t.Fatalf("unescaped %q in %q (from %q)", r, out, s)
			}
			escaped = !escaped && r == '\\'
		}
	})
}

func BenchmarkCard(b *testing.B) {
	br := briefingtest.TwoArticleBriefing()
	briefingCases["many_paragraphs"](br)
	for b.Loop() {
		teams.Card(br, channelHint)
	}
}
