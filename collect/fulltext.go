package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/url"
	"unicode/utf8"

	readability "codeberg.org/readeck/go-readability/v2"
	"github.com/briefing-bot/briefing"
	"golang.org/x/net/html/charset"
	"golang.org/x/sync/errgroup"
)

// fullTextThreshold is the feed text length, in characters, below which
// the text is taken for a teaser worth replacing with the page's own.
const fullTextThreshold = 500

// pagesPerFeed bounds the page fetches of one feed in flight, within the
// run's bound: a feed's pages mostly live on one host, which should not
// see the whole run's concurrency at once.
const pagesPerFeed = 2

// fillFullText replaces the teaser text of new articles with the main text
// of their pages. Only articles whose feed text is shorter than
// fullTextThreshold are fetched, and only those the store does not hold
// yet: a stored article keeps its stored text anyway, so fetching its page again would only cost the
// publisher. pages bounds the page fetches of a whole Collect. A page that
// fails is logged and the article keeps its feed text.
func (c *Collector) fillFullText(ctx context.Context, st briefing.FeedStore, articles []briefing.Article, pages chan struct{}) {
	var g errgroup.Group
	g.SetLimit(pagesPerFeed)
	for i := range articles {
		art := &articles[i]
		if art.URL == "" || utf8.RuneCountInString(art.Text) >= fullTextThreshold {
			continue
		}
		if _, err := st.Article(art.ID); err == nil {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			select {
			case pages <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			defer func() { <-pages }()
			text, err := c.pageText(ctx, art.URL)
			if err != nil {
				c.log.Warn("full text not fetched", slog.String("article_url", art.URL),
					slog.String("feed_url", art.FeedURL), slog.Any("error", err))
				return nil
			}
			if utf8.RuneCountInString(text) > utf8.RuneCountInString(art.Text) {
				art.Text = text
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines report failures in the log, never here
}

// pageText fetches an article's page and extracts its main text.
func (c *Collector) pageText(ctx context.Context, pageURL string) (string, error) {
	doc, err := c.get(ctx, c.pageClient, pageURL, "page", pageAccept, validators{})
	if err != nil {
		return "", err
	}
	if mediaType, _, _ := mime.ParseMediaType(doc.contentType); mediaType != "" && mediaType != "text/html" && mediaType != "application/xhtml+xml" {
		return "", fmt.Errorf("not an HTML page: %s", mediaType)
	}
	body, err := charset.NewReader(bytes.NewReader(doc.body), doc.contentType)
	if err != nil {
		return "", fmt.Errorf("decode page: %w", err)
	}
	base, err := url.Parse(doc.finalURL)
	if err != nil {
		return "", err
	}
	article, err := readability.FromReader(body, base)
	if err != nil {
		return "", fmt.Errorf("extract text: %w", err)
	}
	if article.Node == nil {
		return "", errors.New("no readable text on the page")
	}
	var rendered bytes.Buffer
	if err := article.RenderHTML(&rendered); err != nil {
		return "", fmt.Errorf("render text: %w", err)
	}
	return clipText(PlainText(rendered.String()), maxTextBytes), nil
}
