// Package demo is the offline demo: an embedded corpus of news articles,
// written out as feed files so that the real collector and summarizer can
// build a briefing with no network and no keys.
//
// The corpus is invented demo data. Its outlets, companies, products,
// people, figures and incidents are fictional, and the outlets use the
// reserved .example domain so that no real publisher is quoted.
package demo

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed corpus.json
var corpusJSON []byte

// window is the topics' window; every article's age must fall inside it,
// or the demo briefing would lose it. windowYAML spells it as the config
// does.
const (
	window     = 24 * time.Hour
	windowYAML = "24h"
)

type corpus struct {
	// Notice states that the corpus is invented; it is for its readers.
	Notice   string          `json:"notice"`
	Topics   []corpusTopic   `json:"topics"`
	Outlets  []corpusOutlet  `json:"outlets"`
	Articles []corpusArticle `json:"articles"`
}

type corpusTopic struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type corpusOutlet struct {
	Domain string `json:"domain"`
	Name   string `json:"name"`
	// Format is the outlet's feed format: "rss", "atom" or "json".
	Format string `json:"format"`
	Topic  string `json:"topic"`
}

type corpusArticle struct {
	Outlet string `json:"outlet"`
	// Event groups the articles that tell one event, for the tests that
	// check the corpus gives clustering work to do. Feeds never carry it.
	Event string `json:"event"`
	Age   string `json:"age"`
	age   time.Duration
	Slug  string `json:"slug"`
	Title string `json:"title"`
	// Body is plain text with paragraphs separated by "\n\n", or HTML when
	// HTML is set.
	Body string `json:"body"`
	HTML bool   `json:"html"`
}

// item is an article as every feed format needs it.
type item struct {
	guid, link, title string
	// html is the body as HTML; text is the plain body, empty when the
	// corpus gave HTML.
	html, text string
	published  time.Time
}

// Write renders the embedded demo corpus as feed files (RSS 2.0, Atom and
// JSON Feed, mixed: each outlet one feed file in one of these formats) into
// dir, with publish times relative to now (each article has an age, e.g.
// 2h), and returns the demo config as YAML whose feeds are the absolute
// paths of those files and whose store.path is filepath.Join(dir,
// "briefing.db").
func Write(dir string, now time.Time) (configYAML []byte, err error) {
	c, err := loadCorpus()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("demo dir %s: %w", dir, err)
	}
	dir = abs
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo dir: %w", err)
	}
	items := outletItems(c, now)
	feeds := map[string][]string{}
	for _, o := range c.Outlets {
		data, err := renderFeed(o, items[o.Domain], now)
		if err != nil {
			return nil, fmt.Errorf("demo feed %s: %w", o.Domain, err)
		}
		path := filepath.Join(dir, o.Domain+feedSuffix[o.Format])
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, fmt.Errorf("demo feed: %w", err)
		}
		feeds[o.Topic] = append(feeds[o.Topic], path)
	}
	return demoConfig(c.Topics, feeds, filepath.Join(dir, "briefing.db"))
}

var feedSuffix = map[string]string{"rss": ".rss.xml", "atom": ".atom.xml", "json": ".feed.json"}

