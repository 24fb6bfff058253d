package teams_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/teams"
	"github.com/briefing-bot/briefing/internal/briefingtest"
	"github.com/briefing-bot/briefing/internal/faketeams"
	"github.com/briefing-bot/briefing/store"
)

// clock is a settable Now for the bot.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// harness is a Bot served over HTTP against the fake Bot Framework, with a
// real store.
type harness struct {
	fake  *faketeams.Server
	svc   *briefingtest.RecordingService
	db    *store.DB
	bot   *teams.Bot
	url   string
	clock *clock
}

func newHarness(tb testing.TB, configure ...func(*teams.Options)) *harness {
	return newHarnessWith(tb, nil, configure...)
}

// newHarnessWith builds a harness whose fake takes fakeOpts and whose bot's
// options configure may change.
func newHarnessWith(tb testing.TB, fakeOpts []faketeams.Option, configure ...func(*teams.Options)) *harness {
	tb.Helper()
	h := &harness{fake: faketeams.New(tb, fakeOpts...), svc: briefingtest.NewRecordingService(), clock: &clock{}}
	// Answers carry a mention, as untrusted content may, that a reply must
	// not pass on.
	h.svc.AnswerText = "It is about cloud, see <at>Everyone</at>."
	db, err := store.Open(filepath.Join(tb.TempDir(), "briefing.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	h.db = db
	opts := teams.Options{
		AppID: h.fake.AppID(), AppPassword: h.fake.AppPassword(), TenantID: h.fake.TenantID(),
		OpenIDMetadataURL: h.fake.OpenIDMetadataURL(), TokenURL: h.fake.TokenURL(),
		ServiceURLs: []string{h.fake.ServiceURL()},
		Service:     h.svc, Threads: db, Events: db, Now: h.clock.now,
	}
	for _, c := range configure {
		c(&opts)
	}
	h.bot, err = teams.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.close(tb) })
	srv := httptest.NewServer(h.bot.Handler())
	tb.Cleanup(srv.Close)
	h.url = srv.URL + "/api/messages"
	return h
}

// close waits for all the bot's work: after it, whatever the bot was going
// to post has been posted.
func (h *harness) close(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.bot.Close(ctx); err != nil {
		tb.Errorf("close: %v", err)
	}
}

// send delivers a with a valid token and wants 200.
func (h *harness) send(tb testing.TB, a faketeams.Activity) {
	tb.Helper()
	if status := h.fake.SendActivity(tb, h.url, a, h.fake.Token()); status != http.StatusOK {
		tb.Fatalf("activity %s: HTTP %d, want 200", a.ID, status)
	}
}

// replyTo waits for the bot's reply to a and returns it.
func (h *harness) replyTo(tb testing.TB, a faketeams.Activity) faketeams.Posted {
	tb.Helper()
	return h.fake.WaitActivities(tb, 1, func(p faketeams.Posted) bool { return p.Kind == "reply" && p.ReplyTo == a.ID })[0]
}

// ask mentions the bot with text (options place it), and waits for the
// reply.
func (h *harness) ask(tb testing.TB, text string, opts ...faketeams.ActivityOption) (faketeams.Activity, faketeams.Posted) {
	tb.Helper()
	a := h.fake.Mention(text, opts...)
	h.send(tb, a)
	return a, h.replyTo(tb, a)
}

func cardText(tb testing.TB, p faketeams.Posted) string {
	tb.Helper()
	cards := p.Cards()
	if len(cards) != 1 {
		tb.Fatalf("reply has %d cards, want 1: %s", len(cards), p.Body)
	}
	var card struct {
		Type, Version string
		Body          []struct{ Type, Text string }
	}
	if err := json.Unmarshal(cards[0], &card); err != nil {
		tb.Fatal(err)
	}
	if card.Type != "AdaptiveCard" || card.Version != "1.5" {
		tb.Errorf("card type %q version %q, want AdaptiveCard 1.5", card.Type, card.Version)
	}
	var texts []string
	for _, b := range card.Body {
		texts = append(texts, b.Text)
	}
	return strings.Join(texts, "\n")
}

