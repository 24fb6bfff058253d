package collect_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/collect"
	"github.com/briefing-bot/briefing/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/text/encoding/charmap"
)

// memStore is a FeedStore in memory: what the collector needs, no more.
type memStore struct {
	mu       sync.Mutex
	feeds    map[string]briefing.FeedState
	articles map[string]briefing.Article
	// failArticles, when set, is returned by PutArticles.
	failArticles error
}

func newMemStore() *memStore {
	return &memStore{feeds: make(map[string]briefing.FeedState), articles: make(map[string]briefing.Article)}
}

func (s *memStore) Feed(url string) (briefing.FeedState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.feeds[url]; ok {
		return st, nil
	}
	return briefing.FeedState{URL: url}, nil
}

func (s *memStore) PutFeed(st briefing.FeedState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feeds[st.URL] = st
	return nil
}

func (s *memStore) PutArticles(arts []briefing.Article) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failArticles != nil {
		return 0, s.failArticles
	}
	n := 0
	for _, a := range arts {
		stored, ok := s.articles[a.ID]
		if !ok {
			s.articles[a.ID] = a
			n++
			continue
		}
		for _, t := range a.Topics {
			if !slices.Contains(stored.Topics, t) {
				stored.Topics = append(stored.Topics, t)
			}
		}
		s.articles[a.ID] = stored
	}
	return n, nil
}

func (s *memStore) Article(id string) (briefing.Article, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.articles[id]; ok {
		return a, nil
	}
	return briefing.Article{}, briefing.Errorf(briefing.ENOTFOUND, "article %s not found", id)
}

// ClaimFetch grants every fetch: one collector uses the store.
func (s *memStore) ClaimFetch(string, time.Duration) (bool, error) { return true, nil }

func (s *memStore) state(url string) briefing.FeedState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.feeds[url]
}

func (s *memStore) byURL(tb testing.TB, articleURL string) briefing.Article {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.articles {
		if a.URL == articleURL {
			return a
		}
	}
	tb.Fatalf("no stored article with URL %s", articleURL)
	return briefing.Article{}
}

// counter reads a counter from reg: the one whose first label has
// labelValue, or the unlabelled one when labelValue is "".
func counter(tb testing.TB, reg *prometheus.Registry, name, labelValue string) float64 {
	tb.Helper()
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if labels := m.GetLabel(); labelValue == "" || len(labels) > 0 && labels[0].GetValue() == labelValue {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// clock is a settable Now for back-off tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newCollector fills in a fixed clock unless opts has one.
func newCollector(opts collect.Options) *collect.Collector {
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	return collect.New(opts)
}

func newServer(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	ts := httptest.NewServer(h)
	tb.Cleanup(ts.Close)
	return ts
}

func topic(id string, feeds ...string) briefing.Topic {
	return briefing.Topic{ID: id, Name: id, Feeds: feeds}
}

// collectOK runs one Collect that must not fail.
func collectOK(tb testing.TB, c *collect.Collector, st briefing.FeedStore, topics ...briefing.Topic) []collect.Result {
	tb.Helper()
	results, err := c.Collect(context.Background(), st, topics, nil)
	if err != nil {
		tb.Fatalf("Collect: %v", err)
	}
	return results
}

// only returns the single result of a one-feed Collect.
func only(tb testing.TB, results []collect.Result) collect.Result {
	tb.Helper()
	if len(results) != 1 {
		tb.Fatalf("got %d results, want 1: %+v", len(results), results)
	}
	return results[0]
}

func wantStatus(tb testing.TB, res collect.Result, want collect.Status, errPart string) {
	tb.Helper()
	if res.Status != want {
		tb.Errorf("status %q (err %v), want %q", res.Status, res.Err, want)
	}
	switch {
	case errPart == "" && res.Err != nil && want != collect.StatusSkipped:
		tb.Errorf("unexpected error: %v", res.Err)
	case errPart != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), errPart)):
		tb.Errorf("error %v, want one containing %q", res.Err, errPart)
	}
}

