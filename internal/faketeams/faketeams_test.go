package faketeams_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/briefing-bot/briefing/internal/faketeams"
)

func TestTokenEndpoint(t *testing.T) {
	fake := faketeams.New(t)
	cases := map[string]struct {
		secret, scope string
		ok            bool
	}{
		"valid":        {fake.AppPassword(), "https://api.botframework.com/.default", true},
		"wrong secret": {"guess", "https://api.botframework.com/.default", false},
		"wrong scope":  {fake.AppPassword(), "https://graph.microsoft.com/.default", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := clientcredentials.Config{ClientID: fake.AppID(), ClientSecret: tc.secret, TokenURL: fake.TokenURL(), Scopes: []string{tc.scope}}
			tok, err := cfg.Token(t.Context())
			if tc.ok != (err == nil) {
				t.Fatalf("token: %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (tok.AccessToken == "" || tok.Expiry.IsZero()) {
				t.Errorf("token %+v lacks access token or expiry", tok)
			}
		})
	}
}

func TestConnectorRefusesCallsWithoutIssuedToken(t *testing.T) {
	fake := faketeams.New(t)
	body := strings.NewReader(`{"type":"message","text":"hi"}`)
	req, err := http.NewRequest(http.MethodPost, fake.ServiceURL()+"v3/conversations/c1/activities/1", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer made-up")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(fake.Activities()) != 0 {
		t.Errorf("HTTP %d with %d activities recorded, want 401 and none", resp.StatusCode, len(fake.Activities()))
	}
}

func TestWebhookRefusesOversizedCard(t *testing.T) {
	fake := faketeams.New(t)
	big := `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"text":"` +
		strings.Repeat("x", 29*1024) + `"}}]}`
	resp, err := http.Post(fake.WebhookURL(), "application/json", bytes.NewReader([]byte(big)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("HTTP %d, want 413", resp.StatusCode)
	}
}
