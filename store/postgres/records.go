package postgres

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/briefing-bot/briefing"
)

// PutBriefing stores b, replacing a stored briefing with its ID. A briefing
// without an ID gets one, set on b once stored, that sorts by time.
func (db *DB) PutBriefing(b *briefing.Briefing) error {
	stored, err := briefing.BriefingToStore(b, db.now())
	if err != nil {
		return err
	}
	ctx, cancel := db.call()
	defer cancel()
	_, err = db.pool.Exec(ctx, `INSERT INTO briefings (id, topic, generated_at, briefing) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET topic = EXCLUDED.topic, generated_at = EXCLUDED.generated_at, briefing = EXCLUDED.briefing`,
		stored.ID, stored.Topic, stored.GeneratedAt, stored)
	if err != nil {
		return fmt.Errorf("store briefing %s: %w", stored.ID, err)
	}
	b.ID = stored.ID
	return nil
}

// Briefing returns the stored briefing with that id.
func (db *DB) Briefing(id string) (*briefing.Briefing, error) {
	return db.briefing(`SELECT briefing FROM briefings WHERE id = $1`, id, "briefing %s not found")
}

// LatestBriefing returns the topic's briefing generated last.
func (db *DB) LatestBriefing(topic string) (*briefing.Briefing, error) {
	return db.briefing(`SELECT briefing FROM briefings WHERE topic = $1 ORDER BY generated_at DESC, id DESC LIMIT 1`,
		topic, "there is no briefing of topic %s yet")
}

// briefing reads the one briefing query selects with arg; none is an
// ENOTFOUND error saying missing about arg.
func (db *DB) briefing(query, arg, missing string) (*briefing.Briefing, error) {
	ctx, cancel := db.call()
	defer cancel()
	var b briefing.Briefing
	err := db.pool.QueryRow(ctx, query, arg).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, briefing.Errorf(briefing.ENOTFOUND, missing, arg)
	}
	if err != nil {
		return nil, fmt.Errorf("briefing %s: %w", arg, err)
	}
	return &b, nil
}

// RecordTold remembers every article of b's stories as told to
// p.Destination in b.Topic, and p as the topic's latest post there.
func (db *DB) RecordTold(b *briefing.Briefing, p briefing.Post) error {
	p, err := briefing.PostToRecord(b, p, db.now())
	if err != nil {
		return err
	}
	var ids []string
	for _, s := range b.Stories {
		for _, a := range s.Articles {
			ids = append(ids, a.ID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids) // one statement may not update a row twice
	ctx, cancel := db.call()
	defer cancel()
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO told (topic, destination, article_id, briefing_id)
			SELECT $1, $2, unnest($3::text[]), $4
			ON CONFLICT (topic, destination, article_id) DO UPDATE SET briefing_id = EXCLUDED.briefing_id`,
			b.Topic, p.Destination, ids, b.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO last_posts (topic, destination, post) VALUES ($1, $2, $3)
			ON CONFLICT (topic, destination) DO UPDATE SET post = EXCLUDED.post`, b.Topic, p.Destination, p)
		return err
	})
	if err != nil {
		return fmt.Errorf("record briefing %s as told to %s: %w", b.ID, p.Destination, err)
	}
	return nil
}

// Told returns the ids of the articles of topic told to destination.
func (db *DB) Told(topic, destination string) (map[string]bool, error) {
	ctx, cancel := db.call()
	defer cancel()
	rows, _ := db.pool.Query(ctx, `SELECT article_id FROM told WHERE topic = $1 AND destination = $2`, topic, destination)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("told of %s to %s: %w", topic, destination, err)
	}
	told := make(map[string]bool, len(ids))
	for _, id := range ids {
		told[id] = true
	}
	return told, nil
}

// LastPost returns the latest post of topic to destination, if any.
func (db *DB) LastPost(topic, destination string) (briefing.Post, bool, error) {
	ctx, cancel := db.call()
	defer cancel()
	var p briefing.Post
	err := db.pool.QueryRow(ctx, `SELECT post FROM last_posts WHERE topic = $1 AND destination = $2`, topic, destination).Scan(&p)
	if errors.Is(err, pgx.ErrNoRows) {
		return briefing.Post{}, false, nil
	}
	if err != nil {
		return briefing.Post{}, false, fmt.Errorf("last post of %s to %s: %w", topic, destination, err)
	}
	return p, true, nil
}

