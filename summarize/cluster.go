package summarize

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"unicode"

	"github.com/briefing-bot/briefing"
)

// ClusterOptions tune clustering; zero values get the tuned defaults.
type ClusterOptions struct {
	// Threshold is the least cosine similarity between the centroids of
	// two groups of articles for them to be one story, no one term adding
	// more than 0.6 of it. Higher splits more.
	Threshold float64
}

// DefaultClusterThreshold was tuned on the UCI News Aggregator headlines
// (see TestClusterUCI, and its -sweep flag): B-cubed precision 0.86 and F1
// 0.79 there. A step of 0.05 up trades about seven points of recall for
// one or two of precision; below 0.2 precision falls nearly as fast as
// recall rises.
const DefaultClusterThreshold = 0.2

// Article features. Titles alone must be enough, so they weigh double the
// text, of which only the lead is read: it says what the story is, the rest
// wanders. Adjacent word pairs ("interest rate", "juan pablo") tell events
// apart that share their words, but at full weight they split stories that
// are worded differently. Capitalised words are the names of the people,
// firms and places an event is about.
const (
	titleWeight  = 2.0
	bigramWeight = 0.5
	// capitalBoost is added to a term's weight in proportion to the share
	// of its uses that are capitalised (not counting the first word of a
	// title), so that names count double and words capitalised only in
	// title-case headlines are barely raised.
	capitalBoost = 1.0
	leadWords    = 60
	// termShare caps what one shared term adds to the similarity of two
	// groups, as a share of the threshold: a name alone ("Google",
	// "Microsoft") does not make two events one, it takes two terms. On
	// the UCI headlines this cap lifts B-cubed precision by two points
	// and recall by eight at once, and it keeps apart the events of one
	// company.
	termShare = 0.6
)

// Cluster groups articles into stories, deterministically: the same
// articles in any order give the same stories.
//
// Each article becomes a TF-IDF vector of its title (double weight) and
// the first 60 words of its text, over its terms and adjacent term pairs,
// with the inverse document frequencies taken over the input itself, and
// names (terms mostly written capitalised in the input) weighted up to
// double. The vectors are then clustered by centroid linkage: the two
// groups whose centroids are most similar merge, until no two groups are
// Threshold similar. A merged group is judged by what its articles share,
// so a story told in many different headlines still draws in a new
// headline that names its main actors, where average linkage would dilute
// it and single linkage would chain unrelated events through one
// ambiguous headline. No single shared term may carry two groups over the
// threshold (see termShare), so that two events of one company stay two.
// To stay fast the merging runs in rounds over an inverted index of terms
// (see agglomerate and similarPairs); the 6,366 UCI headlines take about
// a fifth of a second.
//
// Articles with the same URL count once (the earliest kept). Each story's
// Articles are sorted by (Published, ID); its ID fingerprints its first
// article; its Title is the headline closest to its centroid. Stories come
// in the order of their first articles.
func Cluster(articles []briefing.Article, opts ClusterOptions) []briefing.Story {
	threshold := opts.Threshold
	if threshold <= 0 {
		threshold = DefaultClusterThreshold
	}
	articles = distinctByURL(articles)
	if len(articles) == 0 {
		return nil
	}
	vectors := articleVectors(articles)
	groups := agglomerate(vectors, threshold)
	stories := make([]briefing.Story, len(groups))
	for i, g := range groups {
		stories[i] = newStory(articles, vectors, g)
	}
	slices.SortFunc(stories, func(a, b briefing.Story) int {
		return compareArticles(a.Articles[0], b.Articles[0])
	})
	return stories
}

// distinctByURL sorts articles by (Published, ID) and keeps the first of
// each URL, so that nothing after depends on the input's order.
func distinctByURL(articles []briefing.Article) []briefing.Article {
	sorted := slices.Clone(articles)
	slices.SortFunc(sorted, compareArticles)
	seen := make(map[string]bool, len(sorted))
	return slices.DeleteFunc(sorted, func(a briefing.Article) bool {
		key := a.URL
		if key == "" {
			key = "id:" + a.ID
		}
		if seen[key] {
			return true
		}
		seen[key] = true
		return false
	})
}

func compareArticles(a, b briefing.Article) int {
	return cmp.Or(a.Published.Compare(b.Published), cmp.Compare(a.ID, b.ID), cmp.Compare(a.URL, b.URL))
}

