package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
)

// PutVote records v under its destination, story and user, replacing
// that user's earlier vote on the story there.
func (db *DB) PutVote(v briefing.Vote) error {
	if err := briefing.CheckVote(v); err != nil {
		return err
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		votes, err := tx.Bucket(bucketVotes).CreateBucketIfNotExists([]byte(v.Destination))
		if err != nil {
			return err
		}
		return putJSON(votes, []byte(v.StoryID+"\x00"+v.User), v)
	})
	if err != nil {
		return fmt.Errorf("store vote of %s on story %s in %s: %w", v.User, v.StoryID, v.Destination, err)
	}
	return nil
}

// Votes returns the destination's votes cast at or after since.
func (db *DB) Votes(destination string, since time.Time) ([]briefing.Vote, error) {
	var out []briefing.Vote
	err := db.bolt.View(func(tx *bolt.Tx) error {
		votes := tx.Bucket(bucketVotes).Bucket([]byte(destination))
		if votes == nil {
			return nil
		}
		return votes.ForEach(func(k, data []byte) error {
			var v briefing.Vote
			if err := json.Unmarshal(data, &v); err != nil {
				return fmt.Errorf("decode vote %q: %w", k, err)
			}
			if !v.At.Before(since) {
				out = append(out, v)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read votes of %s: %w", destination, err)
	}
	return out, nil
}
