package slack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackutilsx"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

// Slack's limits for one message (protocol notes §4). maxMessageText stays
// under the undocumented ~12k cumulative block text limit with room for the
// fixed blocks.
const (
	maxBlocks      = 50
	maxHeaderText  = 150
	maxSectionText = 3000
	maxMessageText = 11000
	// maxSourceLinks bounds the links appended to one paragraph or answer,
	// so that text always has room beside them.
	maxSourceLinks = 1000
)

const followUpHint = "Reply in this thread to ask a follow-up"

// Escape neutralises Slack's control characters (&, <, >) so that text from
// feeds and LLMs cannot form a mention (<!channel>, <@U…>), a channel link or
// a link of its own. Every piece of content goes through it.
func Escape(s string) string { return slackutilsx.EscapeMessage(s) }

// unescape undoes Escape for text Slack delivers (a user's question).
var unescape = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// Blocks renders a briefing as the Block Kit message PostBriefing posts: a
// header, the bullets, one section per paragraph with its sources, and
// context lines. It never exceeds Slack's limits: paragraphs that do not fit
// are left out, never moved to a second message.
func Blocks(br *briefing.Briefing) []slack.Block {
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, headerText(br), true, false)),
	}
	used := 0
	if bullets := bulletText(br.Bullets); bullets != "" {
		blocks = append(blocks, mrkdwnSection(bullets))
		used += utf8.RuneCountInString(bullets)
	}
	footer := []slack.Block{
		slack.NewDividerBlock(),
		slack.NewContextBlock("", mrkdwn(contextLine(br))),
	}
	room := maxBlocks - len(blocks) - len(footer) - 1 // the hint's block
	votes := storyVotes{br: br, last: briefing.NoStory}
	left := 0
	for i, p := range br.Paragraphs {
		sections := paragraphSections(br, p)
		size := 0
		for _, s := range sections {
			size += utf8.RuneCountInString(s)
		}
		if len(sections)+votes.needs(p) > room || used+size > maxMessageText {
			left = len(br.Paragraphs) - i
			break
		}
		blocks, room = votes.end(blocks, p.Story, room)
		for _, s := range sections {
			blocks = append(blocks, mrkdwnSection(s))
		}
		room -= len(sections)
		used += size
	}
	blocks, _ = votes.end(blocks, briefing.NoStory, room)
	hint := []slack.MixedElement{mrkdwn(followUpHint)}
	if left > 0 {
		hint = append(hint, mrkdwn(fmt.Sprintf("_Paragraphs left out to fit one message: %d; ask in the thread._", left)))
	}
	footer = append(footer, slack.NewContextBlock("", hint...))
	return append(blocks, footer...)
}

// BlocksJSON is the message PostBriefing would post, as `preview --format
// slack` prints it: {"text": notification, "blocks": [...]}.
func BlocksJSON(br *briefing.Briefing) ([]byte, error) {
	msg := struct {
		Text   string        `json:"text"`
		Blocks []slack.Block `json:"blocks"`
	}{notificationText(br), Blocks(br)}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // keep "<url|label>" readable; it is JSON either way
	enc.SetIndent("", "  ")
	if err := enc.Encode(msg); err != nil {
		return nil, fmt.Errorf("render briefing %s as Block Kit: %w", br.ID, err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// mrkdwn is a text object for content. Verbatim stops Slack from turning
// bare URLs and names in it into links: the only links are the bot's own.
func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, true)
}

func mrkdwnSection(text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(text), nil, nil)
}

func headerText(br *briefing.Briefing) string {
	headline := strings.TrimSpace(br.Headline)
	if headline == "" {
		headline = chat.TopicName(briefing.Topic{ID: br.Topic, Name: br.TopicName}) + " briefing"
	}
	return truncate(Escape(headline), maxHeaderText)
}

// notificationText is the message's text: what notifications and screen
// readers show.
func notificationText(br *briefing.Briefing) string {
	return headerText(br)
}

