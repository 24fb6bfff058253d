package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/briefing-bot/briefing"
)

// Feed returns what is known about the feed at url; an unknown feed has a
// zero state with its URL set.
func (db *DB) Feed(url string) (briefing.FeedState, error) {
	ctx, cancel := db.call()
	defer cancel()
	st := briefing.FeedState{URL: url}
	err := db.pool.QueryRow(ctx, `SELECT state FROM feeds WHERE url = $1`, url).Scan(&st)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return briefing.FeedState{}, fmt.Errorf("feed %s: %w", url, err)
	}
	return st, nil
}

// PutFeed stores the state of the feed at st.URL.
func (db *DB) PutFeed(st briefing.FeedState) error {
	if st.URL == "" {
		return briefing.Errorf(briefing.EINVALID, "a feed state needs a URL to be stored")
	}
	ctx, cancel := db.call()
	defer cancel()
	_, err := db.pool.Exec(ctx, `INSERT INTO feeds (url, state) VALUES ($1, $2)
		ON CONFLICT (url) DO UPDATE SET state = EXCLUDED.state`, st.URL, st)
	if err != nil {
		return fmt.Errorf("store feed %s: %w", st.URL, err)
	}
	return nil
}

// ClaimFetch claims the next fetch of the feed at url for lease. The row
// of the feed decides between replicas: one INSERT, or one UPDATE of a
// claim that ran out, succeeds.
func (db *DB) ClaimFetch(url string, lease time.Duration) (bool, error) {
	ctx, cancel := db.call()
	defer cancel()
	now := db.now()
	tag, err := db.pool.Exec(ctx, `INSERT INTO feed_fetches (url, until) VALUES ($1, $2)
		ON CONFLICT (url) DO UPDATE SET until = EXCLUDED.until WHERE feed_fetches.until <= $3`, url, now.Add(lease), now)
	if err != nil {
		return false, fmt.Errorf("claim fetch of %s: %w", url, err)
	}
	return tag.RowsAffected() == 1, nil
}

