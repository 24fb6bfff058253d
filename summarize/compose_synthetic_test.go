package summarize_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/briefing-bot/briefing"
)

var newsWords = strings.Fields(`the a of to in and for on with as at by from after over said will is are was
company market customers deal cloud service price revenue quarter growth plan new chief executive analysts
investors shares percent billion million year month week government regulators rules data security model
models software platform users business enterprise partners contract launch product report earnings cost
capacity demand supply region country city officials statement expected announced according people familiar
matter spokesperson declined comment added move change industry rivals competition expansion team leaders
first second third largest biggest early later more less higher lower strong weak record since until during`)

var newsNames = strings.Fields(`Acme Globex Initech Umbrella Hooli Vandelay Stark Wayne Oscorp Cyberdyne Tyrell
Soylent Wonka Gringotts Monarch Aperture Black Mesa Massive Dynamic Pied Piper Nakatomi Virtucon Zorg Buy More`)

// syntheticNews makes articles articles in stories stories, ranked: each
// story has names and words of its own, a skewed share of the articles
// (one to a few dozen outlets), and articles of about 550 words in ten
// paragraphs, the length of a wire story.
func syntheticNews(stories, articles int, seed uint64) []briefing.Story {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]briefing.Story, stories)
	for i := range out {
		out[i] = briefing.Story{ID: fmt.Sprintf("story-%02d", i), Score: float64(stories - i)}
	}
	own := make([][]string, stories)
	for i := range own {
		for range 6 {
			own[i] = append(own[i], newsNames[rng.IntN(len(newsNames))], fmt.Sprintf("project%d", rng.IntN(1000)))
		}
	}
	sentence := func(story, words int) string {
		var b strings.Builder
		for w := range words {
			word := newsWords[rng.IntN(len(newsWords))]
			if rng.IntN(5) == 0 {
				word = own[story][rng.IntN(len(own[story]))]
			}
			if w > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(word)
		}
		s := b.String()
		return strings.ToUpper(s[:1]) + s[1:] + "."
	}
	for n := range articles {
		// Every story gets one article; the rest go mostly to the top.
		s := n
		if n >= stories {
			s = int(float64(stories) * rng.Float64() * rng.Float64())
		}
		var paragraphs []string
		for range 10 {
			paragraphs = append(paragraphs, sentence(s, 18)+" "+sentence(s, 20)+" "+sentence(s, 17))
		}
		source := fmt.Sprintf("outlet%d.example", rng.IntN(30))
		title := strings.TrimSuffix(sentence(s, 9), ".")
		out[s].Articles = append(out[s].Articles, briefing.Article{
			ID: fmt.Sprintf("news-%04d", n), URL: fmt.Sprintf("https://%s/2026/%04d", source, n),
			Title: title, Text: strings.Join(paragraphs, "\n\n"), Source: source, Topics: []string{"cloud"},
			Published: testNow.Add(-time.Duration(rng.IntN(24*60)) * time.Minute),
		})
		if out[s].Title == "" {
			out[s].Title = title
		}
	}
	return out
}