// serveFile serves a testdata file with a content type.
func serveFile(tb testing.TB, name, contentType string) http.HandlerFunc {
	body := readFile(tb, filepath.Join("testdata", name))
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	}
}

func TestCollectStoresArticles(t *testing.T) {
	var requests atomic.Int32
	ts := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "briefing/") || !strings.Contains(ua, "github.com/briefing-bot/briefing") {
			t.Errorf("User-Agent %q does not name the project", ua)
		}
		if accept := r.Header.Get("Accept"); !strings.Contains(accept, "application/rss+xml") {
			t.Errorf("Accept %q", accept)
		}
		serveFile(t, "rss.xml", "application/rss+xml")(w, r)
	}))
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	c := newCollector(collect.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: metrics.New(reg)})
	st := newMemStore()
	feedURL := ts.URL + "/rss.xml"

	res := only(t, collectOK(t, c, st, topic("cloud", feedURL)))
	wantStatus(t, res, collect.StatusNew, "")
	if res.Topic != "cloud" || res.FeedURL != feedURL || res.Title != "RSS0.92 Example" || res.Items != 2 || res.New != 2 {
		t.Errorf("result %+v", res)
	}
	first := st.byURL(t, "http://www.oreilly.com/example/001.html")
	if first.Title != "The First Item" || !slices.Equal(first.Topics, []string{"cloud"}) || first.FeedURL != feedURL {
		t.Errorf("stored %+v", first)
	}
	state := st.state(feedURL)
	if state.Title != "RSS0.92 Example" || !state.LastSuccess.Equal(testNow) || state.Failures != 0 {
		t.Errorf("feed state %+v", state)
	}
	if got := counter(t, reg, "briefing_feed_fetches_total", "new"); got != 1 {
		t.Errorf("fetches{new} = %v, want 1", got)
	}
	if got := counter(t, reg, "briefing_articles_stored_total", ""); got != 2 {
		t.Errorf("articles stored = %v, want 2", got)
	}
	if line := logs.String(); !strings.Contains(line, `"level":"INFO"`) || !strings.Contains(line, `"feed_url":"`+feedURL+`"`) || !strings.Contains(line, `"new":2`) {
		t.Errorf("log %s", line)
	}

	res = only(t, collectOK(t, c, st, topic("cloud", feedURL)))
	wantStatus(t, res, collect.StatusUnchanged, "")
	if res.Items != 2 || res.New != 0 || requests.Load() != 2 {
		t.Errorf("second collect: %+v after %d requests", res, requests.Load())
	}
}

func TestCollectConditionalGet(t *testing.T) {
	const etag, lastModified = `"v1"`, "Tue, 24 Nov 2026 10:00:00 GMT"
	type seen struct{ ifNoneMatch, ifModifiedSince string }
	var mu sync.Mutex
	var requests []seen
	ts := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, seen{r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")})
		mu.Unlock()
		if r.Header.Get("If-None-Match") == etag && r.Header.Get("If-Modified-Since") == lastModified {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastModified)
		serveFile(t, "atom.xml", "application/atom+xml")(w, r)
	}))
	c := newCollector(collect.Options{})
	st := newMemStore()
	feedURL := ts.URL + "/atom"

	wantStatus(t, only(t, collectOK(t, c, st, topic("t", feedURL))), collect.StatusNew, "")
	if state := st.state(feedURL); state.ETag != etag || state.LastModified != lastModified {
		t.Fatalf("validators not stored: %+v", state)
	}
	res := only(t, collectOK(t, c, st, topic("t", feedURL)))
	wantStatus(t, res, collect.StatusUnchanged, "")
	if res.Items != 0 || res.New != 0 || res.Title != "Release notes from feed-rs" {
		t.Errorf("304 result %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []seen{{}, {etag, lastModified}}
	if !slices.Equal(requests, want) {
		t.Errorf("conditional headers sent %+v, want %+v", requests, want)
	}
}

func TestCollectGzip(t *testing.T) {
	feed := readFile(t, filepath.Join("testdata", "rss.xml"))
	// Padding inside the document compresses to almost nothing.
	padded := bytes.Replace(feed, []byte("<channel>"), []byte("<channel>"+strings.Repeat(" ", 64<<10)), 1)
	tests := map[string]struct {
		body    []byte
		maxBody int64
		status  collect.Status
		errPart string
	}{
		"gzip body decoded": {body: feed, status: collect.StatusNew},
		"cap applies to the decoded body": {
			body: padded, maxBody: 16 << 10, status: collect.StatusFailed, errPart: "feed body exceeds 16 KiB",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var compressed bytes.Buffer
			zw := gzip.NewWriter(&compressed)
			zw.Write(tc.body)
			zw.Close()
			if tc.maxBody > 0 && int64(compressed.Len()) >= tc.maxBody {
				t.Fatalf("compressed body %d bytes is not under the cap", compressed.Len())
			}
			ts := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
					t.Errorf("Accept-Encoding %q lacks gzip", r.Header.Get("Accept-Encoding"))
				}
				w.Header().Set("Content-Type", "application/rss+xml")
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(compressed.Bytes())
			}))
			c := newCollector(collect.Options{MaxBodyBytes: tc.maxBody})
			st := newMemStore()
			res := only(t, collectOK(t, c, st, topic("t", ts.URL)))
			wantStatus(t, res, tc.status, tc.errPart)
			if tc.status == collect.StatusNew && st.byURL(t, "http://www.oreilly.com/example/002.html").Title != "The Second Item" {
				t.Errorf("gzip feed not parsed")
			}
		})
	}
}