// Get returns the cached value of key and whether there is one.
func (db *DB) Get(key string) ([]byte, bool, error) {
	ctx, cancel := db.call()
	defer cancel()
	var value []byte
	err := db.pool.QueryRow(ctx, `SELECT value FROM cache WHERE key = $1`, key).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cache get %s: %w", key, err)
	}
	if value == nil {
		value = []byte{}
	}
	return value, true, nil
}

// Put caches value under key, replacing what was there.
func (db *DB) Put(key string, value []byte) error {
	if key == "" {
		return briefing.Errorf(briefing.EINVALID, "a cache key is empty")
	}
	if value == nil {
		value = []byte{} // the column is NOT NULL; nil and empty read back alike
	}
	ctx, cancel := db.call()
	defer cancel()
	_, err := db.pool.Exec(ctx, `INSERT INTO cache (key, value, written_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, written_at = EXCLUDED.written_at`, key, value, db.now())
	if err != nil {
		return fmt.Errorf("cache put %s: %w", key, err)
	}
	return nil
}

// PutThread stores t under t.Key, replacing what was there.
func (db *DB) PutThread(t briefing.Thread) error {
	if t.Key == "" {
		return briefing.Errorf(briefing.EINVALID, "a thread needs a key to be stored")
	}
	ctx, cancel := db.call()
	defer cancel()
	_, err := db.pool.Exec(ctx, `INSERT INTO threads (key, briefing_id, last_turn_at, thread) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key) DO UPDATE SET briefing_id = EXCLUDED.briefing_id, last_turn_at = EXCLUDED.last_turn_at, thread = EXCLUDED.thread`,
		t.Key, t.BriefingID, lastTurnAt(t.Turns), t)
	if err != nil {
		return fmt.Errorf("store thread %s: %w", t.Key, err)
	}
	return nil
}

// lastTurnAt is when the last turn was asked; nil (SQL NULL) for none.
func lastTurnAt(turns []briefing.Turn) *time.Time {
	if len(turns) == 0 {
		return nil
	}
	return &turns[len(turns)-1].At
}

// Thread returns the thread stored under key, if any.
func (db *DB) Thread(key string) (briefing.Thread, bool, error) {
	ctx, cancel := db.call()
	defer cancel()
	var t briefing.Thread
	err := db.pool.QueryRow(ctx, `SELECT thread FROM threads WHERE key = $1`, key).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) {
		return briefing.Thread{}, false, nil
	}
	if err != nil {
		return briefing.Thread{}, false, fmt.Errorf("thread %s: %w", key, err)
	}
	return t, true, nil
}

// AppendTurn adds a turn to a stored thread. The append is one statement,
// so turns appended at once by replicas are all kept.
func (db *DB) AppendTurn(key string, turn briefing.Turn) error {
	ctx, cancel := db.call()
	defer cancel()
	tag, err := db.pool.Exec(ctx, `UPDATE threads SET last_turn_at = $3,
		thread = jsonb_set(thread, '{turns}', coalesce(nullif(thread->'turns', 'null'::jsonb), '[]'::jsonb) || jsonb_build_array($2::jsonb))
		WHERE key = $1`, key, turn, turn.At)
	if err != nil {
		return fmt.Errorf("append to thread %s: %w", key, err)
	}
	if tag.RowsAffected() == 0 {
		return briefing.Errorf(briefing.ENOTFOUND, "thread %s not found", key)
	}
	return nil
}

// FirstDelivery reports whether the event id is delivered for the first
// time in the last hour, and records it. The primary key decides between
// replicas receiving the same event; an event older than the hour is
// taken as new again.
func (db *DB) FirstDelivery(id string, now time.Time) (bool, error) {
	if id == "" {
		return false, briefing.Errorf(briefing.EINVALID, "an event needs an id")
	}
	ctx, cancel := db.call()
	defer cancel()
	tag, err := db.pool.Exec(ctx, `INSERT INTO events (id, delivered_at) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET delivered_at = EXCLUDED.delivered_at WHERE events.delivered_at < $3`,
		id, now, now.Add(-eventHorizon))
	if err != nil {
		return false, fmt.Errorf("record event %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}
