-- The first schema. Records are JSON as the bbolt store keeps them, so that
-- both backends return exactly what they were given; the columns beside
-- them are what queries select, order and constrain by.

CREATE TABLE feeds (
	url   text PRIMARY KEY,
	state jsonb NOT NULL
);

-- An article's topics and feeds live in columns, not in its JSON, so that
-- merging them touches one place.
CREATE TABLE articles (
	id          text PRIMARY KEY,
	fingerprint bytea UNIQUE,
	published   timestamptz NOT NULL,
	topics      text[] NOT NULL,
	feeds       text[] NOT NULL,
	article     jsonb NOT NULL
);
CREATE INDEX articles_published ON articles (published);

CREATE TABLE topic_articles (
	topic      text NOT NULL,
	published  timestamptz NOT NULL,
	article_id text NOT NULL REFERENCES articles ON DELETE CASCADE,
	PRIMARY KEY (topic, published, article_id)
);
CREATE INDEX topic_articles_article ON topic_articles (article_id);

-- Topics select articles by feed, so that a feed added to a topic brings
-- what is stored of it.
CREATE TABLE feed_articles (
	feed       text NOT NULL,
	published  timestamptz NOT NULL,
	article_id text NOT NULL REFERENCES articles ON DELETE CASCADE,
	PRIMARY KEY (feed, published, article_id)
);
CREATE INDEX feed_articles_article ON feed_articles (article_id);

CREATE TABLE briefings (
	id           text PRIMARY KEY,
	topic        text NOT NULL,
	generated_at timestamptz NOT NULL,
	briefing     jsonb NOT NULL
);
CREATE INDEX briefings_topic ON briefings (topic, generated_at, id);

-- What was told is kept per destination (a Slack channel, a Teams
-- conversation, a webhook). told has no foreign key: a posted briefing may
-- tell an article that is gone since; pruning forgets those rows.
CREATE TABLE told (
	topic       text NOT NULL,
	destination text NOT NULL,
	article_id  text NOT NULL,
	briefing_id text NOT NULL,
	PRIMARY KEY (topic, destination, article_id)
);
CREATE INDEX told_article ON told (article_id);

CREATE TABLE last_posts (
	topic       text NOT NULL,
	destination text NOT NULL,
	post        jsonb NOT NULL,
	PRIMARY KEY (topic, destination)
);

CREATE TABLE cache (
	key        text PRIMARY KEY,
	value      bytea NOT NULL,
	written_at timestamptz NOT NULL
);
CREATE INDEX cache_written ON cache (written_at);

-- The primary key is the ledger's exactly-once: of any number of replicas
-- claiming a slot, one INSERT succeeds.
CREATE TABLE slots (
	key      text PRIMARY KEY,
	schedule text NOT NULL,
	time     timestamptz NOT NULL,
	slot     jsonb NOT NULL
);
CREATE INDEX slots_schedule ON slots (schedule, time, key);

CREATE TABLE threads (
	key          text PRIMARY KEY,
	briefing_id  text NOT NULL,
	last_turn_at timestamptz,
	thread       jsonb NOT NULL
);

-- Likewise first delivery: one INSERT wins per event id.
CREATE TABLE events (
	id           text PRIMARY KEY,
	delivered_at timestamptz NOT NULL
);
CREATE INDEX events_delivered ON events (delivered_at);

CREATE TABLE jobs (
	id          text PRIMARY KEY,
	kind        text NOT NULL,
	payload     bytea,
	progress    bytea,
	attempts    integer NOT NULL,
	enqueued_at timestamptz NOT NULL,
	lease_until timestamptz NOT NULL,
	done_at     timestamptz
);
CREATE INDEX jobs_pending ON jobs (kind, enqueued_at, id) WHERE done_at IS NULL;
