package summarize

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	// citationMarker is how prompts ask models to cite: [a3], or several
	// ids in one bracket, [a3, a7].
	citationMarker = regexp.MustCompile(`\[\s*a\d+(?:\s*[,;]\s*a\d+)*\s*\]`)
	citationID     = regexp.MustCompile(`a\d+`)

	markdownLink = regexp.MustCompile(`\[([^\]\n]*)\]\(\s*(https?://[^)\s]+)\s*\)`)
	slackLink    = regexp.MustCompile(`<(https?://[^|>\s]+)(?:\|([^>]*))?>`)
	// bareURL stops at '|', which ends the URL of a Slack link: taking the
	// label for part of the URL would make an allowed link look invented.
	bareURL = regexp.MustCompile("https?://[^\\s<>()\\[\\]\"'`|]+")

	spaceBeforePunct = regexp.MustCompile(`[ \t]+([.,;:!?])`)
	repeatedSpace    = regexp.MustCompile(`[ \t]{2,}`)
)

// resolveCitations turns the [aN] markers of a model's text into numbered
// references [1], [2]… and returns the cited URLs in that order. A marker
// naming no known id disappears: a claim the model could not source stays
// unsourced rather than pointing somewhere wrong.
func resolveCitations(text string, urlOf map[string]string) (string, []string) {
	var sources []string
	text = citationMarker.ReplaceAllStringFunc(text, func(marker string) string {
		var refs []int
		for _, id := range citationID.FindAllString(marker, -1) {
			url, ok := urlOf[id]
			if !ok {
				continue
			}
			n := slices.Index(sources, url) + 1
			if n == 0 {
				sources = append(sources, url)
				n = len(sources)
			}
			if !slices.Contains(refs, n) {
				refs = append(refs, n)
			}
		}
		var b strings.Builder
		for _, n := range refs {
			b.WriteString("[" + strconv.Itoa(n) + "]")
		}
		return b.String()
	})
	return tidySpaces(text), sources
}

// scrubURLs removes every link to a URL outside allowed, keeping a link's
// label. Models invent plausible URLs; only collected articles may be
// linked.
func scrubURLs(text string, allowed map[string]bool) string {
	text = markdownLink.ReplaceAllStringFunc(text, func(m string) string {
		sub := markdownLink.FindStringSubmatch(m)
		if allowed[sub[2]] {
			return m
		}
		return sub[1]
	})
	text = slackLink.ReplaceAllStringFunc(text, func(m string) string {
		sub := slackLink.FindStringSubmatch(m)
		if allowed[sub[1]] {
			return m
		}
		return sub[2]
	})
	text = bareURL.ReplaceAllStringFunc(text, func(m string) string {
		url := strings.TrimRight(m, ".,;:!?")
		if allowed[url] {
			return m
		}
		return m[len(url):]
	})
	return tidySpaces(text)
}

// tidySpaces repairs the gaps that removed markers and links leave.
func tidySpaces(text string) string {
	text = spaceBeforePunct.ReplaceAllString(text, "$1")
	return strings.TrimSpace(repeatedSpace.ReplaceAllString(text, " "))
}
