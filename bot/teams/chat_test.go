package teams_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/teams"
	"github.com/briefing-bot/briefing/internal/briefingtest"
	"github.com/briefing-bot/briefing/internal/faketeams"
)

// In chats there are no threads: a message that is no command follows up
// on the chat's latest briefing, for 12 hours; the card says so.
func TestFollowUpInChats(t *testing.T) {
	cases := map[string]struct {
		place faketeams.ActivityOption
		// say builds a message as the chat delivers it: a group chat only
		// delivers messages that mention the bot.
		say func(h *harness, text string) faketeams.Activity
	}{
		"personal chat": {faketeams.InPersonalChat("a:1on1-chat"), func(h *harness, text string) faketeams.Activity {
			return h.fake.Message(text, faketeams.InPersonalChat("a:1on1-chat"))
		}},
		"group chat": {faketeams.InGroupChat("19:group@unq.gbl.spaces"), func(h *harness, text string) faketeams.Activity {
			return h.fake.Mention(text, faketeams.InGroupChat("19:group@unq.gbl.spaces"))
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			exchange := func(text string) faketeams.Posted {
				t.Helper()
				a := tc.say(h, text)
				h.send(t, a)
				return h.replyTo(t, a)
			}
			card := cardText(t, exchange("cloud"))
			if !strings.Contains(card, "Ask me a follow-up question here within 12 hours.") || strings.Contains(card, "thread") {
				t.Errorf("card footer does not say how to follow up in a chat:\n%s", card)
			}
			answer := exchange("what caused the Nimbus outage?")
			if !strings.Contains(answer.Activity.Text, briefingtest.ArticleURL("cloud", 0)) || strings.Contains(answer.Activity.Text, "no topic") {
				t.Errorf("follow-up not answered from the briefing:\n%s", answer.Activity.Text)
			}
			exchange("and what now?")
			// A command is still a command, and a briefing asked for later
			// takes the questions from then on.
			exchange("briefing ai")
			exchange("why?")

			h.clock.advance(13 * time.Hour)
			a := tc.say(h, "anything else?")
			if got := h.fake.SendActivity(t, h.url, a, h.fake.Token(faketeams.WithValidity(12*time.Hour, 14*time.Hour))); got != http.StatusOK {
				t.Fatalf("HTTP %d", got)
			}
			late := h.replyTo(t, a)
			if !strings.Contains(late.Activity.Text, "no briefing here in the last 12 hours") {
				t.Errorf("a question long after the briefing: %s", late.Activity.Text)
			}
			h.close(t)
			marked, questions := h.svc.Marked(), h.svc.Questions()
			if len(marked) != 2 || len(questions) != 3 {
				t.Fatalf("marked %v, asked %d questions, want 2 briefings and 3 questions", marked, len(questions))
			}
			if q := questions[0]; q.Text != "what caused the Nimbus outage?" || q.BriefingID != marked[0] || len(q.History) != 0 {
				t.Errorf("first question: %+v", q)
			}
			if q := questions[1]; q.BriefingID != marked[0] || len(q.History) != 1 {
				t.Errorf("second question lacks the first as context: %+v", q)
			}
			if q := questions[2]; q.BriefingID != marked[1] || q.Topic != "ai" || len(q.History) != 0 {
				t.Errorf("question after the second briefing: %+v", q)
			}
		})
	}
}

// A channel card promises thread follow-ups, a Workflows card none: the bot
// never sees replies to a Workflows post.
func TestCardFooterPromisesOnlyWhatWorks(t *testing.T) {
	h := newHarness(t)
	_, reply := h.ask(t, "cloud")
	if text := cardText(t, reply); !strings.Contains(text, "Mention me in a reply to this thread") {
		t.Errorf("channel card footer:\n%s", text)
	}
	if err := teams.PostWebhook(t.Context(), nil, h.fake.WebhookURL(), briefingtest.TwoArticleBriefing()); err != nil {
		t.Fatal(err)
	}
	webhook := h.fake.WaitActivities(t, 1, func(p faketeams.Posted) bool { return p.Kind == "webhook" })[0]
	if text := cardText(t, webhook); strings.Contains(text, "follow-up") || strings.Contains(text, "Mention me") {
		t.Errorf("webhook card promises follow-ups:\n%s", text)
	}
}

