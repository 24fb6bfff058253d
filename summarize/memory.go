package summarize

import "github.com/briefing-bot/briefing"

// Remember drops the stories that posted briefings already told, so that a
// briefing brings news: told holds the IDs of the articles of posted
// briefings. A story whose every article was told is dropped; one with
// told and new articles is kept and marked Update, so that the briefing
// says it moved on. The stories left keep their order.
func Remember(stories []briefing.Story, told map[string]bool) []briefing.Story {
	kept := make([]briefing.Story, 0, len(stories))
	for _, s := range stories {
		known := 0
		for _, a := range s.Articles {
			if told[a.ID] {
				known++
			}
		}
		switch {
		case known == 0:
			kept = append(kept, s)
		case known < len(s.Articles):
			s.Update = true
			kept = append(kept, s)
		}
	}
	return kept
}