func TestRefusesActivityWithoutValidToken(t *testing.T) {
	h := newHarness(t)
	cases := map[string]struct {
		token string
		want  int
	}{
		"no token":            {"", http.StatusUnauthorized},
		"wrong audience":      {h.fake.Token(faketeams.WithAudience("another-app")), http.StatusForbidden},
		"wrong issuer":        {h.fake.Token(faketeams.WithIssuer("https://sts.windows.net/evil/")), http.StatusForbidden},
		"expired":             {h.fake.Token(faketeams.Expired()), http.StatusForbidden},
		"not yet valid":       {h.fake.Token(faketeams.WithValidity(time.Hour, 2*time.Hour)), http.StatusForbidden},
		"no expiry":           {h.fake.Token(faketeams.WithoutClaim("exp")), http.StatusForbidden},
		"unknown key":         {h.fake.Token(faketeams.SignedByUnknownKey()), http.StatusForbidden},
		"forged signature":    {h.fake.Token(faketeams.SignedByWrongKey()), http.StatusForbidden},
		"HS256":               {h.fake.Token(faketeams.SignedWithHS256()), http.StatusForbidden},
		"other service URL":   {h.fake.Token(faketeams.WithServiceURL("https://evil.example/")), http.StatusForbidden},
		"no service URL":      {h.fake.Token(faketeams.WithoutClaim("serviceurl")), http.StatusForbidden},
		"garbage":             {"not.a.jwt", http.StatusForbidden},
		"skewed but in grace": {h.fake.Token(faketeams.WithValidity(2*time.Minute, time.Hour)), http.StatusOK},
	}
	wantOK := 0
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := h.fake.Mention("briefing cloud")
			if got := h.fake.SendActivity(t, h.url, a, tc.token); got != tc.want {
				t.Errorf("HTTP %d, want %d", got, tc.want)
			}
		})
		if tc.want == http.StatusOK {
			wantOK++
		}
	}
	h.close(t)
	builds := h.svc.Builds()
	if builds != wantOK {
		t.Errorf("service built %d briefings, want %d (only for accepted activities)", builds, wantOK)
	}
	if got := len(h.fake.Activities()); got != wantOK {
		t.Errorf("bot posted %d activities, want %d", got, wantOK)
	}
}

func TestBriefingCommandRepliesWithCard(t *testing.T) {
	cases := map[string]struct{ text, topic string }{
		"briefing TOPIC": {"briefing cloud", "cloud"},
		"just TOPIC":     {"cloud", "cloud"},
		"topic name":     {"Briefing artificial intelligence", "ai"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			a, reply := h.ask(t, tc.text)
			if reply.ConversationID != a.Conversation.ID {
				t.Errorf("reply in %q, want the conversation %q", reply.ConversationID, a.Conversation.ID)
			}
			text := cardText(t, reply)
			for _, want := range []string{" news of the day", fmt.Sprintf("[example.com](%s)", briefingtest.ArticleURL(tc.topic, 0)),
				fmt.Sprintf("[example.com](%s)", briefingtest.ArticleURL(tc.topic, 1)), "offline summary"} {
				if !strings.Contains(text, want) {
					t.Errorf("card lacks %q:\n%s", want, text)
				}
			}
			h.close(t)
			marked := h.svc.Marked()
			if len(marked) != 1 || !strings.HasPrefix(marked[0], "br-"+tc.topic) {
				t.Errorf("marked posted: %v, want the %s briefing", marked, tc.topic)
			}
			thread, found, err := h.db.Thread("teams:" + faketeams.DefaultChannel + ":" + a.ID)
			if err != nil || !found || thread.BriefingID != marked[0] {
				t.Errorf("thread recorded: %+v, %v, %v", thread, found, err)
			}
		})
	}
}

func TestTextReplies(t *testing.T) {
	cases := map[string]struct {
		text string
		want []string
	}{
		"help":          {"help", []string{"**cloud** — Cloud", "**ai** — Artificial Intelligence"}},
		"briefing help": {"briefing help", []string{"**cloud**", "**ai**"}},
		"mention alone": {"", []string{"**cloud**", "**ai**"}},
		"unknown topic": {"briefing weather", []string{"There is no topic “weather”", "**cloud**, **ai**"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			_, reply := h.ask(t, tc.text)
			if reply.Activity.TextFormat != "markdown" || len(reply.Cards()) != 0 {
				t.Errorf("reply format %q with %d cards, want markdown text", reply.Activity.TextFormat, len(reply.Cards()))
			}
			for _, want := range tc.want {
				if !strings.Contains(reply.Activity.Text, want) {
					t.Errorf("reply lacks %q:\n%s", want, reply.Activity.Text)
				}
			}
			h.close(t)
			if builds := h.svc.Builds(); builds != 0 {
				t.Errorf("built %d briefings, want none", builds)
			}
		})
	}
}

