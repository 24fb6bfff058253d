package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/briefing-bot/briefing"
)

func testBriefingRoundTrip(t *testing.T, open Opener) {
	st := openAt(t, open)
	b := &briefing.Briefing{
		Topic: "cloud", TopicName: "Cloud", GeneratedAt: T0, Summarizer: "llm:primary",
		Headline: "Regions go down", Bullets: []string{"one", "two", "three"},
		Paragraphs: []briefing.Paragraph{{Text: "Things failed.", Sources: []string{"https://example.com/a"}}},
		Stories:    []briefing.Story{{ID: "s1", Title: "Outage", Articles: []briefing.Article{Article("a", T0, "cloud")}, Score: 1.5}},
		Usage:      briefing.Usage{PromptTokens: 10, CompletionTokens: 5},
	}
	mustDo(t, st.PutBriefing(b))
	if b.ID == "" {
		t.Fatal("PutBriefing set no id")
	}
	got, err := st.Briefing(b.ID)
	mustDo(t, err)
	wantEqual(t, got, b)
	_, err = st.Briefing("missing")
	wantCode(t, err, briefing.ENOTFOUND)
	wantCode(t, st.PutBriefing(&briefing.Briefing{Headline: "no topic"}), briefing.EINVALID)
}

func testBriefingIDsSortByTime(t *testing.T, open Opener) {
	st := openAt(t, open)
	var prev string
	for i := range 5 {
		b := &briefing.Briefing{Topic: "cloud", GeneratedAt: T0.Add(time.Duration(i) * time.Millisecond)}
		mustDo(t, st.PutBriefing(b))
		if b.ID <= prev {
			t.Errorf("id %q does not sort after %q", b.ID, prev)
		}
		prev = b.ID
	}
	kept := &briefing.Briefing{ID: "given", Topic: "cloud"}
	mustDo(t, st.PutBriefing(kept))
	if kept.ID != "given" {
		t.Errorf("a given id became %q", kept.ID)
	}
}

func testLatestBriefing(t *testing.T, open Opener) {
	st := openAt(t, open)
	_, err := st.LatestBriefing("cloud")
	wantCode(t, err, briefing.ENOTFOUND)

	newer := &briefing.Briefing{Topic: "cloud", GeneratedAt: T0, Headline: "newer"}
	older := &briefing.Briefing{Topic: "cloud", GeneratedAt: T0.Add(-24 * time.Hour), Headline: "older"}
	other := &briefing.Briefing{Topic: "security", GeneratedAt: T0.Add(time.Hour), Headline: "other topic"}
	for _, b := range []*briefing.Briefing{newer, older, other} {
		mustDo(t, st.PutBriefing(b))
	}
	latest := func(want string) {
		t.Helper()
		got, err := st.LatestBriefing("cloud")
		if err != nil {
			t.Fatal(err)
		}
		if got.Headline != want {
			t.Errorf("latest is %q, want %q", got.Headline, want)
		}
	}
	latest("newer")
	// Storing a briefing again under its id moves it in time, leaving no
	// trace at its old time.
	older.GeneratedAt = T0.Add(time.Minute)
	mustDo(t, st.PutBriefing(older))
	latest("older")
	older.GeneratedAt = T0.Add(-time.Minute)
	mustDo(t, st.PutBriefing(older))
	latest("newer")
}

func testTold(t *testing.T, open Opener) {
	st := openAt(t, open)
	told, err := st.Told("cloud", "slack:C1")
	if err != nil || len(told) != 0 {
		t.Fatalf("nothing told yet: %v, %v", told, err)
	}
	posted := &briefing.Briefing{ID: "b1", Topic: "cloud", Stories: []briefing.Story{
		{Articles: []briefing.Article{Article("a", T0, "cloud"), Article("b", T0, "cloud")}},
		{Articles: []briefing.Article{Article("c", T0, "cloud", "security")}},
	}}
	post := briefing.Post{Destination: "slack:C1", MessageID: "1700000000.000100"}
	mustDo(t, st.RecordTold(posted, post))
	mustDo(t, st.RecordTold(posted, post)) // a retried post records again
	preview := &briefing.Briefing{ID: "b2", Topic: "cloud", Stories: []briefing.Story{{Articles: []briefing.Article{Article("d", T0, "cloud")}}}}
	mustDo(t, st.PutBriefing(preview))

	told, err = st.Told("cloud", "slack:C1")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"a": true, "b": true, "c": true}; !reflect.DeepEqual(told, want) {
		t.Errorf("told %v, want %v", told, want)
	}
	if told, _ := st.Told("cloud", "slack:C2"); len(told) != 0 {
		t.Errorf("a post in slack:C1 counts as told in slack:C2: %v", told)
	}
	if told, _ := st.Told("security", "slack:C1"); len(told) != 0 {
		t.Errorf("another topic's briefing counts as told in security: %v", told)
	}
	last, found, err := st.LastPost("cloud", "slack:C1")
	want := briefing.Post{Destination: "slack:C1", Topic: "cloud", BriefingID: "b1", At: T0, MessageID: "1700000000.000100"}
	if err != nil || !found || !last.At.Equal(want.At) {
		t.Fatalf("last post %+v, %v, %v; want %+v", last, found, err, want)
	}
	last.At = want.At
	wantEqual(t, last, want)
	if _, found, _ := st.LastPost("cloud", "slack:C2"); found {
		t.Error("slack:C2 has a last post it never got")
	}
	wantCode(t, st.RecordTold(&briefing.Briefing{ID: "b3"}, post), briefing.EINVALID)
	wantCode(t, st.RecordTold(posted, briefing.Post{}), briefing.EINVALID)
}

