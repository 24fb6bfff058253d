package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/briefing-bot/briefing/internal/faketeams"
)

// teamsYAML is the teams section for a bot of fake's app listening on
// listen, with fake's Connector allowed.
func teamsYAML(fake *faketeams.Server, listen string) string {
	return fmt.Sprintf(`teams:
  app_id: %s
  app_password: %s
  tenant_id: %s
  listen: %q
  service_urls: [%q]
  openid_metadata_url: %q
  token_url: %q
`, fake.AppID(), fake.AppPassword(), fake.TenantID(), listen, fake.ServiceURL(), fake.OpenIDMetadataURL(), fake.TokenURL())
}

// Teams through the real wiring: a missed slot delivered to a Teams channel
// and a Workflows webhook on start, a mention answered with a card, and
// an activity without a valid token refused.
func TestRunTeams(t *testing.T) {
	dir := inTempDir(t)
	fake := faketeams.New(t)
	listen := freeAddr(t)
	configPath := writeConfig(t, dir, fmt.Sprintf(`
store: {path: %q}
%stopics:
  - {id: cloud, name: Cloud, feeds: [%s]}
schedules:
  - {id: cloud-hourly, topic: cloud, cron: "@every 1h", teams_channel: %q, teams_service_url: %q, teams_webhook: %q}
server: {listen: %q}
`, filepath.Join(dir, "b.db"), teamsYAML(fake, listen),
		strings.Join(demoCloudFeeds(t, dir), ", "), faketeams.DefaultChannel, fake.ServiceURL(), fake.WebhookURL(), freeAddr(t)))

	startDaemon(t, configPath)
	fake.WaitActivities(t, 1, func(p faketeams.Posted) bool {
		return p.Kind == "conversation" && p.ChannelID == faketeams.DefaultChannel
	})
	fake.WaitActivities(t, 1, func(p faketeams.Posted) bool { return p.Kind == "webhook" })

	botURL := "http://" + listen + "/api/messages"
	if status := fake.SendActivity(t, botURL, fake.Mention("briefing cloud"), ""); status != http.StatusUnauthorized {
		t.Errorf("activity without a token: HTTP %d, want 401", status)
	}
	if status := fake.SendActivity(t, botURL, fake.Mention("briefing cloud"), fake.Token(faketeams.WithAudience("someone-else"))); status != http.StatusForbidden && status != http.StatusUnauthorized {
		t.Errorf("activity with a token for another app: HTTP %d, want 401 or 403", status)
	}
	mention := fake.Mention("briefing cloud")
	if status := fake.SendActivity(t, botURL, mention, fake.Token()); status/100 != 2 {
		t.Fatalf("valid activity: HTTP %d", status)
	}
	reply := fake.WaitActivities(t, 1, func(p faketeams.Posted) bool { return p.Kind == "reply" && p.ReplyTo == mention.ID })[0]
	if cards := reply.Cards(); len(cards) != 1 || !strings.Contains(string(cards[0]), "offline summary") {
		t.Errorf("reply cards: %s", reply.Body)
	}
	for _, p := range fake.Activities() {
		if p.Kind == "reply" && p.ReplyTo != mention.ID {
			t.Errorf("replied to a refused activity: %+v", p)
		}
	}
}

