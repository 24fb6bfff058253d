package collect

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/briefing-bot/briefing"
	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// ErrNotFeed is wrapped by Parse's error for a document that is no RSS,
// Atom or JSON Feed at all, such as an HTML page.
var ErrNotFeed = errors.New("not a feed")

// futureSlack is how far ahead of now an item's date may be before it is
// taken for a wrong clock and clamped to now.
const futureSlack = time.Hour

// derivedTitleRunes bounds a title made from the text of an untitled item
// (a micro-post in a JSON Feed, say).
const derivedTitleRunes = 100

// Bounds on an article's text and title, in bytes. Summaries read only an
// article's lead, and feeds and pages are untrusted: unbounded, one item
// could bloat the store and every briefing that cites it.
const (
	maxTextBytes  = 64 << 10
	maxTitleBytes = 1 << 10
)

// Feed is one parsed feed: its title and its items as articles. Articles
// carry no topics yet; the collector adds them.
type Feed struct {
	Title    string
	Articles []briefing.Article
}

// Parse turns one feed document (RSS 0.9x/1.0/2.0, Atom or JSON Feed) into
// articles. feedURL names the feed and resolves relative links when it is
// an http(s) URL; contentType (may be "") carries the HTTP charset. Items
// with neither title nor link are dropped, and an item that repeats an
// earlier one's ID is kept once.
func Parse(body []byte, feedURL, contentType string, now time.Time) (Feed, error) {
	return parse(body, feedURL, feedURL, contentType, now)
}

// parse is Parse with the URL the document was finally served from, which
// differs from the configured feed URL after a redirect.
func parse(body []byte, feedURL, baseURL, contentType string, now time.Time) (Feed, error) {
	doc := toUTF8(body, contentType)
	// The document is UTF-8 now; a declaration naming its old encoding
	// would make the XML decoder convert it a second time.
	doc = xmlDeclaration.ReplaceAll(doc, nil)
	parsed, err := gofeed.NewParser().Parse(bytes.NewReader(doc))
	if err != nil {
		return Feed{}, parseError(doc, baseURL, err)
	}
	if parsed.FeedType == "json" && len(parsed.Items) == 0 && !strings.Contains(parsed.FeedVersion, "jsonfeed.org") {
		return Feed{}, fmt.Errorf("%w: JSON without a JSON Feed version", ErrNotFeed)
	}
	return normalise(parsed, feedURL, baseURL, now), nil
}

// parseError says why a document is not a feed, in words a person who
// configured the URL can act on.
func parseError(doc []byte, baseURL string, err error) error {
	if !errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		return fmt.Errorf("invalid feed: %w", err)
	}
	start := bytes.TrimLeft(doc, " \t\r\n")
	switch {
	case len(start) == 0:
		return fmt.Errorf("%w: empty document", ErrNotFeed)
	case htmlStart.Match(start):
		if link := feedLink(doc, baseURL); link != "" {
			return fmt.Errorf("%w: an HTML page (it links to the feed %s)", ErrNotFeed, link)
		}
		return fmt.Errorf("%w: an HTML page", ErrNotFeed)
	case start[0] == '<':
		return fmt.Errorf("%w: XML without an rss, rdf or Atom feed root", ErrNotFeed)
	}
	return fmt.Errorf("%w: neither XML nor JSON", ErrNotFeed)
}

