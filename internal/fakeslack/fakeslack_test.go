package fakeslack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/briefing-bot/briefing/internal/fakeslack"
)

func client(s *fakeslack.Server, botToken string) *slack.Client {
	return slack.New(botToken, slack.OptionAppLevelToken(s.AppToken()), slack.OptionAPIURL(s.APIURL()))
}

func TestTokens(t *testing.T) {
	s := fakeslack.New(t, fakeslack.WithTokens("xoxb-right", "xapp-right"), fakeslack.WithBotIdentity("U42", "B42"))
	for name, tc := range map[string]struct {
		call func() error
		want string
	}{
		"auth.test ok": {func() error {
			resp, err := client(s, "xoxb-right").AuthTest()
			if err == nil && (resp.UserID != "U42" || resp.BotID != "B42") {
				return fmt.Errorf("identity %s/%s", resp.UserID, resp.BotID)
			}
			return err
		}, ""},
		"auth.test wrong token": {func() error { _, err := client(s, "xoxb-wrong").AuthTest(); return err }, "invalid_auth"},
		"post with app token": {func() error {
			_, _, err := client(s, "xapp-right").PostMessage("C1", slack.MsgOptionText("hi", false))
			return err
		}, "invalid_auth"},
		"connections.open": {func() error {
			_, url, err := client(s, "xoxb-right").StartSocketModeContext(context.Background())
			if err == nil && !strings.HasPrefix(url, "ws://127.0.0.1:") {
				return fmt.Errorf("url %q", url)
			}
			return err
		}, ""},
		"connections.open wrong app token": {func() error {
			api := slack.New("xoxb-right", slack.OptionAppLevelToken("xapp-wrong"), slack.OptionAPIURL(s.APIURL()))
			_, _, err := api.StartSocketModeContext(context.Background())
			return err
		}, "invalid_auth"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.call()
			if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || err.Error() != tc.want)) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPostMessage(t *testing.T) {
	s := fakeslack.New(t)
	api := client(s, s.BotToken())
	manyBlocks := make([]slack.Block, 51)
	for i := range manyBlocks {
		manyBlocks[i] = slack.NewDividerBlock()
	}
	long := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Repeat("x", 3001), false, false), nil, nil)
	for name, tc := range map[string]struct {
		opts []slack.MsgOption
		want string
	}{
		"text":            {[]slack.MsgOption{slack.MsgOptionText("hello", false)}, ""},
		"no text":         {nil, "no_text"},
		"too many blocks": {[]slack.MsgOption{slack.MsgOptionBlocks(manyBlocks...)}, "too_many_blocks"},
		"long section":    {[]slack.MsgOption{slack.MsgOptionBlocks(long)}, "invalid_blocks"},
		"unknown thread":  {[]slack.MsgOption{slack.MsgOptionText("hi", false), slack.MsgOptionTS("1.000001")}, "thread_not_found"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := api.PostMessage("C1", tc.opts...)
			if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || err.Error() != tc.want)) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPostMessageJSONBody(t *testing.T) {
	s := fakeslack.New(t)
	body := `{"channel":"C1","text":"json","metadata":{"event_type":"x","event_payload":{"k":"v"}}}`
	req, _ := http.NewRequest(http.MethodPost, s.APIURL()+"chat.postMessage", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+s.BotToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OK bool   `json:"ok"`
		TS string `json:"ts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || !out.OK {
		t.Fatalf("response %+v, %v", out, err)
	}
	m := s.Messages()[0]
	if m.Text != "json" || m.TS != out.TS || m.Metadata == nil || m.Metadata.EventPayload["k"] != "v" {
		t.Errorf("recorded %+v", m)
	}
}

func TestUpdateAndThreads(t *testing.T) {
	s := fakeslack.New(t)
	api := client(s, s.BotToken())
	_, parent, err := api.PostMessage("C1", slack.MsgOptionText("parent", false))
	if err != nil {
		t.Fatal(err)
	}
	_, reply, err := api.PostMessage("C1", slack.MsgOptionText("reply", false), slack.MsgOptionTS(parent))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessage("C1", reply, slack.MsgOptionText("edited", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessage("C1", "9.000009", slack.MsgOptionText("x", false)); err == nil || err.Error() != "message_not_found" {
		t.Errorf("update of unknown ts: %v", err)
	}
	got := s.Messages()
	if len(got) != 3 || got[2].Method != "chat.update" || got[2].ThreadTS != parent || got[2].Text != "edited" {
		t.Errorf("messages = %+v", got)
	}
	if !(parent < reply) {
		t.Errorf("ts %s then %s: not increasing", parent, reply)
	}
}

func TestConversationsHistory(t *testing.T) {
	s := fakeslack.New(t)
	api := client(s, s.BotToken())
	meta := slack.SlackMetadata{EventType: "briefing_posted", EventPayload: map[string]any{"slot": "a"}}
	_, first, err := api.PostMessage("C1", slack.MsgOptionText("first", false), slack.MsgOptionMetadata(meta))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("in thread", false), slack.MsgOptionTS(first)); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		s.AddMessage("C1", slack.Msg{User: "U1", Text: fmt.Sprint("later ", i)})
	}

	var all []slack.Message
	params := &slack.GetConversationHistoryParameters{ChannelID: "C1", Limit: 2, IncludeAllMetadata: true}
	for pages := 0; ; pages++ {
		resp, err := api.GetConversationHistory(params)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, resp.Messages...)
		if !resp.HasMore {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	if len(all) != 5 || all[0].Text != "later 3" || all[4].Text != "first" {
		t.Fatalf("history = %+v, want 5 top-level messages newest first", all)
	}
	if all[4].Metadata.EventPayload["slot"] != "a" || all[4].BotID != s.BotID() {
		t.Errorf("bot message = %+v", all[4].Msg)
	}

	resp, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1", Oldest: first})
	if err != nil || len(resp.Messages) != 4 {
		t.Errorf("oldest (exclusive): %d messages, %v", len(resp.Messages), err)
	}
	resp, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1", Oldest: first, Inclusive: true})
	if err != nil || len(resp.Messages) != 5 || resp.Messages[4].Metadata.EventType != "" {
		t.Errorf("inclusive without metadata: %+v, %v", resp, err)
	}
}

func TestFailNext(t *testing.T) {
	s := fakeslack.New(t)
	api := client(s, s.BotToken())
	s.FailNext("chat.postMessage", http.StatusTooManyRequests, 3)
	s.FailNext("chat.postMessage", http.StatusInternalServerError, 0)
	_, _, err := api.PostMessage("C1", slack.MsgOptionText("a", false))
	if limited, ok := errors.AsType[*slack.RateLimitedError](err); !ok || limited.RetryAfter != 3*time.Second {
		t.Errorf("first call: %v, want a 3s rate limit", err)
	}
	_, _, err = api.PostMessage("C1", slack.MsgOptionText("a", false))
	if status, ok := errors.AsType[slack.StatusCodeError](err); !ok || status.Code != 500 {
		t.Errorf("second call: %v, want HTTP 500", err)
	}
	if _, _, err = api.PostMessage("C1", slack.MsgOptionText("a", false)); err != nil {
		t.Errorf("third call: %v", err)
	}
	reqs := s.Requests("chat.postMessage")
	if len(reqs) != 3 || reqs[0].Status != 429 || reqs[1].Status != 500 || reqs[2].Status != 200 || len(s.Messages()) != 1 {
		t.Errorf("requests = %+v, messages = %d", reqs, len(s.Messages()))
	}
}

// TestSocketMode drives the fake with slack-go's own socket-mode client, with
// a ping interval short enough that a missing ping would drop the connection.
func TestSocketMode(t *testing.T) {
	s := fakeslack.New(t, fakeslack.WithPingInterval(50*time.Millisecond))
	sm := socketmode.New(client(s, s.BotToken()), socketmode.OptionPingInterval(200*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sm.RunContext(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	go func() {
		for evt := range sm.Events {
			switch evt.Type {
			case socketmode.EventTypeSlashCommand:
				cmd := evt.Data.(slack.SlashCommand)
				_ = sm.Ack(*evt.Request, map[string]string{"text": "got " + cmd.Text})
			case socketmode.EventTypeEventsAPI:
				_ = sm.Ack(*evt.Request)
			}
		}
	}()

	ack := s.WaitAck(t, s.SendSlash(t, slack.SlashCommand{ChannelID: "C1", UserID: "U1", Text: "one"}))
	if !bytes.Contains(ack.Payload, []byte(`"got one"`)) || ack.Latency <= 0 {
		t.Errorf("ack = %s after %v", ack.Payload, ack.Latency)
	}
	s.WaitAck(t, s.SendEvent(t, "Ev1", map[string]any{"type": "app_mention", "user": "U1", "text": "<@UBOT> hi",
		"ts": "1.000001", "channel": "C1"}, 0))

	s.Disconnect("refresh_requested")
	s.WaitAck(t, s.SendSlash(t, slack.SlashCommand{ChannelID: "C1", UserID: "U1", Text: "two"}))
	if n := s.Connections(); n != 2 {
		t.Errorf("%d connections after a disconnect, want 2", n)
	}
	// Nothing to await here: the check is that slack-go's ping watchdog,
	// which ticks every 200ms, finds pings for several ticks and keeps the
	// connection.
	<-time.After(time.Second)
	s.WaitAck(t, s.SendSlash(t, slack.SlashCommand{ChannelID: "C1", UserID: "U1", Text: "three"}))
	if n := s.Connections(); n != 2 {
		t.Errorf("%d connections: the client reconnected, pings are missing", n)
	}
}
