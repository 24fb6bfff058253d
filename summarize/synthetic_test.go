package summarize_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/briefing-bot/briefing"
)

// syntheticStart is when synthetic windows begin.
var syntheticStart = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

// syntheticArticles makes n articles about n/6 events over one day, as a
// busy topic's window would hold: each event has a few names and words of
// its own, told by one to dozens of outlets in headlines and five-sentence
// texts otherwise drawn from a shared vocabulary with Zipf frequencies.
func syntheticArticles(n int, seed uint64) []briefing.Article {
	articles, _ := syntheticWindow(n, seed)
	return articles
}

// syntheticWindow is syntheticArticles with the event of each article ID.
func syntheticWindow(n int, seed uint64) ([]briefing.Article, map[string]string) {
	rng := rand.New(rand.NewPCG(seed, 1))
	common := rand.NewZipf(rng, 1.1, 2, 4999)
	events := max(1, n/6)
	type event struct{ names, words []string }
	evs := make([]event, events)
	name := func() string { return capitalise(pseudoWord(rng.IntN(20000) + 10000)) }
	word := func() string { return pseudoWord(rng.IntN(3000) + 5000) }
	for i := range evs {
		// Events come in themes of four that share a name and a word, as
		// stories about one company do.
		if i%4 == 0 {
			evs[i].names = []string{name()}
			evs[i].words = []string{word()}
		} else {
			theme := evs[i-i%4]
			evs[i].names = []string{theme.names[0]}
			evs[i].words = slices.Clone(theme.words[:1])
		}
		evs[i].names = append(evs[i].names, name(), name())
		evs[i].words = append(evs[i].words, word(), word(), word(), word(), word())
	}
	pick := func(words []string) string { return words[rng.IntN(len(words))] }
	phrase := func(ev event, length int, eventShare float64) string {
		words := make([]string, length)
		for i := range words {
			switch r := rng.Float64(); {
			case r < eventShare/2:
				words[i] = pick(ev.names)
			case r < eventShare:
				words[i] = pick(ev.words)
			case r < eventShare+0.3:
				words[i] = pick(fillers)
			default:
				words[i] = pseudoWord(int(common.Uint64()))
			}
		}
		return strings.Join(words, " ")
	}
	articles := make([]briefing.Article, n)
	labels := make(map[string]string, n)
	for i := range articles {
		// Squaring skews the draw: a few events get many articles.
		e := int(float64(events) * rng.Float64() * rng.Float64())
		ev := evs[e]
		source := fmt.Sprintf("outlet%d.example", rng.IntN(40))
		var text []string
		for s := 0; s < 5; s++ {
			text = append(text, capitalise(phrase(ev, 12+rng.IntN(10), 0.3))+".")
		}
		articles[i] = briefing.Article{
			ID:        fmt.Sprintf("syn-%06d", i),
			URL:       fmt.Sprintf("https://%s/news/%d", source, i),
			Title:     capitalise(phrase(ev, 7+rng.IntN(5), 0.55)),
			Text:      strings.Join(text[:3], " ") + "\n\n" + strings.Join(text[3:], " "),
			Source:    source,
			Published: syntheticStart.Add(time.Duration(rng.Int64N(int64(24 * time.Hour)))),
		}
		labels[articles[i].ID] = fmt.Sprint(e)
	}
	return articles, labels
}

var fillers = strings.Fields("the of to in and for on with as at by from after over says new will is are was")

var syllables = strings.Fields("ka lo mi ne ru ta vo si pe da gu ri zo ha be mu no ti fa le")

// pseudoWord spells the number i as a word of three or more syllables.
func pseudoWord(i int) string {
	var b strings.Builder
	for k := 0; k < 3 || i > 0; k++ {
		b.WriteString(syllables[i%len(syllables)])
		i /= len(syllables)
	}
	return b.String()
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
