package collect_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/collect"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// corpusDir is the shared feed corpus; tests that need it skip without it.
const corpusDir = "../../shared/corpus/feeds"

var testNow = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// hexID is the form of an article ID.
var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// corpusFile reads a file of the shared corpus, skipping without it.
func corpusFile(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, rel))
	if errors.Is(err, fs.ErrNotExist) {
		tb.Skipf("corpus file %s not present", rel)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// corpusFiles lists a corpus folder's files (paths relative to the
// corpus), skipping without the corpus.
func corpusFiles(tb testing.TB, folder string) []string {
	tb.Helper()
	root := filepath.Join(corpusDir, folder)
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		tb.Skipf("corpus folder %s not present", root)
	}
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(corpusDir, path)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

func mustParse(tb testing.TB, body []byte, feedURL, contentType string) collect.Feed {
	tb.Helper()
	feed, err := collect.Parse(body, feedURL, contentType, testNow)
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	return feed
}

func TestParseFixtures(t *testing.T) {
	tests := map[string]struct {
		file       string
		title      string
		articles   int
		first      briefing.Article
		firstInTxt string
	}{
		"RSS 0.92": {
			file: "rss.xml", title: "RSS0.92 Example", articles: 2,
			first: briefing.Article{
				Title: "The First Item", URL: "http://www.oreilly.com/example/001.html",
				Source: "oreilly.com", SourceName: "RSS0.92 Example", Published: testNow,
			},
			firstInTxt: "This is the first item.",
		},
		"Atom": {
			file: "atom.xml", title: "Release notes from feed-rs", articles: 4,
			first: briefing.Article{
				Title: "0.2.0", URL: "https://github.com/feed-rs/feed-rs/releases/tag/v0.2.0",
				Source: "github.com", SourceName: "Release notes from feed-rs",
				Published: time.Date(2020, 1, 19, 5, 8, 59, 0, time.UTC),
			},
			firstInTxt: "A range of maintenance work, including:\n\nmigrate to Rust 2018 edition\n\n",
		},
		"JSON Feed": {
			file: "feed.json", title: "Daring Fireball", articles: 2,
			first: briefing.Article{
				Title: "How Jeff Bezos’s iPhone X Was Hacked", URL: "https://daringfireball.net/linked/2020/01/24/bezos-iphone-x",
				Source: "daringfireball.net", SourceName: "Daring Fireball",
				Published: time.Date(2020, 1, 24, 23, 46, 57, 0, time.UTC),
			},
			firstInTxt: "Good summary from The New York Times.",
		},
		"undeclared Latin-1": {
			// 10 items, one with an empty title and link.
			file: "latin1.xml", title: "Flux RSS du magazine de psychologie Le Cercle Psy", articles: 9,
			first: briefing.Article{
				Title:      "Perturbateurs endocriniens : quels effets sur le cerveau ?",
				URL:        "https://le-cercle-psy.scienceshumaines.com/perturbateurs-endocriniens-quels-effets-sur-le-cerveau_sh_39995",
				Source:     "le-cercle-psy.scienceshumaines.com",
				SourceName: "Flux RSS du magazine de psychologie Le Cercle Psy",
				Published:  time.Date(2018, 10, 17, 10, 30, 0, 0, time.UTC),
			},
			firstInTxt: "nombre d'études montrent",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			const feedURL = "https://feeds.example.com/feed"
			feed := mustParse(t, readFile(t, filepath.Join("testdata", tc.file)), feedURL, "")
			if feed.Title != tc.title {
				t.Errorf("title = %q, want %q", feed.Title, tc.title)
			}
			if len(feed.Articles) != tc.articles {
				t.Fatalf("%d articles, want %d", len(feed.Articles), tc.articles)
			}
			got := feed.Articles[0]
			want := tc.first
			if got.Title != want.Title || got.URL != want.URL || got.Source != want.Source ||
				got.SourceName != want.SourceName || !got.Published.Equal(want.Published) {
				t.Errorf("first article =\n%+v\nwant\n%+v", got, want)
			}
			if got.FeedURL != feedURL || !got.Fetched.Equal(testNow) || len(got.ID) != 32 {
				t.Errorf("feed URL %q, fetched %v, id %q", got.FeedURL, got.Fetched, got.ID)
			}
			if !strings.Contains(got.Text, tc.firstInTxt) {
				t.Errorf("text %q lacks %q", got.Text, tc.firstInTxt)
			}
		})
	}
}

