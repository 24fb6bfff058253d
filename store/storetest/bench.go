package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
)

// Bench runs the benchmarks of the store's hot paths against the stores
// open makes, so that backends compare side by side.
func Bench(b *testing.B, open Opener) {
	b.Run("PutArticles1000", func(b *testing.B) { benchPutArticles(b, open) })
	b.Run("TopicDayOf100000", func(b *testing.B) { benchTopicArticles(b, open) })
	b.Run("ClaimSlot", func(b *testing.B) { benchClaimSlot(b, open) })
}

// benchPutArticles stores batches of 1,000 new articles over 5 topics.
func benchPutArticles(b *testing.B, open Opener) {
	st := openAt(b, open)
	topics := []string{"t0", "t1", "t2", "t3", "t4"}
	batch := make([]briefing.Article, 1000)
	n := 0
	for b.Loop() {
		for i := range batch {
			batch[i] = Article(fmt.Sprintf("a%08d", n), T0.Add(time.Duration(n)*time.Minute), topics[n%len(topics)])
			n++
		}
		if _, err := st.PutArticles(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/article")
}

// benchTopicArticles reads one topic's day from 100,000 articles spread
// over 5 topics, one a minute (about 290 articles a query).
func benchTopicArticles(b *testing.B, open Opener) {
	const total, perBatch = 100_000, 5_000
	st := openAt(b, open)
	topics := []string{"t0", "t1", "t2", "t3", "t4"}
	start := T0.Add(-total * time.Minute)
	batch := make([]briefing.Article, 0, perBatch)
	for i := range total {
		batch = append(batch, Article(fmt.Sprintf("a%08d", i), start.Add(time.Duration(i)*time.Minute), topics[i%len(topics)]))
		if len(batch) == perBatch {
			if _, err := st.PutArticles(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	var got int
	for b.Loop() {
		arts, err := st.TopicArticles("t2", T0.Add(-24*time.Hour), T0)
		if err != nil {
			b.Fatal(err)
		}
		got = len(arts)
	}
	if got < 280 || got > 300 {
		b.Fatalf("a day of one topic has %d articles, want about 288", got)
	}
}

// benchClaimSlot claims a new slot, then the same one again (the lost race
// every other replica sees).
func benchClaimSlot(b *testing.B, open Opener) {
	st := openAt(b, open)
	n := 0
	for b.Loop() {
		s := SlotAt("bench", T0.Add(time.Duration(n)*time.Minute))
		n++
		if _, claimed, err := st.ClaimSlot(s, 0); err != nil || !claimed {
			b.Fatalf("claim: %v, %v", claimed, err)
		}
		if _, claimed, err := st.ClaimSlot(s, 0); err != nil || claimed {
			b.Fatalf("second claim: %v, %v", claimed, err)
		}
	}
}
