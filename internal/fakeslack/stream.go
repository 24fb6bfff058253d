package fakeslack

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// maxMarkdownText is Slack's limit on one streaming call's markdown_text.
const maxMarkdownText = 12000

// Refuse makes every later call of method answer {"ok":false,"error":code}
// with HTTP 200, as Slack does for a method the workspace or app may not
// use (unknown_method, not_allowed, missing_scope). An empty code lifts it.
func (s *Server) Refuse(method, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		delete(s.refused, method)
		return
	}
	s.refused[method] = code
}

// refusal is the error code Refuse set for method, or "".
func (s *Server) refusal(method string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused[method]
}

// StreamedText is what a streamed message shows: the markdown_text of its
// start, appends and stop, joined in order.
func (s *Server) StreamedText(channel, ts string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sb strings.Builder
	for _, m := range s.messages {
		if m.Channel == channel && m.TS == ts && strings.HasSuffix(m.Method, "Stream") {
			sb.WriteString(m.Text)
		}
	}
	return sb.String()
}

// startStream answers chat.startStream: a reply in a thread that later
// appendStream calls grow. Outside a direct message Slack needs to know
// whom the stream is for.
func (s *Server) startStream(v url.Values) (any, *Message) {
	channel, threadTS := v.Get("channel"), v.Get("thread_ts")
	switch {
	case channel == "":
		return slackError("channel_not_found"), nil
	case threadTS == "":
		return slackError("invalid_arguments"), nil
	case !strings.HasPrefix(channel, "D") && v.Get("recipient_team_id") == "":
		return slackError("missing_recipient_team_id"), nil
	case !strings.HasPrefix(channel, "D") && v.Get("recipient_user_id") == "":
		return slackError("missing_recipient_user_id"), nil
	}
	text := v.Get("markdown_text")
	if utf8.RuneCountInString(text) > maxMarkdownText {
		return slackError("msg_too_long"), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byTS[channel+"/"+threadTS] == nil {
		return slackError("thread_not_found"), nil
	}
	m := slack.Msg{Type: "message", User: s.botUserID, BotID: s.botID, Text: text, ThreadTimestamp: threadTS}
	m.Timestamp = s.nextTSLocked()
	s.storeLocked(channel, m)
	s.streaming[channel+"/"+m.Timestamp] = true
	applied := s.recordLocked(Message{Method: "chat.startStream", Channel: channel, TS: m.Timestamp, ThreadTS: threadTS,
		User: v.Get("recipient_user_id"), Text: text, At: time.Now()})
	s.broadcastLocked()
	return map[string]any{"ok": true, "channel": channel, "ts": m.Timestamp}, &applied
}

// appendStream answers chat.appendStream and chat.stopStream: more text
// for a message still streaming; stop may add a last text and blocks, and
// ends the stream.
func (s *Server) appendStream(method string, v url.Values) (any, *Message) {
	channel, ts, text := v.Get("channel"), v.Get("ts"), v.Get("markdown_text")
	stop := method == "chat.stopStream"
	if text == "" && !stop {
		return slackError("no_text"), nil
	}
	if utf8.RuneCountInString(text) > maxMarkdownText {
		return slackError("msg_too_long"), nil
	}
	var blocks json.RawMessage
	if raw := v.Get("blocks"); raw != "" {
		if _, _, code := content(v); code != "" {
			return slackError(code), nil
		}
		blocks = json.RawMessage(raw)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := channel + "/" + ts
	st := s.byTS[key]
	switch {
	case st == nil:
		return slackError("message_not_found"), nil
	case !s.streaming[key]:
		return slackError("message_not_in_streaming_state"), nil
	}
	st.msg.Text += text
	if blocks != nil {
		if err := json.Unmarshal(blocks, &st.msg.Blocks); err != nil {
			return slackError("invalid_blocks_format"), nil
		}
	}
	if stop {
		delete(s.streaming, key)
	}
	applied := s.recordLocked(Message{Method: method, Channel: channel, TS: ts, ThreadTS: st.msg.ThreadTimestamp,
		Text: text, Blocks: blocks, At: time.Now()})
	s.broadcastLocked()
	resp := map[string]any{"ok": true, "channel": channel, "ts": ts}
	if stop {
		resp["message"] = st.msg
	}
	return resp, &applied
}