var (
	xmlDeclaration = regexp.MustCompile(`^\s*<\?xml\s[^>]*\?>`)
	xmlEncoding    = regexp.MustCompile(`^\s*<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)
	httpCharset    = regexp.MustCompile(`(?i);\s*charset\s*=\s*["']?([^"';\s]+)`)
	htmlStart      = regexp.MustCompile(`(?is)^(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)[\s>]`)
)

// feedTypes are the link types that announce a feed on an HTML page.
var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/feed+json": true,
}

// feedLink finds the feed an HTML page announces in its head, so that the
// error for a page configured as a feed can name the right URL.
func feedLink(page []byte, baseURL string) string {
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return ""
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if tok.DataAtom == atom.Body {
			return ""
		}
		if tok.DataAtom != atom.Link {
			continue
		}
		var rel, typ, href string
		for _, a := range tok.Attr {
			switch a.Key {
			case "rel":
				rel = strings.ToLower(a.Val)
			case "type":
				typ = strings.ToLower(strings.TrimSpace(a.Val))
			case "href":
				href = strings.TrimSpace(a.Val)
			}
		}
		if href != "" && feedTypes[typ] && strings.Contains(rel, "alternate") {
			return resolve(parseBase(baseURL), href)
		}
	}
}

// toUTF8 decodes a feed to UTF-8. Byte order marks and the UTF-16/32
// patterns of a document's first character come first. Valid UTF-8 is
// then taken as it is whatever the labels say, because servers often
// label UTF-8 feeds wrongly and Latin-1 text is almost never valid UTF-8.
// Otherwise the HTTP charset, then the XML declaration, names the
// encoding. An unlabelled (or wrongly UTF-8-labelled) document is UTF-8
// with a few bad bytes, replaced, when its valid multi-byte sequences
// outnumber its invalid bytes, and windows-1252 otherwise: Latin-1 text
// forms the odd valid sequence by chance ("à\u00a0«" is one).
func toUTF8(body []byte, contentType string) []byte {
	if enc, n := unicodeEncoding(body); enc != nil {
		return decode(enc, body[n:])
	}
	if utf8.Valid(body) {
		return body
	}
	for _, label := range []string{firstMatch(httpCharset, contentType), firstMatch(xmlEncoding, string(body[:min(len(body), 512)]))} {
		enc, name := charset.Lookup(label)
		if enc == nil || name == "utf-8" || strings.HasPrefix(name, "utf-16") {
			continue
		}
		return decode(enc, body)
	}
	if valid, invalid := utf8Sequences(body); valid <= invalid {
		enc, _ := charset.Lookup("windows-1252")
		return decode(enc, body)
	}
	return bytes.ToValidUTF8(body, []byte("\uFFFD"))
}

// unicodeEncoding detects UTF-8/16/32 by byte order mark, or by the zero
// bytes around an ASCII first character ("<" or "{"), as XML 1.0
// appendix F does. n is the length of the mark to skip.
func unicodeEncoding(b []byte) (enc encoding.Encoding, n int) {
	switch {
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0xFE, 0xFF}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), 4
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), 4
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return unicode.UTF8, 3
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), 2
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), 2
	case len(b) < 4:
		return nil, 0
	case b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] != 0:
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), 0
	case b[0] != 0 && b[1] == 0 && b[2] == 0 && b[3] == 0:
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), 0
	case b[0] == 0 && b[1] != 0:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), 0
	case b[0] != 0 && b[1] == 0:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), 0
	}
	return nil, 0
}

// decode converts b with enc; bytes enc cannot map become U+FFFD, so that
// a bad byte costs one character, not the feed.
func decode(enc encoding.Encoding, b []byte) []byte {
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return bytes.ToValidUTF8(out, []byte("\uFFFD"))
}

// utf8Sequences counts the valid multi-byte UTF-8 sequences and the
// bytes that are no part of one.
func utf8Sequences(b []byte) (valid, invalid int) {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size == 1:
			invalid++
		case size > 1:
			valid++
		}
		b = b[size:]
	}
	return valid, invalid
}