// normalisingFeed exercises the per-item rules in one RSS document.
const normalisingFeed = `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
<title>The &lt;b&gt;Daily&lt;/b&gt; Example</title>
<link>https://www.example.com/</link>
<item>
  <title>Relative &amp;amp; tracked</title>
  <link>/news/1?utm_source=rss&amp;id=1#top</link>
  <description>Short teaser.</description>
  <content:encoded><![CDATA[<p>The whole story, which is longer.</p><p>Second paragraph.</p>]]></content:encoded>
  <pubDate>Tue, 24 Nov 2026 10:00:00 +0100</pubDate>
</item>
<item>
  <title>From the future</title>
  <link>https://other.example.org/future</link>
  <description><![CDATA[A <b>long</b> description that beats the content because it is longer.]]></description>
  <content:encoded>Short.</content:encoded>
  <pubDate>Wed, 25 Nov 2026 12:00:00 GMT</pubDate>
</item>
<item>
  <title>Slightly ahead</title>
  <link>https://example.com/ahead</link>
  <pubDate>Wed, 25 Nov 2026 08:30:00 GMT</pubDate>
</item>
<item>
  <description>Neither title nor link: dropped.</description>
</item>
<item>
  <title>Script link</title>
  <link>javascript:alert(1)</link>
  <guid>https://example.com/guid-permalink</guid>
</item>
<item>
  <title>No link, no date</title>
  <guid isPermaLink="false">item-42</guid>
</item>
<item>
  <title>Relative &amp;amp; tracked, again</title>
  <link>HTTPS://feeds.example.com/news/1?id=1&amp;utm_medium=x#comments</link>
</item>
</channel>
</rss>`

func TestParseNormalises(t *testing.T) {
	const feedURL = "https://feeds.example.com/daily.xml"
	feed := mustParse(t, []byte(normalisingFeed), feedURL, "application/rss+xml")
	if feed.Title != "The Daily Example" {
		t.Errorf("feed title %q", feed.Title)
	}
	byTitle := make(map[string]briefing.Article)
	for _, a := range feed.Articles {
		byTitle[a.Title] = a
	}
	if len(feed.Articles) != 5 {
		t.Fatalf("got %d articles, want 5 (one dropped, one duplicate): %+v", len(feed.Articles), byTitle)
	}

	first := byTitle["Relative & tracked"]
	if want := "https://feeds.example.com/news/1?id=1"; first.URL != want {
		t.Errorf("relative link: URL %q, want %q", first.URL, want)
	}
	if want := "The whole story, which is longer.\n\nSecond paragraph."; first.Text != want {
		t.Errorf("longer content preferred: text %q, want %q", first.Text, want)
	}
	if want := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC); !first.Published.Equal(want) || first.Published.Location() != time.UTC {
		t.Errorf("published %v, want %v in UTC", first.Published, want)
	}
	if first.Source != "feeds.example.com" || first.SourceName != "The Daily Example" {
		t.Errorf("source %q, source name %q", first.Source, first.SourceName)
	}

	future := byTitle["From the future"]
	if !future.Published.Equal(testNow) {
		t.Errorf("a date 4h ahead is clamped to now: got %v", future.Published)
	}
	if want := "A long description that beats the content because it is longer."; future.Text != want {
		t.Errorf("longer description preferred: text %q", future.Text)
	}
	if ahead := byTitle["Slightly ahead"]; !ahead.Published.Equal(testNow.Add(30 * time.Minute)) {
		t.Errorf("a date 30m ahead is kept: got %v", ahead.Published)
	}
	if script := byTitle["Script link"]; script.URL != "https://example.com/guid-permalink" {
		t.Errorf("javascript: link replaced by the guid permalink: URL %q", script.URL)
	}
	noLink := byTitle["No link, no date"]
	if noLink.URL != "" || !noLink.Published.Equal(testNow) || noLink.Source != "example.com" {
		t.Errorf("no link: URL %q, published %v, source %q (the feed's domain)", noLink.URL, noLink.Published, noLink.Source)
	}
}