func TestCollectRedirects(t *testing.T) {
	const relativeFeed = `<rss version="2.0"><channel><title>Moved</title>` +
		`<item><title>Story</title><link>story.html</link></item></channel></rss>`
	mux := http.NewServeMux()
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			http.Redirect(w, r, "/feeds/final.xml", http.StatusMovedPermanently)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/feeds/final.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, relativeFeed)
	})
	ts := newServer(t, mux)
	tests := map[string]struct {
		hops    int // redirects before the feed
		status  collect.Status
		errPart string
	}{
		"one redirect":   {hops: 1, status: collect.StatusNew},
		"five redirects": {hops: 5, status: collect.StatusNew},
		"six redirects":  {hops: 6, status: collect.StatusFailed, errPart: "stopped after 5 redirects"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := newMemStore()
			feedURL := fmt.Sprintf("%s/hop/%d", ts.URL, tc.hops-1)
			res := only(t, collectOK(t, newCollector(collect.Options{}), st, topic("t", feedURL)))
			wantStatus(t, res, tc.status, tc.errPart)
			if tc.status == collect.StatusNew {
				// Relative links resolve against where the feed was found.
				st.byURL(t, ts.URL+"/feeds/story.html")
			}
		})
	}
}

func TestCollectBodyCap(t *testing.T) {
	// feedOf returns a valid feed of exactly n bytes.
	feedOf := func(n int) []byte {
		const head, tail = `<rss version="2.0"><channel><title>Big</title><item><title>x</title><link>https://example.com/x</link><description>`, `</description></item></channel></rss>`
		return []byte(head + strings.Repeat("a", n-len(head)-len(tail)) + tail)
	}
	tests := map[string]struct {
		size    int
		maxBody int64
		errPart string
	}{
		"at the cap":           {size: 1024, maxBody: 1024},
		"one byte over, KiB":   {size: 1025, maxBody: 1024, errPart: "feed body exceeds 1 KiB"},
		"one byte over, MiB":   {size: 1<<20 + 1, maxBody: 1 << 20, errPart: "feed body exceeds 1 MiB"},
		"one byte over, bytes": {size: 1001, maxBody: 1000, errPart: "feed body exceeds 1000 bytes"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			body := feedOf(tc.size)
			ts := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/rss+xml")
				w.Write(body)
			}))
			res := only(t, collectOK(t, newCollector(collect.Options{MaxBodyBytes: tc.maxBody}), newMemStore(), topic("t", ts.URL)))
			if tc.errPart == "" {
				wantStatus(t, res, collect.StatusNew, "")
				return
			}
			wantStatus(t, res, collect.StatusFailed, tc.errPart)
		})
	}
}

