// Package render writes briefings and follow-up answers for people and
// programs outside chat: plain text for a terminal, Markdown, and the
// contract's JSON.
//
// Everything in a briefing came from feeds or an LLM and is untrusted:
// text renderings drop control characters (a terminal would obey an
// escape sequence) and Markdown escapes the characters that would turn
// content into markup. Sources are looked up in the briefing itself, so a
// URL that is not one of its articles is never shown.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode"

	textwidth "golang.org/x/text/width"

	"github.com/briefing-bot/briefing"
)

// Widths for Text.
const (
	DefaultWidth = 80
	MinWidth     = 40
)

// Text writes the briefing for a terminal: headline, blank line, three "• "
// bullets, blank line, then each paragraph word-wrapped at width followed
// by numbered references like "[1][3]", and at the end a "Sources" list
// "[1] cnbc.com — Title\n    https://…" numbered in order of first
// citation; a last line "— <summarizer> · <N> sources · <generated_at
// local>". Width 0 means DefaultWidth; a width below MinWidth is raised to
// it, since narrower text is unreadable anyway. The last line is never
// wrapped, so that whoever reads it finds the summarizer there.
func Text(w io.Writer, b *briefing.Briefing, width int) error {
	if width == 0 {
		width = DefaultWidth
	}
	width = max(width, MinWidth)
	var out strings.Builder
	writeLines(&out, wrap(clean(b.Headline), width, "", ""))
	if len(b.Bullets) > 0 {
		out.WriteString("\n")
		for _, bullet := range b.Bullets {
			writeLines(&out, wrap(clean(bullet), width, "• ", "  "))
		}
	}
	cites := newCitations(b)
	for _, p := range b.Paragraphs {
		var refs strings.Builder
		for _, n := range cites.number(p.Sources) {
			fmt.Fprintf(&refs, "[%d]", n)
		}
		out.WriteString("\n")
		writeLines(&out, wrap(clean(p.Text)+" "+refs.String(), width, "", ""))
	}
	if len(cites.order) > 0 {
		out.WriteString("\nSources\n")
		for i, a := range cites.order {
			label := fmt.Sprintf("[%d] %s — %s", i+1, clean(source(a)), clean(a.Title))
			writeLines(&out, wrap(label, width, "", "    "))
			out.WriteString("    " + clean(a.URL) + "\n")
		}
	}
	out.WriteString("\n— " + clean(footer(b, len(cites.order))) + "\n")
	_, err := io.WriteString(w, out.String())
	return err
}

// Markdown writes "# Headline", "- bullet" lines, paragraphs with sources
// as "([cnbc.com](https://…))" after each passage, and a footer line in
// italics naming the summarizer. Markdown-significant characters in
// content are escaped.
func Markdown(w io.Writer, b *briefing.Briefing) error {
	var out strings.Builder
	out.WriteString("# " + escapeMarkdown(b.Headline) + "\n")
	if len(b.Bullets) > 0 {
		out.WriteString("\n")
		for _, bullet := range b.Bullets {
			out.WriteString("- " + escapeMarkdown(bullet) + "\n")
		}
	}
	cites := newCitations(b)
	for _, p := range b.Paragraphs {
		out.WriteString("\n" + escapeMarkdown(p.Text))
		for _, a := range cites.articles(p.Sources) {
			fmt.Fprintf(&out, " ([%s](%s))", escapeMarkdown(source(a)), markdownURL(a.URL))
		}
		out.WriteString("\n")
	}
	out.WriteString("\n*" + escapeMarkdown(footer(b, len(cites.order))) + "*\n")
	_, err := io.WriteString(w, out.String())
	return err
}

type jsonBriefing struct {
	ID          string          `json:"id,omitempty"`
	Topic       string          `json:"topic"`
	GeneratedAt time.Time       `json:"generated_at"`
	Summarizer  string          `json:"summarizer"`
	Headline    string          `json:"headline"`
	Bullets     []string        `json:"bullets"`
	Paragraphs  []jsonParagraph `json:"paragraphs"`
	Stories     []jsonStory     `json:"stories"`
	Usage       briefing.Usage  `json:"usage"`
}

type jsonParagraph struct {
	Text    string   `json:"text"`
	Sources []string `json:"sources"`
}

type jsonStory struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Update   bool          `json:"update"`
	Articles []jsonArticle `json:"articles"`
}

type jsonArticle struct {
	URL       string    `json:"url"`
	Title     string    `json:"title"`
	Source    string    `json:"source"`
	Published time.Time `json:"published,omitzero"`
}

