package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/briefing-bot/briefing/internal/faketeams"
)

// Teams through the real wiring: a missed slot delivered to a Teams channel
// and a Workflows webhook on start, a mention answered with a card, and
// an activity without a valid token refused.
func TestRunTeams(t *testing.T) {
	dir := inTempDir(t)
	fake := faketeams.New(t)
	listen := freeAddr(t)
	configPath := writeConfig(t, dir, fmt.Sprintf(`
store: {path: %q}
teams:
  app_id: %s
  app_password: %s
  tenant_id: %s
  listen: %q
  openid_metadata_url: %q
  token_url: %q
topics:
  - {id: cloud, name: Cloud, feeds: [%s]}
schedules:
  - {id: cloud-hourly, topic: cloud, cron: "@every 1h", teams_channel: %q, teams_service_url: %q, teams_webhook: %q}
server: {listen: %q}
`, filepath.Join(dir, "b.db"), fake.AppID(), fake.AppPassword(), fake.TenantID(), listen, fake.OpenIDMetadataURL(), fake.TokenURL(),
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
