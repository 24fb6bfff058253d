package storetest

import (
	"testing"

	"github.com/briefing-bot/briefing"
)

// testSubscriptions holds the store to one chat subscription per
// destination and topic.
func testSubscriptions(t *testing.T, open Opener) {
	st := openAt(t, open)
	put := func(s briefing.Subscription) {
		t.Helper()
		s.UpdatedAt = T0
		if err := st.PutSubscription(s); err != nil {
			t.Fatal(err)
		}
	}
	put(briefing.Subscription{Destination: "slack:A", Topic: "cloud", Cron: "0 8 * * *", Timezone: "UTC", By: "U1"})
	put(briefing.Subscription{Destination: "slack:A", Topic: "cloud", Cron: "0 8 * * 1-5", Timezone: "Europe/Berlin", By: "U2"})
	put(briefing.Subscription{Destination: "slack:A", Topic: "ai", Audience: "bankers", By: "U1"})
	put(briefing.Subscription{Destination: "slack:B", Topic: "cloud", Cron: "@daily", By: "U3"})
	if err := st.DeleteSubscription("slack:A", "ai"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSubscription("slack:C", "ai"); err != nil {
		t.Errorf("deleting an unknown subscription: %v", err)
	}
	got, err := st.Subscriptions()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"slack:A/cloud": "0 8 * * 1-5 Europe/Berlin U2", "slack:B/cloud": "@daily  U3"}
	if len(got) != len(want) {
		t.Fatalf("subscriptions %+v, want %v", got, want)
	}
	for _, s := range got {
		if w := want[s.Destination+"/"+s.Topic]; w != s.Cron+" "+s.Timezone+" "+s.By || !s.UpdatedAt.Equal(T0) {
			t.Errorf("subscription %+v, want %q", s, w)
		}
	}
	if err := st.PutSubscription(briefing.Subscription{Topic: "cloud"}); briefing.ErrorCode(err) != briefing.EINVALID {
		t.Errorf("a subscription without destination: %v", err)
	}
}
