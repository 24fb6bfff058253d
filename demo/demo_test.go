package demo_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"go.yaml.in/yaml/v3"

	"github.com/briefing-bot/briefing/demo"
)

var now = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// demoConfig is the part of the contract's config the demo may use;
// decoding with known fields only proves it sets nothing else (no llm,
// slack or schedules).
type demoConfig struct {
	Store struct {
		Path string `yaml:"path"`
	} `yaml:"store"`
	Topics []struct {
		ID         string   `yaml:"id"`
		Name       string   `yaml:"name"`
		Feeds      []string `yaml:"feeds"`
		Keywords   []string `yaml:"keywords"`
		Window     string   `yaml:"window"`
		MaxStories int      `yaml:"max_stories"`
	} `yaml:"topics"`
}

func TestWriteConfig(t *testing.T) {
	tests := map[string]struct {
		// dir returns the dir to pass to Write and the absolute dir the
		// files must land in.
		dir func(t *testing.T) (arg, abs string)
	}{
		"existing dir": {dir: func(t *testing.T) (string, string) {
			d := t.TempDir()
			return d, d
		}},
		"missing nested dir": {dir: func(t *testing.T) (string, string) {
			d := filepath.Join(t.TempDir(), "a", "b")
			return d, d
		}},
		"relative dir": {dir: func(t *testing.T) (string, string) {
			d := t.TempDir()
			t.Chdir(d)
			return "demo", filepath.Join(d, "demo")
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg, abs := tc.dir(t)
			cfg := writeDemo(t, arg)
			if want := filepath.Join(abs, "briefing.db"); cfg.Store.Path != want {
				t.Errorf("store.path = %q, want %q", cfg.Store.Path, want)
			}
			var ids []string
			for _, topic := range cfg.Topics {
				ids = append(ids, topic.ID)
				if topic.Name == "" || topic.Window != "24h" || topic.MaxStories != 5 || topic.Keywords == nil {
					t.Errorf("topic %s: name %q, window %q, max_stories %d, keywords %v; want a name, 24h, 5, []",
						topic.ID, topic.Name, topic.Window, topic.MaxStories, topic.Keywords)
				}
				for _, feed := range topic.Feeds {
					if !filepath.IsAbs(feed) || filepath.Dir(feed) != abs {
						t.Errorf("topic %s: feed %s is not an absolute path in %s", topic.ID, feed, abs)
					}
				}
			}
			if len(ids) < 3 || ids[0] != "cloud" {
				t.Errorf("topics = %v, want at least three with cloud first", ids)
			}
		})
	}
}

func TestWriteCorpus(t *testing.T) {
	cfg := writeDemo(t, t.TempDir())
	events := corpusEvents(t)

	var articles int
	domains := map[string]bool{}
	var sawHTML, sawHostile bool
	for _, topic := range cfg.Topics {
		outletsByEvent := map[string]map[string]bool{}
		for _, path := range topic.Feeds {
			for _, it := range parseFeed(t, path) {
				articles++
				u, err := url.Parse(it.Link)
				if err != nil || u.Scheme != "https" || !strings.HasSuffix(u.Host, ".example") {
					t.Errorf("%s: item %q: link %q is not an https link under .example", path, it.Title, it.Link)
					continue
				}
				domains[u.Host] = true
				if it.GUID == "" {
					t.Errorf("%s: item %q has no guid", path, it.Title)
				}
				if it.PublishedParsed == nil || !it.PublishedParsed.Before(now) || !it.PublishedParsed.After(now.Add(-24*time.Hour)) {
					t.Errorf("%s: item %q published %v, want within the 24h before %v", path, it.Title, it.PublishedParsed, now)
				}
				event, ok := events[it.Title]
				if !ok {
					t.Errorf("%s: item %q is not in corpus.json", path, it.Title)
				}
				if outletsByEvent[event] == nil {
					outletsByEvent[event] = map[string]bool{}
				}
				outletsByEvent[event][u.Host] = true
				body := it.Content + it.Description
				sawHTML = sawHTML || strings.Contains(body, "<a href=")
				// The string must survive as text once the HTML is read, not as markup.
				sawHostile = sawHostile || strings.Contains(html.UnescapeString(body), "<!channel>")
			}
		}
		var widelyCovered, lead int
		for _, outlets := range outletsByEvent {
			if len(outlets) >= 3 {
				widelyCovered++
			}
			lead = max(lead, len(outlets))
		}
		if widelyCovered < 2 {
			t.Errorf("topic %s: %d events told by three or more outlets, want at least 2", topic.ID, widelyCovered)
		}
		if topic.ID == "cloud" && lead < 5 {
			t.Errorf("topic cloud: lead event told by %d outlets, want at least 5", lead)
		}
	}
	if articles < 48 || articles != len(events) {
		t.Errorf("feeds carry %d articles, corpus has %d; want all of them and at least 48", articles, len(events))
	}
	if len(domains) < 8 {
		t.Errorf("%d outlet domains, want at least 8", len(domains))
	}
	if !sawHTML || !sawHostile {
		t.Errorf("HTML links in bodies: %v, a <!channel> string: %v; want both, so escaping downstream is exercised", sawHTML, sawHostile)
	}
}

func TestWriteIntoFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Write(file, now); err == nil {
		t.Fatal("Write into a regular file succeeded, want an error")
	}
}

func writeDemo(tb testing.TB, dir string) demoConfig {
	tb.Helper()
	raw, err := demo.Write(dir, now)
	if err != nil {
		tb.Fatalf("Write: %v", err)
	}
	var cfg demoConfig
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		tb.Fatalf("config YAML: %v\n%s", err, raw)
	}
	return cfg
}

// parseFeed checks that the file is well-formed XML or JSON and returns
// its items as the collector's parser reads them.
func parseFeed(tb testing.TB, path string) []*gofeed.Item {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("feed file: %v", err)
	}
	if strings.HasSuffix(path, ".json") {
		if !json.Valid(data) {
			tb.Fatalf("%s: not valid JSON", path)
		}
	} else {
		dec := xml.NewDecoder(bytes.NewReader(data))
		for {
			_, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatalf("%s: not well-formed XML: %v", path, err)
			}
		}
	}
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if len(feed.Items) == 0 {
		tb.Fatalf("%s: no items", path)
	}
	return feed.Items
}

// corpusEvents maps each corpus title to its event label, which only the
// corpus file holds.
func corpusEvents(tb testing.TB) map[string]string {
	tb.Helper()
	data, err := os.ReadFile("corpus.json")
	if err != nil {
		tb.Fatal(err)
	}
	var c struct {
		Articles []struct {
			Title string `json:"title"`
			Event string `json:"event"`
		} `json:"articles"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		tb.Fatalf("corpus.json: %v", err)
	}
	events := map[string]string{}
	for _, a := range c.Articles {
		if a.Event == "" {
			tb.Errorf("corpus article %q has no event label", a.Title)
		}
		events[a.Title] = a.Event
	}
	return events
}
