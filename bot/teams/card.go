package teams

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

// Sizes that keep a card inside Teams' limits: Workflows webhooks take 28 KB
// and bot messages 40 KB, so one card built for 28 KB goes both ways.
// maxCardBytes leaves room for the envelope around the card.
const (
	maxCardBytes     = 27 * 1024
	maxHeadlineRunes = 200
	maxBulletRunes   = 500
	// maxSourceLinks bounds one paragraph's or answer's citations, so that
	// a paragraph citing hundreds of URLs cannot crowd out the others.
	maxSourceLinks = 20
)

// ContentTypeAdaptiveCard is an Adaptive Card attachment's content type.
const ContentTypeAdaptiveCard = "application/vnd.microsoft.card.adaptive"

// Card renders a briefing as an Adaptive Card (version 1.5): the headline,
// the bullets, one text block per paragraph with its sources as links, and a
// footer with hint, which says how to ask a follow-up where the bot can see
// one ("" where it cannot, as on a Workflows post). Every piece of content
// is escaped (see EscapeMarkdown) and the only links are the briefing's own
// article URLs. Paragraphs that would take the card over maxCardBytes are
// left out, and the footer says how many.
func Card(br *briefing.Briefing, hint string) map[string]any {
	body := []any{textBlock(headlineText(br), map[string]any{"size": "Large", "weight": "Bolder", "style": "heading"})}
	if bullets := bulletText(br.Bullets); bullets != "" {
		body = append(body, textBlock(bullets, nil))
	}
	footer := func(left int) []any {
		note := hint
		if left > 0 {
			note = strings.TrimSpace(fmt.Sprintf("%s Paragraphs left out to fit one card: %d.", hint, left))
		}
		blocks := []any{textBlock(contextLine(br), map[string]any{"size": "Small", "isSubtle": true, "separator": true})}
		if note != "" {
			blocks = append(blocks, textBlock(note, map[string]any{"size": "Small", "isSubtle": true}))
		}
		return blocks
	}
	// The card's size grows by each block's JSON and a comma; the footer
	// is sized for the longest note it may carry.
	size := jsonSize(cardOf(append(body, footer(len(br.Paragraphs))...)))
	kept := 0
	// Each story's feedback buttons follow its last paragraph; room for
	// one set is kept, since the story shown last needs it.
	votes, last := 0, briefing.NoStory
	if len(br.Stories) > 0 && votable(br, 0) {
		votes = jsonSize(storyVotes(br, 0)) + 1
	}
	endStory := func(next int) {
		if next != last && votable(br, last) {
			body = append(body, storyVotes(br, last))
		}
		last = next
	}
	for _, p := range br.Paragraphs {
		text := paragraphText(br, p)
		if text == "" {
			continue
		}
		block := textBlock(text, map[string]any{"spacing": "Medium"})
		grow := jsonSize(block) + 1
		if p.Story != last && votable(br, last) {
			grow += votes
		}
		if size+grow+votes > maxCardBytes {
			break
		}
		size += grow
		endStory(p.Story)
		body = append(body, block)
		kept++
	}
	endStory(briefing.NoStory)
	return cardOf(append(body, footer(countParagraphs(br)-kept)...))
}

func cardOf(body []any) map[string]any {
	return map[string]any{
		"type":    "AdaptiveCard",
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"version": "1.5",
		"body":    body,
		"msteams": map[string]any{"width": "Full"},
	}
}

// Attachment wraps an Adaptive Card as a message attachment.
func Attachment(card map[string]any) map[string]any {
	return map[string]any{"contentType": ContentTypeAdaptiveCard, "content": card}
}

func textBlock(text string, props map[string]any) map[string]any {
	block := map[string]any{"type": "TextBlock", "text": text, "wrap": true}
	for k, v := range props {
		block[k] = v
	}
	return block
}

func countParagraphs(br *briefing.Briefing) int {
	n := 0
	for _, p := range br.Paragraphs {
		if strings.TrimSpace(p.Text) != "" {
			n++
		}
	}
	return n
}

// jsonSize is the size of v as encodeJSON writes it.
func jsonSize(v any) int {
	b, err := encodeJSON(v)
	if err != nil {
		return 0
	}
	return len(b)
}

