-- Readers' votes on the stories of posted briefings: one per user, story
-- and destination, the last one cast.
CREATE TABLE votes (
	destination text NOT NULL,
	story_id    text NOT NULL,
	user_id     text NOT NULL,
	cast_at     timestamptz NOT NULL,
	vote        jsonb NOT NULL,
	PRIMARY KEY (destination, story_id, user_id)
);
CREATE INDEX votes_cast ON votes (destination, cast_at);
