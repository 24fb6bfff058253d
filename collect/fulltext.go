package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/url"
	"sync"
	"unicode/utf8"

	readability "codeberg.org/readeck/go-readability/v2"
	"github.com/briefing-bot/briefing"
	"golang.org/x/net/html/charset"
)

// fullTextThreshold is the feed text length, in characters, below which
// the text is taken for a teaser worth replacing with the page's own.
const fullTextThreshold = 500

// fillFullText replaces the teaser text of articles with the main text of
// their pages. The FeedStore cannot tell which articles it already holds,
// so rather than fetch every item's page whenever the feed changes, only
// articles whose feed text is shorter than fullTextThreshold are fetched,
// before PutArticles; an article stored earlier may thus be fetched again
// when its feed changes. pages bounds the page fetches of a whole Collect.
// A page that fails is logged and the article keeps its feed text.
func (c *Collector) fillFullText(ctx context.Context, articles []briefing.Article, pages chan struct{}) {
	var wg sync.WaitGroup
	for i := range articles {
		art := &articles[i]
		if art.URL == "" || utf8.RuneCountInString(art.Text) >= fullTextThreshold {
			continue
		}
		wg.Go(func() {
			select {
			case pages <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-pages }()
			text, err := c.pageText(ctx, art.URL)
			if err != nil {
				c.log.Warn("full text not fetched", slog.String("article_url", art.URL),
					slog.String("feed_url", art.FeedURL), slog.Any("error", err))
				return
			}
			if utf8.RuneCountInString(text) > utf8.RuneCountInString(art.Text) {
				art.Text = text
			}
		})
	}
	wg.Wait()
}

// pageText fetches an article's page and extracts its main text.
func (c *Collector) pageText(ctx context.Context, pageURL string) (string, error) {
	doc, err := c.get(ctx, pageURL, "page", pageAccept, validators{})
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
	return PlainText(rendered.String()), nil
}
