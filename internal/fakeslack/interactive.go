package fakeslack

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// SendBlockAction delivers an interactive envelope with a block_actions
// payload, as Slack sends when user clicks an element of the message at
// messageTS in channel: the element's action and block ids and its value
// (a feedback button's positive_button or negative_button value). It
// returns the envelope id.
func (s *Server) SendBlockAction(tb testing.TB, user, channel, messageTS, blockID, actionID, value string) string {
	tb.Helper()
	now := time.Now()
	payload, err := json.Marshal(map[string]any{
		"type":       "block_actions",
		"team":       map[string]any{"id": DefaultTeamID, "domain": "fake"},
		"user":       map[string]any{"id": user, "username": user, "team_id": DefaultTeamID},
		"api_app_id": DefaultAppID,
		"token":      "verification-token",
		"container": map[string]any{"type": "message", "message_ts": messageTS, "channel_id": channel,
			"is_ephemeral": false},
		"trigger_id": fmt.Sprintf("%d.%d.fake", now.Unix(), now.Nanosecond()),
		"channel":    map[string]any{"id": channel, "name": channel},
		"message":    map[string]any{"type": "message", "ts": messageTS, "bot_id": s.botID},
		"actions": []map[string]any{{
			"type": "feedback_buttons", "action_id": actionID, "block_id": blockID, "value": value,
			"action_ts": fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000),
		}},
	})
	if err != nil {
		tb.Fatalf("fakeslack: marshal block action: %v", err)
	}
	return s.send(tb, "interactive", false, payload, 0)
}
