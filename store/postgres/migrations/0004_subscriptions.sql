-- The set-up of a topic a destination made in chat: its times and
-- audience, one per destination and topic.
CREATE TABLE subscriptions (
	destination  text NOT NULL,
	topic        text NOT NULL,
	subscription jsonb NOT NULL,
	PRIMARY KEY (destination, topic)
);
