package postgres

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/briefing-bot/briefing"
)

// PutVote records v, replacing that user's earlier vote on the story in
// its destination.
func (db *DB) PutVote(v briefing.Vote) error {
	if err := briefing.CheckVote(v); err != nil {
		return err
	}
	ctx, cancel := db.call()
	defer cancel()
	_, err := db.pool.Exec(ctx, `INSERT INTO votes (destination, story_id, user_id, cast_at, vote) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (destination, story_id, user_id) DO UPDATE SET cast_at = EXCLUDED.cast_at, vote = EXCLUDED.vote`,
		v.Destination, v.StoryID, v.User, v.At, v)
	if err != nil {
		return fmt.Errorf("store vote of %s on story %s in %s: %w", v.User, v.StoryID, v.Destination, err)
	}
	return nil
}

// Votes returns the destination's votes cast at or after since.
func (db *DB) Votes(destination string, since time.Time) ([]briefing.Vote, error) {
	ctx, cancel := db.call()
	defer cancel()
	rows, _ := db.pool.Query(ctx, `SELECT vote FROM votes WHERE destination = $1 AND cast_at >= $2
		ORDER BY story_id, user_id`, destination, since)
	votes, err := pgx.CollectRows(rows, pgx.RowTo[briefing.Vote])
	if err != nil {
		return nil, fmt.Errorf("read votes of %s: %w", destination, err)
	}
	return votes, nil
}