func TestArticleIDs(t *testing.T) {
	rss := func(items string) []byte {
		return []byte(`<rss version="2.0"><channel><title>T</title>` + items + `</channel></rss>`)
	}
	ids := func(t *testing.T, feedURL string, doc []byte) []string {
		t.Helper()
		var out []string
		for _, a := range mustParse(t, doc, feedURL, "").Articles {
			out = append(out, a.ID)
		}
		return out
	}
	const feedA, feedB = "https://a.example/feed", "https://b.example/feed"
	linked := rss(`<item><title>One</title><link>https://example.com/story?utm_source=a</link></item>`)
	sameStory := rss(`<item><title>One, retitled</title><link>HTTPS://EXAMPLE.COM/story?fbclid=x#frag</link></item>`)
	withGUID := rss(`<item><title>Title</title><guid isPermaLink="false">g-1</guid></item>`)
	guidRetitled := rss(`<item><title>Other title</title><guid isPermaLink="false">g-1</guid></item>`)
	titleOnly := rss(`<item><title>Only a title</title></item>`)

	tests := map[string]struct {
		a, b     []string
		wantSame bool
	}{
		"same document twice":                      {ids(t, feedA, linked), ids(t, feedA, linked), true},
		"same canonical URL, other feed and title": {ids(t, feedA, linked), ids(t, feedB, sameStory), true},
		"guid keeps the id when the title changes": {ids(t, feedA, withGUID), ids(t, feedA, guidRetitled), true},
		"guid ids differ by feed":                  {ids(t, feedA, withGUID), ids(t, feedB, withGUID), false},
		"title-only item is stable":                {ids(t, feedA, titleOnly), ids(t, feedA, titleOnly), true},
		"title-only ids differ by feed":            {ids(t, feedA, titleOnly), ids(t, feedB, titleOnly), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if len(tc.a) != 1 || len(tc.b) != 1 {
				t.Fatalf("ids %v and %v: want one each", tc.a, tc.b)
			}
			if (tc.a[0] == tc.b[0]) != tc.wantSame {
				t.Errorf("ids %s and %s: same = %v, want %v", tc.a[0], tc.b[0], tc.a[0] == tc.b[0], tc.wantSame)
			}
			if !hexID.MatchString(tc.a[0]) {
				t.Errorf("id %q is not 32 hex digits", tc.a[0])
			}
		})
	}
}

func TestParseUntitledJSONItem(t *testing.T) {
	doc := `{"version":"https://jsonfeed.org/version/1.1","title":"Micro","items":[
		{"id":"1","url":"https://micro.example/1","content_text":"` + strings.Repeat("word ", 40) + `"},
		{"id":"2","content_text":"no url, no title: dropped"}]}`
	feed := mustParse(t, []byte(doc), "https://micro.example/feed.json", "application/feed+json")
	if len(feed.Articles) != 1 {
		t.Fatalf("got %d articles, want 1", len(feed.Articles))
	}
	title := feed.Articles[0].Title
	if !strings.HasSuffix(title, "word…") || utf8.RuneCountInString(title) > 101 {
		t.Errorf("title from text = %q, want the text's start cut at a word", title)
	}
}

