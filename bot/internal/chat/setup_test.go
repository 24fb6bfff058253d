package chat_test

import (
	"strings"
	"testing"

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/bot/internal/chat"
)

func TestParseWhen(t *testing.T) {
	for in, want := range map[string]chat.When{
		"weekdays 08:00 Europe/Berlin": {"0 8 * * 1-5", "Europe/Berlin"},
		"daily 7:30":                   {"30 7 * * *", "UTC"},
		"Mondays 09:05 UTC":            {"5 9 * * 1", "UTC"},
		"0 8 * * 1-5":                  {"0 8 * * 1-5", "UTC"},
		"*/15 * * * * America/Denver":  {"*/15 * * * *", "America/Denver"},
		"@every 10m":                   {"@every 10m", "UTC"},
		"@daily Asia/Tokyo":            {"@daily", "Asia/Tokyo"},
	} {
		got, err := chat.ParseWhen(strings.Fields(in))
		if err != nil || got != want {
			t.Errorf("ParseWhen(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "weekdays", "weekdays 25:00", "tomorrow 08:00", "@every", "0 8 * *", "daily 08:00 Europe/Berlin extra"} {
		if _, err := chat.ParseWhen(strings.Fields(in)); briefing.ErrorCode(err) != briefing.EINVALID {
			t.Errorf("ParseWhen(%q): %v, want EINVALID", in, err)
		}
	}
}
