package render_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/internal/briefingtest"
	"github.com/briefing-bot/briefing/render"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) {
	// The text footer shows local time; the golden files are in UTC.
	time.Local = time.UTC
	os.Exit(m.Run())
}

var generatedAt = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

const madeUpURL = "https://made-up.example/never-collected"

// fixture is a briefing with three stories, one of them an update, a
// title with Markdown and HTML characters, a paragraph with two sources,
// one that cites an article twice and one that cites a URL the briefing
// does not hold.
func fixture() *briefing.Briefing {
	article := func(url, title, source string, age time.Duration) briefing.Article {
		return briefing.Article{ID: source + "-" + title[:6], URL: url, Title: title, Source: source,
			Text: "Body text is not rendered.", Published: generatedAt.Add(-age)}
	}
	outage1 := article("https://cloudwire.example/news/nimbus-outage", "Nimbus Cloud outage knocks out storage in na-east-1", "cloudwire.example", 3*time.Hour)
	outage2 := article("https://thestackdaily.example/news/nimbus-config-push", "Six-hour Nimbus failure traced to bad configuration push", "thestackdaily.example", 4*time.Hour)
	cirrus := article("https://devpost.example/news/cirrus", "Stratus *Cirrus* VMs <beta> & Vega chips", "devpost.example", 9*time.Hour)
	// No Source: the domain comes from the URL.
	halyard := article("https://www.infranews.example/news/halyard-ledgerline", "Halyard Data to buy Ledgerline for $640 million", "", 14*time.Hour)
	return &briefing.Briefing{
		ID:          "b-20261125-cloud",
		Topic:       "cloud",
		TopicName:   "Cloud",
		GeneratedAt: generatedAt,
		Summarizer:  "llm:primary",
		Headline:    "Nimbus Cloud outage tops a busy day for cloud #infra",
		Bullets: []string{
			"Nimbus Cloud's largest region was down for six hours after a bad configuration push.",
			"Stratus Compute launched Arm-based Cirrus instances on its own Vega chip.",
			"Halyard Data agreed to buy cloud cost startup Ledgerline for $640 million.",
		},
		Paragraphs: []briefing.Paragraph{
			{Text: "Nimbus Cloud's na-east-1 region suffered a six-hour outage that took down object storage and managed databases for about 14,000 customer accounts. The company said a faulty configuration change to its storage metadata service triggered the failure.",
				Sources: []string{outage1.URL, outage2.URL}},
			{Text: "Stratus Compute says its *Cirrus* instances (see [the launch]) cost 35% less; a phishing \x1b[31mmessage\x1b[0m read \"<!channel> urgent\" and \u202eevil_name.",
				Sources: []string{cirrus.URL, madeUpURL}},
			{Text: "Halyard Data will fold Ledgerline into its platform, a deal that followed the Nimbus outage by a day.",
				Sources: []string{halyard.URL, outage1.URL, halyard.URL}},
		},
		Stories: []briefing.Story{
			{ID: "s-nimbus", Title: "Nimbus Cloud outage", Articles: []briefing.Article{outage1, outage2}, Score: 3.5},
			{ID: "s-cirrus", Title: cirrus.Title, Articles: []briefing.Article{cirrus}, Update: true},
			{ID: "s-halyard", Title: "Halyard buys Ledgerline", Articles: []briefing.Article{halyard}},
		},
		Usage: briefing.Usage{PromptTokens: 1834, CompletionTokens: 412},
	}
}

func fixtureAnswer() briefing.Answer {
	return briefing.Answer{
		Text: "Nimbus said the outage began with a configuration change to its storage metadata service.\n\n" +
			"It has promised:\n- service credits of 25 percent\n- an incident report within 14 days\x07",
		Sources: []string{
			"https://cloudwire.example/news/nimbus-outage",
			"https://thestackdaily.example/news/nimbus-config-push",
			"https://cloudwire.example/news/nimbus-outage",
		},
		Summarizer: "offline",
	}
}

// renderings are every rendering of the fixtures, by golden file name.
var renderings = map[string]func(io.Writer) error{
	"text.golden":     func(w io.Writer) error { return render.Text(w, fixture(), 0) },
	"text_40.golden":  func(w io.Writer) error { return render.Text(w, fixture(), 40) },
	"markdown.golden": func(w io.Writer) error { return render.Markdown(w, fixture()) },
	"json.golden":     func(w io.Writer) error { return render.JSON(w, fixture()) },
	"answer.golden":   func(w io.Writer) error { return render.Answer(w, fixtureAnswer()) },
}

func TestGolden(t *testing.T) {
	for name, write := range renderings {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := write(&buf); err != nil {
				t.Fatal(err)
			}
			briefingtest.AssertGolden(t, filepath.Join("testdata", name), buf.Bytes(), *update)
		})
	}
}