func TestCollectTimeout(t *testing.T) {
	tests := map[string]http.HandlerFunc{
		"no response": func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		},
		"body stalls": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, `<rss version="2.0"><channel><title>Slow</title>`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		},
	}
	for name, handler := range tests {
		t.Run(name, func(t *testing.T) {
			ts := newServer(t, handler)
			st := newMemStore()
			c := newCollector(collect.Options{Timeout: 50 * time.Millisecond})
			res := only(t, collectOK(t, c, st, topic("t", ts.URL)))
			wantStatus(t, res, collect.StatusFailed, "timed out after 50ms")
			if state := st.state(ts.URL); state.Failures != 1 || state.LastError != "timed out after 50ms" {
				t.Errorf("feed state %+v", state)
			}
		})
	}
}

func TestCollectBackoff(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	var requests atomic.Int32
	ts := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if failing.Load() {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		serveFile(t, "rss.xml", "application/rss+xml")(w, r)
	}))
	clk := &clock{now: testNow}
	const base = 5 * time.Minute
	c := newCollector(collect.Options{Now: clk.Now, BackoffBase: base, BackoffMax: time.Hour})
	st := newMemStore()
	feeds := topic("t", ts.URL)

	res := only(t, collectOK(t, c, st, feeds))
	wantStatus(t, res, collect.StatusFailed, "HTTP 500")
	state := st.state(ts.URL)
	if state.Failures != 1 || state.LastError != "HTTP 500 Internal Server Error" || !state.NextAttempt.Equal(testNow.Add(base)) {
		t.Fatalf("after the first failure: %+v", state)
	}

	clk.advance(base - time.Second)
	res = only(t, collectOK(t, c, st, feeds))
	wantStatus(t, res, collect.StatusSkipped, "HTTP 500")
	if requests.Load() != 1 {
		t.Errorf("a feed in back-off was fetched: %d requests", requests.Load())
	}

	clk.advance(time.Second)
	wantStatus(t, only(t, collectOK(t, c, st, feeds)), collect.StatusFailed, "HTTP 500")
	if state := st.state(ts.URL); state.Failures != 2 || !state.NextAttempt.Equal(clk.Now().Add(2*base)) {
		t.Fatalf("after the second failure: %+v", state)
	}

	for range 5 { // 20m, 40m, then capped at 1h
		clk.advance(time.Hour)
		collectOK(t, c, st, feeds)
	}
	if state := st.state(ts.URL); state.Failures != 7 || !state.NextAttempt.Equal(clk.Now().Add(time.Hour)) {
		t.Fatalf("back-off not capped at BackoffMax: %+v", state)
	}

	failing.Store(false)
	clk.advance(time.Hour)
	wantStatus(t, only(t, collectOK(t, c, st, feeds)), collect.StatusNew, "")
	if state := st.state(ts.URL); state.Failures != 0 || state.LastError != "" || !state.NextAttempt.IsZero() {
		t.Errorf("success did not reset the back-off: %+v", state)
	}
}

func TestCollectRetryAfter(t *testing.T) {
	ts := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1800")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	}))
	st := newMemStore()
	c := newCollector(collect.Options{BackoffBase: time.Minute})
	wantStatus(t, only(t, collectOK(t, c, st, topic("t", ts.URL))), collect.StatusFailed, "HTTP 429 Too Many Requests")
	if state := st.state(ts.URL); !state.NextAttempt.Equal(testNow.Add(30 * time.Minute)) {
		t.Errorf("next attempt %v, want the server's Retry-After of 30m", state.NextAttempt)
	}
}