func firstMatch(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// normalise turns gofeed's items into articles.
func normalise(parsed *gofeed.Feed, feedURL, baseURL string, now time.Time) Feed {
	base := parseBase(baseURL)
	if base == nil {
		// A feed read from disk resolves against its own site link.
		base = parseBase(resolve(nil, parsed.Link))
	}
	feedDomain := Domain(resolve(base, parsed.Link))
	if feedDomain == "" {
		feedDomain = Domain(baseURL)
	}
	feed := Feed{Title: singleLine(parsed.Title)}
	seen := make(map[string]bool, len(parsed.Items))
	for _, item := range parsed.Items {
		art, ok := article(item, base, feedURL, now)
		if !ok || seen[art.ID] {
			continue
		}
		seen[art.ID] = true
		if art.Source == "" {
			art.Source = feedDomain
		}
		art.SourceName = feed.Title
		feed.Articles = append(feed.Articles, art)
	}
	return feed
}

// article normalises one item; ok is false for an item with neither title
// nor link.
func article(item *gofeed.Item, base *url.URL, feedURL string, now time.Time) (briefing.Article, bool) {
	link := itemLink(item, base)
	title := singleLine(item.Title)
	if link == "" && title == "" {
		return briefing.Article{}, false
	}
	text := PlainText(item.Description)
	if content := PlainText(item.Content); utf8.RuneCountInString(content) > utf8.RuneCountInString(text) {
		text = content
	}
	if title == "" {
		title = titleFromText(text)
	}
	title, text = clipText(title, maxTitleBytes), clipText(text, maxTextBytes)
	guidOrTitle := strings.TrimSpace(item.GUID)
	if guidOrTitle == "" {
		guidOrTitle = title
	}
	return briefing.Article{
		ID:        articleID(link, feedURL, guidOrTitle),
		URL:       link,
		Title:     title,
		Text:      text,
		Source:    Domain(link),
		FeedURL:   feedURL,
		Published: published(item, now),
		Fetched:   now,
	}, true
}

// itemLink is the item's first http(s) link, resolved and canonical. An
// RSS guid that is a URL serves when there is no link, as it is a
// permalink unless marked otherwise.
func itemLink(item *gofeed.Item, base *url.URL) string {
	candidates := append([]string{item.Link}, item.Links...)
	for _, c := range candidates {
		if abs := resolve(base, c); httpURL(abs) {
			return Canonical(abs)
		}
	}
	if guid := strings.TrimSpace(item.GUID); httpURL(guid) {
		return Canonical(guid)
	}
	return ""
}

// published is the item's date, else now (first seen); a date more than
// futureSlack ahead is a wrong clock and becomes now.
func published(item *gofeed.Item, now time.Time) time.Time {
	t := now
	switch {
	case item.PublishedParsed != nil:
		t = *item.PublishedParsed
	case item.UpdatedParsed != nil:
		t = *item.UpdatedParsed
	}
	if t.After(now.Add(futureSlack)) {
		t = now
	}
	return t.UTC()
}

// titleFromText makes a title for an untitled item from the start of its
// first paragraph, cut at a word.
func titleFromText(text string) string {
	first, _, _ := strings.Cut(text, "\n")
	first = strings.TrimSpace(first)
	if utf8.RuneCountInString(first) <= derivedTitleRunes {
		return first
	}
	runes := []rune(first)[:derivedTitleRunes]
	cut := string(runes)
	if i := strings.LastIndexByte(cut, ' '); i > derivedTitleRunes/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:.-") + "…"
}

// clipText shortens text to at most limit bytes, at the last paragraph
// break, else the last space, in the second half of the limit.
func clipText(text string, limit int) string {
	if len(text) <= limit {
		return text
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	if i := strings.LastIndex(text[:cut], "\n\n"); i > cut/2 {
		cut = i
	} else if i := strings.LastIndexAny(text[:cut], " \n"); i > cut/2 {
		cut = i
	}
	return strings.TrimSpace(text[:cut])
}

// parseBase parses an absolute http(s) URL to resolve links against, or
// returns nil.
func parseBase(raw string) *url.URL {
	if !httpURL(raw) {
		return nil
	}
	u, _ := url.Parse(raw)
	return u
}

// resolve makes ref absolute against base; without a base, or when ref
// does not parse, it returns ref trimmed.
func resolve(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if base == nil || ref == "" {
		return ref
	}
	u, err := base.Parse(ref)
	if err != nil {
		return ref
	}
	return u.String()
}
