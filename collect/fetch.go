package collect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// maxRedirects is how many redirects a fetch follows before giving up.
const maxRedirects = 5

// errTooManyRedirects stops a redirect chain (or loop) that runs too long.
var errTooManyRedirects = fmt.Errorf("stopped after %d redirects", maxRedirects)

// feedAccept prefers the feed types and still takes a feed served as
// anything else, which happens often enough.
const feedAccept = "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"

const pageAccept = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"

// validators are a feed's HTTP cache validators, sent back for a
// conditional GET.
type validators struct {
	etag         string
	lastModified string
}

// document is a fetched body and what the server said about it.
type document struct {
	body        []byte
	contentType string
	// finalURL is where the body came from after redirects; relative
	// links resolve against it.
	finalURL    string
	notModified bool
	validators  validators
}

// httpError is a response with a status other than 2xx or 304.
type httpError struct {
	status     int
	retryAfter time.Duration
}

func (e *httpError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.status, http.StatusText(e.status))
}

// tooLargeError is a body over the configured cap.
type tooLargeError struct {
	what  string
	limit int64
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%s body exceeds %s", e.what, byteSize(e.limit))
}

// byteSize writes a cap the way it was most likely configured.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// newTransport holds the connection settings feed and page fetches share.
// The proxy is read from the environment when the Collector is made, as
// http.ProxyFromEnvironment would read it.
func newTransport(o Options) *http.Transport {
	proxy := httpproxy.FromEnvironment().ProxyFunc()
	return &http.Transport{
		Proxy:                 func(req *http.Request) (*url.URL, error) { return proxy(req.URL) },
		DialContext:           newDialer(o).DialContext,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

func newDialer(o Options) *net.Dialer {
	return &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
}

// newHTTPClient wraps transport in a client that caps redirects. The total
// timeout is a per-request context, so that it also holds for a client
// passed in.
func newHTTPClient(transport http.RoundTripper) *http.Client {
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return errTooManyRedirects
			}
			return nil
		},
	}
}

// fetchFeed reads a feed from the web with a conditional GET, or from
// disk when feedURL is a file:// URL or a path.
func (c *Collector) fetchFeed(ctx context.Context, feedURL string, cond validators) (document, error) {
	path, local, err := localPath(feedURL)
	if err != nil {
		return document{}, err
	}
	if local {
		return c.readFile(path)
	}
	return c.get(ctx, c.client, feedURL, "feed", feedAccept, cond)
}

// localPath tells a feed on disk from one on the web. Anything without a
// scheme is a path, absolute or relative.
func localPath(feedURL string) (path string, local bool, err error) {
	u, err := url.Parse(feedURL)
	if err != nil || u.Scheme == "" {
		return feedURL, true, nil
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return "", false, nil
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return "", false, fmt.Errorf("file URL %q names host %q; only local files can be read", feedURL, u.Host)
		}
		if u.Opaque != "" {
			return u.Opaque, true, nil
		}
		return u.Path, true, nil
	}
	return "", false, fmt.Errorf("unsupported URL scheme %q (use http, https, file or a path)", u.Scheme)
}

func (c *Collector) readFile(path string) (document, error) {
	f, err := os.Open(path)
	if err != nil {
		return document{}, err
	}
	defer f.Close()
	body, err := c.readCapped(f, "feed")
	if err != nil {
		return document{}, err
	}
	return document{body: body, finalURL: path}, nil
}

// get fetches rawURL with client within the total timeout. what names the
// body in errors ("feed", "page").
func (c *Collector) get(parent context.Context, client *http.Client, rawURL, what, accept string, cond validators) (document, error) {
	ctx, cancel := context.WithTimeout(parent, c.opts.Timeout)
	defer cancel()
	doc, err := c.doGet(ctx, client, rawURL, what, accept, cond)
	if err != nil && parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return document{}, fmt.Errorf("timed out after %s", c.opts.Timeout)
	}
	return doc, err
}

func (c *Collector) doGet(ctx context.Context, client *http.Client, rawURL, what, accept string, cond validators) (document, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return document{}, err
	}
	// Accept-Encoding is left to the transport: set by hand, it would
	// turn off the transport's transparent gzip decoding.
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Accept", accept)
	if cond.etag != "" {
		req.Header.Set("If-None-Match", cond.etag)
	}
	if cond.lastModified != "" {
		req.Header.Set("If-Modified-Since", cond.lastModified)
	}
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			// url.Error repeats the URL the result already names.
			return document{}, uerr.Err
		}
		return document{}, err
	}
	defer resp.Body.Close()
	doc := document{
		contentType: resp.Header.Get("Content-Type"),
		finalURL:    resp.Request.URL.String(),
		validators: validators{
			etag:         resp.Header.Get("ETag"),
			lastModified: resp.Header.Get("Last-Modified"),
		},
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		doc.notModified = true
		return doc, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return document{}, &httpError{status: resp.StatusCode, retryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now())}
	}
	doc.body, err = c.readCapped(resp.Body, what)
	if err != nil {
		return document{}, err
	}
	return doc, nil
}

// readCapped reads at most MaxBodyBytes. The cap applies to the decoded
// body: the transport has already undone any gzip.
func (c *Collector) readCapped(r io.Reader, what string) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, c.opts.MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s body: %w", what, err)
	}
	if int64(len(body)) > c.opts.MaxBodyBytes {
		return nil, &tooLargeError{what: what, limit: c.opts.MaxBodyBytes}
	}
	return body, nil
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(header string, now time.Time) time.Duration {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0
	}
	if secs, err := strconv.Atoi(header); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(header); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