// Installing the app in a chat or a team greets it once with the help
// text, although Teams tells the install twice.
func TestWelcomeOnInstall(t *testing.T) {
	h := newHarness(t)
	places := map[string]faketeams.ActivityOption{
		"a:personal":             faketeams.InPersonalChat("a:personal"),
		faketeams.DefaultChannel: faketeams.InThread(faketeams.DefaultChannel, "1"),
	}
	for _, place := range places {
		for _, a := range h.fake.Installed(place) {
			h.send(t, a)
		}
	}
	welcomes := h.fake.WaitActivities(t, 2, func(p faketeams.Posted) bool { return p.Kind == "send" })
	h.close(t)
	seen := map[string]int{}
	for _, w := range welcomes {
		seen[w.ConversationID]++
		if !strings.Contains(w.Activity.Text, "**cloud** — Cloud") || !strings.Contains(w.Activity.Text, "briefing TOPIC") {
			t.Errorf("welcome lacks the help text:\n%s", w.Activity.Text)
		}
	}
	if len(h.fake.Activities()) != 2 || seen["a:personal"] != 1 || seen[faketeams.DefaultChannel] != 1 {
		t.Errorf("welcomes per conversation: %v (of %d posts), want one each", seen, len(h.fake.Activities()))
	}
}

// A serviceUrl outside Microsoft's and teams.service_urls is refused, even
// with a token issued for it, and the bot's token is never sent there.
func TestServiceURLOutsideAllowListRefused(t *testing.T) {
	h := newHarness(t)
	const evil = "https://smba.trafficmanager.net.evil.test/amer/"
	a := h.fake.Mention("briefing cloud", faketeams.FromServiceURL(evil))
	if got := h.fake.SendActivity(t, h.url, a, h.fake.Token(faketeams.WithServiceURL(evil))); got != http.StatusForbidden {
		t.Errorf("activity from %s: HTTP %d, want 403", evil, got)
	}
	br := briefingtest.TwoArticleBriefing()
	if _, err := h.bot.PostBriefing(t.Context(), evil, "19:c@thread.tacv2", br); briefing.ErrorCode(err) != briefing.EINVALID {
		t.Errorf("post to %s: %v, want EINVALID", evil, err)
	}
	h.close(t)
	if n := h.fake.TokenRequests(); n != 0 {
		t.Errorf("%d outbound tokens fetched, want none", n)
	}
	if n := h.svc.Builds(); n != 0 {
		t.Errorf("%d briefings built for a refused activity", n)
	}
}

func TestCheckServiceURL(t *testing.T) {
	extra := []string{"http://127.0.0.1:8080/amer/", "https://connector.sovereign.example/"}
	cases := map[string]bool{
		"https://smba.trafficmanager.net/amer/50612dbb-0000/": true,
		"https://smba.trafficmanager.net/teams/":              true,
		"https://europe.webchat.botframework.com/":            true,
		"https://smba.infra.gov.teams.microsoft.us/":          true,
		"https://x.botframework.azure.us/":                    true,
		"http://127.0.0.1:8080/amer/tenant/":                  true,
		"https://connector.sovereign.example/x/":              true,
		"http://smba.trafficmanager.net/amer/":                false, // no TLS
		"https://smba.trafficmanager.net:8443/amer/":          false,
		"https://smba.trafficmanager.net.evil.test/":          false,
		"https://evilbotframework.com/":                       false,
		"http://127.0.0.1:8080/americas/":                     false,
		"http://127.0.0.1:8081/amer/":                         false,
		"http://localhost:56150/_connector":                   false, // loopback only with auth none
		"ftp://smba.trafficmanager.net/":                      false,
	}
	for u, want := range cases {
		if err := teams.CheckServiceURL(u, extra, false); (err == nil) != want {
			t.Errorf("%s: %v, want allowed %v", u, err, want)
		}
	}
	if err := teams.CheckServiceURL("http://localhost:56150/_connector", nil, true); err != nil {
		t.Errorf("loopback with auth none: %v", err)
	}
}