func TestFollowUpInBriefingThread(t *testing.T) {
	h := newHarness(t)
	cmd, _ := h.ask(t, "briefing cloud")
	var replies []faketeams.Posted
	for _, q := range []string{"what changed?", "and <at>Someone</at> asked why?"} {
		_, reply := h.ask(t, q, faketeams.InThread(faketeams.DefaultChannel, cmd.ID))
		replies = append(replies, reply)
	}
	for _, r := range replies {
		if r.ConversationID != faketeams.DefaultChannel+";messageid="+cmd.ID {
			t.Errorf("answer in %q, want the briefing's thread", r.ConversationID)
		}
		if want := "[example.com](" + briefingtest.ArticleURL("cloud", 0) + ")"; !strings.Contains(r.Activity.Text, want) {
			t.Errorf("answer lacks the cited source %s:\n%s", want, r.Activity.Text)
		}
		if strings.Contains(r.Activity.Text, "<at>") {
			t.Errorf("answer carries a mention from content:\n%s", r.Activity.Text)
		}
	}
	h.close(t)
	marked, questions := h.svc.Marked(), h.svc.Questions()
	if len(questions) != 2 {
		t.Fatalf("asked %d questions, want 2", len(questions))
	}
	if q := questions[0]; q.Text != "what changed?" || q.BriefingID != marked[0] || q.Topic != "cloud" || len(q.History) != 0 {
		t.Errorf("first question: %+v", q)
	}
	if q := questions[1]; q.Text != "and Someone asked why?" || len(q.History) != 1 || q.History[0].Question != "what changed?" {
		t.Errorf("second question: %+v", q)
	}
	thread, _, err := h.db.Thread("teams:" + faketeams.DefaultChannel + ":" + cmd.ID)
	if err != nil || len(thread.Turns) != 2 {
		t.Errorf("thread turns: %+v, %v", thread.Turns, err)
	}
}

func TestRedeliveredActivityAnsweredOnce(t *testing.T) {
	h := newHarness(t)
	a := h.fake.Mention("briefing cloud")
	for range 3 {
		h.send(t, a)
	}
	h.replyTo(t, a)
	h.close(t)
	if got := len(h.fake.Activities()); got != 1 {
		t.Errorf("posted %d activities for one delivered three times, want 1", got)
	}
	if builds := h.svc.Builds(); builds != 1 {
		t.Errorf("built %d briefings, want 1", builds)
	}
}

func TestOutboundTokenIsCached(t *testing.T) {
	h := newHarness(t)
	for range 3 {
		h.ask(t, "help")
	}
	if got := h.fake.TokenRequests(); got != 1 {
		t.Errorf("token requested %d times for 3 replies, want 1", got)
	}
}

func TestRetriesThrottledReply(t *testing.T) {
	h := newHarness(t)
	h.fake.FailNext(http.StatusTooManyRequests, "0")
	h.fake.FailNext(http.StatusTooManyRequests, "0")
	h.ask(t, "help")
	h.close(t)
	if got := len(h.fake.Activities()); got != 1 {
		t.Errorf("posted %d activities, want exactly 1", got)
	}
}

