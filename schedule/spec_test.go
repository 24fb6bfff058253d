package schedule_test

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below must not depend on the host's zoneinfo

	"github.com/briefing-bot/briefing"
	"github.com/briefing-bot/briefing/schedule"
)

func mustLoad(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func TestLastActivation(t *testing.T) {
	newYork := mustLoad(t, "America/New_York")
	paris := mustLoad(t, "Europe/Paris")
	tests := map[string]struct {
		spec string
		loc  *time.Location
		now  time.Time
		want time.Time
	}{
		"weekday morning, an hour after": {
			spec: "0 8 * * 1-5", loc: newYork,
			now:  time.Date(2026, 3, 2, 9, 0, 0, 0, newYork), // Monday
			want: time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC),
		},
		"exactly at the slot": {
			spec: "0 8 * * 1-5", loc: newYork,
			now:  time.Date(2026, 3, 2, 8, 0, 0, 0, newYork),
			want: time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC),
		},
		"a minute before Monday's slot is Friday's": {
			spec: "0 8 * * 1-5", loc: newYork,
			now:  time.Date(2026, 3, 2, 7, 59, 0, 0, newYork),
			want: time.Date(2026, 2, 27, 13, 0, 0, 0, time.UTC),
		},
		"UTC reads the spec in UTC": {
			spec: "0 8 * * *", loc: time.UTC,
			now:  time.Date(2026, 3, 2, 9, 0, 0, 0, newYork),
			want: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC),
		},
		"CRON_TZ wins over the location": {
			spec: "CRON_TZ=Europe/Paris 0 7 * * MON-FRI", loc: newYork,
			now:  time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC),
			want: time.Date(2026, 3, 3, 7, 0, 0, 0, paris),
		},
		"first day of summer time keeps 08:00 local": {
			spec: "0 8 * * *", loc: newYork,
			now:  time.Date(2026, 3, 8, 9, 0, 0, 0, newYork), // clocks went forward at 02:00
			want: time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC),
		},
		"a slot in the spring-forward gap does not fire that day": {
			spec: "30 2 * * *", loc: newYork,
			now:  time.Date(2026, 3, 8, 12, 0, 0, 0, newYork),
			want: time.Date(2026, 3, 7, 2, 30, 0, 0, newYork),
		},
		"the repeated fall-back hour fires once in summer time": {
			spec: "30 1 * * *", loc: newYork,
			now:  time.Date(2026, 11, 1, 5, 45, 0, 0, time.UTC), // 01:45 EDT
			want: time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC),
		},
		"and once more in winter time": {
			spec: "30 1 * * *", loc: newYork,
			now:  time.Date(2026, 11, 1, 3, 0, 0, 0, newYork),
			want: time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), // 01:30 EST
		},
		"@daily in Paris": {
			spec: "@daily", loc: paris,
			now:  time.Date(2026, 7, 14, 12, 0, 0, 0, paris),
			want: time.Date(2026, 7, 13, 22, 0, 0, 0, time.UTC),
		},
		"@every is aligned to its interval": {
			spec: "@every 10m", loc: newYork,
			now:  time.Date(2026, 3, 2, 12, 7, 30, 0, time.UTC),
			want: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC),
		},
		"@every 1s drops the fraction": {
			spec: "@every 1s", loc: time.UTC,
			now:  time.Date(2026, 3, 2, 12, 7, 30, 999, time.UTC),
			want: time.Date(2026, 3, 2, 12, 7, 30, 0, time.UTC),
		},
		"leap day, years back": {
			spec: "0 0 29 2 *", loc: time.UTC,
			now:  time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC),
			want: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			last, err := schedule.LastActivation(tt.spec, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			if got := last(tt.now); !got.Equal(tt.want) {
				t.Errorf("lastActivation(%q, %s) = %s, want %s", tt.spec, tt.now, got.UTC(), tt.want.UTC())
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := map[string]struct {
		spec    string
		wantErr string // empty: valid
	}{
		"weekdays":            {spec: "0 8 * * 1-5"},
		"names":               {spec: "0 7 * * MON-FRI"},
		"descriptor":          {spec: "@daily"},
		"every":               {spec: "@every 1h30m"},
		"own zone":            {spec: "CRON_TZ=Europe/Paris 0 7 * * *"},
		"empty":               {spec: "", wantErr: "empty spec"},
		"too few fields":      {spec: "0 8 *", wantErr: "expected exactly 5 fields"},
		"seconds field":       {spec: "0 0 8 * * *", wantErr: "expected exactly 5 fields"},
		"minute out of range": {spec: "61 * * * *", wantErr: "above maximum (59)"},
		"not a number":        {spec: "0 eight * * *", wantErr: "eight"},
		"unknown descriptor":  {spec: "@fortnightly", wantErr: "unrecognized descriptor"},
		"unknown zone":        {spec: "CRON_TZ=Mars/Olympus 0 8 * * *", wantErr: "Mars/Olympus"},
		"zone alone":          {spec: "CRON_TZ=UTC", wantErr: "needs a schedule after it"},
		"no such date":        {spec: "0 0 31 4 *", wantErr: "never fires"},
		"every below 1s":      {spec: "@every 500ms", wantErr: "at least 1s"},
		"every negative":      {spec: "@every -1m", wantErr: "at least 1s"},
		"every fraction":      {spec: "@every 1.5s", wantErr: "whole number of seconds"},
		"every no duration":   {spec: "@every ten", wantErr: "ten"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := schedule.Validate(tt.spec)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate(%q) = %v, want nil", tt.spec, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%q) = nil, want an error about %q", tt.spec, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.spec) {
				t.Errorf("Validate(%q) = %q, want it to quote the spec and say %q", tt.spec, err, tt.wantErr)
			}
			if code := briefing.ErrorCode(err); code != briefing.EINVALID {
				t.Errorf("error code %q, want %q", code, briefing.EINVALID)
			}
		})
	}
}

// FuzzValidate: a config value must never crash the program; what Validate
// accepts must yield slots.
func FuzzValidate(f *testing.F) {
	for _, seed := range []string{"0 8 * * 1-5", "@every 10m", "CRON_TZ=UTC", "TZ=Europe/Paris @daily", "*/0 * * * *", "0-70/5 * * * *", "@every 0s"} {
		f.Add(seed)
	}
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		if schedule.Validate(spec) != nil {
			return
		}
		last, err := schedule.LastActivation(spec, time.UTC)
		if err != nil {
			t.Fatalf("Validate accepted %q but parsing it failed: %v", spec, err)
		}
		if got := last(now); got.After(now) {
			t.Fatalf("last activation of %q is %s, after now %s", spec, got, now)
		}
	})
}

// BenchmarkLastActivation: the work of a cron run and of a start's
// catch-up, from the common case to the longest look back.
func BenchmarkLastActivation(b *testing.B) {
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, spec := range []string{"0 8 * * 1-5", "@every 1s", "* * 29 2 *"} {
		b.Run(spec, func(b *testing.B) {
			last, err := schedule.LastActivation(spec, time.UTC)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				last(now)
			}
		})
	}
}