// A key that lists endorsements signs only for those channels.
func TestKeyEndorsementsMustNameTheChannel(t *testing.T) {
	h := newHarness(t)
	a := h.fake.Mention("help", faketeams.WithChannelID("webchat"))
	if got := h.fake.SendActivity(t, h.url, a, h.fake.Token()); got != http.StatusForbidden {
		t.Errorf("activity on a channel the key is not endorsed for: HTTP %d, want 403", got)
	}
	h.ask(t, "help") // msteams, which the key is endorsed for
	h.close(t)
	if n := len(h.fake.Activities()); n != 1 {
		t.Errorf("posted %d replies, want 1", n)
	}
}

// With auth none the bot takes activities without a token and sends none:
// what a local client such as the Agents Playground needs.
func TestAuthNone(t *testing.T) {
	h := newHarnessWith(t, []faketeams.Option{faketeams.AnonymousConnector()}, func(o *teams.Options) {
		o.Auth, o.AppID, o.AppPassword, o.TenantID, o.ServiceURLs = teams.AuthNone, "", "", "", nil
	})
	a := h.fake.Message("cloud", faketeams.InPersonalChat("a:local"))
	if got := h.fake.SendActivity(t, h.url, a, ""); got != http.StatusOK {
		t.Fatalf("activity without a token: HTTP %d, want 200", got)
	}
	reply := h.replyTo(t, a)
	if reply.Authorization != "" || h.fake.TokenRequests() != 0 {
		t.Errorf("sent Authorization %q after %d token requests, want none", reply.Authorization, h.fake.TokenRequests())
	}
	// Only a loopback Connector: the bot posts nowhere else unauthenticated.
	far := h.fake.Message("cloud", faketeams.InPersonalChat("a:local"), faketeams.FromServiceURL("https://connector.example/"))
	if got := h.fake.SendActivity(t, h.url, far, ""); got != http.StatusForbidden {
		t.Errorf("activity from a remote serviceUrl: HTTP %d, want 403", got)
	}
}

// An answer's passages are paragraphs or list items, its [n] markers match
// its numbered sources and its citations, bare URLs in quoted text are no
// links, and it carries Teams' AI label.
func TestAnswerFormatting(t *testing.T) {
	h := newHarness(t)
	h.svc.AnswerText = "No LLM wrote this answer.\n" +
		"• The status page moved to https://status-evil.test/login for now [1]\n" +
		"• Reset at www.evil.test/reset or status-evil.test/help [2]\n" +
		"A closing [1] line, not a [3] marker nor [click](https://evil.test)."
	// Only one source: [2] and [3] number none, so they stay text.
	cmd, _ := h.ask(t, "briefing cloud")
	_, reply := h.ask(t, "what happened?", faketeams.InThread(faketeams.DefaultChannel, cmd.ID))
	text := reply.Activity.Text
	for _, want := range []string{
		"No LLM wrote this answer.\n\n- The status page moved to https\\[:\\]//status-evil\\[.\\]test/login for now [1]\n- Reset at www\\[.\\]evil\\[.\\]test/reset or status-evil\\[.\\]test/help \\[2\\]\n\nA closing [1] line, not a \\[3\\] marker",
		"\n\nSources:\n\n- [1] [example.com](" + briefingtest.ArticleURL("cloud", 0) + ")",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("answer lacks %q:\n%s", want, text)
		}
	}
	for _, live := range []string{"https://status-evil", "www.evil.test", "status-evil.test", "](https://evil"} {
		if strings.Contains(text, live) {
			t.Errorf("answer has a live %q:\n%s", live, text)
		}
	}
	if len(reply.Activity.Entities) != 1 {
		t.Fatalf("entities: %s", reply.Body)
	}
	e := reply.Activity.Entities[0]
	if e.Type != "https://schema.org/Message" || e.AtType != "Message" || len(e.AdditionalType) != 1 || e.AdditionalType[0] != "AIGeneratedContent" {
		t.Errorf("message entity: %+v", e)
	}
	if len(e.Citation) != 1 || e.Citation[0].Position != 1 || e.Citation[0].Appearance.URL != briefingtest.ArticleURL("cloud", 0) ||
		e.Citation[0].Appearance.Name == "" || e.Citation[0].AtType != "Claim" {
		t.Errorf("citations: %+v", e.Citation)
	}
}
