package summarize_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/collect"
	"github.com/briefing-bot/briefing/summarize"
)

// quality is what a reader would check in briefings: that each cited
// article states its sentence, that each sentence reads as one, that no
// fact is told twice, and that the bullets cover the top stories.
type quality struct {
	briefings int
	// pairs counts (sentence, cited article) pairs, supported those whose
	// article states the sentence.
	pairs, supported int
	// sentences counts the sentences of passages and bullets, clean those
	// that are readable in the topic's language.
	sentences, clean int
	// repeated counts the pairs of sentences of one briefing that state
	// the same fact.
	repeated int
	// bullets counts the bullets of briefings with three or more stories,
	// distinct those from a story no earlier bullet came from.
	bullets, distinct int
	problems          []string
}

func (q *quality) add(b *briefing.Briefing, language string) {
	q.briefings++
	var said []string
	for _, p := range b.Paragraphs {
		for _, s := range summarize.Sentences(strings.TrimPrefix(p.Text, "Update: ")) {
			for _, u := range p.Sources {
				a, _ := b.ArticleByURL(u)
				q.pairs++
				if summarize.Supports(a, s) {
					q.supported++
				} else {
					q.problems = append(q.problems, fmt.Sprintf("%s: %q is not stated by %s", b.Topic, s, u))
				}
			}
			said = append(said, s)
		}
	}
	var bullets []string
	for _, bullet := range b.Bullets {
		if !strings.HasSuffix(bullet, "…") { // a clipped bullet is not a sentence
			bullets = append(bullets, bullet)
		}
	}
	// A bullet restates a passage by design; passages must not repeat one
	// another, nor bullets one another.
	for _, group := range [][]string{said, bullets} {
		for i, s := range group {
			q.sentences++
			if quotable(b, s, language) {
				q.clean++
			} else {
				q.problems = append(q.problems, fmt.Sprintf("%s: %q does not read as a sentence", b.Topic, s))
			}
			for _, earlier := range group[:i] {
				if summarize.SameFact(s, earlier) {
					q.repeated++
					q.problems = append(q.problems, fmt.Sprintf("%s: %q repeats %q", b.Topic, s, earlier))
				}
			}
		}
	}
	told := map[int]bool{}
	for _, p := range b.Paragraphs {
		told[p.Story] = true
	}
	if len(told) < 3 {
		return
	}
	from := map[int]bool{}
	for _, bullet := range b.Bullets {
		q.bullets++
		story := bulletStory(b, bullet)
		if story >= 0 && !from[story] {
			q.distinct++
		} else {
			q.problems = append(q.problems, fmt.Sprintf("%s: bullet %q is of story %d, told before", b.Topic, bullet, story))
		}
		from[story] = true
	}
}

// quotable reports whether sentence s of briefing b reads as a sentence
// in the language: an article of the briefing in that language says it.
func quotable(b *briefing.Briefing, s, language string) bool {
	for _, story := range b.Stories {
		for _, a := range story.Articles {
			if strings.Contains(a.Title+" "+strings.Join(strings.Fields(a.Text), " "), strings.TrimSuffix(s, ".")) &&
				slices.Contains(summarize.QuotableSentences(a, language), s) {
				return true
			}
		}
	}
	return false
}

// bulletStory is the index of the story whose articles a bullet quotes.
func bulletStory(b *briefing.Briefing, bullet string) int {
	quote := strings.TrimSuffix(strings.TrimSuffix(bullet, "…"), ".")
	for i, s := range b.Stories {
		for _, a := range s.Articles {
			if strings.Contains(strings.Join(strings.Fields(a.Title+" "+a.Text), " "), quote) {
				return i
			}
		}
	}
	return -1
}

func share(n, of int) float64 {
	if of == 0 {
		return 1
	}
	return float64(n) / float64(of)
}

func (q *quality) String() string {
	return fmt.Sprintf("%d briefings: supported %d/%d (%.1f%%), clean %d/%d (%.1f%%), repeated-fact pairs %d, bullets from distinct stories %d/%d",
		q.briefings, q.supported, q.pairs, 100*share(q.supported, q.pairs), q.clean, q.sentences, 100*share(q.clean, q.sentences),
		q.repeated, q.distinct, q.bullets)
}

// TestOfflineQualityDemo holds the demo's briefings to a reader's checks:
// every citation supported, every sentence clean, no fact twice, bullets
// from three stories.
func TestOfflineQualityDemo(t *testing.T) {
	var q quality
	for n := range 3 {
		stories := demoTopicStories(t, n)
		b := summarizeOffline(t, stories[:min(len(stories), 5)])
		q.add(b, "en")
	}
	t.Log(q.String())
	for _, p := range q.problems {
		t.Error(p)
	}
	if q.bullets != 9 || q.distinct != q.bullets {
		t.Errorf("bullets from distinct stories %d of %d, want 9 of 9", q.distinct, q.bullets)
	}
}

// realworldDir holds real feeds from public parser test suites, beside the
// checkout.
const realworldDir = "../../shared/corpus/feeds/realworld"

