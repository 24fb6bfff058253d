-- Claims of the next fetch of a feed, so that of the replicas collecting
-- one interval one fetches each feed.
CREATE TABLE feed_fetches (
	url   text PRIMARY KEY,
	until timestamptz NOT NULL
);
