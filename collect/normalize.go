package collect

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/encoding/charmap"
)

// trackingParams are query parameters that identify a campaign or a click,
// never the page; dropping them makes one article one URL.
var trackingParams = map[string]bool{
	"fbclid": true,
	"gclid":  true,
	"mc_cid": true,
	"mc_eid": true,
}

// Canonical returns the canonical form of an article URL: scheme and host
// lower-cased, the default port and the fragment dropped, an empty path
// made "/", and the tracking parameters (utm_*, fbclid, gclid, mc_cid,
// mc_eid) removed while the other parameters keep their order. A string
// that is not an absolute URL comes back trimmed but otherwise unchanged.
func Canonical(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		u.Host = strings.TrimSuffix(u.Host, ":"+port)
	}
	if u.Path == "" && u.Opaque == "" {
		u.Path = "/"
	}
	u.Fragment, u.RawFragment = "", ""
	u.ForceQuery = false
	u.RawQuery = withoutTracking(u.RawQuery)
	return u.String()
}

// withoutTracking filters the raw query itself rather than going through
// url.Values, which would sort the parameters and re-encode their values.
func withoutTracking(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	kept := make([]string, 0, strings.Count(rawQuery, "&")+1)
	for param := range strings.SplitSeq(rawQuery, "&") {
		if param == "" {
			continue
		}
		key, _, _ := strings.Cut(param, "=")
		if unescaped, err := url.QueryUnescape(key); err == nil {
			key = unescaped
		}
		key = strings.ToLower(key)
		if strings.HasPrefix(key, "utm_") || trackingParams[key] {
			continue
		}
		kept = append(kept, param)
	}
	return strings.Join(kept, "&")
}

// Domain returns the publisher domain of a URL, lower-cased and without
// "www." ("cnbc.com"), or "" when raw names no host. A bare host such as
// "www.cnbc.com/markets" is accepted too.
func Domain(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err == nil && u.Host == "" && u.Scheme == "" && !strings.HasPrefix(raw, "/") {
		u, err = url.Parse("//" + raw)
	}
	if err != nil {
		return ""
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if net.ParseIP(host) != nil {
		return host
	}
	return strings.TrimPrefix(host, "www.")
}

// articleID is stable across fetches: the canonical URL when the item has
// a link, else the feed and the item's guid or title.
func articleID(canonicalURL, feedURL, guidOrTitle string) string {
	key := canonicalURL
	if key == "" {
		key = feedURL + "\n" + guidOrTitle
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// httpURL reports whether raw is an absolute http(s) URL, the only links
// worth citing: a feed is untrusted and may carry javascript: or data: URLs.
func httpURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// breakKind is what separates two runs of text.
type breakKind int

const (
	breakNone breakKind = iota
	breakSpace
	breakLine
	breakParagraph
)

// skippedElements hold no readable text.
var skippedElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Math: true, atom.Iframe: true, atom.Object: true,
	atom.Title: true, atom.Select: true, atom.Button: true,
}

// blockElements end a paragraph where they open and where they close.
var blockElements = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Dd: true, atom.Details: true, atom.Div: true, atom.Dl: true, atom.Dt: true,
	atom.Fieldset: true, atom.Figcaption: true, atom.Figure: true, atom.Footer: true,
	atom.Form: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true,
	atom.H5: true, atom.H6: true, atom.Header: true, atom.Hr: true, atom.Li: true,
	atom.Main: true, atom.Nav: true, atom.Ol: true, atom.P: true, atom.Pre: true,
	atom.Section: true, atom.Summary: true, atom.Table: true, atom.Ul: true,
}

// PlainText turns an HTML fragment (or plain text) from a feed or a page
// into clean text: tags stripped, script and style dropped, entities
// decoded, whitespace collapsed, and paragraphs (block elements, a double
// <br>, or blank lines in plain text) separated by "\n\n".
func PlainText(s string) string {
	w := textWriter{plain: !tagLike.MatchString(s)}
	z := html.NewTokenizer(strings.NewReader(s))
	skipDepth := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return w.String()
		case html.TextToken:
			if skipDepth == 0 {
				w.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			selfClosing := tt == html.SelfClosingTagToken
			switch {
			case skippedElements[a]:
				if !selfClosing {
					skipDepth++
				}
			case skipDepth > 0:
			case a == atom.Br:
				w.lineBreak()
			case a == atom.Tr:
				w.breakAtLeast(breakLine)
			case a == atom.Td || a == atom.Th:
				w.breakAtLeast(breakSpace)
			case blockElements[a]:
				w.breakAtLeast(breakParagraph)
				if a == atom.Pre && !selfClosing {
					w.inPre++
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case skippedElements[a]:
				if skipDepth > 0 {
					skipDepth--
				}
			case skipDepth > 0:
			case blockElements[a]:
				w.breakAtLeast(breakParagraph)
				if a == atom.Pre && w.inPre > 0 {
					w.inPre--
				}
			}
		}
	}
}

// tagLike finds something that reads as a tag; text without one keeps its
// own blank-line paragraphs.
var tagLike = regexp.MustCompile(`<[a-zA-Z/!]`)

// textWriter collapses whitespace and remembers the strongest break seen
// since the last word, so that breaks never pile up or lead the text.
type textWriter struct {
	b       strings.Builder
	pending breakKind
	brs     int // consecutive <br> since the last word
	plain   bool
	inPre   int
}

func (w *textWriter) breakAtLeast(k breakKind) {
	w.pending = max(w.pending, k)
}

// lineBreak handles <br>: one is a line break, two in a row a paragraph.
func (w *textWriter) lineBreak() {
	w.brs++
	if w.brs >= 2 {
		w.breakAtLeast(breakParagraph)
		return
	}
	w.breakAtLeast(breakLine)
}

func (w *textWriter) text(s string) {
	newlines := 0
	for _, r := range s {
		if r >= 0x80 && r <= 0x9f {
			// C1 controls in a feed are windows-1252 punctuation decoded
			// as Latin-1 ("don\u0092t"): they mean the cp1252 character.
			if cp := charmap.Windows1252.DecodeByte(byte(r)); cp != utf8.RuneError {
				r = cp
			}
		}
		switch {
		case r == '\n':
			newlines++
			switch {
			case w.inPre > 0:
				w.breakAtLeast(breakLine)
			case w.plain && newlines >= 2:
				w.breakAtLeast(breakParagraph)
			default:
				w.breakAtLeast(breakSpace)
			}
		case unicode.IsSpace(r):
			w.breakAtLeast(breakSpace)
		case unicode.IsControl(r):
			// Control characters carry nothing readable and can corrupt
			// what a chat client renders.
		default:
			newlines = 0
			w.flushBreak()
			w.b.WriteRune(r)
		}
	}
}

func (w *textWriter) flushBreak() {
	if w.b.Len() > 0 {
		switch w.pending {
		case breakParagraph:
			w.b.WriteString("\n\n")
		case breakLine:
			w.b.WriteString("\n")
		case breakSpace:
			w.b.WriteString(" ")
		}
	}
	w.pending = breakNone
	w.brs = 0
}

func (w *textWriter) String() string { return w.b.String() }

// singleLine is PlainText for titles: every break becomes one space.
func singleLine(s string) string {
	return strings.Join(strings.Fields(PlainText(s)), " ")
}