func testCache(t *testing.T, open Opener) {
	st := openAt(t, open)
	if v, found, err := st.Get("summary:s1"); err != nil || found || v != nil {
		t.Fatalf("missing key: %q, %v, %v", v, found, err)
	}
	for _, tc := range []struct{ name, puts string }{
		{"stored", "first"},
		{"overwritten", "second"},
		{"empty value", ""},
		{"binary value", "\x00\xff\x01"},
	} {
		mustDo(t, st.Put("summary:s1", []byte(tc.puts)))
		v, found, err := st.Get("summary:s1")
		if err != nil || !found || string(v) != tc.puts {
			t.Errorf("%s: Get = %q, %v, %v; want %q", tc.name, v, found, err, tc.puts)
		}
	}
	wantCode(t, st.Put("", []byte("x")), briefing.EINVALID)
}

func testCacheValueIsACopy(t *testing.T, open Opener) {
	st := openAt(t, open)
	value := []byte("summary")
	mustDo(t, st.Put("k", value))
	value[0] = 'X'
	got, _, _ := st.Get("k")
	got[1] = 'Y'
	again, _, err := st.Get("k")
	if err != nil || string(again) != "summary" {
		t.Errorf("stored value changed through a caller's slice: %q, %v", again, err)
	}
}

func testThreads(t *testing.T, open Opener) {
	st := openAt(t, open)
	const key = "slack:C123:1700000000.000100"
	if _, found, err := st.Thread(key); err != nil || found {
		t.Fatalf("unknown thread: found=%v, %v", found, err)
	}
	want := briefing.Thread{Key: key, BriefingID: "b1", Topic: "cloud"}
	mustDo(t, st.PutThread(want))
	turns := []briefing.Turn{
		{Question: "Which regions?", Answer: "us-east-1.", At: T0},
		{Question: "Since when?", Answer: "Since 07:00.", At: T0.Add(time.Minute)},
	}
	for _, turn := range turns {
		mustDo(t, st.AppendTurn(key, turn))
	}
	want.Turns = turns
	got, found, err := st.Thread(key)
	if err != nil || !found || !reflect.DeepEqual(got, want) {
		t.Errorf("Thread = %+v, %v, %v; want %+v", got, found, err, want)
	}
	wantCode(t, st.AppendTurn("slack:C123:1.1", turns[0]), briefing.ENOTFOUND)
	wantCode(t, st.PutThread(briefing.Thread{Topic: "cloud"}), briefing.EINVALID)
}

// testAppendTurnRace appends from several goroutines at once, as replicas
// answering in one thread do: no turn is lost.
func testAppendTurnRace(t *testing.T, open Opener) {
	st := openAt(t, open)
	const key, n = "teams:conv:1", 16
	mustDo(t, st.PutThread(briefing.Thread{Key: key, Topic: "cloud"}))
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := st.AppendTurn(key, briefing.Turn{Question: fmt.Sprintf("q%d", i), At: T0}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, _, err := st.Thread(key)
	mustDo(t, err)
	if len(got.Turns) != n {
		t.Errorf("%d turns stored, want %d", len(got.Turns), n)
	}
}

func testFirstDelivery(t *testing.T, open Opener) {
	tests := map[string]struct {
		at   time.Duration // after the first delivery
		want bool
	}{
		"redelivered at once":         {0, false},
		"redelivered within the hour": {59 * time.Minute, false},
		"exactly an hour later":       {time.Hour, false},
		"older than an hour":          {time.Hour + time.Second, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := openAt(t, open)
			if first, err := st.FirstDelivery("Ev1", T0); err != nil || !first {
				t.Fatalf("first delivery: %v, %v", first, err)
			}
			if first, err := st.FirstDelivery("Ev1", T0.Add(tc.at)); err != nil || first != tc.want {
				t.Errorf("second delivery: %v, %v; want %v", first, err, tc.want)
			}
		})
	}
}

// testFirstDeliveryAfterForgetting redelivers one of many expired events:
// forgetting the others must not take its new record.
func testFirstDeliveryAfterForgetting(t *testing.T, open Opener) {
	st := openAt(t, open)
	const old = 100
	for i := range old {
		if _, err := st.FirstDelivery(fmt.Sprintf("ev%03d", i), T0); err != nil {
			t.Fatal(err)
		}
	}
	const last = "ev099"
	later := T0.Add(61 * time.Minute)
	if first, err := st.FirstDelivery(last, later); err != nil || !first {
		t.Fatalf("redelivery after an hour: first=%v, %v", first, err)
	}
	if _, err := st.Prune(later); err != nil {
		t.Fatal(err)
	}
	if first, err := st.FirstDelivery(last, later.Add(time.Minute)); err != nil || first {
		t.Fatalf("redelivery within the hour: first=%v, %v", first, err)
	}
	if first, err := st.FirstDelivery("ev000", later.Add(time.Minute)); err != nil || !first {
		t.Fatalf("an expired event delivered again: first=%v, %v", first, err)
	}
}

func testFirstDeliveryRace(t *testing.T, open Opener) {
	st := openAt(t, open)
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			first, err := st.FirstDelivery("Ev1", T0)
			if err != nil {
				t.Error(err)
			}
			if first {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	if n := firsts.Load(); n != 1 {
		t.Errorf("%d deliveries were first, want 1", n)
	}
	_, err := st.FirstDelivery("", T0)
	wantCode(t, err, briefing.EINVALID)
}
