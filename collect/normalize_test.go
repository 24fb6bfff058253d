package collect_test

import (
	"testing"

	"github.com/briefing-bot/briefing/collect"
)

// stringCases are table cases for a function of one string.
type stringCases map[string]struct{ in, want string }

func (cases stringCases) run(t *testing.T, name string, f func(string) string) {
	t.Helper()
	for caseName, tc := range cases {
		t.Run(caseName, func(t *testing.T) {
			if got := f(tc.in); got != tc.want {
				t.Errorf("%s(%q) = %q, want %q", name, tc.in, got, tc.want)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	tests := stringCases{
		"lower-cases scheme and host":  {"HTTPS://WWW.Example.COM/Path/Page", "https://www.example.com/Path/Page"},
		"drops the fragment":           {"https://example.com/a#comments", "https://example.com/a"},
		"drops utm params":             {"https://example.com/a?utm_source=rss&utm_medium=feed&UTM_Campaign=x", "https://example.com/a"},
		"keeps other params in order":  {"https://example.com/a?z=1&utm_source=rss&b=2&a=3", "https://example.com/a?z=1&b=2&a=3"},
		"drops click ids":              {"https://example.com/a?fbclid=1&id=7&gclid=2&mc_cid=3&mc_eid=4", "https://example.com/a?id=7"},
		"keeps value encoding":         {"https://example.com/s?q=a%20b+c&utm_term=x", "https://example.com/s?q=a%20b+c"},
		"drops a dangling question":    {"https://example.com/a?", "https://example.com/a"},
		"drops the default port":       {"http://example.com:80/a", "http://example.com/a"},
		"keeps another port":           {"https://example.com:8443/a", "https://example.com:8443/a"},
		"gives an empty path a slash":  {"https://example.com", "https://example.com/"},
		"trims spaces":                 {"  https://example.com/a \n", "https://example.com/a"},
		"leaves a relative ref alone":  {"/post/1#x", "/post/1#x"},
		"keeps empty pairs out":        {"https://example.com/a?x=1&&y=2", "https://example.com/a?x=1&y=2"},
		"matches encoded tracking key": {"https://example.com/a?utm%5Fsource=x&k=v", "https://example.com/a?k=v"},
	}
	tests.run(t, "Canonical", collect.Canonical)
}

func TestDomain(t *testing.T) {
	tests := stringCases{
		"drops www":         {"https://www.cnbc.com/2026/11/25/markets.html", "cnbc.com"},
		"keeps other hosts": {"https://news.ycombinator.com/item?id=1", "news.ycombinator.com"},
		"lower-cases":       {"HTTPS://WWW.BBC.CO.UK/news", "bbc.co.uk"},
		"drops the port":    {"http://example.com:8080/feed", "example.com"},
		"bare host":         {"www.example.org/feed.xml", "example.org"},
		"an IP address":     {"http://127.0.0.1:4000/feed", "127.0.0.1"},
		"a path":            {"/var/feeds/local.xml", ""},
		"empty":             {"", ""},
	}
	tests.run(t, "Domain", collect.Domain)
}

func TestPlainText(t *testing.T) {
	tests := stringCases{
		"paragraphs":                    {"<p>One.</p><p>Two.</p>", "One.\n\nTwo."},
		"collapses whitespace":          {"<p>  a \n\t b  </p>", "a b"},
		"inline tags join":              {"An <b>important</b> <a href=\"x\">link</a>.", "An important link."},
		"drops script and style":        {"<p>Hi</p><script>alert('x')</script><style>p{}</style><p>there</p>", "Hi\n\nthere"},
		"decodes entities":              {"Caf&eacute; &amp; &lt;b&gt; &#8212; &#x2019;", "Café & <b> — ’"},
		"nbsp is a space":               {"a&nbsp;&nbsp;b", "a b"},
		"one br is a line":              {"line one<br>line two", "line one\nline two"},
		"two br are a paragraph":        {"one<br/><br />\n two", "one\n\ntwo"},
		"headings and lists":            {"<h2>Title</h2><ul><li>a</li><li>b</li></ul>", "Title\n\na\n\nb"},
		"nested blocks":                 {"<div><div><p>x</p></div></div><div>y</div>", "x\n\ny"},
		"no leading or trailing breaks": {"<p></p><br><p> x </p><br>", "x"},
		"table cells":                   {"<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
		"pre keeps lines":               {"<pre>a  b\nc</pre>", "a b\nc"},
		"plain text paragraphs":         {"First para\nstill first.\n\nSecond para.", "First para still first.\n\nSecond para."},
		"plain text entities":           {"AT&amp;T &gt; 3 < 4", "AT&T > 3 < 4"},
		"control characters":            {"a\x00b\x1bc", "abc"},
		"comments":                      {"a<!-- hidden -->b", "ab"},
		"unclosed tags":                 {"<p>a<p>b<div>c", "a\n\nb\n\nc"},
		"title element dropped":         {"<title>Page</title><p>Body</p>", "Body"},
		"cp1252 punctuation as C1":      {"don\u0092t \u0093quote\u0094", "don’t “quote”"},
		"tags inside a script":          {"a<script><br><p>x</p></script>b", "ab"},
		"empty":                         {"", ""},
	}
	tests.run(t, "PlainText", collect.PlainText)
}
