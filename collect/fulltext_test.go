package collect_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/collect"
	"github.com/briefing-bot/briefing/store"
)

// articlePage is a news page: navigation, a script and a footer around
// the story readability should find.
const articlePage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Rates held | Example News</title>
<script>window.tracker = "do not keep";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/markets">Markets</a> <a href="/tech">Tech</a></nav>
<article>
<h1>Central bank holds rates steady</h1>
<p>The central bank left its benchmark interest rate unchanged on Tuesday, saying inflation had
cooled for a third straight month while the labour market remained tight across most regions.</p>
<p>Policymakers voted seven to two to keep the rate at its current level. The two dissenters
favoured a quarter-point cut, arguing that the slowdown in consumer spending warranted support.</p>
<p>Markets had largely priced in the decision. Government bond yields edged lower after the
announcement, and the currency slipped against the dollar as traders pared bets on a hike.</p>
<p>The bank's next meeting is in six weeks, when it will also publish fresh economic projections
that analysts expect to show slower growth next year and inflation returning to target.</p>
</article>
<footer>Copyright Example News. <a href="/privacy">Privacy</a></footer>
</body></html>`

const teaser = "Rates unchanged; two members dissent."

// feedItem is one item of a feed writeFeed serves.
type feedItem struct{ link, description string }

// writeFeed serves an RSS feed of items.
func writeFeed(w http.ResponseWriter, items ...feedItem) {
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprint(w, `<rss version="2.0"><channel><title>Example News</title>`)
	for i, it := range items {
		fmt.Fprintf(w, "<item><title>Story %d</title><link>%s</link><description>%s</description></item>\n", i+1, it.link, it.description)
	}
	fmt.Fprint(w, `</channel></rss>`)
}

func fullTextServer(tb testing.TB, pageStatus int, pageType string) (feedURL string, pageRequests func(path string) int) {
	tb.Helper()
	var mu sync.Mutex
	requests := make(map[string]int)
	var base string
	ts := newServer(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/feed":
			writeFeed(w, feedItem{base + "/short", teaser}, feedItem{base + "/long", strings.Repeat("Already the whole story. ", 30)})
		case "/short", "/long":
			w.Header().Set("Content-Type", pageType)
			w.WriteHeader(pageStatus)
			fmt.Fprint(w, articlePage)
		default:
			http.NotFound(w, r)
		}
	}))
	base = ts.URL
	return ts.URL + "/feed", func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		return requests[path]
	}
}

// wantPageText checks that text is the story of articlePage without its
// surroundings.
func wantPageText(tb testing.TB, text string) {
	tb.Helper()
	for _, want := range []string{"left its benchmark interest rate unchanged", "\n\nPolicymakers voted seven to two"} {
		if !strings.Contains(text, want) {
			tb.Errorf("page text lacks %q:\n%s", want, text)
		}
	}
	for _, unwanted := range []string{"tracker", "Privacy", "Markets Tech"} {
		if strings.Contains(text, unwanted) {
			tb.Errorf("page text keeps %q:\n%s", unwanted, text)
		}
	}
}

// wantPageWarnings checks that logs hold one "full text not fetched" line
// per entry of want, each with its error.
func wantPageWarnings(tb testing.TB, logs string, want ...string) {
	tb.Helper()
	var got []string
	for line := range strings.Lines(logs) {
		if strings.Contains(line, `"msg":"full text not fetched"`) {
			got = append(got, line)
		}
	}
	if len(got) != len(want) {
		tb.Fatalf("%d full-text warnings, want %d:\n%s", len(got), len(want), logs)
	}
	for _, w := range want {
		if !strings.Contains(logs, w) {
			tb.Errorf("no full-text warning says %q:\n%s", w, logs)
		}
	}
}

func TestCollectFullText(t *testing.T) {
	tests := map[string]struct {
		fullText     bool
		allowPrivate bool // the test server is on 127.0.0.1
		pageStatus   int
		pageType     string
		wantPage     bool   // the short item's text comes from its page
		wantWarning  string // the one failure logged
		shortReqs    int
	}{
		"page text replaces the teaser": {fullText: true, allowPrivate: true, pageStatus: 200, pageType: "text/html; charset=utf-8", wantPage: true, shortReqs: 1},
		"topic without full text":       {fullText: false, allowPrivate: true, pageStatus: 200, pageType: "text/html", shortReqs: 0},
		"page fails: teaser kept":       {fullText: true, allowPrivate: true, pageStatus: 404, pageType: "text/html", wantWarning: "HTTP 404 Not Found", shortReqs: 1},
		"not HTML: teaser kept":         {fullText: true, allowPrivate: true, pageStatus: 200, pageType: "application/pdf", wantWarning: "not an HTML page: application/pdf", shortReqs: 1},
		"page on a private address: refused, teaser kept": {fullText: true, pageStatus: 200, pageType: "text/html",
			wantWarning: "refusing to fetch a page on a private address 127.0.0.1", shortReqs: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			feedURL, pageRequests := fullTextServer(t, tc.pageStatus, tc.pageType)
			st := newMemStore()
			var logs bytes.Buffer
			c := newCollector(collect.Options{AllowPrivatePages: tc.allowPrivate, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			tp := briefing.Topic{ID: "economy", Feeds: []string{feedURL}, FullText: tc.fullText}
			wantStatus(t, only(t, collectOK(t, c, st, tp)), collect.StatusNew, "")

			short := st.byURL(t, strings.TrimSuffix(feedURL, "/feed")+"/short")
			if tc.wantPage {
				wantPageText(t, short.Text)
			} else if short.Text != teaser {
				t.Errorf("text %q, want the feed's teaser", short.Text)
			}
			if tc.wantWarning == "" {
				wantPageWarnings(t, logs.String())
			} else {
				wantPageWarnings(t, logs.String(), tc.wantWarning)
			}
			if got := pageRequests("/short"); got != tc.shortReqs {
				t.Errorf("short item's page fetched %d times, want %d", got, tc.shortReqs)
			}
			if got := pageRequests("/long"); got != 0 {
				t.Errorf("a long feed text had its page fetched %d times", got)
			}
		})
	}
}

// TestCollectFullTextRefusesRedirectToPrivateAddress lets the page's own
// server through the address check, as if it were on the internet, and
// has it redirect to another local server standing for an internal one.
func TestCollectFullTextRefusesRedirectToPrivateAddress(t *testing.T) {
	var internalRequests atomic.Int32
	internal := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalRequests.Add(1)
		fmt.Fprint(w, articlePage)
	}))
	var storyRequests atomic.Int32
	var base string
	public := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed":
			writeFeed(w, feedItem{base + "/story", teaser})
		case "/story":
			storyRequests.Add(1)
			http.Redirect(w, r, internal.URL+"/latest/meta-data/", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	base = public.URL

	var logs bytes.Buffer
	c := newCollector(collect.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	pages := collect.PageTransport(c)
	guarded := pages.DialContext
	var unchecked net.Dialer
	pages.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
		if address == public.Listener.Addr().String() {
			return unchecked.DialContext(ctx, network, address)
		}
		return guarded(ctx, network, address)
	}
	st := newMemStore()
	wantStatus(t, only(t, collectOK(t, c, st, briefing.Topic{ID: "t", Feeds: []string{base + "/feed"}, FullText: true})), collect.StatusNew, "")

	if got := storyRequests.Load(); got != 1 {
		t.Fatalf("the story's page was fetched %d times, want once", got)
	}
	if got := internalRequests.Load(); got != 0 {
		t.Errorf("the internal server got %d requests", got)
	}
	if got := st.byURL(t, base+"/story").Text; got != teaser {
		t.Errorf("text %q, want the feed's teaser", got)
	}
	wantPageWarnings(t, logs.String(), "refusing to fetch a page on a private address 127.0.0.1")
}

// TestCollectFullTextThroughProxy fetches pages through a proxy from the
// environment. The proxy itself is on a private address, which the
// operator chose; the hosts it is asked for are checked instead.
func TestCollectFullTextThroughProxy(t *testing.T) {
	var mu sync.Mutex
	var proxied []string
	proxy := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.URL.String())
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, articlePage)
	}))
	for _, env := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		t.Setenv(env, proxy.URL)
	}
	for _, env := range []string{"NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(env, "")
	}
	const (
		public   = "http://93.184.216.34/story"
		metadata = "http://169.254.169.254/latest/meta-data/"
		intranet = "http://10.1.2.3/wiki"
	)
	// The feed, on 127.0.0.1, is fetched directly: loopback is never proxied.
	feed := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeFeed(w, feedItem{public, teaser}, feedItem{metadata, teaser}, feedItem{intranet, teaser})
	}))

	var logs bytes.Buffer
	st := newMemStore()
	c := newCollector(collect.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	wantStatus(t, only(t, collectOK(t, c, st, briefing.Topic{ID: "t", Feeds: []string{feed.URL}, FullText: true})), collect.StatusNew, "")

	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(proxied, []string{public}) {
		t.Errorf("the proxy was asked for %q, want only %s", proxied, public)
	}
	wantPageText(t, st.byURL(t, public).Text)
	for _, link := range []string{metadata, intranet} {
		if got := st.byURL(t, link).Text; got != teaser {
			t.Errorf("%s: text %q, want the feed's teaser", link, got)
		}
	}
	wantPageWarnings(t, logs.String(),
		"refusing to fetch a page on a private address 169.254.169.254",
		"refusing to fetch a page on a private address 10.1.2.3")
}

func TestPageDialerRefusesPrivateAddresses(t *testing.T) {
	tests := map[string]struct {
		ip      string
		refused bool
	}{
		"IPv4 loopback":                 {"127.0.0.1", true},
		"IPv6 loopback":                 {"::1", true},
		"10/8":                          {"10.1.2.3", true},
		"172.16/12":                     {"172.16.0.1", true},
		"192.168/16":                    {"192.168.1.1", true},
		"cloud metadata service":        {"169.254.169.254", true},
		"IPv6 link-local":               {"fe80::1", true},
		"IPv6 link-local with a zone":   {"fe80::1%lo", true},
		"IPv6 unique local":             {"fc00::1", true},
		"unspecified":                   {"0.0.0.0", true},
		"IPv6 unspecified":              {"::", true},
		"this network":                  {"0.1.2.3", true},
		"IPv4 multicast":                {"224.0.0.1", true},
		"IPv6 multicast":                {"ff02::1", true},
		"broadcast":                     {"255.255.255.255", true},
		"carrier-grade NAT metadata":    {"100.100.100.200", true},
		"IPv4-mapped loopback":          {"::ffff:127.0.0.1", true},
		"IPv4-compatible loopback":      {"::127.0.0.1", true},
		"NAT64 of the metadata service": {"64:ff9b::a9fe:a9fe", true},
		"6to4 of 10.1.2.3":              {"2002:a01:203::1", true},
		"public IPv4":                   {"93.184.216.34", false},
		"public IPv6":                   {"2606:4700::1111", false},
		"NAT64 of a public address":     {"64:ff9b::5db8:d822", false},
		"IPv4-mapped public":            {"::ffff:93.184.216.34", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := collect.RefuseNonPublic("tcp", net.JoinHostPort(tc.ip, "443"), nil)
			switch {
			case tc.refused && (err == nil || !strings.Contains(err.Error(), "refusing to fetch a page on a private address")):
				t.Errorf("error %v, want a refusal", err)
			case !tc.refused && err != nil:
				t.Errorf("refused: %v", err)
			}
		})
	}
}

// TestCollectFullTextOnlyForNewArticles collects a changed feed twice into
// a real store: the page of an article stored the first time is not
// fetched again.
func TestCollectFullTextOnlyForNewArticles(t *testing.T) {
	feedURL, pageRequests := fullTextServer(t, 200, "text/html; charset=utf-8")
	db, err := store.Open(filepath.Join(t.TempDir(), "briefing.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	tp := briefing.Topic{ID: "economy", Feeds: []string{feedURL}, FullText: true}
	c := newCollector(collect.Options{AllowPrivatePages: true})

	wantStatus(t, only(t, collectOK(t, c, db, tp)), collect.StatusNew, "")
	wantStatus(t, only(t, collectOK(t, c, db, tp)), collect.StatusUnchanged, "")
	if got := pageRequests("/short"); got != 1 {
		t.Errorf("the stored article's page was fetched %d times, want once", got)
	}
	arts, err := db.TopicArticles("economy", time.Time{}, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		if strings.HasSuffix(a.URL, "/short") && !strings.Contains(a.Text, "Policymakers voted") {
			t.Errorf("stored text %q, want the page's", a.Text)
		}
	}
}
