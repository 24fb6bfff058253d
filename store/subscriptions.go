package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
)

func subscriptionKey(destination, topic string) []byte { return []byte(destination + "\x00" + topic) }

// PutSubscription records s under its destination and topic.
func (db *DB) PutSubscription(s briefing.Subscription) error {
	if err := briefing.CheckSubscription(s); err != nil {
		return err
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketSubscriptions), subscriptionKey(s.Destination, s.Topic), s)
	})
	if err != nil {
		return fmt.Errorf("store subscription of %s to %s: %w", s.Destination, s.Topic, err)
	}
	return nil
}

// DeleteSubscription forgets the destination's subscription to topic.
func (db *DB) DeleteSubscription(destination, topic string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubscriptions).Delete(subscriptionKey(destination, topic))
	})
	if err != nil {
		return fmt.Errorf("delete subscription of %s to %s: %w", destination, topic, err)
	}
	return nil
}

// Subscriptions returns every subscription, by destination and topic.
func (db *DB) Subscriptions() ([]briefing.Subscription, error) {
	var out []briefing.Subscription
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubscriptions).ForEach(func(k, v []byte) error {
			var s briefing.Subscription
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("decode subscription %q: %w", k, err)
			}
			out = append(out, s)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	return out, nil
}