// realworldTopics group 49 real feeds, English and not, into three topics.
var realworldTopics = map[string][]string{
	"apple": {"rsparser/DaringFireball.rss", "rsparser/macworld.rss", "rsparser/pxlnv.json", "rsparser/inessential.json",
		"rsparser/manton.rss", "rsparser/OneFootTsunami.atom", "rsparser/KatieFloyd.rss", "rsparser/allthis.atom",
		"rsparser/curt.json", "rsparser/monkeydom.rss", "rsparser/natasha.xml", "rsparser/rubenerd.rss",
		"rsparser/scriptingNews.rss", "rsparser/4fsodonline.atom", "rsparser/489.rss", "rsparser/donthitsave.xml",
		"rss-parser/heise.atom", "miniflux/rdf_UTF8.xml"},
	"world": {"rss-parser/guardian.rss", "rsparser/livemint.xml", "feed-rs/rss_2.0_nbcny.xml", "feed-rs/rss_2.0_example_2.xml",
		"feed-rs/rss_2.0_example_3.xml", "rss-parser/encoding.rss", "rss-parser/uolNoticias.rss",
		"miniflux/encoding_ISO-8859-1.xml", "rss-parser/reddit.rss", "rss-parser/reddit-atom.rss", "feed-rs/atom_example_2.xml",
		"feed-rs/rss_2.0_spiegel.xml", "feed-rs/rss_2.0_ilmessaggero.xml", "miniflux/no_encoding_ISO-8859-1.xml",
		"feed-rs/rss_2.0_wirecutter.xml"},
	"infra": {"rsparser/cloudblog.rss", "feed-rs/rss_2.0_cloudflare.xml", "feed-rs/rss_1.0_debian.xml",
		"feed-rs/rss_2.0_element_io.xml", "feed-rs/rss_2.0_matrix.xml", "feed-rs/rss_2.0_ghost_2.xml",
		"feed-rs/jsonfeed_elastic_1.1.json", "feed-rs/atom_example_3.xml", "feed-rs/rss_2.0_dbengines.xml",
		"miniflux/large_rss.xml", "miniflux/small_atom.xml", "feed-rs/atom_mediarss_reddit_1.xml",
		"feed-rs/atom_example_7.xml", "feed-rs/rss_1.0_example_2.xml", "rss-parser/feedburner.atom",
		"feed-rs/atom_example_reddit.xml"},
}

// realworldBriefings builds offline briefings of the realworld topics as
// days would bring them: each topic's articles, newest first, in runs of
// forty, clustered, ranked and cut to five stories. The feeds are years
// old, so the window spans decades.
func realworldBriefings(tb testing.TB) []*briefing.Briefing {
	tb.Helper()
	if _, err := os.Stat(realworldDir); err != nil {
		tb.Skipf("the realworld feeds are not beside the checkout: %v", err)
	}
	now := time.Now()
	var out []*briefing.Briefing
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for id := range realworldTopics {
			if !yield(id) {
				return
			}
		}
	}) {
		topic := briefing.Topic{ID: id, Name: id, Window: 100 * 365 * 24 * time.Hour, MaxStories: 5}
		var articles []briefing.Article
		for _, file := range realworldTopics[id] {
			data, err := os.ReadFile(filepath.Join(realworldDir, file))
			if err != nil {
				tb.Fatal(err)
			}
			feed, err := collect.Parse(data, "https://feeds.test/"+file, "", now)
			if err != nil {
				tb.Fatalf("%s: %v", file, err)
			}
			articles = append(articles, feed.Articles...)
		}
		slices.SortStableFunc(articles, func(a, b briefing.Article) int { return b.Published.Compare(a.Published) })
		for day := 0; day*40 < len(articles) && day < 4; day++ {
			run := articles[day*40 : min(len(articles), (day+1)*40)]
			stories := summarize.Rank(summarize.Cluster(run, summarize.ClusterOptions{}), topic, now)
			b, err := summarize.Offline{Now: func() time.Time { return now }}.Summarize(context.Background(), topic, stories[:min(len(stories), 5)])
			if err != nil {
				tb.Fatalf("%s day %d: %v", id, day, err)
			}
			out = append(out, b)
		}
	}
	return out
}

// TestOfflineQualityRealworld measures offline briefings of real feeds:
// every citation must be supported and at least 98 % of the sentences
// clean. The figures are logged (go test -run QualityRealworld -v).
func TestOfflineQualityRealworld(t *testing.T) {
	var q quality
	for _, b := range realworldBriefings(t) {
		q.add(b, summarize.DefaultLanguage)
	}
	t.Log(q.String())
	for _, p := range q.problems {
		t.Log(p)
	}
	if q.supported != q.pairs {
		t.Errorf("%d of %d citations unsupported, want none", q.pairs-q.supported, q.pairs)
	}
	if share(q.clean, q.sentences) < 0.98 {
		t.Errorf("%.1f%% of the sentences clean, want at least 98%%", 100*share(q.clean, q.sentences))
	}
}

// TestPrintRealworldBriefings writes the realworld briefings for a person
// to read, with -v and BRIEFING_PRINT=1.
func TestPrintRealworldBriefings(t *testing.T) {
	if os.Getenv("BRIEFING_PRINT") == "" {
		t.Skip("set BRIEFING_PRINT=1 to print the realworld briefings")
	}
	for _, b := range realworldBriefings(t) {
		var out strings.Builder
		fmt.Fprintf(&out, "\n=== %s: %s\n", b.Topic, b.Headline)
		for _, bullet := range b.Bullets {
			out.WriteString("• " + bullet + "\n")
		}
		for _, p := range b.Paragraphs {
			fmt.Fprintf(&out, "[story %d] %s %q\n", p.Story, p.Text, p.Sources)
		}
		t.Log(cmp.Or(out.String(), "(empty)"))
	}
}