// loadCorpus decodes and checks the embedded corpus, so that an edit that
// breaks it fails here with the article at fault named.
func loadCorpus() (corpus, error) {
	var c corpus
	dec := json.NewDecoder(bytes.NewReader(corpusJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return corpus{}, fmt.Errorf("demo corpus: %w", err)
	}
	topics := map[string]bool{}
	for _, t := range c.Topics {
		topics[t.ID] = true
	}
	outlets := map[string]bool{}
	for _, o := range c.Outlets {
		if !topics[o.Topic] {
			return corpus{}, fmt.Errorf("demo corpus: outlet %s: unknown topic %q", o.Domain, o.Topic)
		}
		if feedSuffix[o.Format] == "" {
			return corpus{}, fmt.Errorf("demo corpus: outlet %s: unknown format %q", o.Domain, o.Format)
		}
		outlets[o.Domain] = true
	}
	seen := map[string]bool{}
	for i := range c.Articles {
		a := &c.Articles[i]
		link := articleLink(*a)
		age, err := time.ParseDuration(a.Age)
		switch {
		case !outlets[a.Outlet]:
			return corpus{}, fmt.Errorf("demo corpus: article %s: unknown outlet", link)
		case err != nil:
			return corpus{}, fmt.Errorf("demo corpus: article %s: age: %w", link, err)
		case age <= 0 || age >= window:
			return corpus{}, fmt.Errorf("demo corpus: article %s: age %s is outside the %s window", link, age, window)
		case seen[link]:
			return corpus{}, fmt.Errorf("demo corpus: article %s: duplicate slug", link)
		case a.Title == "" || a.Body == "":
			return corpus{}, fmt.Errorf("demo corpus: article %s: title and body are required", link)
		}
		seen[link] = true
		a.age = age
	}
	return c, nil
}

func articleLink(a corpusArticle) string {
	return "https://" + a.Outlet + "/news/" + a.Slug
}

// outletItems groups the corpus articles by outlet, newest first as feeds
// list them.
func outletItems(c corpus, now time.Time) map[string][]item {
	byOutlet := map[string][]item{}
	for _, a := range c.Articles {
		it := item{
			guid:      "tag:" + a.Outlet + ",2026:" + a.Slug,
			link:      articleLink(a),
			title:     a.Title,
			html:      a.Body,
			published: now.Add(-a.age).UTC().Truncate(time.Second),
		}
		if !a.HTML {
			it.text = a.Body
			it.html = paragraphsHTML(a.Body)
		}
		byOutlet[a.Outlet] = append(byOutlet[a.Outlet], it)
	}
	for _, items := range byOutlet {
		slices.SortStableFunc(items, func(a, b item) int { return b.published.Compare(a.published) })
	}
	return byOutlet
}

func paragraphsHTML(text string) string {
	var b strings.Builder
	for _, p := range strings.Split(text, "\n\n") {
		b.WriteString("<p>" + html.EscapeString(p) + "</p>\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func renderFeed(o corpusOutlet, items []item, now time.Time) ([]byte, error) {
	home := "https://" + o.Domain + "/"
	switch o.Format {
	case "rss":
		return rssFeed(o, home, items, now)
	case "atom":
		return atomFeed(o, home, items, now)
	default:
		return jsonFeed(o, home, items)
	}
}

type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	LastBuildDate string    `xml:"lastBuildDate"`
	Items         []rssItem `xml:"item"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
	Description string  `xml:"description"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

func rssFeed(o corpusOutlet, home string, items []item, now time.Time) ([]byte, error) {
	doc := rssDoc{Version: "2.0", Channel: rssChannel{
		Title:         o.Name,
		Link:          home,
		Description:   o.Name + " (invented demo outlet)",
		LastBuildDate: now.UTC().Format(time.RFC1123Z),
	}}
	for _, it := range items {
		doc.Channel.Items = append(doc.Channel.Items, rssItem{
			Title:       it.title,
			Link:        it.link,
			GUID:        rssGUID{IsPermaLink: "false", Value: it.guid},
			PubDate:     it.published.Format(time.RFC1123Z),
			Description: it.html,
		})
	}
	return marshalXML(doc)
}

type atomDoc struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Link    atomLink    `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title     string      `xml:"title"`
	ID        string      `xml:"id"`
	Link      atomLink    `xml:"link"`
	Published string      `xml:"published"`
	Updated   string      `xml:"updated"`
	Content   atomContent `xml:"content"`
}

type atomContent struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

func atomFeed(o corpusOutlet, home string, items []item, now time.Time) ([]byte, error) {
	doc := atomDoc{
		Title:   o.Name,
		ID:      home,
		Updated: now.UTC().Format(time.RFC3339),
		Link:    atomLink{Rel: "alternate", Href: home},
		Author:  atomAuthor{Name: o.Name},
	}
	for _, it := range items {
		stamp := it.published.Format(time.RFC3339)
		doc.Entries = append(doc.Entries, atomEntry{
			Title:     it.title,
			ID:        it.guid,
			Link:      atomLink{Rel: "alternate", Href: it.link},
			Published: stamp,
			Updated:   stamp,
			Content:   atomContent{Type: "html", Body: it.html},
		})
	}
	return marshalXML(doc)
}

func marshalXML(doc any) ([]byte, error) {
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

type jsonDoc struct {
	Version     string     `json:"version"`
	Title       string     `json:"title"`
	HomePageURL string     `json:"home_page_url"`
	Items       []jsonItem `json:"items"`
}

type jsonItem struct {
	ID            string `json:"id"`
	URL           string `json:"url"`
	Title         string `json:"title"`
	ContentHTML   string `json:"content_html,omitempty"`
	ContentText   string `json:"content_text,omitempty"`
	DatePublished string `json:"date_published"`
}

// jsonFeed gives plain articles as content_text and HTML ones as
// content_html, so that the demo exercises both.
func jsonFeed(o corpusOutlet, home string, items []item) ([]byte, error) {
	doc := jsonDoc{Version: "https://jsonfeed.org/version/1.1", Title: o.Name, HomePageURL: home, Items: []jsonItem{}}
	for _, it := range items {
		ji := jsonItem{ID: it.guid, URL: it.link, Title: it.title, DatePublished: it.published.Format(time.RFC3339)}
		if it.text != "" {
			ji.ContentText = it.text
		} else {
			ji.ContentHTML = it.html
		}
		doc.Items = append(doc.Items, ji)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

type demoConfigFile struct {
	Store  demoStore   `yaml:"store"`
	Topics []demoTopic `yaml:"topics"`
}

type demoStore struct {
	Path string `yaml:"path"`
}

type demoTopic struct {
	ID         string   `yaml:"id"`
	Name       string   `yaml:"name"`
	Feeds      []string `yaml:"feeds"`
	Keywords   []string `yaml:"keywords"`
	Window     string   `yaml:"window"`
	MaxStories int      `yaml:"max_stories"`
}

const configHeader = "# Demo configuration for the embedded demo corpus (invented demo data).\n"

func demoConfig(topics []corpusTopic, feeds map[string][]string, storePath string) ([]byte, error) {
	cfg := demoConfigFile{Store: demoStore{Path: storePath}}
	for _, t := range topics {
		cfg.Topics = append(cfg.Topics, demoTopic{
			ID:         t.ID,
			Name:       t.Name,
			Feeds:      feeds[t.ID],
			Keywords:   []string{},
			Window:     windowYAML,
			MaxStories: 5,
		})
	}
	var out bytes.Buffer
	out.WriteString(configHeader)
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	return out.Bytes(), nil
}
