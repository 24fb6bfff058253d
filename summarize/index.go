package summarize

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/briefing-bot/briefing"
)

// BM25 parameters: the usual values, which suit news articles as well as
// they suit the web pages they were tuned on.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// Index is an in-memory BM25 index of one topic's articles, for finding the
// articles and sentences that answer a question. It grows incrementally:
// Add indexes an article once, so feeding it a topic's recent articles on
// every question costs little after the first time. It is safe for
// concurrent use.
type Index struct {
	mu       sync.RWMutex
	docs     map[string]*indexedArticle
	postings map[string][]posting
	totalLen int
}

type indexedArticle struct {
	article briefing.Article
	length  int
}

type posting struct {
	doc *indexedArticle
	tf  int
}

// indexedWords bounds the words of an article's text that are indexed.
const indexedWords = 150

// lead returns the first n words of text.
func lead(text string, n int) string {
	words := strings.Fields(text)
	return strings.Join(words[:min(len(words), n)], " ")
}

// Hit is an article found for a query.
type Hit struct {
	Article briefing.Article
	Score   float64
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{docs: map[string]*indexedArticle{}, postings: map[string][]posting{}}
}

// Add indexes a, unless an article with its ID is indexed already, and
// reports whether it was new. The title counts twice: it names the event;
// the text counts up to its first indexedWords words, where news puts
// what matters. The index keeps no text, so its memory stays small on a
// large store: Hit.Article has none.
func (x *Index) Add(a briefing.Article) bool {
	x.mu.RLock()
	_, known := x.docs[a.ID]
	x.mu.RUnlock()
	if known {
		return false
	}
	terms := Terms(a.Title + "\n" + a.Title + "\n" + lead(a.Text, indexedWords))
	a.Text = ""
	tf := map[string]int{}
	for _, t := range terms {
		tf[t]++
	}

	x.mu.Lock()
	defer x.mu.Unlock()
	if _, known := x.docs[a.ID]; known {
		return false
	}
	doc := &indexedArticle{article: a, length: len(terms)}
	x.docs[a.ID] = doc
	x.totalLen += doc.length
	for t, n := range tf {
		x.postings[t] = append(x.postings[t], posting{doc: doc, tf: n})
	}
	return true
}

// Len is the number of indexed articles.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.docs)
}

// Prune forgets the articles published before t and returns how many, so
// that an index fed a sliding window does not grow without end.
func (x *Index) Prune(before time.Time) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for id, doc := range x.docs {
		if doc.article.Published.Before(before) {
			delete(x.docs, id)
			x.totalLen -= doc.length
			n++
		}
	}
	if n == 0 {
		return 0
	}
	for t, ps := range x.postings {
		ps = slices.DeleteFunc(ps, func(p posting) bool { return x.docs[p.doc.article.ID] != p.doc })
		if len(ps) == 0 {
			delete(x.postings, t)
		} else {
			x.postings[t] = ps
		}
	}
	return n
}

// Search returns up to k articles matching query, best first; ties go to
// the newer article, then the lower ID.
func (x *Index) Search(query string, k int) []Hit {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(x.docs) == 0 {
		return nil
	}
	avgLen := float64(x.totalLen) / float64(len(x.docs))
	scores := map[*indexedArticle]float64{}
	for _, t := range distinctTerms(Terms(query)) {
		idf := x.idfLocked(t)
		for _, p := range x.postings[t] {
			scores[p.doc] += bm25(p.tf, p.doc.length, avgLen, idf)
		}
	}
	hits := make([]Hit, 0, len(scores))
	for doc, s := range scores {
		hits = append(hits, Hit{Article: doc.article, Score: s})
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := b.Article.Published.Compare(a.Article.Published); c != 0 {
			return c
		}
		return cmp.Compare(a.Article.ID, b.Article.ID)
	})
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits
}

// ScoreTexts scores each text (a sentence, say) against query by BM25,
// with term rarity taken from the index's articles and lengths compared
// among texts.
func (x *Index) ScoreTexts(query string, texts []string) []float64 {
	queryTerms := distinctTerms(Terms(query))
	termsOf := make([][]string, len(texts))
	total := 0
	for i, text := range texts {
		termsOf[i] = Terms(text)
		total += len(termsOf[i])
	}
	scores := make([]float64, len(texts))
	if total == 0 {
		return scores
	}
	avgLen := float64(total) / float64(len(texts))
	x.mu.RLock()
	idf := make(map[string]float64, len(queryTerms))
	for _, t := range queryTerms {
		idf[t] = x.idfLocked(t)
	}
	x.mu.RUnlock()
	for i, terms := range termsOf {
		tf := map[string]int{}
		for _, t := range terms {
			tf[t]++
		}
		for _, t := range queryTerms {
			if n := tf[t]; n > 0 {
				scores[i] += bm25(n, len(terms), avgLen, idf[t])
			}
		}
	}
	return scores
}

// idfLocked is the BM25 inverse document frequency of t, never negative;
// the caller holds x.mu.
func (x *Index) idfLocked(t string) float64 {
	n, df := float64(len(x.docs)), float64(len(x.postings[t]))
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

func bm25(tf, length int, avgLen, idf float64) float64 {
	f := float64(tf)
	return idf * f * (bm25K1 + 1) / (f + bm25K1*(1-bm25B+bm25B*float64(length)/avgLen))
}

func distinctTerms(terms []string) []string {
	seen := make(map[string]bool, len(terms))
	out := terms[:0:0]
	for _, t := range terms {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