// PutArticles stores arts in one transaction and returns how many were new.
//
// An article is not new when one with its ID is stored, or one with the same
// fingerprint (the same story syndicated by another feed under another URL);
// its topics are then merged into the stored article, which keeps
// everything else. An article without a Published time gets its Fetched
// time, else now. Replicas storing the same articles at once each see
// every article new at most once between them: the primary key and the
// unique fingerprint decide.
func (db *DB) PutArticles(arts []briefing.Article) (int, error) {
	if err := briefing.CheckArticles(arts); err != nil {
		return 0, err
	}
	ctx, cancel := db.call()
	defer cancel()
	var added int
	err := db.inTx(ctx, func(tx pgx.Tx) (err error) {
		added, err = briefing.PutEach(arts, db.now(), func(a briefing.Article) (bool, error) {
			return putArticle(ctx, tx, a)
		})
		return err
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// putArticle inserts a unless it is known by id or fingerprint, in which
// case it merges a's topics and feeds into the stored article.
func putArticle(ctx context.Context, tx pgx.Tx, a briefing.Article) (bool, error) {
	fingerprint := a.Fingerprint()
	topics, _ := briefing.MergeTopics(nil, a.Topics)
	feeds, _ := briefing.MergeTopics(nil, slices.DeleteFunc(append([]string{a.FeedURL}, a.Feeds...), func(f string) bool { return f == "" }))
	record := a
	record.Topics, record.Feeds = nil, nil
	// Another writer may insert the same article between our look and our
	// insert; the insert then does nothing and the second look finds it.
	for range 2 {
		var stored articleLists
		err := tx.QueryRow(ctx, `SELECT id, published, topics, feeds FROM articles WHERE id = $1 OR fingerprint = $2
			ORDER BY id = $1 DESC LIMIT 1 FOR UPDATE`, a.ID, fingerprint).Scan(&stored.id, &stored.published, &stored.topics, &stored.feeds)
		if err == nil {
			return false, stored.merge(ctx, tx, topics, feeds)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return false, err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO articles (id, fingerprint, published, topics, feeds, article)
			VALUES ($1, $2, $3, coalesce($4, '{}'::text[]), coalesce($5, '{}'::text[]), $6) ON CONFLICT DO NOTHING`, a.ID, fingerprint, a.Published, topics, feeds, record)
		if err != nil {
			return false, err
		}
		if tag.RowsAffected() == 1 {
			return true, index(ctx, tx, a.ID, a.Published, topics, feeds)
		}
	}
	return false, fmt.Errorf("article %s: neither inserted nor found", a.ID)
}

// articleLists is a stored article's topics and feeds.
type articleLists struct {
	id            string
	published     time.Time
	topics, feeds []string
}

// merge adds to the stored article the topics and feeds it lacks.
func (s articleLists) merge(ctx context.Context, tx pgx.Tx, topics, feeds []string) error {
	var newTopics, newFeeds []string
	s.topics, newTopics = briefing.MergeTopics(s.topics, topics)
	s.feeds, newFeeds = briefing.MergeTopics(s.feeds, feeds)
	if len(newTopics) == 0 && len(newFeeds) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE articles SET topics = $2, feeds = $3 WHERE id = $1`, s.id, s.topics, s.feeds); err != nil {
		return err
	}
	return index(ctx, tx, s.id, s.published, newTopics, newFeeds)
}

// index adds the article to the time index of each of topics and feeds.
func index(ctx context.Context, tx pgx.Tx, id string, published time.Time, topics, feeds []string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO topic_articles (topic, published, article_id)
		SELECT unnest($1::text[]), $2, $3 ON CONFLICT DO NOTHING`, topics, published, id); err != nil {
		return fmt.Errorf("topic index: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO feed_articles (feed, published, article_id)
		SELECT unnest($1::text[]), $2, $3 ON CONFLICT DO NOTHING`, feeds, published, id); err != nil {
		return fmt.Errorf("feed index: %w", err)
	}
	return nil
}

// articleColumns are what scanArticle reads, in its order.
const articleColumns = `a.article, a.topics, a.feeds`

func scanArticle(row pgx.CollectableRow) (briefing.Article, error) {
	var a briefing.Article
	err := row.Scan(&a, &a.Topics, &a.Feeds)
	// An empty list reads back as none, as from the bbolt store's JSON.
	if len(a.Topics) == 0 {
		a.Topics = nil
	}
	if len(a.Feeds) == 0 {
		a.Feeds = nil
	}
	return a, err
}

// Article returns the stored article with that id.
func (db *DB) Article(id string) (briefing.Article, error) {
	ctx, cancel := db.call()
	defer cancel()
	rows, _ := db.pool.Query(ctx, `SELECT `+articleColumns+` FROM articles a WHERE a.id = $1`, id)
	a, err := pgx.CollectExactlyOneRow(rows, scanArticle)
	if errors.Is(err, pgx.ErrNoRows) {
		return briefing.Article{}, briefing.Errorf(briefing.ENOTFOUND, "article %s not found", id)
	}
	if err != nil {
		return briefing.Article{}, fmt.Errorf("article %s: %w", id, err)
	}
	return a, nil
}

// TopicArticles returns the articles stored for topic published in
// [since, until), newest first, through the topic's index.
func (db *DB) TopicArticles(topic string, since, until time.Time) ([]briefing.Article, error) {
	return db.articles("articles of topic "+topic, `SELECT `+articleColumns+` FROM topic_articles t JOIN articles a ON a.id = t.article_id
		WHERE t.topic = $1 AND t.published >= $2 AND t.published < $3
		ORDER BY t.published DESC, t.article_id DESC`, topic, since, until)
}

// FeedArticles returns the articles that any of feeds carried, published
// in [since, until), newest first, each once.
func (db *DB) FeedArticles(feeds []string, since, until time.Time) ([]briefing.Article, error) {
	return db.articles("articles of feeds", `SELECT `+articleColumns+` FROM articles a WHERE a.id IN (
			SELECT article_id FROM feed_articles WHERE feed = ANY($1) AND published >= $2 AND published < $3)
		ORDER BY a.published DESC, a.id DESC`, feeds, since, until)
}

func (db *DB) articles(what, query string, args ...any) ([]briefing.Article, error) {
	ctx, cancel := db.call()
	defer cancel()
	rows, _ := db.pool.Query(ctx, query, args...)
	arts, err := pgx.CollectRows(rows, scanArticle)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return arts, nil
}

// pruneStep is one deletion of Prune's second transaction.
type pruneStep struct {
	what, sql string
	args      []any
}

// pruneBatch bounds the articles one pruning transaction deletes, so that
// the first prune of a large store does not hold locks on all of them.
const pruneBatch = 1000

// eventHorizon is how long a delivered event (and a done job's id) is
// remembered: Slack redelivers an unacknowledged envelope within minutes.
const eventHorizon = time.Hour

// Prune deletes what is older than now minus the retention, as the bbolt
// store does: articles with their index rows and told records; slots and
// briefings except each schedule's and topic's newest; threads whose
// briefing is gone and that had no turn since; cache entries written
// before it; and events and done jobs past the event horizon. It returns
// how many articles it deleted. Told records of articles no longer stored
// are forgotten too.
func (db *DB) Prune(now time.Time) (int, error) {
	ctx, cancel := db.call()
	defer cancel()
	cutoff := now.Add(-db.retention)
	var articles int
	for {
		var n int
		err := db.inTx(ctx, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `DELETE FROM articles WHERE id IN (
				SELECT id FROM articles WHERE published < $1 ORDER BY published LIMIT $2)`, cutoff, pruneBatch)
			n = int(tag.RowsAffected())
			return err
		})
		if err != nil {
			return articles, fmt.Errorf("prune store before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		articles += n
		if n < pruneBatch {
			break
		}
	}
	counts := map[string]int64{}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// Briefings go before threads: a thread is kept while its
		// briefing is.
		horizon := now.Add(-eventHorizon)
		steps := []pruneStep{
			{"slots", `DELETE FROM slots s WHERE s.time < $1 AND EXISTS (
				SELECT 1 FROM slots n WHERE n.schedule = s.schedule AND (n.time, n.key) > (s.time, s.key))`, []any{cutoff}},
			{"briefings", `DELETE FROM briefings b WHERE b.generated_at < $1 AND EXISTS (
				SELECT 1 FROM briefings n WHERE n.topic = b.topic AND (n.generated_at, n.id) > (b.generated_at, b.id))`, []any{cutoff}},
			{"threads", `DELETE FROM threads t WHERE (t.last_turn_at IS NULL OR t.last_turn_at < $1)
				AND NOT EXISTS (SELECT 1 FROM briefings b WHERE b.id = t.briefing_id)`, []any{cutoff}},
			{"cache_entries", `DELETE FROM cache WHERE written_at < $1`, []any{cutoff}},
			{"events", `DELETE FROM events WHERE delivered_at < $1`, []any{horizon}},
			{"jobs", `DELETE FROM jobs WHERE done_at IS NOT NULL AND enqueued_at < $1`, []any{horizon}},
		}
		if articles > 0 {
			steps = append(steps, pruneStep{"told", `DELETE FROM told t WHERE NOT EXISTS (
				SELECT 1 FROM articles a WHERE a.id = t.article_id)`, nil})
		}
		for _, step := range steps {
			tag, err := tx.Exec(ctx, step.sql, step.args...)
			if err != nil {
				return fmt.Errorf("%s: %w", step.what, err)
			}
			counts[step.what] = tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return articles, fmt.Errorf("prune store before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	db.log.Info("store pruned", slog.Time("cutoff", cutoff), slog.Int("articles", articles),
		slog.Int64("slots", counts["slots"]), slog.Int64("briefings", counts["briefings"]),
		slog.Int64("threads", counts["threads"]), slog.Int64("cache_entries", counts["cache_entries"]))
	return articles, nil
}
