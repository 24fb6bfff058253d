// Package chat holds what the Slack and Teams front ends share: finding the
// topic a person named, choosing which of a briefing's URLs may be cited,
// and running the work that chat messages start within fixed bounds.
package chat

import (
	"errors"
	"log/slog"
	"net/url"
	"strings"

	"github.com/briefing-bot/briefing"
)

// FindTopic matches what a person typed to a topic: by id, then by id or
// name ignoring case.
func FindTopic(svc briefing.Service, s string) (briefing.Topic, bool) {
	if t, ok := svc.Topic(s); ok {
		return t, true
	}
	for _, t := range svc.Topics() {
		if strings.EqualFold(t.ID, s) || strings.EqualFold(t.Name, s) {
			return t, true
		}
	}
	return briefing.Topic{}, false
}

// TopicName is what readers see of a topic: its name, else its id.
func TopicName(t briefing.Topic) string {
	if t.Name != "" {
		return t.Name
	}
	return t.ID
}

// TopicIDs lists the configured topic ids for a reader, each rendered by
// mark (a platform's code or bold style, with its escaping).
func TopicIDs(svc briefing.Service, mark func(id string) string) string {
	var ids []string
	for _, t := range svc.Topics() {
		ids = append(ids, mark(t.ID))
	}
	if len(ids) == 0 {
		return "none are configured"
	}
	return strings.Join(ids, ", ")
}

// Citable returns the URLs among urls that a post may link to, in order and
// each once: absolute http(s) URLs and, when br has articles, only theirs,
// so that a URL an LLM made up never becomes a link.
func Citable(br *briefing.Briefing, urls []string) []string {
	checked := br != nil && len(br.Stories) > 0
	var out []string
	seen := map[string]bool{}
	for _, u := range urls {
		if seen[u] {
			continue
		}
		seen[u] = true
		if !isHTTPURL(u) {
			continue
		}
		if checked {
			if _, ok := br.ArticleByURL(u); !ok {
				continue
			}
		}
		out = append(out, u)
	}
	return out
}

// SourceLabel is what a citation shows: the article's publisher domain when
// br has the article, else the URL's host without "www.".
func SourceLabel(br *briefing.Briefing, rawURL string) string {
	if br != nil {
		if a, ok := br.ArticleByURL(rawURL); ok && a.Source != "" {
			return a.Source
		}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Hostname(), "www.")
}

func isHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// LogBuildFailure logs why a briefing asked for in chat was not built: a
// topic with nothing to brief is an answer, not a fault (INFO); anything
// else is an error.
func LogBuildFailure(log *slog.Logger, err error) {
	var quiet *briefing.Quiet
	if errors.As(err, &quiet) {
		log.Info("nothing to brief", slog.String("reason", quiet.Reason), slog.String("message", quiet.Message))
		return
	}
	log.Error("build briefing", slog.Any("error", err))
}
