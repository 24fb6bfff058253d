package summarize_test

import (
	"context"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/internal/fakeopenai"
	"github.com/briefing-bot/briefing/summarize"
)

// BenchmarkAnswerOverhead measures what a follow-up answer costs outside
// the LLM: before_ms is from calling Answer to the request reaching the
// (instant) fake provider, after_ms from the provider's last byte to
// Answer returning. The topic holds 500 articles of the last day in a
// bbolt store; "warm" reuses the Answerer (its index knows the articles),
// "cold" builds the index on every question.
func BenchmarkAnswerOverhead(b *testing.B) {
	db := openTestStore(b)
	stories := syntheticNews(60, 500, 1)
	var all []briefing.Article
	for _, s := range stories {
		all = append(all, s.Articles...)
	}
	if _, err := db.PutArticles(all); err != nil {
		b.Fatal(err)
	}
	brief := &briefing.Briefing{ID: "b", Topic: "cloud", Headline: stories[0].Title, Stories: stories[:5]}
	for _, s := range brief.Stories {
		brief.Paragraphs = append(brief.Paragraphs, briefing.Paragraph{Text: s.Title + ".", Sources: []string{s.Articles[0].URL}})
	}
	question := briefing.Question{Text: "What did " + stories[3].Title + " mean for customers?", History: []briefing.Turn{
		{Question: "What happened?", Answer: "Several things [1]."},
	}}

	for name, warm := range map[string]bool{"warm": true, "cold": false} {
		b.Run(name, func(b *testing.B) {
			srv := fakeopenai.New(b)
			arrived := make(chan time.Time, 1)
			sent := make(chan time.Time, 1)
			srv.Handle(func(req fakeopenai.Request) fakeopenai.Response {
				arrived <- req.At
				return fakeopenai.Response{
					Content: "It changed pricing [a1] and capacity [a2, a3].",
					Sent:    func() { sent <- time.Now() },
				}
			})
			pool := newTestPool(b, srv)
			newAnswerer := func() *summarize.Answerer {
				return &summarize.Answerer{Completer: pool, Articles: db, Now: func() time.Time { return testNow }}
			}
			a := newAnswerer()
			if warm {
				if _, err := a.Answer(context.Background(), brief, question, nil); err != nil {
					b.Fatal(err)
				}
				<-arrived
				<-sent
			}
			var before, after time.Duration
			b.ResetTimer()
			for range b.N {
				if !warm {
					a = newAnswerer()
				}
				start := time.Now()
				if _, err := a.Answer(context.Background(), brief, question, func(string) {}); err != nil {
					b.Fatal(err)
				}
				end := time.Now()
				before += (<-arrived).Sub(start)
				after += end.Sub(<-sent)
			}
			b.ReportMetric(float64(before.Microseconds())/1000/float64(b.N), "before_ms/op")
			b.ReportMetric(float64(after.Microseconds())/1000/float64(b.N), "after_ms/op")
		})
	}
}
