package store

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/briefing-bot/briefing"
)

// Feed returns what is known about the feed at url; an unknown feed has a
// zero state with its URL set.
func (db *DB) Feed(url string) (briefing.FeedState, error) {
	st, found, err := lookup[briefing.FeedState](db, bucketFeeds, "feed", url)
	if err != nil {
		return briefing.FeedState{}, err
	}
	if !found {
		st.URL = url
	}
	return st, nil
}

// PutFeed stores the state of the feed at st.URL.
func (db *DB) PutFeed(st briefing.FeedState) error {
	if st.URL == "" {
		return briefing.Errorf(briefing.EINVALID, "a feed state needs a URL to be stored")
	}
	return db.putRecord(bucketFeeds, "feed", st.URL, st)
}

// PutArticles stores arts in one transaction and returns how many were new.
//
// An article is not new when one with its ID is stored, or one with the same
// content (the same story syndicated by another feed under another URL); its
// topics are then merged into the stored article, which keeps everything
// else. An article without a Published time gets its Fetched time, else now.
func (db *DB) PutArticles(arts []briefing.Article) (int, error) {
	if err := briefing.CheckArticles(arts); err != nil {
		return 0, err
	}
	var added int
	err := db.bolt.Update(func(tx *bolt.Tx) (err error) {
		added, err = briefing.PutEach(arts, db.now(), articleBuckets(tx).put)
		return err
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// fetchClaims are claimed feed fetches: feed URL → end of the claim.
type fetchClaims struct {
	mu    sync.Mutex
	until map[string]time.Time
}

// ClaimFetch claims the next fetch of the feed at url for lease.
func (db *DB) ClaimFetch(url string, lease time.Duration) (bool, error) {
	now := db.now()
	db.fetches.mu.Lock()
	defer db.fetches.mu.Unlock()
	if db.fetches.until[url].After(now) {
		return false, nil
	}
	if db.fetches.until == nil {
		db.fetches.until = map[string]time.Time{}
	}
	db.fetches.until[url] = now.Add(lease)
	return true, nil
}

// Article returns the stored article with that id.
func (db *DB) Article(id string) (briefing.Article, error) {
	var a briefing.Article
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return getExisting(tx.Bucket(bucketArticles), "article", id, &a)
	})
	return a, err
}

// TopicArticles returns the articles stored for topic (those whose Topics
// name it) published in [since, until), newest first. It walks the topic's
// time index from until backwards, so its cost grows with the window, not
// with the store.
func (db *DB) TopicArticles(topic string, since, until time.Time) ([]briefing.Article, error) {
	var arts []briefing.Article
	err := db.bolt.View(func(tx *bolt.Tx) error {
		s := articleBuckets(tx)
		return s.walkBack(s.topics.Bucket([]byte(topic)), since, until, func(a briefing.Article) {
			arts = append(arts, a)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("articles of topic %s: %w", topic, err)
	}
	return arts, nil
}

// FeedArticles returns the articles that any of feeds carried, published
// in [since, until), newest first, each once. A topic reads its articles
// this way, so a feed added to a topic brings what the store has of it.
func (db *DB) FeedArticles(feeds []string, since, until time.Time) ([]briefing.Article, error) {
	var arts []briefing.Article
	seen := map[string]bool{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		s := articleBuckets(tx)
		for _, feed := range feeds {
			if feed == "" {
				continue
			}
			err := s.walkBack(s.feeds.Bucket([]byte(feed)), since, until, func(a briefing.Article) {
				if !seen[a.ID] {
					seen[a.ID] = true
					arts = append(arts, a)
				}
			})
			if err != nil {
				return fmt.Errorf("feed %s: %w", feed, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("articles of feeds: %w", err)
	}
	slices.SortStableFunc(arts, func(a, b briefing.Article) int { return b.Published.Compare(a.Published) })
	return arts, nil
}

// walkBack calls fn with each article of a time index (timeKey+id keys)
// published in [since, until), newest first. A nil index has none.
func (s articleTx) walkBack(index *bolt.Bucket, since, until time.Time, fn func(briefing.Article)) error {
	if index == nil {
		return nil
	}
	low := timeKey(since)
	c := index.Cursor()
	k, _ := c.Seek(timeKey(until))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.Compare(k, low) >= 0; k, _ = c.Prev() {
		id := string(k[timeKeyLen:])
		var a briefing.Article
		found, err := s.get(id, &a)
		if err != nil {
			return fmt.Errorf("article %s: %w", id, err)
		}
		if !found {
			return fmt.Errorf("index names article %s, which is not stored", id)
		}
		fn(a)
	}
	return nil
}

// CountArticles returns how many articles are stored.
func (db *DB) CountArticles() (int, error) {
	var n int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketArticles).Stats().KeyN
		return nil
	})
	return n, err
}

// pruneBatch bounds the articles one pruning transaction deletes: the
// first prune of a large store would otherwise hold every page it dirties
// in memory and keep writers waiting until it is done. Each batch deletes
// its articles with everything that refers to them, so a crash between
// batches leaves a consistent file.
const pruneBatch = 1000

// Prune deletes what is older than now minus the retention: the articles
// published before it, with their index entries and the memory of having
// told them anywhere; the schedule slots and briefings before it, except each
// schedule's and topic's newest; the threads whose briefing is gone and
// that had no turn since; and the cache entries written before it. It
// returns how many articles it deleted.
func (db *DB) Prune(now time.Time) (int, error) {
	cutoff := now.Add(-db.retention)
	var articles, slots, briefings, threads, cached int
	for {
		var n int
		err := db.bolt.Update(func(tx *bolt.Tx) (err error) {
			n, err = articleBuckets(tx).deleteBefore(cutoff, pruneBatch)
			return err
		})
		articles += n
		if err != nil {
			return articles, fmt.Errorf("prune store before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		if n < pruneBatch {
			break
		}
	}
	err := db.bolt.Update(func(tx *bolt.Tx) (err error) {
		if articles > 0 {
			if err := deleteToldOfMissing(tx); err != nil {
				return fmt.Errorf("forget told articles: %w", err)
			}
		}
		if slots, err = deleteSlotsBefore(tx, cutoff); err != nil {
			return err
		}
		// Briefings go before threads: a thread is kept while its
		// briefing is.
		if briefings, err = deleteBriefingsBefore(tx, cutoff); err != nil {
			return err
		}
		if threads, err = deleteThreadsBefore(tx, cutoff); err != nil {
			return err
		}
		cached, err = deleteCacheBefore(tx, cutoff)
		return err
	})
	if err != nil {
		return articles, fmt.Errorf("prune store before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	db.log.Info("store pruned", slog.Time("cutoff", cutoff), slog.Int("articles", articles),
		slog.Int("slots", slots), slog.Int("briefings", briefings), slog.Int("threads", threads),
		slog.Int("cache_entries", cached))
	return articles, nil
}

// articleTx is the buckets articles live in, within one transaction.
type articleTx struct {
	articles  *bolt.Bucket
	content   *bolt.Bucket
	published *bolt.Bucket
	topics    *bolt.Bucket
	feeds     *bolt.Bucket
}

func articleBuckets(tx *bolt.Tx) articleTx {
	return articleTx{
		articles:  tx.Bucket(bucketArticles),
		content:   tx.Bucket(bucketArticleContent),
		published: tx.Bucket(bucketPublished),
		topics:    tx.Bucket(bucketTopicArticles),
		feeds:     tx.Bucket(bucketFeedArticles),
	}
}

func (s articleTx) get(id string, a *briefing.Article) (bool, error) {
	return getJSON(s.articles, []byte(id), a)
}

// put stores a unless it is known by id or content, in which case it merges
// a's topics and feed into the stored article. It reports whether a was new.
func (s articleTx) put(a briefing.Article) (bool, error) {
	var stored briefing.Article
	found, err := s.get(a.ID, &stored)
	if err != nil {
		return false, err
	}
	hash := a.Fingerprint()
	if !found && hash != nil {
		if id := s.content.Get(hash); id != nil {
			if found, err = s.get(string(id), &stored); err != nil {
				return false, err
			}
		}
	}
	// Feeds name index buckets, which cannot be empty.
	feeds := slices.DeleteFunc(append([]string{a.FeedURL}, a.Feeds...), func(f string) bool { return f == "" })
	if found {
		return false, s.merge(stored, a.Topics, feeds)
	}
	a.Topics, _ = briefing.MergeTopics(nil, a.Topics)
	a.Feeds, _ = briefing.MergeTopics(nil, feeds)
	if err := putJSON(s.articles, []byte(a.ID), a); err != nil {
		return false, err
	}
	if hash != nil {
		if err := s.content.Put(hash, []byte(a.ID)); err != nil {
			return false, fmt.Errorf("content index: %w", err)
		}
	}
	if err := s.published.Put(timeIDKey(a.Published, a.ID), nil); err != nil {
		return false, fmt.Errorf("published index: %w", err)
	}
	return true, s.index(a, a.Topics, a.Feeds)
}

// merge adds to the stored article the topics and feeds it lacks.
func (s articleTx) merge(stored briefing.Article, topics, feeds []string) error {
	var newTopics, newFeeds []string
	stored.Topics, newTopics = briefing.MergeTopics(stored.Topics, topics)
	stored.Feeds, newFeeds = briefing.MergeTopics(stored.Feeds, feeds)
	if len(newTopics) == 0 && len(newFeeds) == 0 {
		return nil
	}
	if err := putJSON(s.articles, []byte(stored.ID), stored); err != nil {
		return err
	}
	return s.index(stored, newTopics, newFeeds)
}

// index adds a to the time index of each of topics and feeds.
func (s articleTx) index(a briefing.Article, topics, feeds []string) error {
	key := timeIDKey(a.Published, a.ID)
	return s.eachIndex(topics, feeds, func(parent *bolt.Bucket, name string) error {
		b, err := nested(parent, name)
		if err != nil {
			return err
		}
		return b.Put(key, nil)
	})
}

// eachIndex calls fn with the parent bucket of each topic's and each feed's
// time index, and the name of the index in it.
func (s articleTx) eachIndex(topics, feeds []string, fn func(parent *bolt.Bucket, name string) error) error {
	for _, name := range topics {
		if err := fn(s.topics, name); err != nil {
			return fmt.Errorf("topic %s index: %w", name, err)
		}
	}
	for _, name := range feeds {
		if err := fn(s.feeds, name); err != nil {
			return fmt.Errorf("feed %s index: %w", name, err)
		}
	}
	return nil
}

// deleteBefore deletes up to limit of the articles published before cutoff,
// oldest first, and everything that refers to them, and returns how many
// it deleted.
func (s articleTx) deleteBefore(cutoff time.Time, limit int) (int, error) {
	keys := keysBefore(s.published, timeKey(cutoff), limit)
	for _, k := range keys {
		if err := s.delete(string(k[timeKeyLen:])); err != nil {
			return 0, err
		}
		if err := s.published.Delete(k); err != nil {
			return 0, fmt.Errorf("published index: %w", err)
		}
	}
	return len(keys), nil
}

func (s articleTx) delete(id string) error {
	var a briefing.Article
	found, err := s.get(id, &a)
	if err != nil || !found {
		return err
	}
	if hash := a.Fingerprint(); hash != nil && bytes.Equal(s.content.Get(hash), []byte(id)) {
		if err := s.content.Delete(hash); err != nil {
			return fmt.Errorf("content index: %w", err)
		}
	}
	key := timeIDKey(a.Published, id)
	err = s.eachIndex(a.Topics, a.Feeds, func(parent *bolt.Bucket, name string) error {
		if b := parent.Bucket([]byte(name)); b != nil {
			return b.Delete(key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.articles.Delete([]byte(id)); err != nil {
		return fmt.Errorf("delete article %s: %w", id, err)
	}
	return nil
}

// indexArticlesByFeed gives every stored article its feed and the feed
// index entry, for a file written before articles had them.
func indexArticlesByFeed(tx *bolt.Tx) error {
	s := articleBuckets(tx)
	var arts []briefing.Article
	if err := s.articles.ForEach(func(k, v []byte) error {
		var a briefing.Article
		if _, err := getJSON(s.articles, k, &a); err != nil {
			return err
		}
		if a.FeedURL != "" && !slices.Contains(a.Feeds, a.FeedURL) {
			arts = append(arts, a)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, a := range arts {
		if err := s.merge(a, nil, []string{a.FeedURL}); err != nil {
			return fmt.Errorf("article %s: %w", a.ID, err)
		}
	}
	return nil
}
