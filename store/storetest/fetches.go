package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClaimFetch has one of the replicas collecting at once fetch a feed,
// and the next fetch wait for the claim to run out.
func testClaimFetch(t *testing.T, open Opener) {
	var now atomic.Pointer[time.Time]
	at := func(t time.Time) { now.Store(&t) }
	at(T0)
	st := open(t, Options{Now: func() time.Time { return *now.Load() }})
	const feed = "https://example.com/feed.xml"
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			ok, err := st.ClaimFetch(feed, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d of 6 claims won, want 1", n)
	}
	if ok, err := st.ClaimFetch("https://example.com/other.xml", time.Minute); err != nil || !ok {
		t.Errorf("claim of another feed: %v, %v", ok, err)
	}
	at(T0.Add(59 * time.Second))
	if ok, err := st.ClaimFetch(feed, time.Minute); err != nil || ok {
		t.Errorf("claim while the first holds: %v, %v", ok, err)
	}
	at(T0.Add(time.Minute))
	if ok, err := st.ClaimFetch(feed, time.Minute); err != nil || !ok {
		t.Errorf("claim after the first ran out: %v, %v", ok, err)
	}
}
