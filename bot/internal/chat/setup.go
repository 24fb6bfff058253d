package chat

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/briefing-bot/briefing"
)

// When is a schedule as typed in chat, read into a cron spec and a zone.
type When struct {
	Cron string
	Zone string
}

// dayWords name the days a "DAYS HH:MM" schedule runs, as a cron
// day-of-week field.
var dayWords = map[string]string{
	"daily": "*", "everyday": "*", "weekdays": "1-5", "weekends": "0,6",
	"sundays": "0", "mondays": "1", "tuesdays": "2", "wednesdays": "3", "thursdays": "4", "fridays": "5", "saturdays": "6",
}

var clockTime = regexp.MustCompile(`^([01]?\d|2[0-3]):([0-5]\d)$`)

// WhenExample is the schedule form the replies suggest.
const WhenExample = "weekdays 08:00 Europe/Berlin"

// ParseWhen reads a schedule typed in chat: "weekdays 08:00 Europe/Berlin"
// (also daily, weekends, mondays … sundays), a five-field cron spec
// ("0 8 * * 1-5 Europe/Berlin") or a descriptor ("@daily", "@every 1h"),
// each with an optional IANA time zone, UTC by default. Its errors are
// *briefing.Error (EINVALID) sentences for the person who typed it.
func ParseWhen(fields []string) (When, error) {
	bad := func(format string, args ...any) (When, error) {
		return When{}, briefing.Errorf(briefing.EINVALID, format+" Write it like “%s” or as a cron spec like “0 8 * * 1-5”.",
			append(args, WhenExample)...)
	}
	var w When
	var rest []string
	switch {
	case len(fields) == 0:
		return bad("Say when.")
	case strings.HasPrefix(fields[0], "@"):
		n := 1
		if strings.EqualFold(fields[0], "@every") {
			if len(fields) < 2 {
				return bad("“@every” needs an interval, such as “@every 1h”.")
			}
			n = 2
		}
		w.Cron, rest = strings.Join(fields[:n], " "), fields[n:]
	case dayWords[strings.ToLower(fields[0])] != "":
		if len(fields) < 2 || !clockTime.MatchString(fields[1]) {
			return bad("“%s” needs a time of day such as 08:00.", fields[0])
		}
		m := clockTime.FindStringSubmatch(fields[1])
		hour, _ := strconv.Atoi(m[1])
		minute, _ := strconv.Atoi(m[2])
		w.Cron = fmt.Sprintf("%d %d * * %s", minute, hour, dayWords[strings.ToLower(fields[0])])
		rest = fields[2:]
	case len(fields) >= 5:
		w.Cron, rest = strings.Join(fields[:5], " "), fields[5:]
	default:
		return bad("“%s” is not a schedule.", strings.Join(fields, " "))
	}
	switch len(rest) {
	case 0:
		w.Zone = "UTC"
	case 1:
		w.Zone = rest[0]
	default:
		return bad("“%s” is more than a time zone.", strings.Join(rest, " "))
	}
	return w, nil
}
