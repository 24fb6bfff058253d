package postgres

import (
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/briefing-bot/briefing"
)

// PutSubscription records s under its destination and topic.
func (db *DB) PutSubscription(s briefing.Subscription) error {
	if err := briefing.CheckSubscription(s); err != nil {
		return err
	}
	ctx, cancel := db.call()
	defer cancel()
	_, err := db.pool.Exec(ctx, `INSERT INTO subscriptions (destination, topic, subscription) VALUES ($1, $2, $3)
		ON CONFLICT (destination, topic) DO UPDATE SET subscription = EXCLUDED.subscription`, s.Destination, s.Topic, s)
	if err != nil {
		return fmt.Errorf("store subscription of %s to %s: %w", s.Destination, s.Topic, err)
	}
	return nil
}

// DeleteSubscription forgets the destination's subscription to topic.
func (db *DB) DeleteSubscription(destination, topic string) error {
	ctx, cancel := db.call()
	defer cancel()
	if _, err := db.pool.Exec(ctx, `DELETE FROM subscriptions WHERE destination = $1 AND topic = $2`, destination, topic); err != nil {
		return fmt.Errorf("delete subscription of %s to %s: %w", destination, topic, err)
	}
	return nil
}

// Subscriptions returns every subscription, by destination and topic in
// byte order, as bbolt keeps them.
func (db *DB) Subscriptions() ([]briefing.Subscription, error) {
	ctx, cancel := db.call()
	defer cancel()
	rows, _ := db.pool.Query(ctx, `SELECT subscription FROM subscriptions ORDER BY destination COLLATE "C", topic COLLATE "C"`)
	subs, err := pgx.CollectRows(rows, pgx.RowTo[briefing.Subscription])
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	return subs, nil
}
