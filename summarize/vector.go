package summarize

import (
	"cmp"
	"math"
	"slices"
)

// TFIDF weighs terms by how rare they are in one set of documents (the
// articles of a window, the sentences of a story), so that the words every
// document uses count for little.
type TFIDF struct {
	ids map[string]int32
	idf []float64
}

// NewTFIDF learns the vocabulary and document frequencies of docs, each a
// list of terms (see Terms).
func NewTFIDF(docs [][]string) *TFIDF {
	var in interner
	idDocs := make([][]int32, len(docs))
	for i, doc := range docs {
		idDocs[i] = make([]int32, len(doc))
		for k, t := range doc {
			idDocs[i][k] = in.term(t)
		}
	}
	idf, renumber := documentFrequencies(idDocs, in.size())
	m := &TFIDF{ids: make(map[string]int32, len(in.terms)), idf: idf}
	for t, id := range in.terms {
		m.ids[t] = renumber[id]
	}
	return m
}

// Vector returns the L2-normalised TF-IDF vector of terms. Terms that the
// documents never used weigh nothing.
func (m *TFIDF) Vector(terms []string) Vector {
	ids := make([]int32, 0, len(terms))
	weights := make([]float64, 0, len(terms))
	for _, t := range terms {
		if id, ok := m.ids[t]; ok {
			ids = append(ids, id)
			weights = append(weights, m.idf[id])
		}
	}
	return newVector(ids, weights)
}

// Similarity is the cosine similarity of two texts' terms.
func (m *TFIDF) Similarity(a, b []string) float64 {
	return Cosine(m.Vector(a), m.Vector(b))
}

// interner numbers terms, and pairs of terms, in the order of their first
// use.
type interner struct {
	terms map[string]int32
	pairs map[[2]int32]int32
	next  int32
}

func (in *interner) term(t string) int32 {
	if in.terms == nil {
		in.terms = make(map[string]int32)
	}
	id, ok := in.terms[t]
	if !ok {
		id = in.next
		in.terms[t] = id
		in.next++
	}
	return id
}

// pair numbers the pair of terms a, b as a term of its own.
func (in *interner) pair(a, b int32) int32 {
	if in.pairs == nil {
		in.pairs = make(map[[2]int32]int32)
	}
	id, ok := in.pairs[[2]int32{a, b}]
	if !ok {
		id = in.next
		in.pairs[[2]int32{a, b}] = id
		in.next++
	}
	return id
}

func (in *interner) size() int { return int(in.next) }

// documentFrequencies computes the inverse document frequency of the n
// interned terms of docs, and renumbers them commonest first (ties in the
// order of first use): renumber[id] is the new number of term id and
// idf is indexed by it. A vector's entries then run from its commonest
// term to its rarest, which similarPairs relies on.
func documentFrequencies(docs [][]int32, n int) (idf []float64, renumber []int32) {
	df := make([]int, n)
	lastDoc := make([]int, n)
	for i := range lastDoc {
		lastDoc[i] = -1
	}
	for d, doc := range docs {
		for _, id := range doc {
			if lastDoc[id] != d {
				lastDoc[id] = d
				df[id]++
			}
		}
	}
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(cmp.Compare(df[b], df[a]), cmp.Compare(a, b))
	})
	renumber = make([]int32, n)
	idf = make([]float64, n)
	docCount := float64(len(docs))
	for rank, id := range order {
		renumber[id] = int32(rank)
		// Smoothed so that a term in every document still weighs a little:
		// with two or three documents nothing would weigh anything otherwise.
		idf[rank] = math.Log((1+docCount)/(1+float64(df[id]))) + 1
	}
	return idf, renumber
}

// Vector is a sparse term-weight vector of one TFIDF's vocabulary. The
// TFIDF's constructors return it L2-normalised.
type Vector struct {
	ids     []int32 // ascending
	weights []float64
}

// newVector makes a normalised vector of entries, adding up repeated ids.
// It takes ownership of both slices.
func newVector(ids []int32, weights []float64) Vector {
	v := Vector{ids: ids, weights: weights}
	v.sortMerge()
	v.normalise()
	return v
}

// IsZero reports whether the vector has no terms.
func (v Vector) IsZero() bool { return len(v.ids) == 0 }

// Cosine is the cosine similarity of two normalised vectors of one TFIDF.
func Cosine(a, b Vector) float64 {
	return cappedDot(a, b, math.Inf(1))
}

// cappedDot is the dot product of a and b with each term's product capped
// at termCap.
func cappedDot(a, b Vector, termCap float64) float64 {
	var dot float64
	i, j := 0, 0
	for i < len(a.ids) && j < len(b.ids) {
		switch {
		case a.ids[i] < b.ids[j]:
			i++
		case a.ids[i] > b.ids[j]:
			j++
		default:
			dot += min(termCap, a.weights[i]*b.weights[j])
			i++
			j++
		}
	}
	return dot
}

// Centroid is the normalised mean of vectors: what they have in common.
// Scoring sentences or headlines by their cosine to the centroid of a story
// finds the most central ones.
func Centroid(vectors []Vector) Vector {
	var ids []int32
	var weights []float64
	for _, v := range vectors {
		ids = append(ids, v.ids...)
		weights = append(weights, v.weights...)
	}
	return newVector(ids, weights)
}

// plus returns the sum of two vectors, not normalised.
func (v Vector) plus(o Vector) Vector {
	sum := Vector{
		ids:     make([]int32, 0, len(v.ids)+len(o.ids)),
		weights: make([]float64, 0, len(v.ids)+len(o.ids)),
	}
	i, j := 0, 0
	for i < len(v.ids) || j < len(o.ids) {
		switch {
		case j == len(o.ids) || i < len(v.ids) && v.ids[i] < o.ids[j]:
			sum.ids = append(sum.ids, v.ids[i])
			sum.weights = append(sum.weights, v.weights[i])
			i++
		case i == len(v.ids) || o.ids[j] < v.ids[i]:
			sum.ids = append(sum.ids, o.ids[j])
			sum.weights = append(sum.weights, o.weights[j])
			j++
		default:
			sum.ids = append(sum.ids, v.ids[i])
			sum.weights = append(sum.weights, v.weights[i]+o.weights[j])
			i++
			j++
		}
	}
	return sum
}

// normalised returns a unit-length copy of v.
func (v Vector) normalised() Vector {
	n := Vector{ids: v.ids, weights: slices.Clone(v.weights)}
	n.normalise()
	return n
}

// sortMerge orders the entries by term and adds up repeated terms, in
// their original order so that the sums do not depend on the sort.
func (v *Vector) sortMerge() {
	if len(v.ids) < 2 {
		return
	}
	// Sorting plain integers that pack each term with its position is
	// several times faster than sorting entries with a comparison function.
	keys := make([]uint64, len(v.ids))
	for i, id := range v.ids {
		keys[i] = uint64(id)<<32 | uint64(i)
	}
	slices.Sort(keys)
	ids := make([]int32, 0, len(keys))
	weights := make([]float64, 0, len(keys))
	for _, key := range keys {
		id, w := int32(key>>32), v.weights[uint32(key)]
		if n := len(ids); n > 0 && ids[n-1] == id {
			weights[n-1] += w
			continue
		}
		ids = append(ids, id)
		weights = append(weights, w)
	}
	v.ids, v.weights = ids, weights
}

func (v *Vector) normalise() {
	var sum float64
	for _, w := range v.weights {
		sum += w * w
	}
	if sum == 0 {
		return
	}
	norm := math.Sqrt(sum)
	for i := range v.weights {
		v.weights[i] /= norm
	}
}
