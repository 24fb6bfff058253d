package storetest

import (
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
)

// testVotes holds the store to one vote per user, story and destination,
// the last one cast.
func testVotes(t *testing.T, open Opener) {
	st := openAt(t, open)
	vote := func(dest, story, user string, value int, at time.Time) {
		t.Helper()
		if err := st.PutVote(briefing.Vote{Destination: dest, StoryID: story, User: user, Value: value,
			Sources: []string{"example.com"}, Terms: []string{"outage"}, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	vote("slack:A", "s1", "U1", 1, T0)
	vote("slack:A", "s1", "U1", -1, T0.Add(time.Minute)) // changed their mind
	vote("slack:A", "s1", "U2", -1, T0)
	vote("slack:A", "s2", "U1", 1, T0.Add(-30*24*time.Hour))
	vote("slack:B", "s1", "U1", 1, T0)

	got, err := st.Votes("slack:A", T0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Value != -1 || got[1].Value != -1 || got[0].Sources[0] != "example.com" || got[0].Terms[0] != "outage" {
		t.Errorf("votes in A since an hour ago: %+v", got)
	}
	if all, err := st.Votes("slack:A", time.Time{}); err != nil || len(all) != 3 {
		t.Errorf("all votes in A: %d (%v), want 3", len(all), err)
	}
	if none, err := st.Votes("slack:C", time.Time{}); err != nil || len(none) != 0 {
		t.Errorf("votes in a destination without any: %v, %v", none, err)
	}
	err = st.PutVote(briefing.Vote{Destination: "slack:A", StoryID: "s1", User: "U1", Value: 3})
	if briefing.ErrorCode(err) != briefing.EINVALID {
		t.Errorf("a vote of 3: %v, want EINVALID", err)
	}
}