func TestCollectContentTypes(t *testing.T) {
	rss := readFile(t, filepath.Join("testdata", "rss.xml"))
	cyrillic, _ := charmap.Windows1251.NewEncoder().String(`<rss version="2.0"><channel><title>Новости</title>` +
		`<item><title>Цитата дня</title><link>https://example.ru/1</link></item></channel></rss>`)
	tests := map[string]struct {
		contentType string
		body        []byte
		status      collect.Status
		errPart     string
		title       string
	}{
		"RSS as text/html":           {contentType: "text/html; charset=utf-8", body: rss, status: collect.StatusNew, title: "RSS0.92 Example"},
		"RSS as text/plain":          {contentType: "text/plain", body: rss, status: collect.StatusNew, title: "RSS0.92 Example"},
		"RSS as octet-stream":        {contentType: "application/octet-stream", body: rss, status: collect.StatusNew, title: "RSS0.92 Example"},
		"no content type":            {body: rss, status: collect.StatusNew, title: "RSS0.92 Example"},
		"charset only in the header": {contentType: "application/xml; charset=windows-1251", body: []byte(cyrillic), status: collect.StatusNew, title: "Новости"},
		"HTML page": {
			contentType: "text/html", body: []byte("<!doctype html><html><head><title>Blog</title></head><body>Hi</body></html>"),
			status: collect.StatusFailed, errPart: "not a feed: an HTML page",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ts := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				} else {
					w.Header()["Content-Type"] = nil // no sniffing either
				}
				w.Write(tc.body)
			}))
			res := only(t, collectOK(t, newCollector(collect.Options{}), newMemStore(), topic("t", ts.URL)))
			wantStatus(t, res, tc.status, tc.errPart)
			if res.Title != tc.title {
				t.Errorf("title %q, want %q", res.Title, tc.title)
			}
		})
	}
}