// encodeJSON marshals without HTML escaping: "<" stays one byte, which
// keeps size checks honest, and the receiver reads JSON either way.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func headlineText(br *briefing.Briefing) string {
	headline := strings.TrimSpace(br.Headline)
	if headline == "" {
		headline = chat.TopicName(briefing.Topic{ID: br.Topic, Name: br.TopicName}) + " briefing"
	}
	return EscapeMarkdown(truncate(headline, maxHeadlineRunes))
}

func bulletText(bullets []string) string {
	var lines []string
	for _, b := range bullets {
		if b = strings.TrimSpace(b); b != "" {
			lines = append(lines, "- "+EscapeMarkdown(truncate(b, maxBulletRunes)))
		}
	}
	return strings.Join(lines, "\n")
}

// paragraphText is a paragraph followed by its sources as links.
func paragraphText(br *briefing.Briefing, p briefing.Paragraph) string {
	text := strings.TrimSpace(p.Text)
	if text == "" {
		return ""
	}
	text = EscapeMarkdown(text)
	if links := sourceLinks(br, p.Sources); len(links) > 0 {
		text += " (" + strings.Join(links, ", ") + ")"
	}
	return text
}

// contextLine is "<date> <time> · N sources · <summarizer>". The date and
// time are Adaptive Card functions, so every reader sees their own zone.
func contextLine(br *briefing.Briefing) string {
	at := br.GeneratedAt.UTC().Format(time.RFC3339)
	when := fmt.Sprintf("{{DATE(%s, SHORT)}} {{TIME(%s)}}", at, at)
	return strings.Join([]string{when, br.SourcesLabel(), EscapeMarkdown(br.SummarizerLabel())}, " · ")
}

// sourceLinks renders the first maxSourceLinks citable URLs (see
// chat.Citable) as [domain](url) links.
func sourceLinks(br *briefing.Briefing, urls []string) []string {
	var links []string
	for _, u := range chat.Citable(br, urls) {
		if len(links) == maxSourceLinks {
			break
		}
		links = append(links, link(u, chat.SourceLabel(br, u)))
	}
	return links
}

// linkURL keeps a URL whole inside (…): the characters that would end the
// destination or open markup are percent-encoded.
var linkURL = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E", "\n", "%0A", "\r", "%0D")

// link renders [label](url) for an absolute http(s) URL.
func link(rawURL, label string) string {
	return "[" + EscapeMarkdown(label) + "](" + linkURL.Replace(rawURL) + ")"
}

// markdownSpecial are the characters that start markup in a TextBlock
// (emphasis, links, code, HTML such as <at>, entities) or a mention-like
// "@channel"; each is shown literally when preceded by a backslash.
const markdownSpecial = "\\`*_[]()<>~|@&#{}"

// EscapeMarkdown makes untrusted text render as itself in an Adaptive Card
// TextBlock or a markdown message: markup characters are backslash-escaped,
// so that no emphasis, link, <at> mention or HTML can come from content,
// line starts that would make a list or heading are neutralised, and bare
// URLs are defused (see defuseURLs) so that Teams does not link them.
func EscapeMarkdown(s string) string {
	s = defuseURLs(s)
	var sb strings.Builder
	lineStart := true
	for i, r := range s {
		switch {
		case strings.ContainsRune(markdownSpecial, r):
			sb.WriteByte('\\')
		case lineStart && (r == '-' || r == '+' || r == '='):
			sb.WriteByte('\\')
		case (r == '.' || r == ')') && orderedMarker(s[:i]):
			sb.WriteByte('\\')
		}
		sb.WriteRune(r)
		if r == '\n' {
			lineStart = true
		} else if r != ' ' && r != '\t' {
			lineStart = false
		}
	}
	return sb.String()
}

// orderedMarker reports whether the current line of before, the text ahead
// of a "." or ")", is only digits: "1." would start a numbered list.
func orderedMarker(before string) bool {
	line := strings.TrimLeft(before[strings.LastIndexByte(before, '\n')+1:], " \t")
	if line == "" {
		return false
	}
	for _, r := range line {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// truncate shortens s to at most limit characters, ending with "…".
func truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	end := 0
	for range limit - 1 {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	cut := s[:end]
	if i := strings.LastIndexByte(cut, ' '); i > end/2 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut) + "…"
}
