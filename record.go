package briefing

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// The rules every Store applies to what it is given, so that the backends
// agree on what is the same article and what is stored at all.

// CheckArticles rejects a batch in which an article has no id or an empty
// topic: the whole batch, so that a bad item never half-stores a feed.
func CheckArticles(arts []Article) error {
	for i, a := range arts {
		if a.ID == "" {
			return Errorf(EINVALID, "article %d (%s) has no id", i, a.URL)
		}
		if slices.Contains(a.Topics, "") {
			return Errorf(EINVALID, "article %s has an empty topic", a.ID)
		}
	}
	return nil
}

// Fingerprint identifies an article's words, ignoring case, punctuation
// and spacing, so that a story syndicated under several URLs is stored once.
// An article without text has none (nil): titles alone ("Weekly roundup")
// are too often shared by different stories, and a missed duplicate costs
// less than a lost article.
func (a Article) Fingerprint() []byte {
	text := normaliseWords(a.Text)
	if text == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(normaliseWords(a.Title) + "\n" + text))
	return sum[:]
}

// normaliseWords lower-cases s and keeps its letters and digits, with one
// space between runs of them.
func normaliseWords(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			gap = true
			continue
		}
		if gap && b.Len() > 0 {
			b.WriteByte(' ')
		}
		gap = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// MergeTopics appends to have each of topics it lacks, once, and returns
// the result and what it added.
func MergeTopics(have, topics []string) (merged, added []string) {
	for _, t := range topics {
		if !slices.Contains(have, t) {
			have = append(have, t)
			added = append(added, t)
		}
	}
	return have, added
}

// Dated returns a dated as a store keeps it: by its Published time, else
// its Fetched time, else now.
func (a Article) Dated(now time.Time) Article {
	if a.Published.IsZero() {
		a.Published = a.Fetched
	}
	if a.Published.IsZero() {
		a.Published = now
	}
	return a
}

// PutEach dates each article (see Dated) and has put store it, within the
// caller's transaction; it returns how many put found new, or put's first
// error.
func PutEach(arts []Article, now time.Time, put func(Article) (bool, error)) (int, error) {
	added := 0
	for _, a := range arts {
		isNew, err := put(a.Dated(now))
		if err != nil {
			return 0, fmt.Errorf("store article %s: %w", a.ID, err)
		}
		if isNew {
			added++
		}
	}
	return added, nil
}

// ClaimOver decides a claim of want for lease as every Ledger does, given
// what is stored under its key (found says whether anything is): it
// returns the slot to store and return, and whether the claim is won.
// gone says that the stored claim's holder is known to have ended.
func ClaimOver(stored Slot, found bool, want Slot, lease time.Duration, now time.Time, gone bool) (Slot, bool) {
	if lease > 0 {
		want.LeaseUntil = now.Add(lease)
	} else {
		want.LeaseUntil = time.Time{}
	}
	if !found {
		want.State, want.UpdatedAt, want.Attempts = SlotClaimed, now, 1
		return want, true
	}
	leaseOver := !stored.LeaseUntil.IsZero() && !stored.LeaseUntil.After(now)
	if stored.State != SlotClaimed || !(gone || leaseOver) {
		return stored, false
	}
	stored.LeaseUntil, stored.UpdatedAt = want.LeaseUntil, now
	stored.Attempts++
	return stored, true
}

// CheckVote rejects a vote without a destination, story or user, or of a
// value other than +1 and -1.
func CheckVote(v Vote) error {
	if v.Destination == "" || v.StoryID == "" || v.User == "" {
		return Errorf(EINVALID, "a vote needs a destination, a story and a user")
	}
	if v.Value != 1 && v.Value != -1 {
		return Errorf(EINVALID, "a vote is +1 or -1, not %d", v.Value)
	}
	return nil
}

// CheckSubscription rejects a subscription without a destination or topic.
func CheckSubscription(s Subscription) error {
	if s.Destination == "" || s.Topic == "" {
		return Errorf(EINVALID, "a subscription needs a destination and a topic")
	}
	return nil
}

// EndLease returns the update that ends a claimed slot's lease at now and
// leaves a done slot alone, for ReleaseSlot.
func EndLease(now time.Time) func(*Slot) {
	return func(s *Slot) {
		if s.State == SlotClaimed {
			s.LeaseUntil = now
		}
	}
}

// PostToRecord returns the post of b a store records as told: b must have
// a topic and p a destination; p's topic, briefing id and time default to
// b's topic, b's id and now.
func PostToRecord(b *Briefing, p Post, now time.Time) (Post, error) {
	if b == nil || b.Topic == "" {
		return Post{}, Errorf(EINVALID, "a briefing needs a topic to be remembered")
	}
	if p.Destination == "" {
		return Post{}, Errorf(EINVALID, "briefing %s: a post needs a destination to be remembered", b.ID)
	}
	if p.Topic == "" {
		p.Topic = b.Topic
	}
	if p.BriefingID == "" {
		p.BriefingID = b.ID
	}
	if p.At.IsZero() {
		p.At = now
	}
	return p, nil
}

// BriefingToStore returns the copy of b a store keeps. b must have a
// topic; one without an ID gets one that sorts by time (its GeneratedAt,
// else now), which the store sets on b once stored.
func BriefingToStore(b *Briefing, now time.Time) (Briefing, error) {
	if b == nil || b.Topic == "" {
		return Briefing{}, Errorf(EINVALID, "a briefing needs a topic to be stored")
	}
	stored := *b
	if stored.ID == "" {
		at := stored.GeneratedAt
		if at.IsZero() {
			at = now
		}
		id, err := newBriefingID(at)
		if err != nil {
			return Briefing{}, err
		}
		stored.ID = id
	}
	return stored, nil
}

// newBriefingID returns an id that sorts by time to the millisecond, with a
// random suffix for briefings of the same moment.
func newBriefingID(at time.Time) (string, error) {
	var suffix [4]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return "", fmt.Errorf("briefing id: %w", err)
	}
	return at.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(suffix[:]), nil
}
