package collect_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
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
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<rss version="2.0"><channel><title>Example News</title>
<item><title>Central bank holds rates steady</title><link>%[1]s/short</link><description>%[2]s</description></item>
<item><title>A long story</title><link>%[1]s/long</link><description>%[3]s</description></item>
</channel></rss>`, base, teaser, strings.Repeat("Already the whole story. ", 30))
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

func TestCollectFullText(t *testing.T) {
	tests := map[string]struct {
		fullText   bool
		pageStatus int
		pageType   string
		wantPage   bool // the short item's text comes from its page
		shortReqs  int
	}{
		"page text replaces the teaser": {fullText: true, pageStatus: 200, pageType: "text/html; charset=utf-8", wantPage: true, shortReqs: 1},
		"topic without full text":       {fullText: false, pageStatus: 200, pageType: "text/html", shortReqs: 0},
		"page fails: teaser kept":       {fullText: true, pageStatus: 404, pageType: "text/html", shortReqs: 1},
		"not HTML: teaser kept":         {fullText: true, pageStatus: 200, pageType: "application/pdf", shortReqs: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			feedURL, pageRequests := fullTextServer(t, tc.pageStatus, tc.pageType)
			st := newMemStore()
			tp := briefing.Topic{ID: "economy", Feeds: []string{feedURL}, FullText: tc.fullText}
			wantStatus(t, only(t, collectOK(t, newCollector(collect.Options{}), st, tp)), collect.StatusNew, "")

			short := st.byURL(t, strings.TrimSuffix(feedURL, "/feed")+"/short")
			if tc.wantPage {
				for _, want := range []string{"left its benchmark interest rate unchanged", "\n\nPolicymakers voted seven to two"} {
					if !strings.Contains(short.Text, want) {
						t.Errorf("page text lacks %q:\n%s", want, short.Text)
					}
				}
				for _, unwanted := range []string{"tracker", "Privacy", "Markets Tech"} {
					if strings.Contains(short.Text, unwanted) {
						t.Errorf("page text keeps %q:\n%s", unwanted, short.Text)
					}
				}
			} else if short.Text != teaser {
				t.Errorf("text %q, want the feed's teaser", short.Text)
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
	c := newCollector(collect.Options{})

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
