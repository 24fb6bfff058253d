package slack_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/briefing-bot/briefing"
	slackbot "github.com/briefing-bot/briefing/bot/slack"
	"github.com/briefing-bot/briefing/internal/briefingtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var briefingCases = briefingtest.Variants(map[string]func(*briefing.Briefing){
	"escaped": func(b *briefing.Briefing) {
		b.Headline = "<!channel> Outage & recovery"
		b.Bullets[0] = "Ping <@U123> and <!here>"
		b.Paragraphs[0].Text = "See <#C123|general> or <https://evil.test|click here> now."
		// A collected article whose URL needs escaping inside a link, a URL
		// no article has (as an LLM might make up) and a script URL.
		odd := briefing.Article{ID: "a3", URL: "https://odd.test/a|b>c d", Title: "Odd", Source: "odd.test"}
		b.Stories[0].Articles = append(b.Stories[0].Articles, odd)
		b.Paragraphs[0].Sources = []string{odd.URL, "https://made.up/story", "javascript:alert(1)", b.Paragraphs[0].Sources[0]}
	},
	"long_paragraph": func(b *briefing.Briefing) { b.Paragraphs[0].Text = briefingtest.Sentences(120) },
	"many_paragraphs": func(b *briefing.Briefing) {
		for i := range 60 {
			b.Paragraphs = append(b.Paragraphs, briefing.Paragraph{
				Text: fmt.Sprintf("Extra paragraph %d.", i), Sources: []string{b.Stories[0].Articles[0].URL}})
		}
	},
	"long_headline": func(b *briefing.Briefing) { b.Headline = strings.Repeat("Very long headline words ", 12) },
})

func TestBlocksGolden(t *testing.T) {
	for name, mutate := range briefingCases {
		t.Run(name, func(t *testing.T) {
			br := briefingtest.TwoArticleBriefing()
			mutate(br)
			got, err := slackbot.BlocksJSON(br)
			if err != nil {
				t.Fatal(err)
			}
			briefingtest.AssertGolden(t, filepath.Join("testdata", "blocks_"+name+".json"), got, *update)
		})
	}
}

// ownMarkup matches the only control sequences the bot writes itself: its
// links and date tokens.
var ownMarkup = regexp.MustCompile(`^<(https?://[^|<> ]+\|[^<>|]+|!date\^\d+\^[^|<>]+\|[^<>]+)>`)

func TestBlocksStayWithinSlackLimits(t *testing.T) {
	for name, mutate := range briefingCases {
		t.Run(name, func(t *testing.T) {
			br := briefingtest.TwoArticleBriefing()
			mutate(br)
			blocks := slackbot.Blocks(br)
			if len(blocks) > 50 {
				t.Errorf("%d blocks, Slack allows 50", len(blocks))
			}
			var texts []string
			for _, b := range blocks {
				switch b := b.(type) {
				case *slack.HeaderBlock:
					if n := utf8.RuneCountInString(b.Text.Text); n == 0 || n > 150 {
						t.Errorf("header has %d characters, want 1..150", n)
					}
					texts = append(texts, b.Text.Text)
				case *slack.SectionBlock:
					if n := utf8.RuneCountInString(b.Text.Text); n == 0 || n > 3000 {
						t.Errorf("section has %d characters, want 1..3000", n)
					}
					texts = append(texts, b.Text.Text)
				case *slack.ContextBlock:
					for _, e := range b.ContextElements.Elements {
						texts = append(texts, e.(*slack.TextBlockObject).Text)
					}
				}
			}
			articles := map[string]bool{}
			for _, s := range br.Stories {
				for _, a := range s.Articles {
					articles[a.URL] = true
				}
			}
			for _, text := range texts {
				for i := strings.IndexByte(text, '<'); i >= 0; i = nextLT(text, i) {
					if !ownMarkup.MatchString(text[i:]) {
						t.Errorf("unescaped markup at %q", text[i:min(len(text), i+40)])
					}
				}
				for _, m := range linkTarget.FindAllStringSubmatch(text, -1) {
					if target := linkUnescape.Replace(m[1]); !articles[target] {
						t.Errorf("link to %q, which is no article of the briefing", target)
					}
				}
			}
			last, ok := blocks[len(blocks)-1].(*slack.ContextBlock)
			if !ok || !strings.Contains(last.ContextElements.Elements[0].(*slack.TextBlockObject).Text, "Reply in this thread") {
				t.Errorf("last block is not the follow-up hint: %#v", blocks[len(blocks)-1])
			}
		})
	}
}

// linkTarget captures the URL of each link the bot wrote; linkUnescape
// undoes what link did to it.
var (
	linkTarget   = regexp.MustCompile(`<(https?://[^|<> ]+)\|`)
	linkUnescape = strings.NewReplacer("%7C", "|", "%3C", "<", "%3E", ">", "%20", " ", "&amp;", "&")
)

func nextLT(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '<')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

func TestBlocksTrimNeverDropsTheContext(t *testing.T) {
	br := briefingtest.TwoArticleBriefing()
	briefingCases["many_paragraphs"](br)
	out, err := slackbot.BlocksJSON(br)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"offline summary", "2 sources", "left out to fit one message", "Extra paragraph 0."} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("blocks lack %q", want)
		}
	}
	var msg struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(out, &msg); err != nil || msg.Text != br.Headline {
		t.Errorf("notification text = %q (%v), want the headline %q", msg.Text, err, br.Headline)
	}
}

func TestEscape(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"channel":   {"<!channel> hi", "&lt;!channel&gt; hi"},
		"user":      {"<@U123|bob>", "&lt;@U123|bob&gt;"},
		"link":      {"<https://x.test|x>", "&lt;https://x.test|x&gt;"},
		"ampersand": {"R&D &amp; more", "R&amp;D &amp;amp; more"},
		"plain":     {"nothing to do *here*", "nothing to do *here*"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := slackbot.Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
