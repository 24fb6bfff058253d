package summarize

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/briefing-bot/briefing"
)

// How readers' votes move a destination's ranking. Every vote (+1 or -1)
// counts for each publisher of the story voted on and for each term of its
// title, fading by half every FeedbackHalfLife. A publisher's or a term's
// weight is MaxFeedback·tanh(votes/feedbackScale): five net votes reach
// three quarters of the bound, and no number of votes passes it. A story
// gets the mean weight of its publishers plus its title terms' weights
// divided by its number of title terms, bounded by ±MaxFeedback; so votes
// move a story past another told as widely, never past one that one more
// outlet reports.
const (
	FeedbackHalfLife = 14 * 24 * time.Hour
	MaxFeedback      = 0.5
	feedbackScale    = 5.0
	// FeedbackHorizon is how far back votes still count: eight half-lives
	// leave a vote less than 0.4% of its weight.
	FeedbackHorizon = 8 * FeedbackHalfLife
)

// Feedback is what a destination's readers voted, by publisher and by
// title term. The zero Feedback changes nothing.
type Feedback struct {
	sources map[string]float64 // publisher → decayed sum of votes
	terms   map[string]float64 // title term → decayed sum of votes
}

// NewFeedback sums votes as of now.
func NewFeedback(votes []briefing.Vote, now time.Time) Feedback {
	fb := Feedback{sources: map[string]float64{}, terms: map[string]float64{}}
	for _, v := range votes {
		w := float64(v.Value) * math.Exp2(-float64(max(0, now.Sub(v.At)))/float64(FeedbackHalfLife))
		for _, s := range v.Sources {
			fb.sources[s] += w
		}
		for _, t := range v.Terms {
			fb.terms[t] += w
		}
	}
	return fb
}

func feedbackWeight(votes float64) float64 { return MaxFeedback * math.Tanh(votes/feedbackScale) }

// Adjust returns what the feedback adds to s's score and, when it adds
// anything, the publisher and term that weigh most ("source
// example.com -0.48, term outage -0.02").
func (f Feedback) Adjust(s briefing.Story) (float64, string) {
	if len(f.sources) == 0 && len(f.terms) == 0 {
		return 0, ""
	}
	var why []string
	sources, terms := StorySources(s), StoryTerms(s)
	adjust := 0.0
	if sum, top, topW := weigh(sources, f.sources); len(sources) > 0 {
		adjust += sum / float64(len(sources))
		if top != "" {
			why = append(why, fmt.Sprintf("source %s %+.2f", top, topW))
		}
	}
	if sum, top, topW := weigh(terms, f.terms); len(terms) > 0 {
		adjust += sum / float64(len(terms))
		if top != "" {
			why = append(why, fmt.Sprintf("term %q %+.2f", top, topW))
		}
	}
	return max(-MaxFeedback, min(MaxFeedback, adjust)), strings.Join(why, ", ")
}

// weigh sums the weights of keys' votes and names the key that weighs most.
func weigh(keys []string, votes map[string]float64) (sum float64, top string, topWeight float64) {
	for _, k := range keys {
		w := feedbackWeight(votes[k])
		sum += w
		if math.Abs(w) > math.Abs(topWeight) {
			top, topWeight = k, w
		}
	}
	return sum, top, topWeight
}

// StorySources are a story's distinct publishers, as votes record them.
func StorySources(s briefing.Story) []string {
	var out []string
	for _, a := range s.Articles {
		if k := sourceKey(a); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// StoryTerms are the distinct terms of a story's title, as votes record
// them.
func StoryTerms(s briefing.Story) []string {
	var out []string
	for _, t := range Terms(s.Title) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