// newStory makes a story of group g of articles, whose vectors are used to
// find the most central headline.
func newStory(articles []briefing.Article, vectors []Vector, g group) briefing.Story {
	slices.Sort(g.members) // articles are in (Published, ID) order
	s := briefing.Story{Articles: make([]briefing.Article, len(g.members))}
	centroid := g.sum.normalised()
	best, bestSim := 0, -1.0
	for i, m := range g.members {
		s.Articles[i] = articles[m]
		if sim := Cosine(vectors[m], centroid); sim > bestSim {
			best, bestSim = i, sim
		}
	}
	s.Title = s.Articles[best].Title
	s.ID = storyID(s.Articles[0].ID)
	return s
}

// storyID fingerprints a story by the ID of its earliest article.
func storyID(articleID string) string {
	sum := sha256.Sum256([]byte(articleID))
	return hex.EncodeToString(sum[:8])
}

// articleVectors builds one TF-IDF vector per article from its title and
// the lead of its text.
func articleVectors(articles []briefing.Article) []Vector {
	var in interner
	docs := make([]featureList, len(articles))
	ids := make([][]int32, len(articles))
	for i, a := range articles {
		docs[i].add(&in, contentWords(CleanTitle(a)), titleWeight)
		if lead := leadText(a.Text, leadWords); lead != "" {
			docs[i].add(&in, contentWords(lead), 1)
		}
		ids[i] = docs[i].ids
	}
	idf, renumber := documentFrequencies(ids, in.size())
	capitalised := make([]float64, in.size())
	uses := make([]float64, in.size())
	for _, d := range docs {
		for k, id := range d.ids {
			if d.capital[k] != unknownCase {
				uses[id]++
			}
			if d.capital[k] == upperCase {
				capitalised[id]++
			}
		}
	}
	vectors := make([]Vector, len(docs))
	for i, d := range docs {
		ids := make([]int32, len(d.ids))
		weights := make([]float64, len(d.ids))
		for k, id := range d.ids {
			boost := 1.0
			if uses[id] > 0 {
				boost += capitalBoost * capitalised[id] / uses[id]
			}
			ids[k] = renumber[id]
			weights[k] = d.weights[k] * boost * idf[ids[k]]
		}
		vectors[i] = newVector(ids, weights)
	}
	return vectors
}

// leadText is the first n words of text.
func leadText(text string, n int) string {
	inWord := false
	for i, r := range text {
		if space := unicode.IsSpace(r); space && inWord {
			if n--; n == 0 {
				return text[:i]
			}
			inWord = false
		} else if !space {
			inWord = true
		}
	}
	return text
}

// letterCase records how a feature was written; the first word of a title
// or text is capitalised whatever it is, so its case is unknown.
type letterCase int8

const (
	lowerCase letterCase = iota
	upperCase
	unknownCase
)

// featureList is an article's terms and term pairs, each with its weight
// and case.
type featureList struct {
	ids     []int32
	weights []float64
	capital []letterCase
}

func (f *featureList) add(in *interner, words []word, weight float64) {
	var prev letterCase
	var prevID int32
	for k, w := range words {
		c := lowerCase
		switch {
		case k == 0:
			c = unknownCase
		case w.capital:
			c = upperCase
		}
		id := in.term(w.term)
		f.ids = append(f.ids, id)
		f.weights = append(f.weights, weight)
		f.capital = append(f.capital, c)
		if k > 0 {
			// A pair is a name if both words are; the case of a first
			// word is unknown, so its pair takes the second's.
			pc := min(c, prev)
			if prev == unknownCase {
				pc = c
			}
			f.ids = append(f.ids, in.pair(prevID, id))
			f.weights = append(f.weights, weight*bigramWeight)
			f.capital = append(f.capital, pc)
		}
		prev, prevID = c, id
	}
}