func TestJSONContract(t *testing.T) {
	tests := map[string]struct {
		briefing     *briefing.Briefing
		paragraphs   int
		stories      int
		firstSources int
	}{
		"full": {briefing: fixture(), paragraphs: 3, stories: 3, firstSources: 2},
		"empty": {briefing: &briefing.Briefing{Topic: "cloud", GeneratedAt: generatedAt,
			Summarizer: briefing.SummarizerOffline}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := render.JSON(&buf, tc.briefing); err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, buf.Bytes())
			}
			for _, key := range []string{"topic", "generated_at", "summarizer", "headline", "bullets", "paragraphs", "stories", "usage"} {
				if _, ok := got[key]; !ok {
					t.Errorf("no %q in %s", key, buf.Bytes())
				}
			}
			if at, err := time.Parse(time.RFC3339, got["generated_at"].(string)); err != nil || !at.Equal(generatedAt) {
				t.Errorf("generated_at = %v, want %v in RFC 3339", got["generated_at"], generatedAt)
			}
			usage := got["usage"].(map[string]any)
			for _, key := range []string{"prompt_tokens", "completion_tokens"} {
				if _, ok := usage[key].(float64); !ok {
					t.Errorf("usage.%s = %v, want a number", key, usage[key])
				}
			}
			for _, key := range []string{"bullets", "paragraphs", "stories"} {
				if _, ok := got[key].([]any); !ok {
					t.Errorf("%s = %v, want a list, never null", key, got[key])
				}
			}
			paragraphs := got["paragraphs"].([]any)
			if len(paragraphs) != tc.paragraphs {
				t.Fatalf("%d paragraphs, want %d", len(paragraphs), tc.paragraphs)
			}
			if tc.paragraphs > 0 {
				sources := paragraphs[0].(map[string]any)["sources"].([]any)
				if len(sources) != tc.firstSources {
					t.Errorf("first paragraph has %d sources, want %d", len(sources), tc.firstSources)
				}
			}
			if strings.Contains(buf.String(), madeUpURL) {
				t.Errorf("a URL the briefing does not hold was rendered as a source")
			}
			stories := got["stories"].([]any)
			if len(stories) != tc.stories {
				t.Fatalf("%d stories, want %d", len(stories), tc.stories)
			}
			for _, s := range stories {
				story := s.(map[string]any)
				for _, key := range []string{"id", "title", "update", "articles"} {
					if _, ok := story[key]; !ok {
						t.Errorf("story has no %q: %v", key, story)
					}
				}
				for _, a := range story["articles"].([]any) {
					article := a.(map[string]any)
					for _, key := range []string{"url", "title", "source", "published"} {
						if _, ok := article[key]; !ok {
							t.Errorf("article has no %q: %v", key, article)
						}
					}
					if _, ok := article["text"]; ok {
						t.Errorf("article text is rendered: %v", article)
					}
				}
			}
		})
	}
}

func TestTextWidth(t *testing.T) {
	tests := map[string]struct {
		width, want int
	}{
		"default":     {width: 0, want: render.DefaultWidth},
		"narrowest":   {width: 40, want: 40},
		"wide":        {width: 100, want: 100},
		"too narrow":  {width: 12, want: render.MinWidth},
		"negative":    {width: -5, want: render.MinWidth},
		"odd":         {width: 57, want: 57},
		"wider still": {width: 132, want: 132},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := render.Text(&buf, fixture(), tc.width); err != nil {
				t.Fatal(err)
			}
			longest := 0
			for _, line := range strings.Split(buf.String(), "\n") {
				n := utf8.RuneCountInString(line)
				// A lone word (a URL) may overflow rather than be cut, and
				// the footer stays one line.
				overflowAllowed := !strings.Contains(strings.TrimSpace(line), " ") || strings.HasPrefix(line, "— ")
				if n > tc.want && !overflowAllowed {
					t.Errorf("line of %d columns, want at most %d: %q", n, tc.want, line)
				}
				longest = max(longest, n)
			}
			// The fixture's first paragraph is long enough to fill lines to
			// within a word of the width.
			if longest < tc.want-15 {
				t.Errorf("longest line %d columns, want close to %d: text is not filling lines", longest, tc.want)
			}
		})
	}
}

func TestTextWideCharacters(t *testing.T) {
	// Each word is four wide characters: eight columns. Four words and
	// three spaces fill 35 of 40 columns; a fifth would overflow.
	b := &briefing.Briefing{Headline: strings.Repeat("数据中心 ", 9), GeneratedAt: generatedAt}
	var buf bytes.Buffer
	if err := render.Text(&buf, b, 40); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	for i, want := range []int{4, 4, 1} {
		if got := len(strings.Fields(lines[i])); got != want {
			t.Errorf("line %d has %d words, want %d: %q", i, got, want, lines[i])
		}
	}
}

// TestUntrustedContent checks that no rendering lets content act on the
// terminal or turn into markup; the golden files show the same by example.
func TestUntrustedContent(t *testing.T) {
	tests := map[string]struct {
		rendering string
		forbidden []string
	}{
		"text": {
			rendering: "text.golden",
			forbidden: []string{"\x1b", "\u202e"},
		},
		"markdown": {
			rendering: "markdown.golden",
			forbidden: []string{"\x1b", "\u202e", "<!channel>", " *Cirrus*", "[the launch]", "evil_name", "cloud #infra"},
		},
		"answer": {
			rendering: "answer.golden",
			forbidden: []string{"\a"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := renderings[tc.rendering](&buf); err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.forbidden {
				if strings.Contains(buf.String(), s) {
					t.Errorf("output contains %q:\n%s", s, buf.String())
				}
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	for name, write := range renderings {
		t.Run(name, func(t *testing.T) {
			if err := write(failingWriter{}); !errors.Is(err, errClosed) {
				t.Errorf("error = %v, want the writer's error", err)
			}
		})
	}
}

var errClosed = errors.New("pipe closed")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errClosed }
