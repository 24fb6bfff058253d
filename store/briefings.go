package store

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
)

// PutBriefing stores b, replacing a stored briefing with its ID. A briefing
// without an ID gets one, set on b once stored, that sorts by time.
func (db *DB) PutBriefing(b *briefing.Briefing) error {
	stored, err := briefing.BriefingToStore(b, db.now())
	if err != nil {
		return err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		briefings, byTopic := tx.Bucket(bucketBriefings), tx.Bucket(bucketTopicBriefings)
		var old briefing.Briefing
		found, err := getJSON(briefings, []byte(stored.ID), &old)
		if err != nil {
			return err
		}
		if found {
			if index := byTopic.Bucket([]byte(old.Topic)); index != nil {
				if err := index.Delete(timeIDKey(old.GeneratedAt, old.ID)); err != nil {
					return fmt.Errorf("topic %s index: %w", old.Topic, err)
				}
			}
		}
		if err := putJSON(briefings, []byte(stored.ID), stored); err != nil {
			return err
		}
		index, err := nested(byTopic, stored.Topic)
		if err != nil {
			return err
		}
		return index.Put(timeIDKey(stored.GeneratedAt, stored.ID), nil)
	})
	if err != nil {
		return fmt.Errorf("store briefing %s: %w", stored.ID, err)
	}
	b.ID = stored.ID
	return nil
}

// Briefing returns the stored briefing with that id.
func (db *DB) Briefing(id string) (*briefing.Briefing, error) {
	var b *briefing.Briefing
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		b, err = getBriefing(tx, id)
		return err
	})
	return b, err
}

// LatestBriefing returns the topic's briefing generated last.
func (db *DB) LatestBriefing(topic string) (*briefing.Briefing, error) {
	var b *briefing.Briefing
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		var last []byte
		if index := tx.Bucket(bucketTopicBriefings).Bucket([]byte(topic)); index != nil {
			last, _ = index.Cursor().Last()
		}
		if last == nil {
			return briefing.Errorf(briefing.ENOTFOUND, "there is no briefing of topic %s yet", topic)
		}
		b, err = getBriefing(tx, string(last[timeKeyLen:]))
		return err
	})
	return b, err
}

func getBriefing(tx *bolt.Tx, id string) (*briefing.Briefing, error) {
	var b briefing.Briefing
	if err := getExisting(tx.Bucket(bucketBriefings), "briefing", id, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// deleteBriefingsBefore deletes the briefings generated before cutoff,
// except each topic's newest, which follow-up questions about the topic
// fall back on. It returns how many it deleted.
func deleteBriefingsBefore(tx *bolt.Tx, cutoff time.Time) (int, error) {
	return deleteIndexedBefore(tx.Bucket(bucketBriefings), tx.Bucket(bucketTopicBriefings), cutoff)
}

// RecordTold remembers every article of b's stories as told to
// p.Destination in b.Topic, and p as the topic's latest post there. Call it
// when b is posted, never for a preview. p.Topic, p.BriefingID and p.At
// default to b's topic, id and the store's clock.
func (db *DB) RecordTold(b *briefing.Briefing, p briefing.Post) error {
	p, err := briefing.PostToRecord(b, p, db.now())
	if err != nil {
		return err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		told, err := nestedPath(tx.Bucket(bucketToldTo), b.Topic, p.Destination)
		if err != nil {
			return err
		}
		for _, s := range b.Stories {
			for _, a := range s.Articles {
				if err := told.Put([]byte(a.ID), []byte(b.ID)); err != nil {
					return fmt.Errorf("article %s: %w", a.ID, err)
				}
			}
		}
		posts, err := nested(tx.Bucket(bucketLastPosts), b.Topic)
		if err != nil {
			return err
		}
		return putJSON(posts, []byte(p.Destination), p)
	})
	if err != nil {
		return fmt.Errorf("record briefing %s as told to %s: %w", b.ID, p.Destination, err)
	}
	return nil
}

// Told returns the ids of the articles of topic told to destination.
func (db *DB) Told(topic, destination string) (map[string]bool, error) {
	told := make(map[string]bool)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketToldTo).Bucket([]byte(topic))
		if b != nil {
			b = b.Bucket([]byte(destination))
		}
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			told[string(k)] = true
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("told of %s to %s: %w", topic, destination, err)
	}
	return told, nil
}

// LastPost returns the latest post of topic to destination, if any.
func (db *DB) LastPost(topic, destination string) (briefing.Post, bool, error) {
	var p briefing.Post
	var found bool
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		if posts := tx.Bucket(bucketLastPosts).Bucket([]byte(topic)); posts != nil {
			found, err = getJSON(posts, []byte(destination), &p)
		}
		return err
	})
	if err != nil {
		return briefing.Post{}, false, fmt.Errorf("last post of %s to %s: %w", topic, destination, err)
	}
	return p, found, nil
}

// deleteToldOfMissing forgets the told records of articles no longer
// stored. It walks every record once, which is cheaper than looking for
// each deleted article under every topic and destination.
func deleteToldOfMissing(tx *bolt.Tx) error {
	articles := tx.Bucket(bucketArticles)
	return forEachNested(tx.Bucket(bucketToldTo), func(topic *bolt.Bucket) error {
		return forEachNested(topic, func(told *bolt.Bucket) error {
			var gone [][]byte
			if err := told.ForEach(func(k, _ []byte) error {
				if articles.Get(k) == nil {
					gone = append(gone, bytes.Clone(k))
				}
				return nil
			}); err != nil {
				return err
			}
			for _, k := range gone {
				if err := told.Delete(k); err != nil {
					return fmt.Errorf("told %s: %w", k, err)
				}
			}
			return nil
		})
	})
}