func bulletText(bullets []string) string {
	var lines []string
	for _, b := range bullets {
		if b = strings.TrimSpace(b); b != "" {
			lines = append(lines, "• "+Escape(b))
		}
	}
	return truncate(strings.Join(lines, "\n"), maxSectionText)
}

// paragraphSections renders a paragraph as section texts of at most
// maxSectionText, split at sentence ends; the last ends with the sources.
func paragraphSections(br *briefing.Briefing, p briefing.Paragraph) []string {
	text := Escape(strings.TrimSpace(p.Text))
	if text == "" {
		return nil
	}
	links := sourceLinks(br, p.Sources)
	suffix := ""
	if len(links) > 0 {
		suffix = " (" + strings.Join(links, ", ") + ")"
	}
	parts := splitText(text, maxSectionText-utf8.RuneCountInString(suffix))
	parts[len(parts)-1] += suffix
	return parts
}

// sourceLinks renders the citable URLs (see chat.Citable) as <url|domain>
// links, within maxSourceLinks characters.
func sourceLinks(br *briefing.Briefing, urls []string) []string {
	var links []string
	size := 0
	for _, u := range chat.Citable(br, urls) {
		l := link(u, chat.SourceLabel(br, u))
		if size+utf8.RuneCountInString(l) > maxSourceLinks {
			continue
		}
		size += utf8.RuneCountInString(l) + 2
		links = append(links, l)
	}
	return links
}

// linkURL keeps a URL intact inside <url|label>: the characters that would
// end the URL or the link are percent-encoded, and & is escaped as Slack
// asks for all text.
var linkURL = strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", " ", "%20", "&", "&amp;")

// link renders <url|label> for an absolute http(s) URL; a label that
// escapes to nothing shows the URL's host.
func link(rawURL, label string) string {
	label = strings.ReplaceAll(Escape(label), "|", "")
	if label == "" {
		if u, err := url.Parse(rawURL); err == nil {
			label = strings.ReplaceAll(Escape(u.Host), "|", "")
		}
	}
	return "<" + linkURL.Replace(rawURL) + "|" + label + ">"
}

// contextLine is "<time> · <N> sources · <summarizer>"; the time is a Slack
// date token, so every reader sees it in their own time zone.
func contextLine(br *briefing.Briefing) string {
	at := br.GeneratedAt.UTC()
	when := fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", at.Unix(), at.Format("Jan 2, 2006 15:04 UTC"))
	return strings.Join([]string{when, br.SourcesLabel(), Escape(br.SummarizerLabel())}, " · ")
}

// splitText cuts s into pieces of at most limit characters, preferring
// sentence ends, then spaces; it never cuts inside an entity Escape made.
func splitText(s string, limit int) []string {
	var parts []string
	for utf8.RuneCountInString(s) > limit {
		cut := cutPoint(s, limit)
		parts = append(parts, strings.TrimSpace(s[:cut]))
		s = strings.TrimSpace(s[cut:])
	}
	return append(parts, s)
}

// truncate shortens s to at most limit characters, ending with "…".
func truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return strings.TrimSpace(s[:cutPoint(s, limit-1)]) + "…"
}

// cutPoint returns the byte offset at which a piece of s of at most limit
// characters should end. s must be longer than limit.
func cutPoint(s string, limit int) int {
	end := 0
	for range limit {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	// Look one byte past the end, so a sentence ending right at the limit
	// is seen with the space that follows it.
	window := s[:min(end+1, len(s))]
	best := -1
	for _, sep := range []string{". ", "! ", "? ", ".\n", "\n"} {
		if i := strings.LastIndex(window, sep); i >= 0 {
			at := i + len(sep) - 1 // keep the punctuation, drop the break
			if sep == "\n" {
				at = i
			}
			best = max(best, min(at, end))
		}
	}
	if best > end/2 {
		return best
	}
	if i := strings.LastIndex(window, " "); i > end/2 {
		return min(i, end)
	}
	// A hard cut must not split "&amp;", "&lt;" or "&gt;".
	if amp := strings.LastIndex(s[:end], "&"); amp > 0 && amp > end-5 && !strings.Contains(s[amp:end], ";") {
		return amp
	}
	return end
}