// statusFeed writes an RSS feed, named name, of two fresh articles about an
// outage that quote addresses which are no collected articles.
func statusFeed(tb testing.TB, dir, name string) string {
	tb.Helper()
	now := time.Now().UTC()
	item := func(n int, title, text string) string {
		return fmt.Sprintf(`<item><title>%s</title><link>https://news.example/%s/%d</link><guid>https://news.example/%s/%d</guid>
<pubDate>%s</pubDate><description>%s</description></item>`, title, name, n, name, n, now.Add(-time.Duration(n)*time.Hour).Format(time.RFC1123Z), text)
	}
	rss := `<?xml version="1.0"?><rss version="2.0"><channel><title>Status News</title><link>https://news.example/</link>` +
		item(1, "Nimbus outage hits sign-ins", "The Nimbus outage stopped sign-ins for six hours on Tuesday morning. "+
			"During the Nimbus outage the provider moved its status page to https://status-evil.test/login for customers. "+
			"Customers were told to reset passwords at www.evil.test/reset once the Nimbus outage ended.") +
		item(2, "Nimbus restores service", "Nimbus restored every region by Tuesday evening after the outage. "+
			"Engineers traced the Nimbus outage to an expired certificate in the sign-in service.") +
		`</channel></rss>`
	path := filepath.Join(dir, name+".xml")
	if err := os.WriteFile(path, []byte(rss), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Teams chats through the real wiring: a welcome on install, a briefing
// and a follow-up in a personal chat and in a group chat (no threads), the
// answer's quoted addresses defused, and an activity naming a serviceUrl
// outside the allow-list refused with nothing sent there.
func TestRunTeamsChats(t *testing.T) {
	dir := inTempDir(t)
	fake := faketeams.New(t)
	var foreignCalls atomic.Int32
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignCalls.Add(1)
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(foreign.Close)
	listen := freeAddr(t)
	configPath := writeConfig(t, dir, fmt.Sprintf(`
store: {path: %q}
%stopics:
  - {id: status, name: Status, feeds: [%s]}
  - {id: outage, name: Outage, feeds: [%s]}
  - {id: cloud, name: Cloud, feeds: [%s]}
schedules:
  - {id: cloud-daily, topic: cloud, cron: "@every 24h", grace: 24h, teams_webhook: %q}
server: {listen: %q}
`, filepath.Join(dir, "b.db"), teamsYAML(fake, listen), statusFeed(t, dir, "status"), statusFeed(t, dir, "outage"), strings.Join(demoCloudFeeds(t, dir), ", "),
		fake.WebhookURL(), freeAddr(t)))
	startDaemon(t, configPath)
	// The slot owed on start shows the daemon is up; the bot never sees
	// replies to a Workflows post, so its card promises none.
	webhook := fake.WaitActivities(t, 1, func(p faketeams.Posted) bool { return p.Kind == "webhook" })[0]
	if cards := webhook.Cards(); len(cards) != 1 || strings.Contains(string(cards[0]), "follow-up") {
		t.Errorf("webhook card: %s", webhook.Body)
	}
	botURL := "http://" + listen + "/api/messages"
	send := func(a faketeams.Activity) {
		t.Helper()
		if status := fake.SendActivity(t, botURL, a, fake.Token()); status != http.StatusOK {
			t.Fatalf("activity %s (%s): HTTP %d", a.ID, a.Text, status)
		}
	}
	exchange := func(a faketeams.Activity) faketeams.Posted {
		t.Helper()
		send(a)
		return fake.WaitActivities(t, 1, func(p faketeams.Posted) bool { return p.Kind == "reply" && p.ReplyTo == a.ID })[0]
	}

	personal := faketeams.InPersonalChat("a:personal-chat")
	for _, a := range fake.Installed(personal) {
		send(a)
	}
	welcome := fake.WaitActivities(t, 1, func(p faketeams.Posted) bool { return p.Kind == "send" })[0]
	if welcome.ConversationID != "a:personal-chat" || !strings.Contains(welcome.Activity.Text, "**status** — Status") {
		t.Errorf("welcome in %s: %s", welcome.ConversationID, welcome.Activity.Text)
	}

	card := exchange(fake.Message("status", personal))
	if cards := card.Cards(); len(cards) != 1 || !strings.Contains(string(cards[0]), "Ask me a follow-up question here") {
		t.Fatalf("personal chat briefing: %s", card.Body)
	}
	answer := exchange(fake.Message("where should customers reset passwords after the Nimbus outage?", personal))
	text := answer.Activity.Text
	// The offline answer quotes no sentence that holds an address; the
	// defusing of those an LLM quotes is bot/teams's TestAnswerFormatting.
	for _, want := range []string{"[1]", "Sources:\n\n- [1] [news.example](https://news.example/"} {
		if !strings.Contains(text, want) {
			t.Errorf("personal chat answer lacks %q:\n%s", want, text)
		}
	}
	for _, live := range []string{"https://status-evil", "www.evil.test", "There is no topic"} {
		if strings.Contains(text, live) {
			t.Errorf("personal chat answer has %q:\n%s", live, text)
		}
	}
	if len(answer.Activity.Entities) != 1 || len(answer.Activity.Entities[0].Citation) == 0 {
		t.Errorf("answer carries no citations: %s", answer.Body)
	}

	group := faketeams.InGroupChat("19:group-chat@unq.gbl.spaces")
	exchange(fake.Mention("briefing outage", group))
	if reply := exchange(fake.Mention("what caused the Nimbus outage?", group)); !strings.Contains(reply.Activity.Text, "Sources:") {
		t.Errorf("group chat follow-up not answered:\n%s", reply.Activity.Text)
	}

	evil := fake.Mention("briefing status", faketeams.FromServiceURL(foreign.URL+"/amer/"))
	if status := fake.SendActivity(t, botURL, evil, fake.Token(faketeams.WithServiceURL(foreign.URL+"/amer/"))); status != http.StatusForbidden {
		t.Errorf("activity from a serviceUrl outside the allow-list: HTTP %d, want 403", status)
	}
	// A message sent after the refused one is answered, so the refused one
	// had its chance to do harm.
	exchange(fake.Message("help", personal))
	if n := foreignCalls.Load(); n != 0 {
		t.Errorf("the bot called the foreign serviceUrl %d times", n)
	}
}

// teams.auth none is refused unless teams.listen is a loopback address:
// it turns off every token check.
func TestRunRefusesAuthNoneOffLoopback(t *testing.T) {
	dir := inTempDir(t)
	configPath := writeConfig(t, dir, fmt.Sprintf(`
store: {path: %q}
teams: {auth: none, listen: "0.0.0.0:3978"}
topics:
  - {id: status, feeds: [%s]}
`, filepath.Join(dir, "b.db"), statusFeed(t, dir, "status")))
	for _, cmd := range []string{"check", "run"} {
		code, _, errOut := runMain(t, cmd, "--config", configPath)
		if code != 2 || !strings.Contains(errOut, "teams.auth") || !strings.Contains(errOut, "loopback") {
			t.Errorf("%s: exit %d, stderr:\n%s", cmd, code, errOut)
		}
	}
}