// JSON writes the contract's JSON object indented: topic, generated_at,
// summarizer, headline, bullets, paragraphs, stories with their articles,
// and usage. Article text is left out to keep the output readable;
// lists are never null. Times are in UTC.
func JSON(w io.Writer, b *briefing.Briefing) error {
	cites := newCitations(b)
	out := jsonBriefing{
		ID:          b.ID,
		Topic:       b.Topic,
		GeneratedAt: b.GeneratedAt.UTC(),
		Summarizer:  b.Summarizer,
		Headline:    b.Headline,
		Bullets:     append([]string{}, b.Bullets...),
		Paragraphs:  []jsonParagraph{},
		Stories:     []jsonStory{},
		Usage:       b.Usage,
	}
	for _, p := range b.Paragraphs {
		jp := jsonParagraph{Text: p.Text, Sources: []string{}}
		for _, a := range cites.articles(p.Sources) {
			jp.Sources = append(jp.Sources, a.URL)
		}
		out.Paragraphs = append(out.Paragraphs, jp)
	}
	for _, s := range b.Stories {
		js := jsonStory{ID: s.ID, Title: s.Title, Update: s.Update, Articles: []jsonArticle{}}
		for _, a := range s.Articles {
			js.Articles = append(js.Articles, jsonArticle{URL: a.URL, Title: a.Title, Source: a.Source, Published: a.Published.UTC()})
		}
		out.Stories = append(out.Stories, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// The reader is a person or a program, never a browser: "&" and "<"
	// stay readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("render json: %w", err)
	}
	return nil
}

// Answer writes a follow-up answer as plain text with its sources listed
// as numbered links, and the summarizer that wrote it.
func Answer(w io.Writer, a briefing.Answer) error {
	var out strings.Builder
	out.WriteString(strings.TrimSpace(cleanLines(a.Text)) + "\n")
	seen := map[string]bool{}
	var links []string
	for _, u := range a.Sources {
		if u = clean(u); u != "" && !seen[u] {
			seen[u] = true
			links = append(links, u)
		}
	}
	if len(links) > 0 {
		out.WriteString("\nSources\n")
		for i, u := range links {
			fmt.Fprintf(&out, "[%d] %s\n", i+1, u)
		}
	}
	if a.Summarizer != "" {
		out.WriteString("\n— " + clean(a.Summarizer) + "\n")
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// citations resolves a briefing's paragraph sources to its articles and
// numbers them in order of first citation.
type citations struct {
	// byURL holds the briefing's articles, looked up once for every
	// citation: a briefing of all the stories in a window can cite
	// thousands of articles.
	byURL map[string]briefing.Article
	index map[string]int
	order []briefing.Article
}

func newCitations(b *briefing.Briefing) *citations {
	c := &citations{byURL: map[string]briefing.Article{}, index: map[string]int{}}
	for _, s := range b.Stories {
		for _, a := range s.Articles {
			if _, dup := c.byURL[a.URL]; !dup {
				c.byURL[a.URL] = a
			}
		}
	}
	for _, p := range b.Paragraphs {
		c.number(p.Sources)
	}
	return c
}

// number returns the citation numbers of urls, once each, in order;
// URLs that are not articles of the briefing have none.
func (c *citations) number(urls []string) []int {
	var nums []int
	seen := map[int]bool{}
	for _, u := range urls {
		n, ok := c.index[u]
		if !ok {
			a, found := c.byURL[u]
			if !found {
				continue
			}
			c.order = append(c.order, a)
			n = len(c.order)
			c.index[u] = n
		}
		if !seen[n] {
			seen[n] = true
			nums = append(nums, n)
		}
	}
	return nums
}

// articles returns the briefing's articles that urls name, once each.
func (c *citations) articles(urls []string) []briefing.Article {
	var out []briefing.Article
	for _, n := range c.number(urls) {
		out = append(out, c.order[n-1])
	}
	return out
}

// source is the domain a citation shows: the article's, else its URL's
// host.
func source(a briefing.Article) string {
	if a.Source != "" {
		return a.Source
	}
	if u, err := url.Parse(a.URL); err == nil && u.Host != "" {
		return strings.TrimPrefix(u.Hostname(), "www.")
	}
	return a.URL
}

func footer(b *briefing.Briefing, sources int) string {
	noun := "sources"
	if sources == 1 {
		noun = "source"
	}
	return fmt.Sprintf("%s · %d %s · %s", b.Summarizer, sources, noun,
		b.GeneratedAt.Local().Format("2006-01-02 15:04 MST"))
}

// clean makes untrusted text safe for one line of a terminal: control
// characters (escape sequences, carriage returns) and bidirectional
// overrides, which could disguise text, become spaces, and runs of space
// collapse.
func clean(s string) string {
	return strings.Join(strings.Fields(strings.Map(TerminalSafe, s)), " ")
}

// cleanLines is clean for multi-line text: line breaks stay, so that an
// answer's paragraphs and lists keep their shape.
func cleanLines(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, line := range lines {
		lines[i] = clean(line)
	}
	return strings.Join(lines, "\n")
}

// TerminalSafe blanks the control characters other than line breaks
// (escape sequences above all) and the bidirectional overrides in
// untrusted text, so that it cannot take over a terminal or reorder what
// a reader sees; use it with strings.Map.
func TerminalSafe(r rune) rune {
	if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
		return ' '
	}
	return r
}

var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `#`, `\#`,
)

// escapeMarkdown makes content one line of literal Markdown text.
func escapeMarkdown(s string) string {
	return markdownEscaper.Replace(clean(s))
}

var markdownURLEscaper = strings.NewReplacer("(", "%28", ")", "%29", "<", "%3C", ">", "%3E", " ", "%20")

// markdownURL keeps a link target from ending the link early or breaking
// out of it.
func markdownURL(u string) string {
	return markdownURLEscaper.Replace(clean(u))
}

// wrap breaks text into lines of at most limit columns, the first line
// led by first and the others by rest. A word wider than a line gets a
// line of its own rather than being cut: it is most likely a URL.
func wrap(text string, limit int, first, rest string) []string {
	var lines []string
	line, used, empty := first, columns(first), true
	for _, word := range strings.Fields(text) {
		w := columns(word)
		if !empty && used+1+w > limit {
			lines = append(lines, line)
			line, used, empty = rest, columns(rest), true
		}
		if !empty {
			line += " "
			used++
		}
		line += word
		used += w
		empty = false
	}
	return append(lines, line)
}

// columns is the width of s on a terminal: East Asian wide characters
// take two columns and combining marks none.
func columns(s string) int {
	n := 0
	for _, r := range s {
		switch kind := textwidth.LookupRune(r).Kind(); {
		case unicode.Is(unicode.Mn, r):
		case kind == textwidth.EastAsianWide || kind == textwidth.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

func writeLines(out *strings.Builder, lines []string) {
	for _, line := range lines {
		out.WriteString(line + "\n")
	}
}
