package summarize

import "github.com/briefing-bot/briefing"

// Remember drops the stories that posted briefings already told, so that a
// briefing brings news: told holds the IDs of the articles of posted
// briefings. A story whose every article was told is dropped; one with
// told and new articles is kept and marked Update, with its new articles
// listed, so that the briefing says how it moved on. The stories left keep
// their order.
func Remember(stories []briefing.Story, told map[string]bool) []briefing.Story {
	kept := make([]briefing.Story, 0, len(stories))
	for _, s := range stories {
		var fresh []string
		for _, a := range s.Articles {
			if !told[a.ID] {
				fresh = append(fresh, a.ID)
			}
		}
		switch {
		case len(fresh) == len(s.Articles):
			kept = append(kept, s)
		case len(fresh) > 0:
			s.Update = true
			s.NewArticles = fresh
			kept = append(kept, s)
		}
	}
	return kept
}
