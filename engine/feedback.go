package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/summarize"
)

var _ briefing.Feedback = (*Engine)(nil)

// Vote records a reader's vote on a story of a briefing posted to
// destination, with the story's publishers and title terms, which the
// destination's later rankings weigh (see summarize.Feedback).
func (e *Engine) Vote(_ context.Context, destination, briefingID, storyID, user string, value int) error {
	if e.opts.Votes == nil {
		return briefing.Errorf(briefing.EINVALID, "This store keeps no votes.")
	}
	b, err := e.opts.Store.Briefing(briefingID)
	if err != nil {
		return fmt.Errorf("vote on briefing %s: %w", briefingID, err)
	}
	for _, s := range b.Stories {
		if s.ID != storyID {
			continue
		}
		v := briefing.Vote{Destination: destination, StoryID: storyID, User: user, Value: value, BriefingID: briefingID,
			Sources: summarize.StorySources(s), Terms: summarize.StoryTerms(s), At: e.now()}
		if err := e.opts.Votes.PutVote(v); err != nil {
			return err
		}
		e.log.Info("vote recorded", slog.String("destination", destination), slog.String("briefing", briefingID),
			slog.String("story", storyID), slog.String("user", user), slog.Int("value", value))
		return nil
	}
	return briefing.Errorf(briefing.ENOTFOUND, "Briefing %s has no story %s.", briefingID, storyID)
}

// feedback is what destination's readers voted until at; without votes,
// or when they cannot be read, the ranking is the topic's alone.
func (e *Engine) feedback(destination string, at time.Time) summarize.Feedback {
	if e.opts.Votes == nil || destination == "" {
		return summarize.Feedback{}
	}
	votes, err := e.opts.Votes.Votes(destination, at.Add(-summarize.FeedbackHorizon))
	if err != nil {
		e.log.Error("read votes; ranking without them", slog.String("destination", destination), slog.Any("error", err))
		return summarize.Feedback{}
	}
	cast := votes[:0]
	for _, v := range votes {
		if !v.At.After(at) {
			cast = append(cast, v)
		}
	}
	return summarize.NewFeedback(cast, at)
}

// Why explains the order of the briefing last posted to destination: one
// line per story with what its score is made of, the votes counted as
// they stood when the briefing was built.
func (e *Engine) Why(_ context.Context, destination string) ([]string, error) {
	var last briefing.Post
	for _, t := range e.opts.Topics {
		p, ok, err := e.opts.Store.LastPost(t.ID, destination)
		if err != nil {
			return nil, fmt.Errorf("last post of %s to %s: %w", t.ID, destination, err)
		}
		if ok && p.At.After(last.At) {
			last = p
		}
	}
	if last.BriefingID == "" {
		return nil, briefing.Errorf(briefing.ENOTFOUND, "No briefing has been posted here yet.")
	}
	b, err := e.opts.Store.Briefing(last.BriefingID)
	if err != nil {
		return nil, fmt.Errorf("briefing %s: %w", last.BriefingID, err)
	}
	topic, err := e.topic(b.Topic)
	if err != nil {
		return nil, err
	}
	fb := e.feedback(destination, b.GeneratedAt)
	lines := make([]string, 0, len(b.Stories))
	for i, s := range b.Stories {
		p := summarize.Explain(s, topic, b.GeneratedAt, fb)
		line := fmt.Sprintf("%d. %s — score %.2f: %d %s, recency %.2f", i+1, s.Title, p.Total(), p.Sources,
			plural(p.Sources, "source", "sources"), p.Recency)
		if p.Keywords != 0 {
			line += fmt.Sprintf(", keywords %+.2f", p.Keywords)
		}
		if p.FeedbackWhy != "" {
			line += fmt.Sprintf(", votes here %+.2f (%s)", p.Feedback, p.FeedbackWhy)
		}
		if s.Update {
			line += ", an update"
		}
		lines = append(lines, line)
	}
	return lines, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