func TestParseBoundsText(t *testing.T) {
	paragraph := "<p>" + strings.Repeat("Another sentence of a very long article. ", 50) + "</p>"
	doc := `<?xml version="1.0"?><rss version="2.0"><channel><title>Long</title><item>` +
		`<title>` + strings.Repeat("Title ", 1000) + `</title><link>https://long.example/1</link>` +
		`<description><![CDATA[` + strings.Repeat(paragraph, 200) + `]]></description></item></channel></rss>`
	feed := mustParse(t, []byte(doc), "https://long.example/feed.xml", "application/rss+xml")
	if len(feed.Articles) != 1 {
		t.Fatalf("got %d articles, want 1", len(feed.Articles))
	}
	a := feed.Articles[0]
	if len(a.Text) > 64<<10 || len(a.Text) < 32<<10 {
		t.Errorf("text of %d bytes, want it cut to at most 64 KiB", len(a.Text))
	}
	if !strings.HasSuffix(a.Text, "long article.") {
		t.Errorf("text ends %q, want a whole paragraph", a.Text[len(a.Text)-40:])
	}
	if len(a.Title) > 1<<10 || !strings.HasSuffix(a.Title, "Title") {
		t.Errorf("title of %d bytes ending %q, want at most 1 KiB cut at a word", len(a.Title), a.Title[len(a.Title)-10:])
	}
}

func TestParseRejects(t *testing.T) {
	tests := map[string]struct {
		body    string
		notFeed bool
		wantErr string
	}{
		"HTML page": {
			body: "<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi</p></body></html>", notFeed: true,
			wantErr: "not a feed: an HTML page",
		},
		"HTML page naming its feed": {
			body:    `<html><head><link rel="alternate" type="application/rss+xml" href="/feeds/main"></head><body></body></html>`,
			notFeed: true, wantErr: "not a feed: an HTML page (it links to the feed https://example.com/feeds/main)",
		},
		"HTML after a long comment": {
			body: "<!--\n  generated\n  by a CMS\n-->\n<html lang=en><body>Hi</body></html>", notFeed: true,
			wantErr: "not a feed: an HTML page",
		},
		"empty":            {body: "  \n", notFeed: true, wantErr: "not a feed: empty document"},
		"other XML":        {body: `<?xml version="1.0"?><note><to>x</to></note>`, notFeed: true, wantErr: "not a feed: XML without"},
		"plain text":       {body: "hello", notFeed: true, wantErr: "not a feed: neither XML nor JSON"},
		"JSON not a feed":  {body: `{"rss":{"channel":{}}}`, notFeed: true, wantErr: "not a feed: JSON without a JSON Feed version"},
		"broken JSON Feed": {body: `{"version":"https://jsonfeed.org/version/1","items":[`, wantErr: "invalid feed"},
		"unclosed RSS":     {body: `<rss version="2.0"><channel><title>x</title><item><title>a`, wantErr: "invalid feed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := collect.Parse([]byte(tc.body), "https://example.com/page", "text/html", testNow)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if errors.Is(err, collect.ErrNotFeed) != tc.notFeed {
				t.Errorf("errors.Is(err, ErrNotFeed) = %v, want %v", !tc.notFeed, tc.notFeed)
			}
		})
	}
}

// i18nTitle is feedparser's test string for non-ASCII text.
const i18nTitle = "Iñtërnâtiônàlizætiøn"

