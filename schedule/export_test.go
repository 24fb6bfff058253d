package schedule

import "time"

// LastActivation parses spec in loc and returns lastActivation over it.
func LastActivation(spec string, loc *time.Location) (func(now time.Time) time.Time, error) {
	sched, err := parse(spec, loc)
	if err != nil {
		return nil, err
	}
	return func(now time.Time) time.Time { return lastActivation(sched, now) }, nil
}
