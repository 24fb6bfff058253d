package teams

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

// Teams citation limits: a message carries at most 20 citations, each with
// a short name and abstract.
const (
	maxCitationName     = 80
	maxCitationAbstract = 160
)

// bareURL matches what Teams would turn into a link by itself: a URL with a
// scheme, a "www." address, or a domain followed by a path.
var bareURL = regexp.MustCompile(`(?i)\b(?:[a-z][a-z0-9+.\-]*://[^\s<>"]+|www\.[^\s<>"]+|(?:[a-z0-9\-]+\.)+[a-z]{2,}/[^\s<>"]*)`)

// defuseURLs rewrites every bare URL in untrusted text so that no client
// makes a link of it: "https://evil.test/login" reads
// "https[:]//evil[.]test/login", the usual way to quote an address without
// publishing it. A link worth following is rendered as one separately,
// and only to a collected article.
func defuseURLs(s string) string {
	return bareURL.ReplaceAllStringFunc(s, func(u string) string {
		// Punctuation that ends the sentence is not part of the address.
		trimmed := strings.TrimRight(u, ".,;:!?)]'")
		u, tail := trimmed, u[len(trimmed):]
		scheme, rest, hasScheme := strings.Cut(u, "://")
		if !hasScheme {
			scheme, rest = "", u
		}
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		host := strings.ReplaceAll(rest[:end], ".", "[.]")
		if hasScheme {
			return scheme + "[:]//" + host + rest[end:] + tail
		}
		return host + rest[end:] + tail
	})
}

// citationMarker is an escaped "[n]" as EscapeMarkdown writes it.
var citationMarker = regexp.MustCompile(`\\\[(\d{1,3})\\\]`)

// answerText renders an answer as Teams markdown: each passage its own
// paragraph (Teams drops single newlines), "•" or "-" lines as a list, the
// [n] markers kept as Teams citation markers, then the sources numbered as
// the markers number them. br, when known, names the articles.
func answerText(ans briefing.Answer, br *briefing.Briefing) string {
	var sb strings.Builder
	inList := false
	for line := range strings.SplitSeq(truncate(strings.TrimSpace(ans.Text), maxAnswerRunes), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		item, isItem := listItem(line)
		switch {
		case sb.Len() == 0:
		case isItem && inList:
			sb.WriteString("\n")
		default:
			sb.WriteString("\n\n")
		}
		inList = isItem
		if isItem {
			sb.WriteString("- ")
			line = item
		}
		sb.WriteString(keepMarkers(EscapeMarkdown(line), len(ans.Sources)))
	}
	if sb.Len() == 0 {
		sb.WriteString("_No answer came back._")
	}
	if cites := citations(ans, br); len(cites) > 0 {
		sb.WriteString("\n\nSources:\n\n")
		for i, c := range cites {
			if i > 0 {
				sb.WriteString("\n")
			}
			fmt.Fprintf(&sb, "- [%d] %s", c.position, link(c.url, c.label))
		}
	}
	return sb.String()
}

// listItem reports whether line is a list item, and its text.
func listItem(line string) (string, bool) {
	for _, bullet := range []string{"•", "- ", "* "} {
		if rest, ok := strings.CutPrefix(line, bullet); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// keepMarkers unescapes the [n] markers that number one of the answer's
// sources, so that Teams shows them as citations; any other bracket stays
// escaped.
func keepMarkers(escaped string, sources int) string {
	return citationMarker.ReplaceAllStringFunc(escaped, func(m string) string {
		n, err := strconv.Atoi(citationMarker.FindStringSubmatch(m)[1])
		if err != nil || n < 1 || n > sources {
			return m
		}
		return "[" + strconv.Itoa(n) + "]"
	})
}

// citation is one source an answer cites: position n is its [n].
type citation struct {
	position        int
	url, label      string
	title, abstract string
}

// citations are the answer's citable sources, numbered by their place in
// ans.Sources, at most maxSourceLinks of them.
func citations(ans briefing.Answer, br *briefing.Briefing) []citation {
	citable := map[string]bool{}
	for _, u := range chat.Citable(nil, ans.Sources) {
		citable[u] = true
	}
	var out []citation
	for i, u := range ans.Sources {
		if !citable[u] || len(out) == maxSourceLinks {
			continue
		}
		delete(citable, u) // a repeated URL keeps its first number
		c := citation{position: i + 1, url: u, label: chat.SourceLabel(br, u)}
		c.title, c.abstract = c.label, c.label
		if br != nil {
			if a, ok := br.ArticleByURL(u); ok {
				c.title = a.Title
				if text := strings.Join(strings.Fields(a.Text), " "); text != "" {
					c.abstract = text
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// answerMessage is an answer as a Teams message: markdown text, marked as
// AI-generated, with its sources as citations that Teams attaches to the
// [n] markers.
func answerMessage(ans briefing.Answer, br *briefing.Briefing) map[string]any {
	msg := markdownMessage(answerText(ans, br))
	var claims []any
	for _, c := range citations(ans, br) {
		claims = append(claims, map[string]any{
			"@type":    "Claim",
			"position": c.position,
			"appearance": map[string]any{
				"@type":    "DigitalDocument",
				"name":     truncate(defuseURLs(c.title), maxCitationName),
				"url":      c.url,
				"abstract": truncate(defuseURLs(c.abstract), maxCitationAbstract),
			},
		})
	}
	entity := map[string]any{
		"type":           "https://schema.org/Message",
		"@type":          "Message",
		"@context":       "https://schema.org",
		"@id":            "",
		"additionalType": []string{"AIGeneratedContent"},
	}
	if len(claims) > 0 {
		entity["citation"] = claims
	}
	msg["entities"] = []any{entity}
	return msg
}