func encode(tb testing.TB, enc encoding.Encoding, s string) []byte {
	tb.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseCharsets(t *testing.T) {
	rss := func(decl, title string) string {
		return decl + `<rss version="2.0"><channel><title>` + title + `</title>` +
			`<item><title>` + title + `</title><link>https://example.com/1</link></item></channel></rss>`
	}
	utf16Doc := rss(`<?xml version="1.0" encoding="utf-16"?>`, i18nTitle)
	utf32Doc := rss(`<?xml version="1.0" encoding="utf-32"?>`, i18nTitle)
	cyrillic := "Цитата дня"
	tests := map[string]struct {
		body        []byte
		contentType string
		want        string
	}{
		"UTF-8 BOM": {
			body: append([]byte{0xEF, 0xBB, 0xBF}, rss(`<?xml version="1.0"?>`, i18nTitle)...), want: i18nTitle,
		},
		"UTF-16LE with BOM": {
			body: encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), utf16Doc), want: i18nTitle,
		},
		"UTF-16BE with BOM": {
			body: encode(t, unicode.UTF16(unicode.BigEndian, unicode.UseBOM), utf16Doc), want: i18nTitle,
		},
		"UTF-16LE without BOM": {
			body: encode(t, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), utf16Doc), want: i18nTitle,
		},
		"UTF-16BE without BOM": {
			body: encode(t, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), utf16Doc), want: i18nTitle,
		},
		"UTF-32BE with BOM": {
			body: encode(t, utf32.UTF32(utf32.BigEndian, utf32.UseBOM), utf32Doc), want: i18nTitle,
		},
		"UTF-32LE without BOM": {
			body: encode(t, utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), utf32Doc), want: i18nTitle,
		},
		"XML declaration": {
			body: encode(t, charmap.Windows1251, rss(`<?xml version="1.0" encoding="windows-1251"?>`, cyrillic)), want: cyrillic,
		},
		"HTTP charset without declaration": {
			body:        encode(t, charmap.Windows1251, rss("", cyrillic)),
			contentType: "text/xml; charset=windows-1251", want: cyrillic,
		},
		"HTTP charset overrides the declaration": {
			body:        encode(t, charmap.KOI8R, rss(`<?xml version="1.0" encoding="windows-1251"?>`, cyrillic)),
			contentType: `application/rss+xml;charset="KOI8-R"`, want: cyrillic,
		},
		"UTF-8 mislabelled Latin-1 by the server": {
			body: []byte(rss("", i18nTitle)), contentType: "text/xml; charset=iso-8859-1", want: i18nTitle,
		},
		"UTF-8 declared but Latin-1 bytes": {
			body: encode(t, charmap.ISO8859_1, rss(`<?xml version="1.0" encoding="UTF-8"?>`, i18nTitle)), want: i18nTitle,
		},
		"undeclared windows-1252 punctuation": {
			body: encode(t, charmap.Windows1252, rss("", "It’s “quoted” — €5")), want: "It’s “quoted” — €5",
		},
		"UTF-8 with a stray byte keeps the rest": {
			body: []byte(rss("", i18nTitle+"\xff")), want: i18nTitle + "\uFFFD",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			feed := mustParse(t, tc.body, "https://example.com/feed", tc.contentType)
			if feed.Title != tc.want {
				t.Errorf("feed title %q, want %q", feed.Title, tc.want)
			}
			if len(feed.Articles) != 1 || feed.Articles[0].Title != tc.want {
				t.Errorf("articles %+v, want one titled %q", feed.Articles, tc.want)
			}
		})
	}
}