func TestPostBriefingStartsChannelThread(t *testing.T) {
	h := newHarness(t)
	br, err := h.svc.Build(t.Context(), "cloud", briefing.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const channel = "19:scheduled@thread.tacv2"
	root, err := h.bot.PostBriefing(t.Context(), h.fake.ServiceURL(), channel, br)
	if err != nil {
		t.Fatal(err)
	}
	posts := h.fake.WaitActivities(t, 1, func(p faketeams.Posted) bool { return p.Kind == "conversation" })
	if p := posts[0]; p.ChannelID != channel || p.ID != root {
		t.Errorf("new thread in %q with root %q, want %q and %q", p.ChannelID, p.ID, channel, root)
	}
	if text := cardText(t, posts[0]); !strings.Contains(text, br.Headline) {
		t.Errorf("card lacks the headline:\n%s", text)
	}

	_, reply := h.ask(t, "why?", faketeams.InThread(channel, root))
	if !strings.Contains(reply.Activity.Text, briefingtest.ArticleURL("cloud", 0)) {
		t.Errorf("follow-up to the posted briefing not answered from it:\n%s", reply.Activity.Text)
	}

	if _, err := h.bot.PostBriefing(t.Context(), "ftp://nowhere", channel, br); briefing.ErrorCode(err) != briefing.EINVALID {
		t.Errorf("bad service URL: %v, want EINVALID", err)
	}
}

func TestPostWebhook(t *testing.T) {
	fake := faketeams.New(t)
	br := briefingtest.TwoArticleBriefing()
	fake.FailNext(http.StatusTooManyRequests, "0")
	if err := teams.PostWebhook(t.Context(), nil, fake.WebhookURL(), br); err != nil {
		t.Fatal(err)
	}
	posted := fake.WaitActivities(t, 1, nil)
	var envelope struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string          `json:"contentType"`
			ContentURL  json.RawMessage `json:"contentUrl"`
			Content     map[string]any  `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(posted[0].Body, &envelope); err != nil {
		t.Fatal(err)
	}
	if envelope.Type != "message" || len(envelope.Attachments) != 1 {
		t.Fatalf("envelope: %s", posted[0].Body)
	}
	att := envelope.Attachments[0]
	if att.ContentType != teams.ContentTypeAdaptiveCard || string(att.ContentURL) != "null" || att.Content["type"] != "AdaptiveCard" {
		t.Errorf("attachment: %s", posted[0].Body)
	}
	if len(fake.Activities()) != 1 {
		t.Errorf("webhook got %d posts, want 1", len(fake.Activities()))
	}
	if err := teams.PostWebhook(t.Context(), nil, "not a url", br); briefing.ErrorCode(err) != briefing.EINVALID {
		t.Errorf("bad webhook URL: %v, want EINVALID", err)
	}
}

func TestSigningKeyRotation(t *testing.T) {
	h := newHarness(t)
	h.send(t, h.fake.Mention("help"))
	h.fake.RotateKey()
	// Within a minute of the last fetch an unknown kid does not refetch.
	if got := h.fake.SendActivity(t, h.url, h.fake.Mention("help"), h.fake.Token()); got != http.StatusForbidden {
		t.Errorf("new key right after a fetch: HTTP %d, want 403", got)
	}
	h.clock.advance(2 * time.Minute)
	h.send(t, h.fake.Mention("help"))
	if got := h.fake.MetadataRequests(); got != 2 {
		t.Errorf("metadata fetched %d times, want 2", got)
	}
}

func TestClosedBotRefusesActivities(t *testing.T) {
	h := newHarness(t)
	h.close(t)
	if got := h.fake.SendActivity(t, h.url, h.fake.Mention("help"), h.fake.Token()); got != http.StatusServiceUnavailable {
		t.Errorf("after Close: HTTP %d, want 503", got)
	}
}

func TestCloseCancelsWorkInFlight(t *testing.T) {
	h := newHarness(t)
	h.svc.Building = make(chan context.Context, 1)
	h.send(t, h.fake.Mention("briefing cloud"))
	buildCtx := <-h.svc.Building
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.bot.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want the deadline it was given", err)
	}
	if buildCtx.Err() == nil {
		t.Error("the build in flight was not cancelled")
	}
	// The failed build is told to the user, as any failure is; nothing else
	// is posted, and nothing is marked posted.
	for _, p := range h.fake.Activities() {
		if len(p.Cards()) > 0 {
			t.Errorf("posted a card after Close: %s", p.Body)
		}
	}
	if marked := h.svc.Marked(); len(marked) != 0 {
		t.Errorf("marked posted %v", marked)
	}
}

func TestNewValidates(t *testing.T) {
	svc := briefingtest.NewRecordingService()
	cases := map[string]teams.Options{
		"no app id":      {AppPassword: "p", TenantID: "t", Service: svc},
		"bad token URL":  {AppID: "a", AppPassword: "p", TenantID: "t", TokenURL: "nowhere"},
		"no app secrets": {},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := teams.New(opts); briefing.ErrorCode(err) != briefing.EINVALID {
				t.Errorf("err %v, want EINVALID", err)
			}
		})
	}
}

// BenchmarkAcceptActivity measures what runs before the 200: token
// verification with cached keys, and reading the activity.
func BenchmarkAcceptActivity(b *testing.B) {
	h := newHarness(b)
	a := h.fake.Message("typing")
	a.Type = "typing" // taken and ignored: no work after the answer
	token := h.fake.Token()
	for b.Loop() {
		if status := h.fake.SendActivity(b, h.url, a, token); status != http.StatusOK {
			b.Fatalf("HTTP %d", status)
		}
	}
}
