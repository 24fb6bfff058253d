package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/briefing-bot/briefing"
)

// parser is cron.ParseStandard's parser: five fields, or a descriptor.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Validate reports whether spec is a schedule this package can run: a
// five-field cron spec or a descriptor (@daily, @every 10m), optionally
// prefixed with CRON_TZ=<zone>. The error is a *briefing.Error (EINVALID)
// whose message names the problem.
func Validate(spec string) error {
	_, err := parse(spec, time.UTC)
	return err
}

// parse turns spec into a cron.Schedule whose activations are fixed
// instants: a spec without its own CRON_TZ runs in loc, and @every is
// aligned to multiples of its interval (see alignedEvery).
func parse(spec string, loc *time.Location) (cron.Schedule, error) {
	sched, err := parseSpec(spec, loc)
	if err != nil {
		return nil, briefing.Errorf(briefing.EINVALID, "cron spec %q: %v", spec, err)
	}
	return sched, nil
}

func parseSpec(spec string, loc *time.Location) (cron.Schedule, error) {
	spec = strings.TrimSpace(spec)
	ownZone := strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=")
	// robfig slices up to the first space after the zone and panics when
	// there is none.
	if ownZone && !strings.Contains(spec, " ") {
		return nil, errors.New("a time zone prefix needs a schedule after it, separated by a space")
	}
	sched, err := parser.Parse(spec)
	if err != nil {
		return nil, err
	}
	switch s := sched.(type) {
	case *cron.SpecSchedule:
		if !ownZone {
			s.Location = loc
		}
		// robfig looks five years ahead; a spec with nothing in that span
		// (30 February, 31 April) never fires.
		if s.Next(time.Now()).IsZero() {
			return nil, errors.New("the schedule never fires (no such date)")
		}
		return s, nil
	case cron.ConstantDelaySchedule:
		return everyFromSpec(spec)
	default:
		return nil, fmt.Errorf("unsupported schedule type %T", sched)
	}
}

// everyFromSpec rejects the @every intervals robfig would silently round
// (below a second, or with a fraction of a second), since a typo there
// changes how often a channel is posted to.
func everyFromSpec(spec string) (cron.Schedule, error) {
	_, text, _ := strings.Cut(spec, "@every ")
	d, err := time.ParseDuration(strings.TrimSpace(text))
	if err != nil {
		return nil, err
	}
	if d < time.Second {
		return nil, fmt.Errorf("@every needs an interval of at least 1s, got %s", d)
	}
	if d%time.Second != 0 {
		return nil, fmt.Errorf("@every needs a whole number of seconds, got %s", d)
	}
	return alignedEvery{interval: d}, nil
}

// alignedEvery fires at the multiples of interval since Go's zero time,
// which is midnight UTC, so @every 10m fires at :00, :10, … UTC. robfig's
// own @every counts from when cron started, which gives a slot a
// different time after each restart; aligned slots keep their key, so a
// slot is posted once across restarts.
type alignedEvery struct{ interval time.Duration }

// Next returns the first multiple of the interval after t.
func (e alignedEvery) Next(t time.Time) time.Time {
	return t.Truncate(e.interval).Add(e.interval)
}

// maxLookback bounds lastActivation's search: a leap-day schedule fires
// every four years, at worst eight (2096 to 2104).
const maxLookback = 9 * 366 * 24 * time.Hour

// lastActivation returns the latest activation of sched at or before now,
// or the zero time when there is none within maxLookback.
//
// cron.Schedule only steps forward, so it looks back over growing windows
// until one holds an activation, then steps forward to the last one not
// after now. Growing by four keeps both the number of windows and the
// steps inside the last one small for any interval.
func lastActivation(sched cron.Schedule, now time.Time) time.Time {
	for back := time.Second; ; back = min(4*back, maxLookback) {
		if t := sched.Next(now.Add(-back)); !t.IsZero() && !t.After(now) {
			for {
				next := sched.Next(t)
				if next.IsZero() || next.After(now) {
					return t
				}
				t = next
			}
		}
		if back == maxLookback {
			return time.Time{}
		}
	}
}