func TestParseCorpusCharsets(t *testing.T) {
	tests := map[string]struct {
		file         string
		contentType  string
		feedTitle    string
		articleTitle string // some article has it
	}{
		"declared ISO-8859-1": {
			file: "realworld/miniflux/encoding_ISO-8859-1.xml", feedTitle: "Golem.de",
			articleTitle: "Red Dead Redemption 2: Hinweise auf PC-Umsetzung in App von Rockstar Games",
		},
		"declared windows-1251": {
			file: "realworld/miniflux/encoding_WINDOWS-1251.xml", feedTitle: "iBash.Org.Ru", articleTitle: "Цитата #17703",
		},
		"undeclared ISO-8859-1": {
			file:         "realworld/miniflux/no_encoding_ISO-8859-1.xml",
			feedTitle:    "Flux RSS du magazine de psychologie Le Cercle Psy",
			articleTitle: "Masters en Psycho : une simplificationet#8230; très complexe",
		},
		"declared gb2312": {
			file: "realworld/rsparser/kc0011.rss", feedTitle: "投资资讯网交易在线--流通纪念币最新20篇论坛主题-全文",
			articleTitle: "建国35周年纪念，华表，和平鸽",
		},
		"declared ISO-8859-1, CDATA": {
			file: "realworld/rss-parser/encoding.rss", feedTitle: "Jornal de Notícias - Últimas Notícias",
			articleTitle: "Mãe de utente é a nova presidente da Raríssimas",
		},
		"undeclared ISO-8859-1, no XML declaration": {
			file: "realworld/rss-parser/uolNoticias.rss", feedTitle: "UOL Noticias",
			articleTitle: "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno",
		},
		"declared euc-kr": {file: "wellformed/feedparser/encoding/euc-kr.xml", feedTitle: "년"},
		"application/xml, declared UTF-8": {
			file: "wellformed/feedparser/encoding/http_i18n.xml", contentType: "application/xml", feedTitle: i18nTitle,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			feed := mustParse(t, corpusFile(t, tc.file), "https://example.com/feed", tc.contentType)
			if feed.Title != tc.feedTitle {
				t.Errorf("feed title %q, want %q", feed.Title, tc.feedTitle)
			}
			if tc.articleTitle == "" {
				return
			}
			for _, a := range feed.Articles {
				if a.Title == tc.articleTitle {
					return
				}
			}
			t.Errorf("no article titled %q among %d", tc.articleTitle, len(feed.Articles))
		})
	}
}

// corpusExceptions are the corpus files of wellformed/ and realworld/
// that rightly give no article (a wellformed/ file that has no item with a
// title or link needs no entry: such files test feed-level elements).
var corpusExceptions = map[string]string{
	"wellformed/feed-rs/atom_entry_1.xml":                   "a bare Atom <entry> document, not a feed",
	"wellformed/feedparser/atom10/entry_link_no_href.xml":   "its only link is an Atom link with the URL as text, not href; gofeed reads href",
	"wellformed/feedparser/media-rss/item_media_title1.xml": "its only title is a media:title, which gofeed does not map to the title",
	"realworld/rsparser/ScriptingNews.json":                 "RSS transcribed into JSON, not a JSON Feed",
	"realworld/rsparser/authors.json":                       "a fixture for authors: items with an id only, no title or url",
	"realworld/rsparser/jsonfeed-extension.json":            "a fixture for extensions: items with id, HTML and attachments, no title or url",
	"realworld/feed-rs/rss_2.0_ghost_1.xml":                 "one item with media:content and content:encoded only, no title or link",
}

var (
	itemElement  = regexp.MustCompile(`(?is)<(?:[a-z0-9]+:)?(?:item|entry)[\s>].*?</(?:[a-z0-9]+:)?(?:item|entry)>`)
	itemTitle    = regexp.MustCompile(`(?is)<(?:[a-z0-9]+:)?title(?:\s[^>]*)?>\s*(?:<!\[CDATA\[)?\s*[^<\s]`)
	itemLink     = regexp.MustCompile(`(?is)<link(?:\s[^>]*)?>\s*[^<\s]|<link\s[^>]*href\s*=\s*["']\s*[^"'\s]|<guid[^>]*>\s*https?://`)
	itemRelOther = regexp.MustCompile(`(?is)<link\s[^>]*rel\s*=\s*["'](?:enclosure|related|replies|via)["']`)
	itemSource   = regexp.MustCompile(`(?is)<source[\s>].*?</source>`)
	headerLine   = regexp.MustCompile(`(?i)Header:\s*Content-type:\s*([^\r\n]+)`)
)

