package briefingtest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/briefing-bot/briefing"
)

// RecordingService is a briefing.Service for the topics "cloud" and "ai".
// Each Build makes a briefing of two articles (see ArticleURL) in one story;
// each Answer cites the topic's first article. It records the builds, the
// briefings marked posted and the questions asked.
//
// Set its exported fields before the code under test calls it.
type RecordingService struct {
	// BuildErr and AnswerErr, when set, are what Build and Answer return.
	BuildErr  error
	AnswerErr error
	// Headline and AnswerText replace the canned headline and answer text.
	Headline   string
	AnswerText string
	// Building, when set, receives each Build's context; Build then waits
	// for that context to end and fails with its error.
	Building chan context.Context
	// Answering, when set, receives each question once Answer has sent its
	// first delta; Answer then waits for Release to be closed (or its
	// context to end).
	Answering chan briefing.Question
	Release   chan struct{}

	topics []briefing.Topic

	mu        sync.Mutex
	built     map[string]*briefing.Briefing
	builds    int
	marked    []string
	posts     []briefing.Post
	questions []briefing.Question
}

var _ briefing.Service = (*RecordingService)(nil)

// NewRecordingService returns a RecordingService that has built nothing.
func NewRecordingService() *RecordingService {
	return &RecordingService{
		topics: []briefing.Topic{{ID: "cloud", Name: "Cloud"}, {ID: "ai", Name: "Artificial Intelligence"}},
		built:  map[string]*briefing.Briefing{},
	}
}

// ArticleURL is the URL of the topic's nth article (0 or 1) in the
// briefings a RecordingService builds.
func ArticleURL(topic string, n int) string {
	return fmt.Sprintf("https://www.example.com/%s/%d", topic, n)
}

// Topics returns the two topics.
func (s *RecordingService) Topics() []briefing.Topic { return s.topics }

// Topic finds a topic by id.
func (s *RecordingService) Topic(id string) (briefing.Topic, bool) {
	for _, t := range s.topics {
		if t.ID == id {
			return t, true
		}
	}
	return briefing.Topic{}, false
}

// Build makes a briefing with ids "br-<topic>-1", "br-<topic>-2"… in the
// order of builds, and remembers it for Briefing and Answer.
func (s *RecordingService) Build(ctx context.Context, topicID string, _ briefing.BuildOptions) (*briefing.Briefing, error) {
	if s.Building != nil {
		s.Building <- ctx
		<-ctx.Done()
		return nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.builds++
	if s.BuildErr != nil {
		return nil, s.BuildErr
	}
	t, ok := s.Topic(topicID)
	if !ok {
		return nil, briefing.Errorf(briefing.ENOTFOUND, "no topic %q", topicID)
	}
	var articles []briefing.Article
	for i := range 2 {
		articles = append(articles, briefing.Article{ID: fmt.Sprintf("%s-%d", topicID, i), URL: ArticleURL(topicID, i),
			Title: fmt.Sprintf("%s story %d", t.Name, i), Source: "example.com", Topics: []string{topicID}})
	}
	headline := s.Headline
	if headline == "" {
		headline = t.Name + " news of the day"
	}
	br := &briefing.Briefing{
		ID: fmt.Sprintf("br-%s-%d", topicID, len(s.built)+1), Topic: topicID, TopicName: t.Name,
		GeneratedAt: time.Now().UTC(), Summarizer: briefing.SummarizerOffline, Headline: headline,
		Bullets:    []string{"One.", "Two.", "Three."},
		Paragraphs: []briefing.Paragraph{{Text: articles[0].Title + ". " + articles[1].Title + ".", Sources: []string{articles[0].URL, articles[1].URL}}},
		Stories:    []briefing.Story{{ID: "s-" + topicID, Title: articles[0].Title, Articles: articles}},
	}
	s.built[br.ID] = br
	return br, nil
}

// MarkPosted records b's id and where it was posted.
func (s *RecordingService) MarkPosted(_ context.Context, b *briefing.Briefing, p briefing.Post) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.marked = append(s.marked, b.ID)
	s.posts = append(s.posts, p)
	return nil
}

// Posts returns the posts MarkPosted was given, in order.
func (s *RecordingService) Posts() []briefing.Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posts)
}

// Briefing returns a briefing Build made.
func (s *RecordingService) Briefing(_ context.Context, id string) (*briefing.Briefing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.built[id]; ok {
		return b, nil
	}
	return nil, briefing.Errorf(briefing.ENOTFOUND, "no briefing %s", id)
}

// Answer records q and answers it in two deltas, "It is about" and then the
// whole text, citing the first article of q's topic.
func (s *RecordingService) Answer(ctx context.Context, q briefing.Question, onDelta func(string)) (briefing.Answer, error) {
	s.mu.Lock()
	s.questions = append(s.questions, q)
	_, known := s.built[q.BriefingID]
	s.mu.Unlock()
	if s.AnswerErr != nil {
		return briefing.Answer{}, s.AnswerErr
	}
	if q.BriefingID != "" && !known {
		return briefing.Answer{}, briefing.Errorf(briefing.ENOTFOUND, "no briefing %s", q.BriefingID)
	}
	text := s.AnswerText
	if text == "" {
		text = fmt.Sprintf("It is about %s, as %s reports.", q.Topic, ArticleURL(q.Topic, 0))
	}
	onDelta("It is about")
	if s.Answering != nil {
		s.Answering <- q
		select {
		case <-s.Release:
		case <-ctx.Done():
			return briefing.Answer{}, ctx.Err()
		}
	}
	onDelta(text)
	return briefing.Answer{Text: text, Sources: []string{ArticleURL(q.Topic, 0)}, Summarizer: briefing.SummarizerOffline}, nil
}

// Builds counts the calls of Build that got past Building.
func (s *RecordingService) Builds() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.builds
}

// Marked returns the ids of the briefings marked posted, in order.
func (s *RecordingService) Marked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.marked)
}

// Questions returns the questions asked, in order.
func (s *RecordingService) Questions() []briefing.Question {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.questions)
}