func TestCollectLocalFiles(t *testing.T) {
	abs, err := filepath.Abs(filepath.Join("testdata", "atom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	fileURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	tests := map[string]struct {
		feed    string
		status  collect.Status
		errPart string
	}{
		"relative path": {feed: filepath.Join("testdata", "atom.xml"), status: collect.StatusNew},
		"absolute path": {feed: abs, status: collect.StatusNew},
		"file URL":      {feed: fileURL, status: collect.StatusNew},
		"missing file":  {feed: filepath.Join("testdata", "missing.xml"), status: collect.StatusFailed, errPart: "no such file"},
		"remote file URL": {
			feed: "file://server.example/feeds/a.xml", status: collect.StatusFailed, errPart: "only local files can be read",
		},
		"unsupported scheme": {feed: "ftp://example.com/feed.xml", status: collect.StatusFailed, errPart: `unsupported URL scheme "ftp"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := newCollector(collect.Options{MaxBodyBytes: 64 << 10})
			st := newMemStore()
			res := only(t, collectOK(t, c, st, topic("t", tc.feed)))
			wantStatus(t, res, tc.status, tc.errPart)
			if tc.status != collect.StatusNew {
				return
			}
			if res.Items != 4 || res.New != 4 || st.byURL(t, "https://github.com/feed-rs/feed-rs/releases/tag/0.1.0").FeedURL != tc.feed {
				t.Errorf("first read: %+v", res)
			}
			wantStatus(t, only(t, collectOK(t, c, st, topic("t", tc.feed))), collect.StatusUnchanged, "")
		})
	}
}

func TestCollectLocalFileCap(t *testing.T) {
	res := only(t, collectOK(t, newCollector(collect.Options{MaxBodyBytes: 1024}), newMemStore(), topic("t", "testdata/atom.xml")))
	wantStatus(t, res, collect.StatusFailed, "feed body exceeds 1 KiB")
}

func TestCollectFeedInTwoTopics(t *testing.T) {
	var mu sync.Mutex
	requests := make(map[string]int)
	ts := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests[r.URL.Path]++
		mu.Unlock()
		name := map[string]string{"/shared": "rss.xml", "/own": "feed.json"}[r.URL.Path]
		serveFile(t, name, "application/xml")(w, r)
	}))
	shared, own := ts.URL+"/shared", ts.URL+"/own"
	topics := []briefing.Topic{topic("markets", shared, own), topic("media", shared, shared)}

	var progressed []string
	c := newCollector(collect.Options{})
	st := newMemStore()
	results, err := c.Collect(context.Background(), st, topics, func(r collect.Result) {
		progressed = append(progressed, r.Topic+" "+r.FeedURL)
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range results {
		got = append(got, r.Topic+" "+r.FeedURL)
		wantStatus(t, r, collect.StatusNew, "")
	}
	want := []string{"markets " + shared, "markets " + own, "media " + shared}
	if !slices.Equal(got, want) {
		t.Errorf("results in order %v, want %v", got, want)
	}
	slices.Sort(progressed)
	slices.Sort(want)
	if !slices.Equal(progressed, want) {
		t.Errorf("progress calls %v, want %v", progressed, want)
	}
	if requests["/shared"] != 1 || requests["/own"] != 1 {
		t.Errorf("requests %v, want each feed once", requests)
	}
	if a := st.byURL(t, "http://www.oreilly.com/example/001.html"); !slices.Equal(a.Topics, []string{"markets", "media"}) {
		t.Errorf("shared feed's article topics %v", a.Topics)
	}
	if a := st.byURL(t, "https://daringfireball.net/linked/2020/01/20/instagram-for-win95"); !slices.Equal(a.Topics, []string{"markets"}) {
		t.Errorf("own feed's article topics %v", a.Topics)
	}
}

// concurrencyProbe serves total feeds and records how many requests are in
// flight at once. Each request waits for a second one to be in flight
// (which a collector allowed two at a time always sends, as long as feeds
// remain), then holds a short window in which a collector without a limit
// would send the rest of its requests.
type concurrencyProbe struct {
	total    int
	mu       sync.Mutex
	arrivals int
	inFlight int
	maxSeen  int
	changed  chan struct{}
}

func (p *concurrencyProbe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.arrivals++
	p.inFlight++
	p.maxSeen = max(p.maxSeen, p.inFlight)
	if p.changed != nil {
		close(p.changed)
	}
	p.changed = make(chan struct{})
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()
	for {
		p.mu.Lock()
		ready, changed := p.inFlight >= 2 || p.arrivals == p.total, p.changed
		p.mu.Unlock()
		if ready {
			break
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		}
	}
	select {
	case <-time.After(50 * time.Millisecond):
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprintf(w, `<rss version="2.0"><channel><title>%s</title><item><title>i</title><link>https://example.com%s</link></item></channel></rss>`, r.URL.Path, r.URL.Path)
}

func TestCollectConcurrencyLimit(t *testing.T) {
	probe := &concurrencyProbe{total: 6}
	ts := newServer(t, probe)
	var feeds []string
	for i := range probe.total {
		feeds = append(feeds, fmt.Sprintf("%s/feed%d", ts.URL, i))
	}
	c := newCollector(collect.Options{Concurrency: 2, Timeout: 2 * time.Second})
	for _, res := range collectOK(t, c, newMemStore(), topic("t", feeds...)) {
		wantStatus(t, res, collect.StatusNew, "")
	}
	probe.mu.Lock()
	defer probe.mu.Unlock()
	if probe.maxSeen != 2 {
		t.Errorf("at most %d requests in flight, want exactly 2", probe.maxSeen)
	}
}

func TestCollectStoreFailure(t *testing.T) {
	ts := newServer(t, serveFile(t, "rss.xml", "application/rss+xml"))
	st := newMemStore()
	st.failArticles = errors.New("disk full")
	_, err := newCollector(collect.Options{}).Collect(context.Background(), st, []briefing.Topic{topic("t", ts.URL)}, nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), ts.URL) {
		t.Fatalf("err = %v, want the store's error naming the feed", err)
	}
}

func TestCollectCanceled(t *testing.T) {
	arrived := make(chan struct{})
	ts := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	st := newMemStore()
	results, err := newCollector(collect.Options{}).Collect(ctx, st, []briefing.Topic{topic("t", ts.URL)}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	wantStatus(t, only(t, results), collect.StatusFailed, "context canceled")
	if state := st.state(ts.URL); state.Failures != 0 || !state.NextAttempt.IsZero() {
		t.Errorf("an interrupted fetch put the feed in back-off: %+v", state)
	}
}