// citable reports, independently of the parser, whether a document has an
// item with a title or a link: one the parser must not lose. Zero bytes
// are dropped first so that UTF-16/32 documents read as ASCII.
func citable(src []byte) bool {
	src = bytes.ReplaceAll(src, []byte{0}, nil)
	if trimmed := bytes.TrimLeft(src, " \t\r\n\xef\xbb\xbf\xfe\xff"); len(trimmed) > 0 && trimmed[0] == '{' {
		var doc struct {
			Items []struct{ Title, URL string } `json:"items"`
		}
		if json.Unmarshal(trimmed, &doc) != nil {
			return false
		}
		for _, it := range doc.Items {
			if it.Title != "" || it.URL != "" {
				return true
			}
		}
		return false
	}
	for _, item := range itemElement.FindAll(src, -1) {
		// An Atom entry's <source> describes another feed.
		item = itemSource.ReplaceAll(item, nil)
		if itemTitle.Match(item) || itemLink.Match(itemRelOther.ReplaceAll(item, nil)) {
			return true
		}
	}
	return false
}

// hasReplacement reports whether a source already holds U+FFFD.
func hasReplacement(src []byte) bool {
	s := strings.ToLower(string(bytes.ReplaceAll(src, []byte{0}, nil)))
	return strings.Contains(s, "\uFFFD") || strings.Contains(s, "&#65533;") || strings.Contains(s, "&#xfffd;") ||
		bytes.Contains(src, []byte{0xFF, 0xFD}) || bytes.Contains(src, []byte{0xFD, 0xFF})
}

// checkArticles asserts what holds for every article Parse returns.
func checkArticles(tb testing.TB, feed collect.Feed, allowReplacement bool) {
	tb.Helper()
	texts := []string{feed.Title}
	for _, a := range feed.Articles {
		if a.Title == "" && a.URL == "" {
			tb.Errorf("article %s has neither title nor URL", a.ID)
		}
		if !hexID.MatchString(a.ID) {
			tb.Errorf("article id %q is not 32 hex digits", a.ID)
		}
		if a.URL != "" && !strings.HasPrefix(a.URL, "http://") && !strings.HasPrefix(a.URL, "https://") {
			tb.Errorf("article URL %q is not http(s)", a.URL)
		}
		if a.Published.After(testNow.Add(time.Hour)) {
			tb.Errorf("article published %v, after now+1h", a.Published)
		}
		texts = append(texts, a.Title, a.Text, a.Source)
	}
	for _, s := range texts {
		if !utf8.ValidString(s) {
			tb.Errorf("invalid UTF-8: %q", s)
		}
		if !allowReplacement && strings.ContainsRune(s, utf8.RuneError) {
			tb.Errorf("U+FFFD in %q", s)
		}
	}
}

func TestParseCorpus(t *testing.T) {
	for _, folder := range []string{"wellformed", "realworld"} {
		t.Run(folder, func(t *testing.T) {
			var withArticles, feedLevel, excepted int
			for _, rel := range corpusFiles(t, folder) {
				src := corpusFile(t, rel)
				feed, err := collect.Parse(src, "https://example.com/feed.xml", firstSubmatch(headerLine, src), testNow)
				reason, isException := corpusExceptions[rel]
				switch {
				case isException:
					excepted++
					if err == nil && len(feed.Articles) > 0 {
						t.Errorf("%s: listed as an exception (%s) but gives %d articles", rel, reason, len(feed.Articles))
					}
				case err != nil:
					t.Errorf("%s: %v", rel, err)
				case len(feed.Articles) > 0:
					withArticles++
				case folder != "wellformed" || citable(src):
					t.Errorf("%s: no article, and not a known exception", rel)
				default:
					feedLevel++
				}
				checkArticles(t, feed, hasReplacement(src))
			}
			t.Logf("%s: %d with articles, %d without a titled or linked item (feed-level cases), %d known exceptions",
				folder, withArticles, feedLevel, excepted)
		})
	}
}