// agglomerate is centroid-linkage clustering: groups whose centroids are
// at least threshold similar merge, most similar first, where no one term
// adds more than termShare of the threshold to the similarity. It runs in
// rounds:
// a round finds the similar pairs among the current centroids through an
// inverted index and merges them best first; a group that grew in the
// round takes in another only if it is still similar enough to the grown
// centroid, and two groups that both grew wait for the next round.
func agglomerate(vectors []Vector, threshold float64) []group {
	termCap := termShare * threshold
	groups := make([]group, len(vectors))
	for i, v := range vectors {
		groups[i] = group{members: []int{i}, sum: v}
	}
	// Groups that did not change in a round stay dissimilar to each other;
	// they go first, and only pairs with a changed group are searched.
	unchanged := 0
	for {
		centroids := make([]Vector, len(groups))
		for i, g := range groups {
			centroids[i] = g.sum.normalised()
		}
		pairs := similarPairs(centroids, threshold, termCap, unchanged)
		slices.SortFunc(pairs, mostSimilarFirst)
		grown := make([]bool, len(groups))
		taken := make([]bool, len(groups))
		merges := 0
		for _, e := range pairs {
			into, from := e.a, e.b
			if grown[from] {
				into, from = from, into
			}
			if taken[into] || taken[from] || grown[from] {
				continue
			}
			if grown[into] && cappedDot(groups[into].sum.normalised(), centroids[from], termCap) < threshold {
				continue
			}
			groups[into].members = append(groups[into].members, groups[from].members...)
			groups[into].sum = groups[into].sum.plus(groups[from].sum)
			grown[into], taken[from] = true, true
			merges++
		}
		if merges == 0 {
			break
		}
		var same, changed []group
		for i, g := range groups {
			switch {
			case grown[i]:
				changed = append(changed, g)
			case !taken[i]:
				same = append(same, g)
			}
		}
		groups, unchanged = append(same, changed...), len(same)
	}
	return groups
}

// group is a cluster in the making: its articles and the sum of their
// vectors, whose direction is the centroid.
type group struct {
	members []int
	sum     Vector
}

// mostSimilarFirst orders edges by similarity, ties by index. It is
// written out rather than with cmp.Or, which would make every comparison
// compute all three.
func mostSimilarFirst(x, y edge) int {
	switch {
	case x.sim != y.sim:
		return cmp.Compare(y.sim, x.sim)
	case x.a != y.a:
		return cmp.Compare(x.a, y.a)
	}
	return cmp.Compare(x.b, y.b)
}

// edge is a pair of vectors a < b and their similarity.
type edge struct {
	a, b int
	sim  float64
}

// similarPairs finds the pairs of normalised vectors whose cosine, each
// term's share capped at termCap (see cappedDot), is at least minSim, of
// which at least one is at index from or later: the vectors before from
// are known to be dissimilar to each other. It compares only
// vectors that share a term, through an inverted index, and the index
// leaves out each vector's commonest terms as long as they could add up to
// less than minSim with any other vector (the All-Pairs algorithm of
// Bayardo, Ma and Srikant, WWW 2007): the long posting lists of common
// words are what would make the search quadratic, and a pair that shares
// nothing else cannot reach minSim. Their share of the similarity is added
// back for the pairs found. Vector entries run commonest term first (see
// NewTFIDF), so the left-out terms are a prefix.
func similarPairs(vectors []Vector, minSim, termCap float64, from int) []edge {
	var maxWeight []float64
	for _, v := range vectors {
		for k, id := range v.ids {
			if int(id) >= len(maxWeight) {
				maxWeight = append(maxWeight, make([]float64, int(id)+1-len(maxWeight))...)
			}
			maxWeight[id] = max(maxWeight[id], v.weights[k])
		}
	}
	type posting struct {
		doc    int
		weight float64
	}
	postings := make([][]posting, len(maxWeight))
	unindexed := make([]Vector, len(vectors))
	acc := make([]float64, len(vectors))
	dense := make([]float64, len(maxWeight)) // the probing vector
	var touched []int
	var edges []edge
	for i, v := range vectors {
		if i >= from {
			for k, id := range v.ids {
				dense[id] = v.weights[k]
				for _, p := range postings[id] {
					if acc[p.doc] == 0 {
						touched = append(touched, p.doc)
					}
					acc[p.doc] += min(termCap, v.weights[k]*p.weight)
				}
			}
			for _, j := range touched {
				sim := acc[j]
				for k, id := range unindexed[j].ids {
					sim += min(termCap, unindexed[j].weights[k]*dense[id])
				}
				if sim >= minSim {
					edges = append(edges, edge{a: j, b: i, sim: sim})
				}
				acc[j] = 0
			}
			touched = touched[:0]
			for _, id := range v.ids {
				dense[id] = 0
			}
		}
		var bound float64
		prefix := 0
		for k, id := range v.ids {
			if bound += min(termCap, v.weights[k]*maxWeight[id]); bound < minSim {
				prefix = k + 1
				continue
			}
			postings[id] = append(postings[id], posting{i, v.weights[k]})
		}
		unindexed[i] = Vector{ids: v.ids[:prefix], weights: v.weights[:prefix]}
	}
	return edges
}