func firstSubmatch(re *regexp.Regexp, src []byte) string {
	if m := re.FindSubmatch(bytes.ReplaceAll(src, []byte{0}, nil)); m != nil {
		return strings.TrimSpace(string(m[1]))
	}
	return ""
}

func TestParseIllformedCorpus(t *testing.T) {
	var parsed, failed int
	for _, rel := range corpusFiles(t, "illformed") {
		src := corpusFile(t, rel)
		type outcome struct {
			feed collect.Feed
			err  error
		}
		done := make(chan outcome, 1)
		go func() {
			feed, err := collect.Parse(src, "https://example.com/feed.xml", firstSubmatch(headerLine, src), testNow)
			done <- outcome{feed, err}
		}()
		select {
		case out := <-done:
			if out.err != nil {
				failed++
				continue
			}
			parsed++
			checkArticles(t, out.feed, true)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Parse did not return within 10s", rel)
		}
	}
	t.Logf("illformed: %d parsed, %d failed with an error", parsed, failed)
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"rss.xml", "atom.xml", "feed.json", "latin1.xml"} {
		f.Add(readFile(f, filepath.Join("testdata", name)), "")
	}
	f.Add([]byte(normalisingFeed), "text/xml; charset=utf-8")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"url":"/a","title":"<b>x</b>"}]}`), "")
	f.Add([]byte("<html><head><link rel=alternate type=application/atom+xml href=x></head></html>"), "text/html")
	if _, err := os.Stat(corpusDir); err == nil {
		for _, folder := range []string{"wellformed", "illformed", "realworld"} {
			for _, rel := range corpusFiles(f, folder) {
				f.Add(corpusFile(f, rel), "")
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		feed, err := collect.Parse(body, "https://example.com/feed.xml", contentType, testNow)
		if err != nil {
			return
		}
		checkArticles(t, feed, true)
		if text := collect.PlainText(string(body)); !utf8.ValidString(text) {
			t.Errorf("PlainText gave invalid UTF-8")
		}
	})
}

func BenchmarkParseRealworld(b *testing.B) {
	var docs [][]byte
	var total int64
	for _, rel := range corpusFiles(b, "realworld") {
		doc := corpusFile(b, rel)
		docs = append(docs, doc)
		total += int64(len(doc))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, doc := range docs {
			// Errors are expected for the known exceptions; the figure is
			// the cost of the whole folder.
			_, _ = collect.Parse(doc, "https://example.com/feed.xml", "", testNow)
		}
	}
}

func TestParseHTMLDiscoveryCorpus(t *testing.T) {
	tests := map[string]struct{ file, link string }{
		"relative href": {"html-discovery/DaringFireball.html", "https://site.example/feeds/main"},
		"furbo":         {"html-discovery/furbo.html", "http://furbo.org/feed/"},
		"inessential":   {"html-discovery/inessential.html", "http://inessential.com/xml/rss.xml"},
		"six colors":    {"html-discovery/sixcolors.html", "http://feedpress.me/sixcolors"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := collect.Parse(corpusFile(t, tc.file), "https://site.example/", "text/html", testNow)
			want := "not a feed: an HTML page (it links to the feed " + tc.link + ")"
			if !errors.Is(err, collect.ErrNotFeed) || err.Error() != want {
				t.Errorf("err = %v, want %q", err, want)
			}
		})
	}
}

func TestParseHTMLEntities(t *testing.T) {
	doc := []byte(`<rss version="2.0"><channel><title>T</title><item>
<title>Caf&eacute; prices rise&hellip; &amp; &doesnotexist; stays</title><link>https://news.example/a?x=1&amp;y=2</link>
</item></channel></rss>`)
	feed, err := collect.Parse(doc, "https://news.example/feed", "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := feed.Articles[0].Title, "Café prices rise… & &doesnotexist; stays"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	if got := feed.Articles[0].URL; got != "https://news.example/a?x=1&y=2" {
		t.Errorf("link = %q", got)
	}
}
